"""nbconvert's templates compiled once per build, not once per page.

nbconvert builds a new Jinja environment for every notebook it converts and so
compiles its templates again each time (more than half of a page's 0.19 s of
rendering, measured on the gallery's pages). :func:`shared_bytecode` gives every
environment created inside it the process's in-memory bytecode cache (Jinja's own mechanism;
Jinja checks each entry against its template's checksum, so a changed template is
compiled again), and restores nbconvert as it was on the way out: no patch outlives
the build that installed it.

:data:`THEME_BYTECODE` does the same for the site's theme (Material), whose
environments mkdocs and Material's search plugin make anew for every build: inside
the block each gets it, so a process that builds again and again (watch mode)
compiles the theme once.
"""

from __future__ import annotations

from contextlib import contextmanager

import jinja2
from mkdocs.theme import Theme
from nbconvert.exporters.templateexporter import TemplateExporter


class SharedBytecode(jinja2.BytecodeCache):
    """Compiled templates kept in memory, shared by every environment given it."""

    def __init__(self):
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self.store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


THEME_BYTECODE = SharedBytecode()
NBCONVERT_BYTECODE = SharedBytecode()  # kept by the process: watch mode renders again and again


@contextmanager
def shared_bytecode():
    """Inside the block, every nbconvert exporter's environment uses the process's
    :class:`SharedBytecode` (yielded), and every environment of the theme uses
    :data:`THEME_BYTECODE` (the build's own, and those Material's search plugin makes
    to translate its settings, a tenth of a second each build): compiled once per
    process, however many builds."""
    original = TemplateExporter.__dict__["_create_environment"]
    original_theme = Theme.__dict__["get_env"]
    cache = NBCONVERT_BYTECODE

    def _create_environment(self):
        environment = original(self)
        environment.bytecode_cache = cache
        return environment

    def get_env(self):
        environment = original_theme(self)
        environment.bytecode_cache = THEME_BYTECODE
        return environment

    TemplateExporter._create_environment = _create_environment
    Theme.get_env = get_env
    try:
        yield cache
    finally:
        TemplateExporter._create_environment = original
        Theme.get_env = original_theme
