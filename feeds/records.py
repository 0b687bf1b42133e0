"""Read the seeds folder: every file becomes raw records, a problem, or "ignored".

This is the only stage that reads input files. It knows file formats, not field rules: those live in
`validate.py`. Nothing here raises for a bad file; the file's problem is returned instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from feeds.model import Level, Problem
from feeds.plain_yaml import NotPlain, block_document
from feeds.safe_yaml import MAX_DEPTH, MAX_FILE_BYTES, deeper_than, expands_beyond, too_deep
from feeds.scan import FRONT_MATTER_SUFFIXES, is_record

LIST_KEYS = ("news", "value")  # the shapes news-search API exports use
_RECORD_KEYS = frozenset({"webUrl", "title", "publishedDateTime"})

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _RecordLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe YAML (no object-building tags), C-accelerated when libyaml is there.

    Times stay strings: `validate.py` parses them itself, the same way for YAML and JSON.
    """

    def plain_document(self) -> Any:
        """The document, built by a short walk when it is plain data (untagged mappings, lists,
        strings, decimal integers, booleans, nulls; no merge keys), which records are: PyYAML's
        general constructor is half the time of reading a record. Any other node is built by
        that constructor, so the result and the errors are the same. Only for documents without
        anchors: the walk would copy an aliased node at each use."""
        node = self.get_single_node()
        return None if node is None else self._plain(node)

    def _plain(self, node: yaml.Node) -> Any:
        tag, value = node.tag, node.value
        if isinstance(node, yaml.ScalarNode):
            if (found := _plain_value(tag, value)) is not _OTHER:
                return found
        elif isinstance(node, yaml.MappingNode):
            if tag == _MAP and all(key.tag in _SCALAR_KEYS for key, _ in value):
                return {self._plain(key): self._plain(item) for key, item in value}
        elif tag == _SEQ:
            return [self._plain(item) for item in value]
        return self.construct_document(node)  # PyYAML's way, for this node and all it holds


def _plain_value(tag: str, value: str) -> Any:
    """A scalar's value, by its tag, when it is plain data: text, a decimal whole number, a
    boolean, null; else `_OTHER`, for PyYAML's constructor to make."""
    if tag == _STR:
        return value
    if tag == _INT and _DECIMAL.fullmatch(value):
        return whole_number(value)
    if tag == _BOOL and value in _BOOLEANS:
        return _BOOLEANS[value]
    if tag == _NULL and value in ("", "~", "null"):
        return None
    return _OTHER


_OTHER = object()
_STR, _MAP, _SEQ, _INT, _BOOL, _NULL, _FLOAT = (
    f"tag:yaml.org,2002:{name}" for name in ("str", "map", "seq", "int", "bool", "null", "float")
)
_SCALAR_KEYS = {_STR, _INT, _BOOL, _NULL, _FLOAT}  # keys a plain walk may build: not "<<" (merge)
_DECIMAL = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_BOOLEANS = {"true": True, "false": False, "True": True, "False": False}


class LongNumber(str):
    """A whole number written with more digits than Python reads (4300, its guard against slow
    conversions), kept as its text: validation then refuses the one field that holds it, where
    the loader would have refused the whole file and every other record in it."""

    __slots__ = ()


def whole_number(text: str) -> int | LongNumber:
    try:
        return int(text)
    except ValueError:
        return LongNumber(text)


@dataclass(frozen=True, slots=True)
class Mistagged:
    """A value whose explicit tag it does not fit (`!!int abc`, `!!bool maybe`), kept as its
    text: validation refuses the one field that holds it (an ignored field, `secured` too,
    costs nothing). PyYAML raises there, and the whole file was refused, its text (a secret
    too) in the message; or, where it raises what no loader expects, called a bug."""

    tag: str
    text: str

    @property
    def short_tag(self) -> str:
        return self.tag.replace("tag:yaml.org,2002:", "!!")


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | LongNumber | Mistagged:
    """PyYAML's integers (`1_000`, `0x1F` too); the text of one too long to read, or of a
    value tagged `!!int` that is none."""
    try:
        number: int = yaml.SafeLoader.construct_yaml_int(loader, node)
    except (ValueError, IndexError) as e:  # IndexError: `!!int ""`, `!!int -`
        text = str(loader.construct_scalar(node))
        too_long = isinstance(e, ValueError) and "digits" in str(e)
        return LongNumber(text) if too_long else Mistagged(node.tag, text)
    return number


def _tolerant(construct: Callable[[yaml.SafeLoader, yaml.ScalarNode], Any]) -> Callable[..., Any]:
    def constructor(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError, IndexError):
            return Mistagged(node.tag, str(node.value))

    return constructor


_RecordLoader.add_constructor(_INT, _construct_int)
for _tag, _construct in (
    (_FLOAT, yaml.SafeLoader.construct_yaml_float),
    (_BOOL, yaml.SafeLoader.construct_yaml_bool),
    ("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_timestamp),
):
    _RecordLoader.add_constructor(_tag, _tolerant(_construct))
_RecordLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# Each plain scalar's implicit resolvers, by its first character (PyYAML's own table, with the
# wildcard ones after), for `_resolve`.
_Resolvers = tuple[tuple[str, re.Pattern[str]], ...]
_BY_FIRST: dict[str, _Resolvers] = {
    first: (*resolvers, *_RecordLoader.yaml_implicit_resolvers.get(None, ()))
    for first, resolvers in _RecordLoader.yaml_implicit_resolvers.items()
    if first is not None
}
_WILDCARD: _Resolvers = tuple(_RecordLoader.yaml_implicit_resolvers.get(None, ()))


def _resolve(self: _RecordLoader, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
    """PyYAML's `resolve`, which libyaml's composer calls for every node (fifty a record, a
    tenth of reading one), without what records never use: path resolvers. Same tags (a
    property test compares)."""
    if kind is yaml.ScalarNode:
        return _implicit_tag(value) if implicit[0] else _STR
    return _MAP if kind is yaml.MappingNode else _SEQ


def _implicit_tag(value: str) -> str:
    """The tag of a plain (unquoted, untagged) scalar."""
    for tag, pattern in _BY_FIRST.get(value[:1], _WILDCARD):
        if pattern.match(value):
            return tag
    return _STR


def _plain_text(text: str) -> Any:
    """A plain scalar's value from its text, for `plain_yaml.block_document`."""
    if text[:1] not in _BY_FIRST and not _WILDCARD:  # no resolver to ask: text
        return text
    if (found := _plain_value(_implicit_tag(text), text)) is _OTHER:
        raise NotPlain
    return found


assert not _RecordLoader.yaml_path_resolvers  # `_resolve` has no path resolvers to ask
_RecordLoader.resolve = _resolve


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as found in a file, before any field was checked."""

    path: str  # relative to the seeds folder, with `/`
    data: Mapping[str, Any]
    body: str | None = None
    text: str = ""  # the YAML it was read from, to find lines in: only a problem needs them
    first_line: int = 1  # the file's line number of the text's first line
    item: int = 0  # where in the file, for list files: 1 for the first record

    @property
    def label(self) -> str:
        """Where in the file, as messages say it: "item 3" (nothing for a file of one record)."""
        return f"item {self.item}" if self.item else ""

    def line_of(self, key: str) -> int | None:
        """The line of top-level key `key` in the file, if known."""
        return _top_level_lines(self.text, first_line=self.first_line).get(key)


@dataclass(frozen=True, slots=True)
class FileResult:
    path: str
    records: tuple[RawRecord, ...] = ()
    problem: Problem | None = None  # the whole file was rejected
    ignored: bool = False
    # A digest of the file's bytes, changed whenever they are: 96 bits, as bytes (every
    # article holds its file's; as hexadecimal text they took 28 MB more at 1,000,000 records).
    revision: bytes = b""
    transient: bool = False  # the problem may go away without the file changing (permissions)
    warnings: tuple[Problem, ...] = ()  # about the file as a whole, said before its records'


def read_file(path: Path, name: str) -> FileResult:
    suffix = path.suffix.lower()
    if not is_record(name):
        return FileResult(name, ignored=True)
    try:
        data = _read_bytes(path)
        text, cleaned = _printable(_decode(data), name)
        if suffix in FRONT_MATTER_SUFFIXES:
            records: tuple[RawRecord, ...] = (_parse_front_matter(text, name),)
        else:
            records = _parse_data_file(text, name, json_syntax=suffix == ".json")
    except _FileError as e:
        problem = Problem(name, e.message, line=e.line)
        return FileResult(name, problem=problem, transient=e.transient)
    revision = hashlib.sha256(data).digest()[:12]
    return FileResult(name, records=records, revision=revision, warnings=cleaned)


# What YAML refuses to read anywhere in a document (PyYAML's `Reader.NON_PRINTABLE`): control
# characters but tab and line ends, DEL, the C1 controls but NEL, surrogates, U+FFFE and U+FFFF.
# JSON refuses them in its strings too.
_UNPRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _printable(text: str, name: str) -> tuple[str, tuple[Problem, ...]]:
    """The text without the characters YAML refuses, and a warning when it had some: one stray
    control character (pasted from a word processor) cost the whole file. Line ends stay, so
    lines are where they were."""
    first = _UNPRINTABLE.search(text)
    if first is None:
        return text, ()
    found = len(_UNPRINTABLE.findall(text))
    line = text.count("\n", 0, first.start()) + 1
    message = f"{found} control character(s) that YAML and XML cannot carry were removed"
    return _UNPRINTABLE.sub("", text), (Problem(name, message, line=line, level=Level.WARNING),)


class _FileError(Exception):
    def __init__(self, message: str, line: int | None = None, *, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.transient = transient  # may go away without the file changing: try again next run


def _read_bytes(path: Path) -> bytes:
    try:
        # Non-blocking: opening a FIFO that took a record's place since the scan must not wait
        # for a writer. Only a regular file is read.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            found = os.fstat(fd)
            if not stat.S_ISREG(found.st_mode):
                raise _FileError("is not a regular file; it was not read", transient=True)
            data = _read_up_to(fd, MAX_FILE_BYTES + 1, found.st_size + 1)
        finally:
            os.close(fd)
    except OSError as e:
        raise _FileError(f"cannot be read: {e.strerror or e}", transient=True) from e
    if len(data) > MAX_FILE_BYTES:
        raise _FileError(
            f"is larger than {MAX_FILE_BYTES // 1024} KB, the limit for one record file"
        )
    if not data.strip():
        raise _FileError("is empty")
    if b"\x00" in data:
        raise _FileError("is a binary file, not a text record")
    return data


def _read_up_to(fd: int, limit: int, each: int) -> bytes:
    """The file's bytes, up to `limit`, `each` at a time (its size and one more: the second
    read finds the end). A read asks the C heap for as many bytes as it may get: asking for the
    limit, a megabyte, cost more than the reading. A read that fills what it asked for (the
    file grew since its size was taken, or it said 0) asks for twice as much next: a few reads,
    not one a byte."""
    chunks: list[bytes] = []
    left = limit
    while left > 0 and (chunk := os.read(fd, min(each, left))):
        chunks.append(chunk)
        left -= len(chunk)
        if len(chunk) == each:
            each *= 2
    return b"".join(chunks)


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark is fine
    except UnicodeDecodeError as e:  # `e.object`: the bytes after a byte-order mark
        line = e.object[: e.start].count(b"\n") + 1
        raise _FileError(
            f"is not UTF-8 text (byte 0x{e.object[e.start]:02x} cannot be decoded)", line
        ) from e
    return text.replace("\r\n", "\n").replace("\r", "\n")


_FENCE = re.compile(r"^---[ \t]*$")


def _parse_front_matter(text: str, name: str) -> RawRecord:
    lines = text.split("\n")
    if not _FENCE.match(lines[0]):
        raise _FileError("has no front matter: the first line must be '---'", 1)
    end = next((i for i in range(1, len(lines)) if _FENCE.match(lines[i])), None)
    if end is None:
        raise _FileError("front matter is not closed: no second '---' line after line 1", 1)
    yaml_text = "\n".join(lines[1:end])
    data = _load_yaml(yaml_text, first_line=2)
    if not isinstance(data, dict):
        raise _FileError(f"front matter is {_kind(data)}, not a set of 'field: value' lines", 2)
    body = "\n".join(lines[end + 1 :]).strip()
    return RawRecord(name, data, body or None, yaml_text, first_line=2)


def _parse_data_file(text: str, name: str, *, json_syntax: bool) -> tuple[RawRecord, ...]:
    if json_syntax:
        try:
            data = json.loads(text, parse_int=whole_number)
        except json.JSONDecodeError as e:
            raise _FileError(f"JSON syntax error: {e.msg}", e.lineno) from e
        except RecursionError as e:
            raise _FileError("JSON is nested too deeply") from e
        brackets = text.count("[") + text.count("{")
        if brackets > MAX_DEPTH and deeper_than(data, MAX_DEPTH):  # as YAML: a record nests 3 or 4
            raise _FileError(f"JSON is nested more than {MAX_DEPTH} levels deep")
    else:
        data = _load_yaml(text, first_line=1)
    if isinstance(data, dict):
        lists = [data[key] for key in LIST_KEYS if isinstance(data.get(key), list)]
        # An export's wrapper holds the records (both lists, when it has both); a mapping with a
        # record's own fields is a record, whatever else it holds (a list named `value`).
        if not lists or not _RECORD_KEYS.isdisjoint(data):
            return (RawRecord(name, data, None, text),)
        data = [record for listed in lists for record in listed]
    if not isinstance(data, list):
        raise _FileError(f"holds {_kind(data)}, not a record or a list of records", 1)
    if not data:
        raise _FileError("holds an empty list: no records", 1)
    records = []
    for i, item in enumerate(data, start=1):
        # A non-mapping item is kept as an empty record so validation rejects it with its position.
        records.append(RawRecord(name, item if isinstance(item, dict) else {}, item=i))
    return tuple(records)


def _load_yaml(text: str, *, first_line: int) -> Any:
    try:
        if too_deep(text):
            # libyaml's composer recurses in C: a deep enough document crashes the process.
            raise _FileError(f"YAML is nested more than {MAX_DEPTH} levels deep")
        # Most records are read line by line (`plain_yaml.py`); the others by libyaml.
        anchored = "&" in text  # aliases: PyYAML's constructor, and the expansion checked
        data = None if anchored else block_document(text, _plain_text)
        if data is None:
            loader = _RecordLoader(text)
            try:
                data = loader.get_single_data() if anchored else loader.plain_document()
            finally:
                loader.dispose()
    except yaml.constructor.ConstructorError as e:
        line = e.problem_mark.line + first_line if e.problem_mark else None
        tag = _TAG.search(str(e.problem))
        shown = tag.group(1).replace("tag:yaml.org,2002:", "!!") if tag else "of this kind"
        raise _FileError(
            f"YAML tag {shown} is not allowed; records hold plain values only", line
        ) from e
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + first_line if e.problem_mark else None
        raise _FileError(f"YAML syntax error: {e.problem or e.context}", line) from e
    except yaml.YAMLError as e:
        raise _FileError(f"YAML error: {e}") from e
    except RecursionError as e:
        raise _FileError("YAML is nested too deeply") from e
    except (ValueError, TypeError, IndexError, OverflowError, KeyError, AttributeError) as e:
        # PyYAML's own constructors, on a value its tag does not fit. Their words quote the
        # value, which may be a secret (`secured: !!set ...`): not said.
        raise _FileError("YAML has a !!tagged value that cannot be made") from e
    if anchored and expands_beyond(data, limit=len(text) + 64):  # see safe_yaml.py
        raise _FileError("YAML aliases expand to more values than the file holds (alias bomb?)")
    return data


_TAG = re.compile(r"tag '([^']+)'")
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")


def _top_level_lines(yaml_text: str, *, first_line: int) -> dict[str, int]:
    """Line of each top-level key, so a rejection can point at it: of a key given twice, the
    last, whose value YAML keeps."""
    lines: dict[str, int] = {}
    for offset, line in enumerate(yaml_text.split("\n")):
        m = _TOP_KEY.match(line)
        if m:
            lines[m.group(1)] = offset + first_line
    return lines


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a single text"
    return f"a single {type(value).__name__} value"
