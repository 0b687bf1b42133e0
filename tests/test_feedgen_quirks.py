"""Each feedgen 1.0 quirk, worked around in `feeds/feedgen_writer.py`: these fail if one
comes back."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from lxml import etree

from feeds.document import Category, FeedDoc, Item, Link
from feeds.feedgen_writer import (
    atom_items,
    atom_page,
    rss_and_atom_items,
    rss_items,
    rss_page,
    whole_document,
)
from feeds.model import Image
from tests.helpers import NS

SITE = "https://news.example.org/"
SELF = "https://feeds.example.org/all.rss.xml"


def rss_bytes(doc: FeedDoc) -> bytes:
    """The document with its own items, made and spliced the way the build makes pages."""
    return rss_page(doc, rss_items(doc.items))


def atom_bytes(doc: FeedDoc) -> bytes:
    return atom_page(doc, atom_items(doc.items))


def _item(n: int, title: str = "") -> Item:
    url = f"https://example.com/story-{n}"
    image = f"https://example.com/story-{n}.png"
    return Item(
        id=url,
        title=title or f"Story {n}",
        link=url,
        published=datetime(2020, 6, n, 12, tzinfo=UTC),
        updated=datetime(2020, 6, n, 13, tzinfo=UTC),
        summary=f"Summary {n}",
        content_html=f"<p>Story {n}</p>",
        author="Example",
        author_uri="https://example.com/",
        categories=(Category("AI", "https://feeds.example.org/topics/ai.rss.xml"),),
        images=(Image(image, 640, 480), Image(f"https://example.com/story-{n}-b.jpg")),
        attachments=(
            Link(image, "enclosure", "image/png", 0),
            Link(f"https://example.com/story-{n}-b.jpg", "enclosure", "image/jpeg", 0),
        ),
        related=(Link(f"https://other.example/{n}", "related", "text/html", title="Other"),),
    )


def _doc(*items: Item) -> FeedDoc:
    return FeedDoc(
        title="Everything",
        description="All the news",
        home_url=SITE,
        self_url=SELF,
        language="en",
        author="Example News",
        generator="feeds",
        generator_version="0",
        generator_uri="https://example.org/feeds",
        updated=datetime(2020, 6, 3, 13, tzinfo=UTC),
        logo=None,
        items=items,
    )


DOC = _doc(_item(3), _item(2), _item(1))


def rss() -> etree._Element:
    return etree.fromstring(rss_bytes(DOC))


def atom() -> etree._Element:
    return etree.fromstring(atom_bytes(DOC))


def test_an_item_with_other_categories_keeps_every_other_field() -> None:
    """Each format's item is the common one with its own topic links (`Item.with_categories`,
    made field by field for speed): no field may be dropped or swapped for another."""
    values = {f.name: object() for f in dataclasses.fields(Item)}  # each its own identity
    other = Item(**values).with_categories(("new",))  # type: ignore[arg-type]
    assert {name: getattr(other, name) for name in values} == {**values, "categories": ("new",)}


def test_items_keep_their_order_not_prepended() -> None:
    assert [i.findtext("title") for i in rss().iter("item")] == ["Story 3", "Story 2", "Story 1"]
    titles = [e.findtext("atom:title", namespaces=NS) for e in atom().iterfind("atom:entry", NS)]
    assert titles == ["Story 3", "Story 2", "Story 1"]


def test_rss_channel_link_is_the_site_not_the_last_link_added() -> None:
    channel = rss().find("channel")
    assert channel is not None
    assert channel.findtext("link") == SITE
    self_link = channel.find("atom:link", NS)
    assert self_link is not None and self_link.get("href") == SELF


def test_the_site_link_comes_before_the_feeds_own_links() -> None:
    """Readers that take a feed's first link as its site (@extractus/feed-extractor) must find the
    site, not the feed's own URL, an archive or the hub; and RSS's channel link stays the site."""
    doc = dataclasses.replace(
        DOC,
        links=(
            Link("https://feeds.example.org/all/2020-05.atom.xml", "prev-archive"),
            Link("https://hub.example.org/", "hub"),
        ),
    )
    feed = etree.fromstring(atom_bytes(doc))
    first = feed.find("atom:link", NS)
    assert first is not None
    assert dict(first.attrib) == {"href": SITE, "rel": "alternate", "type": "text/html"}
    assert [link.get("rel") for link in feed.findall("atom:link", NS)][1:] == [
        "self",
        "prev-archive",
        "hub",
    ]
    channel = etree.fromstring(rss_bytes(doc)).find("channel")
    assert channel is not None
    links = [c for c in channel if etree.QName(c).localname == "link"]
    assert (links[0].tag, links[0].text) == ("link", SITE)
    assert [link.get("rel") for link in links[1:]] == ["self", "prev-archive", "hub"]


def test_times_are_the_given_ones_never_now() -> None:
    channel = rss().find("channel")
    assert channel is not None
    assert channel.findtext("lastBuildDate") == "Wed, 03 Jun 2020 13:00:00 +0000"
    feed = atom()
    assert feed.findtext("atom:updated", namespaces=NS) == "2020-06-03T13:00:00+00:00"
    updated = [e.findtext("atom:updated", namespaces=NS) for e in feed.iterfind("atom:entry", NS)]
    assert updated == [f"2020-06-0{n}T13:00:00+00:00" for n in (3, 2, 1)]


@pytest.mark.parametrize("render", [rss, atom])
def test_media_elements_are_not_wrapped_in_a_media_group(render: object) -> None:
    root = render()  # type: ignore[operator]
    assert root.findall(".//media:group", NS) == []
    item = root.find("channel/item") if root.tag == "rss" else root.find("atom:entry", NS)
    assert [c.get("url") for c in item.findall("media:content", NS)] == [
        "https://example.com/story-3.png",
        "https://example.com/story-3-b.jpg",
    ]
    assert [t.get("url") for t in item.findall("media:thumbnail", NS)] == [
        "https://example.com/story-3.png"
    ]


def test_atom_entry_links_keep_rel_type_length_and_one_alternate() -> None:
    entry = atom().find("atom:entry", NS)
    assert entry is not None
    links = [dict(link.attrib) for link in entry.findall("atom:link", NS)]
    assert links == [
        {"href": "https://example.com/story-3", "rel": "alternate", "type": "text/html"},
        {
            "href": "https://example.com/story-3.png",
            "rel": "enclosure",
            "type": "image/png",
            "length": "0",
        },
        {
            "href": "https://other.example/3",
            "rel": "related",
            "type": "text/html",
            "title": "Other",
        },
    ]


def test_atom_entries_have_no_incomplete_source() -> None:
    assert atom().findall(".//atom:source", NS) == []


def test_control_characters_are_removed_not_raised() -> None:
    doc = _doc(_item(1, title="Bell\x07 and\x00 escape\x1b"))
    assert etree.fromstring(rss_bytes(doc)).findtext("channel/item/title") == "Bell and escape"
    entry_title = etree.fromstring(atom_bytes(doc)).findtext("atom:entry/atom:title", namespaces=NS)
    assert entry_title == "Bell and escape"


@pytest.mark.parametrize("rss", [True, False], ids=["rss", "atom"])
def test_spliced_items_give_exactly_what_feedgen_writes(rss: bool) -> None:
    """Items are serialized once and spliced into pages (a speed-up): same bytes as feedgen."""
    archive = dataclasses.replace(
        DOC,
        archive=True,
        links=(Link("https://feeds.example.org/all/2020-05.rss.xml", "prev-archive"),),
    )
    for doc in (DOC, archive, _doc()):
        written = rss_bytes(doc) if rss else atom_bytes(doc)
        assert written == whole_document(doc, rss=rss)


@pytest.mark.parametrize("rss", [True, False], ids=["rss", "atom"])
def test_items_made_in_one_document_are_cut_at_their_own_boundaries(rss: bool) -> None:
    """Items are serialized many to a feedgen document, then cut apart at the line each starts
    on; text that looks like such a line must not move a cut."""
    tricky = dataclasses.replace(
        _item(4),
        title="\n    <item>\n  <entry>",
        content_html="<p>a</p>\n    <item>\n  <entry>\n</item>\n</entry>\n",
    )
    items = (_item(3), tricky, *(_item(n) for n in range(5, 28)))
    doc = _doc(*items)
    written = rss_bytes(doc) if rss else atom_bytes(doc)
    assert written == whole_document(doc, rss=rss)
    parsed = etree.fromstring(written)
    found = parsed.findall("channel/item") if rss else parsed.findall("atom:entry", NS)
    assert len(found) == len(items)


def test_items_made_for_both_formats_at_once_are_each_formats_own() -> None:
    """RSS and Atom items of the same articles are made from one feedgen document's entries
    (QUIRK 8's summary set for both, the categories set again in between): the bytes are those
    of each format made alone."""
    atom_scheme = "https://feeds.example.org/topics/ai.atom.xml"
    rss = [
        _item(1),
        dataclasses.replace(_item(2), summary="Fish & <chips>", categories=()),
        dataclasses.replace(_item(3), summary=None),
        *(_item(n) for n in range(4, 28)),
        dataclasses.replace(_item(9), categories=(Category("AI", None), Category("ML", None))),
    ]
    atom = [
        i.with_categories(tuple(Category(c.label, c.scheme and atom_scheme) for c in i.categories))
        for i in rss
    ]
    assert rss != atom
    assert rss_and_atom_items(rss, atom) == (rss_items(rss), atom_items(atom))
    assert b"Fish &amp;amp; &amp;lt;chips&amp;gt;" in rss_and_atom_items(rss, atom)[0][1]
    assert b"<summary>Fish &amp; &lt;chips&gt;</summary>" in rss_and_atom_items(rss, atom)[1][1]
    # Items that differ otherwise are made each in its own format.
    other = [atom[0].with_categories(()), *atom[1:]]
    assert rss_and_atom_items(rss, other) == (rss_items(rss), atom_items(other))
