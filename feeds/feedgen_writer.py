"""The one module that talks to feedgen: a `FeedDoc` in, RSS 2.0 or Atom 1.0 bytes out.

feedgen 1.0.0 has quirks (SPEC §5). Each is worked around here, once, marked `QUIRK`, and has a
test in `tests/test_feedgen_quirks.py` that fails if it comes back:

1. `add_entry` prepends unless `order="append"`: items would come out oldest first.
2. The last `link()` on the feed becomes RSS `<channel><link>`: the site link must come last.
3. `updated`/`lastBuildDate` (feed and entry) default to now: always set, to item times.
4. The media extension wraps everything in `media:group` unless `group=None`.
5. Atom entry links lose `rel`/`type`/`length` (upstream #135/#143): an enclosure becomes a second
   alternate link and readers take the image as the item's link. `_AtomEntryLinks` rewrites them.
6. Atom `source` lacks `id`/`updated`: `source()` is never called.
7. lxml raises on control characters: every text passes through `strip_xml_illegal` first.
8. `summary()` fills RSS `<description>` and Atom `<summary>` with one string, but the first is
   HTML and the second plain text: a plain excerpt must be escaped for RSS only.
"""

from __future__ import annotations

from html import escape
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feeds.document import FeedDoc, Item, Link
from feeds.model import Image
from feeds.text import strip_xml_illegal

ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"
RSS_IMAGE_MAX = (144, 400)  # RSS 2.0: <image> width at most 144, height at most 400


def rss_bytes(doc: FeedDoc) -> bytes:
    return bytes(_generator(doc, rss=True).rss_str(pretty=True, encoding="UTF-8"))


def atom_bytes(doc: FeedDoc) -> bytes:
    return bytes(_generator(doc, rss=False).atom_str(pretty=True, encoding="UTF-8"))


def _text(value: str) -> str:
    return strip_xml_illegal(value)  # QUIRK 7


def _generator(doc: FeedDoc, *, rss: bool) -> Any:
    fg = FeedGenerator()
    fg.load_extension("media")
    fg.load_extension("dc", atom=False, rss=True)
    fg.register_extension("links", _NoFeedExtension, _AtomEntryLinks, atom=True, rss=False)
    # QUIRK 2 again: archive and hub links must not go through `link()`, or one would become the
    # RSS channel link; and feedgen writes no RSS atom:link but `self`. An extension adds them.
    fg.register_extension("history", _FeedLinks, None, atom=True, rss=True)
    fg.history.set(doc)
    fg.id(doc.self_url)
    fg.title(_text(doc.title))
    fg.description(_text(doc.description))
    fg.link(href=doc.self_url, rel="self", type=RSS_TYPE if rss else ATOM_TYPE)
    fg.link(href=doc.home_url, rel="alternate", type="text/html")  # QUIRK 2: last = RSS link
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
        if doc.logo.is_square:
            fg.icon(doc.logo.url)  # Atom wants a square icon; the logo is square
    for item in doc.items:
        _add_item(fg.add_entry(order="append"), item, rss=rss)  # QUIRK 1
    return fg


def _add_item(fe: Any, item: Item, *, rss: bool) -> None:
    fe.id(item.id)
    fe.guid(item.id, permalink=True)
    fe.title(_text(item.title))
    fe.link(href=item.link, rel="alternate")  # RSS <link>; Atom links are written by QUIRK 5
    fe.published(item.published)
    fe.updated(item.updated)  # QUIRK 3
    if item.summary and rss:
        fe.description(escape(_text(item.summary)), isSummary=True)  # QUIRK 8: HTML in RSS
    elif item.summary:
        fe.summary(_text(item.summary))  # Atom <summary> is text
    fe.content(_text(item.content_html), type="html")  # RSS <content:encoded>, Atom <content>
    if item.author:
        fe.author(name=_text(item.author), uri=item.author_uri)
        fe.dc.dc_creator(_text(item.author))
    for category in item.categories:
        label = _text(category.label)
        if category.scheme:
            fe.category(term=label, label=label, scheme=category.scheme)
        else:
            fe.category(term=label, label=label)
    for image in item.images:  # QUIRK 4: group=None keeps media elements directly in the item
        fe.media.content({**_sized(image), "medium": "image"}, group=None)
    if item.images:
        fe.media.thumbnail(_sized(item.images[0]), group=None)
    if item.enclosure:
        enclosure = item.enclosure
        fe.enclosure(enclosure.href, str(enclosure.length or 0), enclosure.type)
    links = [Link(item.link, "alternate", "text/html"), *filter(None, [item.enclosure])]
    fe.links.set([*links, *item.related])


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
