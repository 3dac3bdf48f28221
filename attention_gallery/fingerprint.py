"""Content fingerprints: a hash of the files a model loads (or a hub model's
resolved commit), and of a folder tree. The notebook cache keys on them
(``build.cache``), and so do the live page's exported graph (``live.export``) and
the findings (``findings.stage``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .sources import check_source


def hash_tree(h, folder: Path, label: str, skip=lambda relative: False) -> None:
    """Feed every file under ``folder`` (names and bytes, sorted) into ``h``,
    except those ``skip(relative posix path)`` says."""
    for p in sorted(q for q in folder.rglob("*") if q.is_file() and "__pycache__" not in q.parts
                    and not skip(q.relative_to(folder).as_posix())):
        h.update(f"{label}/{p.relative_to(folder).as_posix()}\0".encode())
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)


def hub_revision(source) -> str:
    """The commit a hub model resolves to in the local Hugging Face cache."""
    # only for hub models (slow to import)
    from huggingface_hub import snapshot_download

    try:
        path = snapshot_download(source.hub, revision=source.revision, local_files_only=True)
    except Exception:  # not cached: the kernel will fail to load it, with a clear message
        return f"uncached:{source.hub}@{source.revision}"
    return f"{source.hub}@{Path(path).name}"


# What PEFT loads from an adapter folder: the rest (how it was trained, its evaluation,
# other runs and checkpoints kept beside it) decides nothing the adapter computes.
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


def weights_fingerprint(source) -> str:
    """A content hash of the weights ``source`` loads (a hub model: its resolved commit;
    an adapter: the two files PEFT reads)."""
    h = hashlib.sha256()
    if source.hub:
        h.update(hub_revision(source).encode())
    else:  # a folder that holds a model, checked before a byte is hashed (not /usr, not /proc)
        skip = (lambda relative: relative not in ADAPTER_FILES) if source.adapter else (lambda relative: False)
        hash_tree(h, check_source(source), "weights", skip=skip)
    return h.hexdigest()


def stamp(source) -> tuple:
    """The names, sizes and times of the files ``source`` loads (what a process may
    take as unchanged without reading a byte: watch mode asks after every save)."""
    folder = None if source.hub else source.local_dir()
    if folder is None or not folder.is_dir():
        return (repr(source),)
    return tuple((p.as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))
                 if p.is_file())
