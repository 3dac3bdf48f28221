"""The gallery as a MkDocs plugin (``plugins: [attention-gallery]`` in mkdocs.yml).

Modelled on mkdocs-gallery's ``GalleryPlugin``: the plugin owns what the gallery adds
to a site, inside MkDocs' own build, with no state outside the build:

* ``on_config``: reads the gallery's manifest (``<gallery_dir>/gallery.json``, written
  by the build beside the executed notebooks), lists the sentences in the nav under
  the gallery's entry (a set of more than ``NAV_SENTENCES_MAX`` is listed on the
  overview page only), points mkdocs-jupyter's render cache into the build's cache,
  and shares nbconvert's compiled templates for this build;
* ``on_files``: reads each notebook's record and adds the generated pages (overview,
  model pair, set pages) and ``metrics.json``; drops the manifest from the site;
* ``on_page_content``: keeps notebook code cells out of the search index;
* ``on_post_page``: makes notebook pages light and offline (:mod:`.offline`);
* ``on_post_build`` / ``on_build_error``: writes the shared files and undoes the
  template sharing.

``mkdocs build`` and ``mkdocs serve`` in the repository give the same site as the
build script, from the last gallery it executed into ``docs/gallery``.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from importlib.metadata import version
from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, InclusionLevel

from .. import config as settings
from . import pages
from .offline import OfflinePages, exclude_code_from_search
from .templates import shared_bytecode

MANIFEST = "gallery.json"
MANIFEST_FORMAT = 1


def write_manifest(gallery_dir: Path, pair: str, entries: list[tuple[str, str]], cache_dir: Path) -> None:
    """What the plugin needs from the build: the pair, the sentences in order
    (``(slug, title)``) and where the build keeps its caches."""
    data = {"format": MANIFEST_FORMAT, "pair": pair, "cache": str(cache_dir),
            "sentences": [{"slug": slug, "title": title} for slug, title in entries]}
    (gallery_dir / MANIFEST).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def read_manifest(gallery_dir: Path) -> dict:
    path = gallery_dir / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PluginError(f"no gallery in {gallery_dir} ({MANIFEST} is missing): build it with "
                          "`make gallery` (scripts/build_gallery.py)") from None
    except (OSError, ValueError) as exc:
        raise PluginError(f"{path} is unreadable ({exc}); build the gallery again with `make gallery`") from None
    if data.get("format") != MANIFEST_FORMAT:
        raise PluginError(f"{path} is of another format; build the gallery again with `make gallery`")
    return data


class GalleryConfig(Config):
    gallery_dir = c.Type(str, default="gallery")  # inside docs_dir
    nav_title = c.Type(str, default="Gallery")  # the nav entry whose page is the overview


class GalleryPlugin(BasePlugin[GalleryConfig]):
    supports_multiple_instances = False

    def on_config(self, config):
        self.stack = ExitStack()
        self.offline = OfflinePages()
        self.dir = Path(config["docs_dir"]) / self.config.gallery_dir
        self.manifest = read_manifest(self.dir)
        sentences = self.manifest["sentences"]
        self.listed = len(sentences) <= settings.NAV_SENTENCES_MAX
        overview = f"{self.config.gallery_dir}/index.md"
        if self.listed and config["nav"]:
            config["nav"] = [
                {self.config.nav_title: [{"Overview": overview}] + [
                    {s["title"]: f"{self.config.gallery_dir}/{s['slug']}.ipynb"} for s in sentences]}
                if item == {self.config.nav_title: overview} else item
                for item in config["nav"]]
        jupyter = config.plugins.get("mkdocs-jupyter")
        if jupyter is not None:  # its cache key covers neither its version nor nbconvert's
            renderer = f"{version('mkdocs-jupyter')}-nbconvert-{version('nbconvert')}"
            jupyter.config["cache_dir"] = str(Path(self.manifest["cache"]) / ".mkdocs-jupyter" / renderer)
        self.stack.enter_context(shared_bytecode())
        return config

    def on_files(self, files, config):
        manifest = files.get_file_from_path(f"{self.config.gallery_dir}/{MANIFEST}")
        if manifest is not None:
            files.remove(manifest)
        records = pages.load_records(self.dir, self.manifest)
        generated = pages.generate(self.manifest["pair"], records)
        for name, text in generated.items():
            files.append(File.generated(config, f"{self.config.gallery_dir}/{name}.md", content=text))
        files.append(File.generated(config, "metrics.json", content=pages.metrics_json(records)))
        if not self.listed:  # pages left out of the nav on purpose are not "omitted files"
            for s in self.manifest["sentences"]:
                file = files.get_file_from_path(f"{self.config.gallery_dir}/{s['slug']}.ipynb")
                if file is not None:
                    file.inclusion = InclusionLevel.NOT_IN_NAV
        return files

    def on_page_content(self, html, page, config, files):
        return exclude_code_from_search(html) if "jupyter-wrapper" in html else html

    def on_post_page(self, output, page, config):
        return self.offline.process(output, page.url, page.file.src_path, page.file.abs_dest_path)

    def on_post_build(self, config):
        self.offline.write(Path(config["site_dir"]))
        self.stack.close()

    def on_build_error(self, error):
        self.stack.close()
