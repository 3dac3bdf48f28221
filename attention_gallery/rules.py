"""The rules as data: ``rules.json`` beside this file, read by the Python side and,
through the pages' settings, by the live page's JavaScript (one source for both).

``text`` says what a sentence may contain; ``claims`` holds the thresholds and the
wordings under which a generated statement may be made (see :mod:`.claims`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

RULES_FILE = Path(__file__).with_name("rules.json")


@lru_cache(maxsize=1)
def load() -> dict:
    """The parsed rules file (read once per process)."""
    return json.loads(RULES_FILE.read_text(encoding="utf-8"))


def section(name: str) -> dict:
    """One section of the rules (``"text"`` or ``"claims"``)."""
    return load()[name]
