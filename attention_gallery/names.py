"""Names that untrusted files give: how they may look and how a message shows them.

Sentence slugs (``gallery.sentences``) and pair slugs (``pairs``) name output files
and follow one rule; :func:`show` and :func:`codepoint` quote untrusted text in a
message without letting it act on the terminal. Shared, so neither the pairs nor
the build reach into the other's layer.
"""

from __future__ import annotations

import re
import unicodedata

SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # used with fullmatch
MAX_SLUG_CHARS = 80
# Names Windows keeps for devices, whatever the case or extension: a file or folder
# named so cannot be checked out there (a slug names output files).
WINDOWS_DEVICE_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                                  *(f"lpt{i}" for i in range(1, 10))})


def show(value: str, limit: int = 60) -> str:
    """A safe, short rendering of untrusted text for messages (escapes controls)."""
    if len(value) > limit:
        return repr(value[:limit]) + f"... ({len(value)} characters)"
    return repr(value)


def codepoint(ch: str) -> str:
    """'U+202E RIGHT-TO-LEFT OVERRIDE', 'U+E000 (private use)'."""
    kind = {"Co": "(private use)", "Cn": "(unassigned)"}.get(unicodedata.category(ch), "")
    return f"U+{ord(ch):04X} {unicodedata.name(ch, kind)}".rstrip()


def slug_form_problems(slug: str, what: str = "slug") -> list[str]:
    """The problems of ``slug`` as a name of output files (``what`` names it in the
    messages): lowercase ASCII words joined by hyphens, at most ``MAX_SLUG_CHARS``, not
    a Windows device name. Sentence slugs and pair slugs (:mod:`.pairs`) follow it."""
    form = ("lowercase ASCII letters and digits in words joined by single hyphens, e.g. "
            "'not-bad-at-all'")
    if slug == "":
        return [f"{what} is empty; a {what} is {form}"]
    problems = []
    if not SLUG_PATTERN.fullmatch(slug):
        problems.append(
            f"{what} {show(slug)} is not allowed: a {what} is {form} (no spaces, slashes, dots, "
            f"uppercase or other characters; it names output files)")
    if len(slug) > MAX_SLUG_CHARS:
        problems.append(f"{what} is too long: {len(slug)} characters; at most "
                        f"{MAX_SLUG_CHARS} are allowed")
    if slug.lower() in WINDOWS_DEVICE_NAMES:
        problems.append(f"{what} {slug!r} is reserved: Windows keeps the name for a device, so "
                        f"a file named so cannot be checked out there; pick another {what}")
    return problems


def contrast_slug(pair: tuple[str, str]) -> str:
    """The page name of a contrast pair, ``a--b``: no sentence slug has ``--``."""
    return f"{pair[0]}--{pair[1]}"
