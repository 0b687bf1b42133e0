"""The one module that talks to feedgen: a `FeedDoc` in, RSS 2.0 or Atom 1.0 bytes out.

feedgen 1.0.0 has quirks. Each is worked around here, once, marked `QUIRK`, and has a
test in `tests/test_feedgen_quirks.py` that fails if it comes back:

1. `add_entry` prepends unless `order="append"`: items would come out oldest first.
2. The last `link()` on the feed becomes RSS `<channel><link>`, while Atom writes the links in
   call order, and readers that take a feed's first link as its site (@extractus/feed-extractor)
   would show the feed's own URL: the site link is added last for RSS and first for Atom.
3. `updated`/`lastBuildDate` (feed and entry) default to now: always set, to item times.
4. The media extension wraps everything in `media:group` unless `group=None`.
5. Atom entry links lose `rel`/`type`/`length` (upstream #135/#143): an enclosure becomes a second
   alternate link and readers take the image as the item's link. `_AtomEntryLinks` rewrites them.
6. Atom `source` lacks `id`/`updated`: `source()` is never called.
7. lxml raises on control characters: every text passes through `strip_controls` first.
8. `summary()` fills RSS `<description>` and Atom `<summary>` with one string, but the first is
   HTML and the second plain text: a plain excerpt must be escaped for RSS only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

# isort: off
# feedgen.feed first: feedgen's extension modules use lxml.etree without importing it.
from feedgen.feed import FeedGenerator
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.ext.dc import DcEntryExtension, DcExtension
from feedgen.ext.media import MediaEntryExtension, MediaExtension

# isort: on
from lxml import etree

from feeds.document import FeedDoc, Item, Link
from feeds.model import Image
from feeds.paths import FORMATS
from feeds.text import strip_controls

ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
RSS_TYPE = FORMATS["rss"].media_type
ATOM_TYPE = FORMATS["atom"].media_type
RSS_IMAGE_MAX = (144, 400)  # RSS 2.0: <image> width at most 144, height at most 400


# An article shows on several pages (all, its topics, its provider, a month's archive), with the
# same item each time: items are serialized once, in batches, and spliced into each page's XML.
# The pages are byte for byte what feedgen writes for the whole document (a test compares).
BATCH = 64  # items per feedgen document when making items: half the cost per item of one each

_CLOSE = {True: b"  </channel>\n</rss>\n", False: b"</feed>\n"}
_START = {True: b"\n    <item>", False: b"\n  <entry>"}  # an item's first line, indented
_END = {True: b"</item>\n", False: b"</entry>\n"}


def rss_items(items: Sequence[Item]) -> list[bytes]:
    """Each item's RSS `<item>`, as it stands inside a page (indentation included)."""
    return _items(items, rss=True)


def atom_items(items: Sequence[Item]) -> list[bytes]:
    """Each item's Atom `<entry>`, as it stands inside a page (indentation included)."""
    return _items(items, rss=False)


def rss_and_atom_items(
    rss: Sequence[Item], atom: Sequence[Item]
) -> tuple[list[bytes], list[bytes]]:
    """`rss_items(rss)` and `atom_items(atom)`, for the items of the same articles in each
    format, which differ only in their categories (each links its own format's topic feed):
    feedgen's entries are made once and written in both formats, their categories set again in
    between. Making an entry is two fifths of the cost of an item in one format."""
    if len(rss) != len(atom) or any(
        r.id != a.id or bool(r.categories) != bool(a.categories)
        for r, a in zip(rss, atom, strict=True)
    ):
        return rss_items(rss), atom_items(atom)
    made: tuple[list[bytes], list[bytes]] = ([], [])
    for start in range(0, len(rss), BATCH):
        batch = _cut_both(rss[start : start + BATCH], atom[start : start + BATCH])
        for found, pieces in zip(made, batch, strict=True):
            found.extend(pieces)
    return made


def rss_page(doc: FeedDoc, items: Sequence[bytes]) -> bytes:
    """The RSS document of `doc` (its own `items` ignored) around the given serialized items."""
    return _page(doc, items, rss=True)


def atom_page(doc: FeedDoc, items: Sequence[bytes]) -> bytes:
    """The Atom document of `doc` (its own `items` ignored) around the given serialized items."""
    return _page(doc, items, rss=False)


def whole_document(doc: FeedDoc, *, rss: bool) -> bytes:
    """The document as feedgen writes it in one piece: what the spliced pages must equal."""
    fg = _generator(doc, rss=rss)
    return bytes(fg.rss_str(pretty=True) if rss else fg.atom_str(pretty=True))


def _page(doc: FeedDoc, items: Sequence[bytes], *, rss: bool) -> bytes:
    shell = whole_document(dataclasses.replace(doc, items=()), rss=rss)
    close = _CLOSE[rss]
    if not shell.endswith(close):
        raise AssertionError("feedgen no longer ends a document with its items")
    return b"".join([shell[: -len(close)], *items, close])


def _items(items: Sequence[Item], *, rss: bool) -> list[bytes]:
    found: list[bytes] = []
    for start in range(0, len(items), BATCH):
        found.extend(_cut(items[start : start + BATCH], rss))
    return found


def _cut(items: Sequence[Item], rss: bool) -> list[bytes]:
    """Render `items` in one document and cut it at item boundaries. Item text cannot hold the
    start tag at the start of a line (titles and summaries are escaped, content is sanitized
    HTML); if the cut does not give one piece per item anyway, each is rendered alone."""
    page = whole_document(dataclasses.replace(_FRAGMENT_PAGE, items=tuple(items)), rss=rss)
    return _pieces(page, items, rss)


def _cut_both(rss: Sequence[Item], atom: Sequence[Item]) -> tuple[list[bytes], list[bytes]]:
    """`_cut` in both formats, from one document's entries (`rss_and_atom_items`)."""
    fg = _generator(dataclasses.replace(_FRAGMENT_PAGE, items=tuple(rss)), rss=None)
    rss_page = bytes(fg.rss_str(pretty=True))
    for entry, item in zip(fg.entry(), atom, strict=True):
        if item.categories:  # the RSS item's were set: an Atom item has some if it has
            entry.category(_categories(item), replace=True)
    atom_page = bytes(fg.atom_str(pretty=True))
    return _pieces(rss_page, rss, True), _pieces(atom_page, atom, False)


def _pieces(page: bytes, items: Sequence[Item], rss: bool) -> list[bytes]:
    """Each item's serialization cut from `page`, the fragment document that holds them."""
    start_tag, close = _START[rss], _CLOSE[rss]
    starts = []
    at = page.find(start_tag)
    while at != -1:
        starts.append(at + 1)
        at = page.find(start_tag, at + 1)
    ends = [*starts[1:], len(page) - len(close)]
    pieces = [page[a:b] for a, b in zip(starts, ends, strict=True)]
    if len(pieces) == len(items) and all(p.endswith(_END[rss]) for p in pieces):
        return pieces
    return [_cut_one(item, rss) for item in items]


def _cut_one(item: Item, rss: bool) -> bytes:
    page = whole_document(dataclasses.replace(_FRAGMENT_PAGE, items=(item,)), rss=rss)
    start = page.index(_START[rss]) + 1
    return page[start : len(page) - len(_CLOSE[rss])]


def _text(value: str) -> str:
    return strip_controls(value)  # QUIRK 7


def _generator(doc: FeedDoc, *, rss: bool | None) -> Any:
    """The feed in feedgen; `rss` None: its entries ready for both formats (fragments only:
    its own links are in Atom's order)."""
    fg = FeedGenerator()
    # `load_extension` imports the extension's module on every call (a failed import included,
    # ~50 µs); registering the classes directly costs nothing.
    fg.register_extension("media", MediaExtension, MediaEntryExtension)
    fg.register_extension("dc", DcExtension, DcEntryExtension, atom=False, rss=True)
    fg.register_extension("links", _NoFeedExtension, _AtomEntryLinks, atom=True, rss=False)
    # QUIRK 2 again: archive and hub links must not go through `link()`, or one would become the
    # RSS channel link; and feedgen writes no RSS atom:link but `self`. An extension adds them.
    fg.register_extension("history", _FeedLinks, None, atom=True, rss=True)
    fg.history.set(doc)
    fg.id(doc.self_url)
    fg.title(_text(doc.title))
    fg.description(_text(doc.description))
    site = {"href": doc.home_url, "rel": "alternate", "type": "text/html"}
    own = {"href": doc.self_url, "rel": "self", "type": RSS_TYPE if rss else ATOM_TYPE}
    for link in (own, site) if rss else (site, own):  # QUIRK 2: RSS's site last, Atom's first
        fg.link(**link)
    fg.author(name=_text(doc.author))  # Atom: entries without a provider inherit it
    fg.language(doc.language)
    fg.generator(doc.generator, version=doc.generator_version, uri=doc.generator_uri)
    fg.updated(doc.updated)  # QUIRK 3
    if doc.ttl:
        fg.ttl(doc.ttl)
    if doc.logo:
        width, height = doc.logo.width, doc.logo.height
        fits = bool(width and height and width <= RSS_IMAGE_MAX[0] and height <= RSS_IMAGE_MAX[1])
        fg.image(
            url=doc.logo.url,
            title=_text(doc.title),
            link=doc.home_url,
            width=str(width) if fits else None,
            height=str(height) if fits else None,
        )
    if icon := doc.small_icon:  # Atom's <icon> is small and square
        fg.icon(icon)
    for item in doc.items:
        _add_item(fg.add_entry(order="append"), item, rss=rss)  # QUIRK 1
    return fg


def _add_item(fe: Any, item: Item, *, rss: bool | None) -> None:
    """The entry of `item`, for RSS, Atom, or both (`rss` None)."""
    fe.id(item.id)
    fe.guid(item.id, permalink=True)
    fe.title(_text(item.title))
    fe.link(href=item.link, rel="alternate")  # RSS <link>; Atom links are written by QUIRK 5
    fe.published(item.published)
    fe.updated(item.updated)  # QUIRK 3
    if item.summary:
        summary = _text(item.summary)
        if not rss:
            fe.summary(summary)  # Atom <summary> is text; it sets RSS's description too
        if rss is not False:
            # QUIRK 8: HTML in RSS, set after `summary()`. It sets Atom's content too, which
            # `content()` below sets again.
            fe.description(escape(summary))
    fe.content(_text(item.content_html), type="html")  # RSS <content:encoded>, Atom <content>
    if item.author:
        fe.author(name=_text(item.author), uri=item.author_uri)
        fe.dc.dc_creator(_text(item.author))
    if item.categories:
        fe.category(_categories(item))
    for image in item.images:  # QUIRK 4: group=None keeps media elements directly in the item
        fe.media.content({**_sized(image), "medium": "image"}, group=None)
    if item.images:
        fe.media.thumbnail(_sized(item.images[0]), group=None)
    if item.enclosure:
        enclosure = item.enclosure
        fe.enclosure(enclosure.href, str(enclosure.length or 0), enclosure.type)
    links = [Link(item.link, "alternate", "text/html"), *filter(None, [item.enclosure])]
    fe.links.set([*links, *item.related])


def _categories(item: Item) -> list[dict[str, str]]:
    found = []
    for category in item.categories:
        label = _text(category.label)
        fields = {"term": label, "label": label}
        if category.scheme:
            fields["scheme"] = category.scheme
        found.append(fields)
    return found


def _sized(image: Image) -> dict[str, str]:
    attributes = {"url": image.url}
    if image.width and image.height:
        attributes.update(width=str(image.width), height=str(image.height))
    return attributes


class _NoFeedExtension(BaseExtension):  # type: ignore[misc]
    """feedgen registers entry extensions through a feed one; ours adds nothing to the feed."""

    def extend_ns(self) -> dict[str, str]:
        return {}


class _FeedLinks(BaseExtension):  # type: ignore[misc]
    """Feed-level `prev-archive`, `current` and `hub` links, and RFC 5005's `fh:archive` marker."""

    def __init__(self) -> None:
        self._doc: FeedDoc | None = None

    def set(self, doc: FeedDoc) -> None:
        self._doc = doc

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS} if self._doc and self._doc.archive else {}

    def extend_atom(self, feed: Any) -> Any:
        self._add(feed, "link")
        return feed

    def extend_rss(self, rss: Any) -> Any:
        self._add(rss.find("channel"), f"{{{ATOM_NS}}}link")
        return rss

    def _add(self, parent: Any, link_tag: str) -> None:
        if self._doc is None:
            return
        for link in self._doc.links:
            etree.SubElement(parent, link_tag, {"href": link.href, "rel": link.rel})
        if self._doc.archive:
            etree.SubElement(parent, f"{{{FH_NS}}}archive")


class _AtomEntryLinks(BaseEntryExtension):  # type: ignore[misc]
    """QUIRK 5: replaces the links feedgen 1.0 writes into an Atom entry (without their `rel`,
    `type` and `length`) by the entry's real links, with all their attributes."""

    def __init__(self) -> None:
        self._links: list[Link] = []

    def set(self, links: list[Link]) -> None:
        self._links = links

    def extend_atom(self, entry: Any) -> Any:
        for broken in entry.findall("link"):
            entry.remove(broken)
        for link in self._links:
            attributes = {"href": link.href, "rel": link.rel}
            if link.type:
                attributes["type"] = link.type
            if link.rel == "enclosure":
                attributes["length"] = str(link.length or 0)
            if link.title:
                attributes["title"] = _text(link.title)
            etree.SubElement(entry, "link", attributes)
        return entry


# The page an item is rendered in, to cut it out: any valid feed will do.
_FRAGMENT_PAGE = FeedDoc(
    title="fragment",
    description="fragment",
    home_url="https://example.invalid/",
    self_url="https://example.invalid/feed",
    language="en",
    author="fragment",
    generator="feeds",
    generator_version="",
    generator_uri="https://example.invalid/",
    updated=datetime(1970, 1, 1, tzinfo=UTC),
    logo=None,
    items=(),
)
