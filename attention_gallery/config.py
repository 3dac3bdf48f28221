"""Every setting of the gallery in one place: paths, defaults and limits."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent

# --- inputs ---------------------------------------------------------------
PAIRS_FILE = PACKAGE_DIR / "pairs.yaml"
# Extra pairs of your own (same format), e.g. a local checkpoint: ATTENTION_GALLERY_PAIRS=my-pairs.yaml
EXTRA_PAIRS_FILE = os.environ.get("ATTENTION_GALLERY_PAIRS")
WEIGHTS_DIR = PACKAGE_DIR / "weights"
SENTENCES_FILE = REPO_ROOT / "sentences" / "gallery.yaml"
TEMPLATE = REPO_ROOT / "notebooks" / "sentence.ipynb"

# SST-2 (GLUE) lives beside the checkout; it is never copied into the repo.
SST2_DIR = Path(os.environ.get("SST2_DIR", REPO_ROOT.parent / "shared" / "data" / "sst2"))
SST2_TRAIN = SST2_DIR / "train.tsv"
SST2_DEV = SST2_DIR / "dev.tsv"

# --- models ---------------------------------------------------------------
DEFAULT_PAIR = "minilm-sst2"
LABELS = ("negative", "positive")  # index 0 = negative, 1 = positive
HEAD_SEED = 0  # seed of the fresh ("untrained") classification head
MAX_TOKENS = 128  # longer sentences are refused (see sentences.py)

# --- outputs --------------------------------------------------------------
DOCS_DIR = REPO_ROOT / "docs"
GALLERY_DIR = DOCS_DIR / "gallery"  # generated: executed notebooks + index
# A sentence's page is gallery/<slug>; these names are taken, so no sentence file can
# hold them: the generated pages (web/pages.py PAGES, which refuses a page whose
# name is not here), the folders the build writes beside the sentences, and the names
# of the pages the open issues add (training runs, findings, references, per-head
# pages, the dev-set gallery, how to change the code): reserving them now keeps
# today's sentence files valid when those pages come.
RESERVED_SLUGS = ("index", "pair", "heads", "faithfulness", "disagreements", "lesson", "live",
                  "contrast", "assets", "search", "downloads",
                  "training", "findings", "references", "head", "dev", "sst2-dev", "shards", "how-to",
                  "norms", "steps")
DOWNLOADS = "downloads"  # gallery/downloads/<slug>.ipynb in the site: each notebook as a reader downloads it
STEPS = "steps"  # gallery/steps/<blob id>.js: the fine-tuned model's attention at each training checkpoint
NORMS = "norms"  # gallery/norms/<blob id>.js in the site: each page's norm-based attention, fetched when asked for
# the findings stage (attention_gallery/findings): the labelled set it measures (default
# SST-2 dev), its first N rows only where ATTENTION_GALLERY_FINDINGS_LIMIT says (the
# test suite), and the linear probes of its control
FINDINGS_SET = Path(os.environ.get("ATTENTION_GALLERY_FINDINGS_SET", SST2_DEV))
FINDINGS_LIMIT = int(os.environ["ATTENTION_GALLERY_FINDINGS_LIMIT"]) if os.environ.get(
    "ATTENTION_GALLERY_FINDINGS_LIMIT") else None
PROBES_DIR = PACKAGE_DIR / "probes"
SITE_DIR = REPO_ROOT / "site"
CACHE_DIR = REPO_ROOT / ".cache" / "gallery"
# Every page carries the site's navigation: a set of up to this many sentences is
# listed in it; a bigger one only on the gallery's overview page (so a page's weight
# and render time do not grow with the size of the set).
NAV_SENTENCES_MAX = 60

# bertviz views: attention weights are stored in 256 levels (what the eye can see:
# the browser draws line opacity with 8 bits).
ATTENTION_LEVELS = 255

# How every page names the two models: "untrained" is only the head.
UNTRAINED_NAME = "the pretrained encoder with an untrained head"
UNTRAINED_SHORT = "pretrained encoder + untrained head"
TRAINED_SHORT = "fine-tuned"
HEAD_SEEDS = 10  # untrained heads drawn per sentence and on SST-2 dev (pair seed, +1, ...)
