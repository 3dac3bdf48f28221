"""axe-core over every page of a built site, in both palettes: `python scripts/axe_site.py [site]`.

The accessibility test (tests/test_lesson_browser.py) checks the five kinds of page on
a small site; this runs the same check (serious and critical violations, every view
drawn first) on every HTML page of a whole built gallery, and prints one line per
page with problems and a summary. Exit status 1 when any page has one.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main(argv=None) -> int:
    from browser import (
        axe_check,
        axe_source,
        launch,
        open_page,
        serious,
        serve,
        wait_for_views,
    )

    argv = sys.argv[1:] if argv is None else argv
    site = Path(argv[0] if argv else ROOT / "site").resolve()
    pages = sorted(p.relative_to(site).parent.as_posix() + "/" for p in site.rglob("index.html"))
    pages = [p.removeprefix("./") for p in pages if not p.startswith(("assets/", "search/"))]
    source, bad, checked = axe_source(), 0, 0
    with serve(site) as base, launch() as browser:
        for scheme in ("light", "dark"):
            with open_page(browser, scheme=scheme) as (page, _):
                for rel in pages:
                    page.goto(base + rel, wait_until="load")
                    wait_for_views(page, 60)
                    lines = serious(axe_check(page, source))
                    checked += 1
                    if lines:
                        bad += 1
                        print(f"{scheme} /{rel}: {len(lines)}", *lines[:5], sep="\n  ", flush=True)
    print(f"axe-core: {checked} page visits ({len(pages)} pages x 2 palettes), "
          f"{bad} with a serious or critical violation")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
