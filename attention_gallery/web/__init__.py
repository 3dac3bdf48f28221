"""The site: the MkDocs plugin and every page it writes.

Made from the executed notebooks' records and the build's manifest only
(:mod:`attention_gallery.manifest`): it never runs a model, never imports torch (the
import-linter contract in pyproject.toml checks it) and never reads a page's markup
back.
"""
