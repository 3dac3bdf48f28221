#!/usr/bin/env python
"""Screenshots of the built site for a look by eye: the pages a reader meets first, at
1280 x 900 and 390 x 844, in both palettes, and the lesson printed to PDF.

    python scripts/screenshots.py --site site --out /tmp/shots

For each page: the first screen, and where the page has one, its side-by-side block
(``.gallery-compare``) or its first lesson picture, drawn, as an element shot. Not a
test: it prints what it wrote (and any console errors) for a person to open.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser import launch, open_page, serve, wait_for_views  # noqa: E402  (tests/browser.py, the harness)

PAGES = {  # name: (path, element shot after the first screen)
    "home": ("", None),
    "lesson": ("gallery/lesson/", ".gallery-lesson-figure"),
    "sentence": ("gallery/not-bad-at-all/", ".gallery-compare"),
    "contrast": ("gallery/contrast/a-good-film--not-a-good-film/", ".gallery-side-by-side"),
    "findings": ("gallery/findings/", None),
    "overview": ("gallery/", None),
}
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", type=Path, default=ROOT / "site")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--pages", nargs="*", default=list(PAGES), choices=list(PAGES))
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with serve(args.site) as base, launch() as browser:
        for name in args.pages:
            path, element = PAGES[name]
            for size, (w, h) in SIZES.items():
                for scheme in ("light", "dark"):
                    with open_page(browser, w, h, scheme) as (page, watcher):
                        written = shoot(page, base + path, args.out / f"{name}-{size}-{scheme}", element)
                    errors = watcher.console_errors + watcher.failed
                    print(" ".join(written) + (f"  errors: {errors}" if errors else ""), flush=True)
        with open_page(browser, 1280, 900, "light") as (page, _):
            page.goto(base + "gallery/lesson/", wait_until="load")
            wait_for_views(page)
            page.pdf(path=str(args.out / "lesson-print.pdf"), format="A4")
        print(args.out / "lesson-print.pdf")
    return 0


def shoot(page, url: str, stem: Path, element: str | None) -> list[str]:
    """The first screen of ``url``, and ``element`` (its first match) drawn, if any."""
    page.goto(url, wait_until="load")
    wait_for_views(page)
    page.wait_for_timeout(300)
    page.screenshot(path=f"{stem}.png")
    written = [f"{stem}.png"]
    target = page.locator(element).first if element else None
    if target is not None and target.count():
        # below Material's sticky header, not under it
        target.evaluate("e => window.scrollTo(0, e.getBoundingClientRect().top + scrollY - 64)")
        page.wait_for_timeout(300)
        target.screenshot(path=f"{stem}-part.png")
        written.append(f"{stem}-part.png")
    return written


if __name__ == "__main__":
    raise SystemExit(main())
