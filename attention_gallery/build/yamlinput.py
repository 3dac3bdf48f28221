"""Untrusted YAML as plain data, with the line of every value; nothing is constructed.

:func:`read_text` reads a regular file with a bounded read; :func:`compose` builds the
node tree with PyYAML's ``SafeLoader``; :func:`to_data` turns the nodes a schema
expects into dicts, lists, strings and ``None``, and leaves every other value (numbers,
booleans, dates, tagged values, containers where none is expected) as its node, for
the schema to refuse and :func:`kind` to describe. Problems are :class:`InputError`
or ``(loc, problem)`` pairs, ``loc`` being the path of keys and indexes that pydantic
uses too.
"""

from __future__ import annotations

import os
import re
import stat

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..names import show  # how a message quotes untrusted text

_TAG = "tag:yaml.org,2002:"
_SCALAR_KINDS = {"bool": "a boolean", "int": "a number", "float": "a number",
                 "timestamp": "a date"}
_FILE_KINDS = {stat.S_ISDIR: "a directory", stat.S_ISFIFO: "a named pipe (FIFO)",
               stat.S_ISCHR: "a device", stat.S_ISBLK: "a device", stat.S_ISSOCK: "a socket"}


class InputError(ValueError):
    """Input that cannot be read as YAML data at all (one problem)."""


def _is(node, node_type, tag: str) -> bool:
    return isinstance(node, node_type) and node.tag == _TAG + tag


def kind(value) -> str:
    """What a value of :func:`to_data` is, in words (for 'got ...' in messages)."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        return f"a string ({show(value, 30)})"
    if isinstance(value, dict) or _is(value, MappingNode, "map"):
        return "a mapping"
    if isinstance(value, list) or _is(value, SequenceNode, "seq"):
        return "a list"
    scalar = _SCALAR_KINDS.get(value.tag.removeprefix(_TAG))
    if isinstance(value, ScalarNode) and scalar:
        return f"{scalar} ({show(value.value, 30)}; put it in quotes to make it a string)"
    return f"a value tagged {show(value.tag)}"


def read_text(path, limit: int) -> str:
    """The UTF-8 text of the regular file at ``path`` (symlinks followed), of at most
    ``limit`` bytes; never reads more than ``limit + 1``. FIFOs, devices and
    directories are refused without reading."""
    def nonblocking(name, flags):  # a FIFO opens at once (then is refused, not read)
        return os.open(name, flags | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))

    try:
        with open(path, "rb", opener=nonblocking) as file:
            mode = os.fstat(file.fileno()).st_mode
            if not stat.S_ISREG(mode):
                what = next((k for test, k in _FILE_KINDS.items() if test(mode)), "a special file")
                raise InputError(f"is {what}, not a regular file; give the path of a YAML file")
            data = file.read(limit + 1)
    except IsADirectoryError:
        raise InputError("is a directory, not a regular file; give the path of a YAML "
                         "file") from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError(f"file is too large: more than {limit} bytes; a sentence set may "
                         f"have at most {limit}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"line {line}: the file is not valid UTF-8 (byte {exc.start + 1}: "
                         f"{exc.reason}); save it as UTF-8") from None


def compose(text: str):
    """The node tree of ``text`` (``None`` for an empty document)."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        context = exc.context
        if context and exc.context_mark and exc.context_mark is not mark:
            context += f" (from line {exc.context_mark.line + 1}, column " \
                       f"{exc.context_mark.column + 1})"
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = "; ".join(p for p in (context, exc.problem) if p)
    except yaml.reader.ReaderError as exc:  # position counts characters of the stream
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        where = f"line {line}, column {column}: "
        what = (f"unacceptable character U+{code:04X} (control characters may appear only "
                f"as escapes in double-quoted strings, and are refused in sentences anyway)")
    except yaml.YAMLError as exc:
        where, what = "", str(exc)
    except RecursionError:
        where, what = "", "nested too deeply"
    raise InputError(f"{where}invalid YAML: {what}")


def _scalar(node):
    """A str node as its string, a null node as None, any other node as itself.
    JSON-style escaped surrogate pairs ("\\ud83d\\ude00"), which PyYAML leaves as two
    lone surrogates, are joined into the character they encode."""
    if _is(node, ScalarNode, "null"):
        return None
    if not _is(node, ScalarNode, "str"):
        return node
    return re.sub("[\ud800-\udbff][\udc00-\udfff]", lambda m: m.group().encode(
        "utf-16-le", "surrogatepass").decode("utf-16-le"), node.value)


def to_data(root, shape, budget: int):
    """``(data, lines, problems)`` of the node ``root`` read as ``shape``: ``{}`` or
    ``{key: shape}`` a mapping (keys not named hold scalars), ``[shape]`` a list, ``None``
    a scalar. ``lines`` maps each loc to the line where its value starts; ``problems``
    lists (loc, problem) for merge keys, non-string keys and keys given twice (the first
    is kept). A node that aliases make appear several times is converted once, but
    counts each time: data of more than ``budget`` characters and values (an alias
    bomb) is refused."""
    lines: dict[tuple, int] = {}
    problems: list[tuple[tuple, str]] = []
    done: dict[tuple, tuple] = {}  # (node, shape) -> (data, size)

    def convert(node, shape, loc) -> tuple:
        lines[loc] = node.start_mark.line + 1
        if (id(node), id(shape)) not in done:
            done[id(node), id(shape)] = build(node, shape, loc)
        data, size = done[id(node), id(shape)]
        if size > budget:
            raise InputError(f"line {lines[loc]}: aliases repeat too much (more than "
                             f"{budget} characters and values once expanded); write it out")
        return data, size

    def build(node, shape, loc) -> tuple:
        if isinstance(shape, dict) and _is(node, MappingNode, "map"):
            out, size, key_lines = {}, 1, {}
            for key_node, value_node in node.value:
                key, line = _scalar(key_node), key_node.start_mark.line + 1
                if key_node.tag == _TAG + "merge":
                    problems.append((loc, f"merge keys ('<<') are not supported; write every "
                                          f"key out (line {line})"))
                elif not isinstance(key, str):
                    problems.append((loc, f"keys must be strings, got {kind(key)} (line {line})"))
                elif key in out:
                    problems.append((loc, f"key {show(key)} appears twice (lines "
                                          f"{key_lines[key]} and {line})"))
                else:
                    out[key], value_size = convert(value_node, shape.get(key), loc + (key,))
                    key_lines[key], size = line, size + value_size
            return out, size
        if isinstance(shape, list) and _is(node, SequenceNode, "seq"):
            items = [convert(item, shape[0], loc + (i,)) for i, item in enumerate(node.value)]
            return [data for data, _ in items], 1 + sum(size for _, size in items)
        data = _scalar(node)
        return data, len(data) if isinstance(data, str) else 1

    return convert(root, shape, ())[0], lines, problems
