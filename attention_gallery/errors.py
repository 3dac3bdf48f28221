"""How a build stops: every refusal and failure the command line reports in one line."""

import errno
import os
import re
import shutil


class BuildError(RuntimeError):
    """A build that stopped; the message says why and what was kept."""


class BuildInterrupted(BuildError):
    """Ctrl-C (or a kernel that died) stopped the build; nothing was published."""


MAX_LISTED = 20  # a list of problems shows this many, then how many more there are


def capped(lines, limit: int = MAX_LISTED) -> list[str]:
    """The first ``limit`` of ``lines``, then one line saying how many were left out: a
    file of 60,000 bad entries must not print 60,000 lines (nor put them in every
    served page's banner and in watch mode's state)."""
    lines = list(lines)
    if len(lines) <= limit:
        return lines
    return lines[:limit] + [f"... and {len(lines) - limit} more"]


_HINTS = {errno.ENOSPC: "free some space", errno.EDQUOT: "free some space (your quota is used up)",
          errno.EACCES: "make it writable", errno.EPERM: "make it writable",
          errno.EROFS: "choose a writable place"}


def disk_error(exc: OSError, doing: str, kept: str, path=None) -> BuildError:
    """An ``OSError`` of the disk (a full disk, a quota, a read-only folder...) as one
    line: what was being done on which path, what the errno means, what was kept and
    what to do. ``shutil.Error`` (``copytree``'s list of failures) gives its first;
    ``path`` names the file when the error does not (a write to an open file)."""
    path, code, said = exc.filename or path, exc.errno, exc.strerror
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list) and exc.args[0]:
        src, dst, why = exc.args[0][0]
        path, said = dst, str(why)
        found = re.search(r"\[Errno (\d+)\]", str(why))
        code = int(found.group(1)) if found else None
    meaning = os.strerror(code) if code else (said or str(exc) or type(exc).__name__)
    name = f" ({errno.errorcode[code]})" if code in errno.errorcode else ""
    hint = _HINTS.get(code, "fix that")
    return BuildError(f"{doing} {path if path is not None else '(unknown path)'}: {meaning}{name}; "
                      f"{kept}; {hint} and build again")
