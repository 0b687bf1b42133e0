"""Read the YAML that records are written in, block style and plain values, line by line.

Records are nested mappings and lists of short values, one per line: `title: Text`,
`- url: https://...`, `width: 50`, `date: '2024-02-15T22:42:00Z'`. Reading them through libyaml
costs a third of reading a record (its composer calls back into Python for every node, and
every node is an object); a pass over the lines costs about half of that. Only what the
pass is sure to read as libyaml would is read here; at anything else (a comment, a tag, an
anchor, a block scalar, flow collections but `[]` and `{}`, quoted text over more lines or with
escapes, a value that is not plain text, a whole number, a boolean or null, odd indentation)
`block_document` says None, and the caller hands the whole document to libyaml, which reads it
or says what is wrong with it. A property test holds the two readers to the same values.

What a plain value means (text, a number...) is the caller's to say (`scalar`): YAML's tag
resolution, which the record loader narrows (times stay text).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Scalar = Callable[[str], Any]  # a plain value's text to its value, or raise NotPlain


class NotPlain(Exception):
    """The document is not one this reader is sure to read as libyaml does: a decision, not a
    failure (libyaml reads it)."""


# A key: a word (letters, digits, `_`, `.`, `-`), then `:`, then the value after spaces, if any.
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.\-]*):(?: +(.*))?")
_SINGLE_QUOTED = re.compile(r"'((?:[^']|'')*)'")  # `''` is a quote inside
_DOUBLE_QUOTED = re.compile(r'"([^"\\]*)"')  # without escapes: a backslash is declined
# Characters that give a plain value's first character a meaning in YAML. `-`, `?` and `:` do
# only before a space (`-5` and `:x` are plain values).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
# Characters this reader does not handle: tabs (YAML's whitespace, not indentation), YAML's
# other line breaks (carriage return, NEL, line and paragraph separators), a byte-order mark,
# and what YAML refuses to read (control characters, surrogates, U+FFFE and U+FFFF).
_DECLINED = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_MAX_KEY = 1024  # characters: libyaml looks no further for a key's `:` (YAML's limit)


def block_document(text: str, scalar: Scalar) -> Any:
    """The document's data, or None when it is not one this reader is sure of (or is empty)."""
    if _DECLINED.search(text):
        return None
    rows: list[tuple[int, str, bool]] = []  # (indentation, content, after a blank line)
    blank = False
    for line in text.split("\n"):
        content = line.lstrip(" ")
        if not content:
            blank = True
            continue
        rows.append((len(line) - len(content), content.rstrip(" "), blank))
        blank = False
    if not rows or rows[0][0]:
        return None
    reader = _Reader(rows, scalar)
    try:
        data = reader.node(0)
    except (NotPlain, RecursionError):  # nested deeper than Python goes: libyaml's to say
        return None
    return data if reader.at == len(rows) else None


def _starts_item(content: str) -> bool:
    return content == "-" or content.startswith("- ")


def _plain_line(text: str) -> bool:
    """Whether the text may stand in a plain value: not `: ` (a key), ` #` (a comment) nor a
    final `:`."""
    return ": " not in text and " #" not in text and text[-1] != ":"


class _Reader:
    def __init__(self, rows: list[tuple[int, str, bool]], scalar: Scalar) -> None:
        self.rows, self.scalar = rows, scalar
        self.keys = _KEYS.setdefault(scalar, {})
        self.at = 0  # the next row to read

    def node(self, indent: int) -> Any:
        """The list or mapping whose first row, at `indent`, is the next."""
        if _starts_item(self.rows[self.at][1]):
            return self.sequence(indent)
        return self.mapping(indent)

    def sequence(self, indent: int) -> list[Any]:
        rows, items = self.rows, []
        while self.at < len(rows):
            at_indent, content, _ = rows[self.at]
            if at_indent < indent or not _starts_item(content):
                break
            if at_indent > indent:
                raise NotPlain
            inner = content[2:].lstrip(" ")
            if not inner:  # `-` alone: the item is on the rows below, or null
                self.at += 1
                below = self.at < len(rows) and rows[self.at][0] > indent
                items.append(self.node(rows[self.at][0]) if below else None)
            elif _KEY.fullmatch(inner) or _starts_item(inner):
                # `- key: value` or `- - x`: a mapping or list that starts on the item's row,
                # at the column of its first character.
                column = indent + len(content) - len(inner)
                rows[self.at] = (column, inner, rows[self.at][2])
                items.append(self.node(column))
            else:  # its value, on one line: a deeper row next (more of it) stops the caller
                self.at += 1
                items.append(self.value(inner, []))
        return items

    def mapping(self, indent: int) -> dict[str, Any]:
        rows, found = self.rows, {}
        while self.at < len(rows):
            at_indent, content, _ = rows[self.at]
            if at_indent < indent:
                break
            key = _KEY.fullmatch(content) if at_indent == indent else None
            if key is None:
                raise NotPlain
            written, rest = key.groups()
            name = self.keys.get(written) or self.key_text(written)
            if name is None:
                raise NotPlain  # `on:`, `null:` and the like are keys of other kinds
            self.at += 1
            if rest:
                more = []  # the value's further lines: deeper than its key
                while self.at < len(rows) and rows[self.at][0] > indent:
                    if rows[self.at][2]:
                        raise NotPlain  # a blank line inside a value is a line break
                    more.append(rows[self.at][1])
                    self.at += 1
                found[name] = self.value(rest, more)
            elif self.at < len(rows) and (
                rows[self.at][0] > indent
                or (rows[self.at][0] == indent and _starts_item(rows[self.at][1]))
            ):
                found[name] = self.node(rows[self.at][0])  # a list may stand at its key's column
            else:
                found[name] = None
        return found

    def value(self, text: str, more: list[str]) -> Any:
        """A value from its first line's text and its further lines (plain text only)."""
        first = text[0]
        if first == "'" or first == '"':
            quoted = (_SINGLE_QUOTED if first == "'" else _DOUBLE_QUOTED).fullmatch(text)
            if quoted is None or more:
                raise NotPlain
            return quoted.group(1).replace("''", "'") if first == "'" else quoted.group(1)
        if text == "[]" or text == "{}":
            if more:
                raise NotPlain
            return [] if text == "[]" else {}
        if first in _INDICATORS and (first not in "-?:" or len(text) == 1 or text[1] == " "):
            raise NotPlain
        if not _plain_line(text):
            raise NotPlain
        for line in more:
            if line[0] in _INDICATORS or not _plain_line(line):
                raise NotPlain
        # Lines of a plain value are joined by a space (YAML's folding).
        return self.scalar(" ".join([text, *more]) if more else text)

    def key_text(self, name: str) -> str | None:
        """`name` when the key is text (as good as every key of every record is: remembered in
        `keys`), else None."""
        if len(name) > _MAX_KEY:
            return None
        try:
            value = self.scalar(name)
        except NotPlain:
            return None
        if value != name or type(value) is not str:
            return None
        if len(self.keys) < 4096:  # the keys of records are a few dozen; a stranger corpus, no more
            self.keys[name] = name
        return name


# Each key met that is text, as that text, by the function that said so (the reader's caller's).
_KEYS: dict[Scalar, dict[str, str]] = {}
