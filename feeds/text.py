"""Small text rules shared by the stages: what XML can carry, and how names are compared."""

from __future__ import annotations

import html
import re
from functools import lru_cache

# XML 1.0 allows tab, newline, carriage return and everything from U+0020 on, except the surrogates
# and U+FFFE/U+FFFF. lxml (and so feedgen) raises on anything else, and readers choke on it.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_illegal_count(text: str) -> int:
    return len(_XML_ILLEGAL.findall(text))


def strip_xml_illegal(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def collapse_spaces(text: str) -> str:
    """Trim and collapse runs of whitespace to one space: how names are written out."""
    return " ".join(text.split())


@lru_cache(maxsize=1 << 16)  # a corpus names a few hundred topics, a hundred thousand times
def identity_key(name: str) -> str:
    """Case- and space-insensitive identity of a name (SPEC §2): ` AI `, `ai` and `Ai` are one."""
    return collapse_spaces(name).casefold()


# Tags, comments, declarations; `[^<>]*` keeps the scan linear on hostile input ("<!--" x 1e5).
_TAG = re.compile(r"</?[A-Za-z!][^<>]*>")


def html_to_text(text: str) -> tuple[str, bool]:
    """Plain text from text that may hold HTML: tags removed, entities decoded.

    Returns the text and whether any tag was removed (worth a warning: the record was not plain).
    """
    stripped = _TAG.sub("", text)
    return html.unescape(stripped), stripped != text
