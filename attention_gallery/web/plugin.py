"""The gallery as a MkDocs plugin (``plugins: [attention-gallery]`` in mkdocs.yml).

Modelled on mkdocs-gallery's ``GalleryPlugin``: the plugin owns what the gallery adds
to a site, inside MkDocs' own build. What outlives one build, in a process that builds
again and again (watch mode), only saves work and is keyed on content: nbconvert's and
the theme's compiled templates (:mod:`.templates`), the records read (by the notebook's
bytes: :func:`.records.read_record_file`) and the sources of the generated pages the
last build wrote (:func:`.generated.generated`, which a dirty build compares):

* ``on_startup``: notes a ``--dirty`` build (watch mode's incremental builds);
* ``on_config``: reads the gallery's manifest (``<gallery_dir>/gallery.json``, written
  by the build beside the executed notebooks), lists the sentences in the nav under
  the gallery's entry (a set of more than ``NAV_SENTENCES_MAX`` is listed on the
  overview page only), points mkdocs-jupyter's render cache into the build's cache,
  and shares nbconvert's and the theme's compiled templates between the builds of a
  process (first among the plugins, so Material's search plugin gets them too);
* ``on_files``: reads each notebook's record and adds the generated pages (overview,
  model pair, set pages) and ``metrics.json`` (in watch mode's dirty builds, one whose
  source is the live site's is left as it is: :func:`.generated.generated`); drops
  the manifest from the site; adds
  the live page (``gallery/live/``) and the files it serves (the pair's graph, which
  the build exported into its cache, and its tokenizer: the manifest's ``live``);
  replaces the site's own JavaScript (ES modules) with its page entries bundled
  (:func:`bundle_scripts`);
* ``on_env``: gives the theme the views' settings (``attention_gallery/views.json``),
  which it writes into every page (``#gallery-settings``, read by lib/settings.js);
* ``on_page_content``: keeps notebook code cells out of the search index; gives each
  sentence page a link that opens the live page on its text;
* ``on_post_page``: makes notebook pages light and offline (:mod:`.offline`);
* ``on_post_build`` / ``on_build_error``: writes the shared files and undoes the
  template sharing.

The downloadable notebooks are not the plugin's: the build writes them into the
built site after MkDocs (:func:`attention_gallery.build.download.write_downloads`).

``mkdocs build`` and ``mkdocs serve`` in the repository give the same site as the
build script, from the last gallery it executed into ``docs/gallery``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from contextlib import ExitStack
from html import escape
from importlib.metadata import version
from pathlib import Path
from urllib.parse import quote

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, InclusionLevel
from mkdocs.utils import get_relative_url

from .. import config as settings
from ..explain.notice import notice_html
from ..explain.views import VIEW_SETTINGS, safe_json
from ..live import page as live
from ..manifest import MANIFEST, read_manifest
from ..pairs import get_pair
from . import pages, references
from .figures import add_contrast_views, add_figures, add_lesson_views
from .generated import generated as noted
from .generated import new_build
from .offline import OfflinePages, exclude_code_from_search
from .teaching import CONTRAST_DIR, at_a_glance, run_it_yourself, sentence_links
from .templates import shared_bytecode
from .training import head_in_runs, sentence_timeline
from .training import usable as training_usable
from .typicality import typical

# The site's own scripts: docs/assets/javascripts/, ES modules (lib/) and one entry per
# kind of page. A page loads its entry bundled by esbuild into one classic script
# (scripts/bundle_js.mjs), so it also works opened from disk (file://), where Chromium
# loads neither module scripts nor worker files. The live page's inference worker is
# a classic script already (it loads onnxruntime-web with importScripts): served as it is.
SCRIPTS = "assets/javascripts"
UNBUNDLED = ("live-worker.js",)
BUNDLER = settings.REPO_ROOT / "scripts" / "bundle_js.mjs"
BUNDLE_TIMEOUT = 120  # seconds (esbuild takes well under one)


def bundle_scripts(src: Path) -> dict[str, str]:
    """The page entries of ``src`` (docs/assets/javascripts, or a build's copy of it)
    bundled by esbuild: {file name: text}, the same bytes for the same sources."""
    node = shutil.which("node")
    if node is None:
        raise PluginError("node is not installed: it bundles the site's JavaScript (apt-get install npm)")
    if not (settings.REPO_ROOT / "node_modules" / "esbuild" / "package.json").is_file():
        raise PluginError("esbuild is not installed: it bundles the site's JavaScript; run `make setup` "
                          "(npm ci, from package-lock.json)")
    try:
        out = subprocess.run([node, str(BUNDLER), "--src", str(src)], capture_output=True, text=True,
                             cwd=settings.REPO_ROOT, timeout=BUNDLE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise PluginError(f"bundling the site's JavaScript took over {BUNDLE_TIMEOUT} s") from None
    if out.returncode != 0:
        raise PluginError(f"bundling the site's JavaScript failed: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout)


_NOTICE = '<ul class="gallery-notice">'
_SENTENCE_TEXT = re.compile(r'<p class="gallery-text" dir="auto">.*?</p>', re.DOTALL)


class GalleryConfig(Config):
    gallery_dir = c.Type(str, default="gallery")  # inside docs_dir
    nav_title = c.Type(str, default="Gallery")  # the nav entry whose page is the overview
    # where readers get the project: linked from every sentence page as a plain link
    # (not Material's repo_url, which makes every page call the GitHub API)
    repo_url = c.Type(str, default="https://github.com/attention-gallery/attention-gallery")


class GalleryPlugin(BasePlugin[GalleryConfig]):
    supports_multiple_instances = False
    dirty = False  # mkdocs' --dirty build: only some pages are rendered

    def on_startup(self, *, command, dirty):
        self.dirty = dirty

    @event_priority(100)
    def on_config(self, config):
        new_build()
        self.stack = ExitStack()
        self.offline = OfflinePages()
        self.dir = Path(config["docs_dir"]) / self.config.gallery_dir
        self.manifest = read_manifest(self.dir)
        self.texts, self.live_url = {}, None  # sentence texts, for the links to the live page
        sentences = self.manifest.sentences
        self.listed = len(sentences) <= settings.NAV_SENTENCES_MAX
        overview = f"{self.config.gallery_dir}/index.md"
        if config["nav"]:  # the gallery's entry becomes its section, then the pages listed after it
            # a title is the sentence's own text, and MkDocs writes nav titles unescaped
            listed = [(escape(s["title"]), f"{self.config.gallery_dir}/{s['slug']}.ipynb") for s in sentences]
            section, after = pages.nav(self.config.gallery_dir, listed if self.listed else [])
            entry = {self.config.nav_title: overview}
            if entry not in config["nav"]:
                raise PluginError(f"mkdocs.yml: the nav has no entry '{self.config.nav_title}: {overview}' "
                                  "for the gallery plugin to expand; add it")
            at = config["nav"].index(entry)
            config["nav"] = config["nav"][:at] + [{self.config.nav_title: section}] + after + config["nav"][at + 1:]
        jupyter = config.plugins.get("mkdocs-jupyter")
        if jupyter is not None:  # its cache key covers neither its version nor nbconvert's
            renderer = f"{version('mkdocs-jupyter')}-nbconvert-{version('nbconvert')}"
            jupyter.config["cache_dir"] = str(Path(self.manifest.cache) / ".mkdocs-jupyter" / renderer)
        self.stack.enter_context(shared_bytecode())
        return config

    def on_files(self, files, config):
        manifest = files.get_file_from_path(f"{self.config.gallery_dir}/{MANIFEST}")
        if manifest is not None:
            files.remove(manifest)
        records = pages.load_records(self.dir, self.manifest)
        self.records = records
        self.by_path = {f"{self.config.gallery_dir}/{r.slug}.ipynb": r for r in records}
        self.full_content = {}
        metrics = pages.aggregate(records, self.manifest.catalog, self.manifest.findings, self.manifest.training)
        generated = pages.generate(self.manifest, records, metrics)
        self.links = self._sentence_links(records)
        self.glances = {f"{self.config.gallery_dir}/{r.slug}.ipynb": at_a_glance(r) for r in records}
        self.points = self._set_points(records)
        for name, text in generated.items():
            file = noted(File.generated(config, f"{self.config.gallery_dir}/{name}.md", content=text))
            if name.startswith(f"{CONTRAST_DIR}/"):  # reached from their sentences and the lesson
                file.inclusion = InclusionLevel.NOT_IN_NAV
            files.append(file)
        files.append(noted(File.generated(config, "metrics.json", content=pages.metrics_json(metrics))))
        files.append(noted(File.generated(config, f"{references.PAGE}.md", content=references.page())))
        self.claims = pages.site_claims(records, metrics, self.manifest.catalog)
        self.add_live(files, config, records)
        self.add_scripts(files, config)
        if not self.listed:  # pages left out of the nav on purpose are not "omitted files"
            for s in self.manifest.sentences:
                file = files.get_file_from_path(f"{self.config.gallery_dir}/{s['slug']}.ipynb")
                if file is not None:
                    file.inclusion = InclusionLevel.NOT_IN_NAV
        return files

    def _sentence_links(self, records) -> dict[str, str]:
        """{notebook path: the links box of that sentence page}."""
        entries = self.manifest.sentences
        pairs = self.manifest.contrasts
        titles = {r.slug: r.title for r in records}
        by_slug = {r.slug: r for r in records}
        return {f"{self.config.gallery_dir}/{e['slug']}.ipynb": sentence_links(e["slug"], entries, pairs, titles)
                + (sentence_timeline(by_slug[e["slug"]]) if e["slug"] in by_slug else "")
                for e in entries}

    def _set_points(self, records) -> dict[str, str]:
        """{notebook path: list items for its What to notice}: whether the sentence is
        typical of the findings' set for its most-changed head, and whether that head
        changes in every fine-tuning run (claims the kernel cannot make: they need the set)."""
        out = {}
        for r in records:
            layer, head, _ = r.top_heads[0]
            points = [c for c in (typical(self.manifest.findings, r),
                                  head_in_runs(self.manifest.training, layer, head)
                                  if training_usable(self.manifest.training) and len(self.manifest.training["runs"]) > 1
                                  else None) if c is not None]
            if points:
                out[f"{self.config.gallery_dir}/{r.slug}.ipynb"] = notice_html(points)[len(_NOTICE):-len("</ul>")]
        return out

    def _run_it_yourself(self, slug: str) -> str:
        return run_it_yourself(slug, self.config.repo_url)

    def add_live(self, files, config, records) -> None:
        """The live page and its files; sentence pages link to it (``self.live_link``)."""
        spec = get_pair(self.manifest.pair)
        site = live.prepare(spec, self.manifest.live, Path(config["docs_dir"]) / live.VENDOR)
        page_path = f"{self.config.gallery_dir}/{live.PAGE}.md"
        self.live_url = f"{self.config.gallery_dir}/{live.PAGE}/" if config["use_directory_urls"] else \
            f"{self.config.gallery_dir}/{live.PAGE}.html"
        self.texts = {r.slug: r.text for r in records} if site.reason is None else {}
        if site.reason is None:
            urls = {key: get_relative_url(path, self.live_url)
                    for key, path in {**site.facts["names"], **live.SCRIPTS}.items()}
            site.markdown = live.page_markdown(spec, site, urls, self.manifest.catalog)
        files.append(noted(File.generated(config, page_path, content=site.markdown)))
        for site_path, source in site.files.items():
            files.append(File.generated(config, site_path, abs_src_path=str(source)))

    def add_scripts(self, files, config) -> None:
        """The pages load their entry bundled (gallery.js, live.js): the modules it is
        made of stay out of the site."""
        src = Path(config["docs_dir"]) / SCRIPTS
        bundles = bundle_scripts(src)
        keep = {f"{SCRIPTS}/{name}" for name in UNBUNDLED}
        for file in list(files):  # the docs' modules and entries (the theme's own scripts stay)
            if file.src_uri.startswith(f"{SCRIPTS}/") and file.src_uri.endswith((".js", ".mjs")) \
                    and file.src_uri not in keep and file.abs_src_path \
                    and Path(file.abs_src_path).resolve().is_relative_to(src.resolve()):
                files.remove(file)
        for name, text in sorted(bundles.items()):
            files.append(noted(File.generated(config, f"{SCRIPTS}/{name}", content=text)))

    def on_env(self, env, config, files):
        """The views' palette, titles and labels, for the theme to write into every page."""
        env.globals["gallery_settings"] = safe_json({k: v for k, v in VIEW_SETTINGS.items() if k != "about"})
        return env

    def on_page_markdown(self, markdown, page, config, files):
        """A Markdown page's placeholders filled from the build (claims, citations)."""
        if "{{" not in markdown:
            return markdown
        try:  # raw HTML links are not rewritten: lead from the page's address to the root
            return pages.fill(markdown, self.claims, "../" * page.url.count("/"), self.manifest.catalog)
        except KeyError as exc:
            raise PluginError(f"{page.file.src_uri}: {exc.args[0]}") from None

    def on_page_content(self, html, page, config, files):
        glance = self.glances.get(page.file.src_uri, "")
        if glance:  # under the title: the sentence and both verdicts on the first screen, and where to look
            end = html.find("</h1>")
            html = html[:end + len("</h1>")] + glance + html[end + len("</h1>"):] if end >= 0 else glance + html
        points = self.points.get(page.file.src_uri, "")
        at = html.find(_NOTICE)
        if points and at >= 0:  # at the end of What to notice
            end = html.find("</ul>", at)
            html = html[:end] + points + html[end:]
        links = self.links.get(page.file.src_uri, "")
        if links:  # under the sentence card: before the first section heading; at the end, how to run it
            at = html.find("<h2")
            html = html[:at] + links + html[at:] if at >= 0 else links + html
            html += self._run_it_yourself(Path(page.file.src_uri).stem)
        slug = Path(page.file.src_path).stem
        if page.file.src_path.startswith(f"{self.config.gallery_dir}/") and slug in self.texts:
            href = f"{get_relative_url(self.live_url, page.url)}?text={quote(self.texts[slug], safe='')}"
            html = _SENTENCE_TEXT.sub(lambda m: m.group(0) + (
                f'<p class="gallery-live-link"><a href="{escape(href)}">Try a variation of this sentence</a>: '
                "both models run live in your browser.</p>"), html, count=1)
        html = add_figures(html, page.file.src_uri, self.dir, self.records)
        html = add_contrast_views(html, self.dir, self.records)
        html = add_lesson_views(html, self.dir, self.records)
        return exclude_code_from_search(html) if "jupyter-wrapper" in html else html

    @event_priority(100)  # before Material's search plugin reads the page
    def _search_entry(self, context, page, config, nav):
        """A sentence page enters the search index by its title and sentence only: one
        entry of a few hundred bytes, so the index every page fetches does not grow with
        the page's views and tables (the overview searches the set itself)."""
        r = self.by_path.get(page.file.src_uri)
        if r is not None:
            self.full_content[page.file.src_uri] = page.content
            page.content = f"<h1>{escape(r.title)}</h1><p>{escape(r.text)}</p>"
        return context

    @event_priority(-100)  # after the search plugin: the page is rendered whole
    def _page_whole(self, context, page, config, nav):
        full = self.full_content.pop(page.file.src_uri, None)
        if full is not None:
            page.content = full
        return context

    on_page_context = CombinedEvent(_search_entry, _page_whole)

    def on_post_page(self, output, page, config):
        return self.offline.process(output, page.url, page.file.src_path, page.file.abs_dest_path)

    def on_post_build(self, config):
        self.offline.write(Path(config["site_dir"]), keep_existing=self.dirty)
        self.stack.close()

    def on_build_error(self, error):
        self.stack.close()
