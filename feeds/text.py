"""Small text rules shared by the stages: what XML can carry, and how names are compared."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

# XML 1.0 allows tab, newline, carriage return and everything from U+0020 on, except the surrogates
# and U+FFFE/U+FFFF: lxml (and so feedgen) raises on anything else, and readers choke on it. It
# advises against DEL, the C1 controls and the noncharacters: readers take the C1 controls for
# Windows-1252 (U+0080 comes back as a euro sign) and validators warn about all of them. None of
# these is text a curator means, and none goes into a feed, but for the noncharacters beyond the
# first plane (U+1FFFE...), which readers pass as they are: in this class they made every text
# cost ten times as much (the engine then checks each character against a list of ranges, not a
# table), and a second pass to look for them costs as much as the first.
_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)


def control_count(text: str) -> int:
    """How many characters `strip_controls` removes."""
    return len(_CONTROLS.findall(text))


def strip_controls(text: str) -> str:
    """`text` without the characters no feed carries: those XML cannot, and those it advises
    against (DEL, the C1 controls, the noncharacters of the first plane)."""
    return _CONTROLS.sub("", text)


def collapse_spaces(text: str) -> str:
    """Trim and collapse runs of whitespace to one space: how names are written out."""
    return " ".join(text.split())


# Bidi controls (marks, embeddings, overrides, isolates) are invisible and reorder the text around
# them: in a name they only make look-alikes, or make one name show as another ("Trojan source").
_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_BIDI = re.compile(f"[{_BIDI_CONTROLS}]")
# Invisible in display names too: zero-width space, word joiner, byte order mark. Zero-width
# (non-)joiners stay in names as written: Persian, the Indic scripts and emoji sequences need them.
_INVISIBLE_IN_NAMES = re.compile(f"[{_BIDI_CONTROLS}\u200b\u2060\ufeff]")
# Nothing invisible is part of a name's identity: the joiners go too.
_INVISIBLE_IN_IDENTITY = re.compile(f"[{_BIDI_CONTROLS}\u200b\u200c\u200d\u2060\ufeff]")


# Shown as nothing on their own: a soft hyphen, fillers and blanks, variation selectors,
# invisible operators, the combining grapheme joiner.
_BLANK = re.compile("[\u00ad\u034f\u115f\u1160\u180e\u2061-\u2064\u2800\u3164\ufe00-\ufe0f\uffa0]")


def is_visible(text: str) -> bool:
    """Whether `text` shows anything: not only spaces, zero-width, bidi and blank characters."""
    if text.isascii():
        return not text.isspace() and text != ""
    return _BLANK.sub("", _INVISIBLE_IN_IDENTITY.sub("", text)).strip() != ""


def strip_bidi_controls(text: str) -> str:
    return _BIDI.sub("", text)


def display_name(name: str) -> str:
    """A name as feeds show it: NFC (one spelling for one look), no invisible characters but the
    joiners, spaces collapsed."""
    if name.isascii():  # most names: nothing invisible, and already NFC
        return collapse_spaces(name)
    return collapse_spaces(unicodedata.normalize("NFC", _INVISIBLE_IN_NAMES.sub("", name)))


def domain_key(text: str) -> str:
    """A domain as a provider's identity: NFKC (a domain in full-width letters is the same
    domain, as IDNA reads it), lowercase, without `www.`."""
    return unicodedata.normalize("NFKC", text.strip()).lower().removeprefix("www.")


@lru_cache(maxsize=1 << 12)  # a few hundred providers, named a hundred thousand times
def host_identity(domain: str) -> str:
    """A provider's identity from its domain (as `domain_key` gives it): one host however it is
    written, without the dot that ends a fully qualified name (`example.com.`) and with its
    Punycode labels read (`xn--bcher-kva.de` is `bücher.de`, as browsers show it)."""
    bare = domain.removesuffix(".")
    host = bare if "." in bare else domain  # `inc.` is no fully qualified name
    if "xn--" not in host:
        return host
    return unicodedata.normalize("NFKC", ".".join(map(_label_read, host.split(".")))).lower()


def _label_read(label: str) -> str:
    if not label.startswith("xn--"):
        return label
    try:
        read = label[4:].encode("ascii").decode("punycode")
    except UnicodeError:  # not Punycode after all: the label as written
        return label
    return read or label


@lru_cache(maxsize=1 << 16)  # a corpus names a few hundred topics, a hundred thousand times
def identity_key(name: str) -> str:
    """One identity for names that look the same: ` AI `, `ai` and `Ai`; `Café` in NFC or NFD;
    with or without zero-width and bidi control characters; `AI` in full-width letters too.

    NFKC folds compatibility forms; casefolding may undo it (`ǰ` folds to `j` and a combining
    caron), hence the second normalization, as Unicode's caseless identifier matching does."""
    visible = unicodedata.normalize("NFKC", _INVISIBLE_IN_IDENTITY.sub("", name))
    return collapse_spaces(unicodedata.normalize("NFKC", visible.casefold()))


# Tags, comments, declarations; `[^<>]*` keeps the scan linear on hostile input ("<!--" x 1e5).
_TAG = re.compile(r"</?[A-Za-z!][^<>]*>")
# Decoding rounds: `&amp;lt;b&amp;gt;` (escaped twice) takes three. Each round costs a pass over
# the text, and hostile text can nest entities thousands deep; real text is escaped twice at most.
_MAX_DECODING_ROUNDS = 8


def html_to_text(text: str) -> tuple[str, bool]:
    """Plain text from text that may hold HTML: tags removed, entities decoded, and again while
    decoding makes new tags (`&lt;script&gt;` is a tag once decoded). `a < b` and `<3` stay.

    Returns the text and whether any tag was removed (worth a warning: the record was not plain).
    """
    had_tags = False
    for _ in range(_MAX_DECODING_ROUNDS):
        stripped = _TAG.sub("", text)
        had_tags = had_tags or stripped != text
        text = html.unescape(stripped)
        if text == stripped:  # nothing left to decode: no tag can appear any more
            return text, had_tags
    stripped = _TAG.sub("", text)  # nested beyond any real title: what is left stays encoded
    return stripped, had_tags or stripped != text
