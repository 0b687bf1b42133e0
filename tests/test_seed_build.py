"""The shipped seed, built as a newcomer's first run builds it (issue 2's acceptance)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html

from tests.helpers import BASE_URL, NS, SEEDS, build_into, contents_of, files_of, write_record, xml

ARTICLE = (
    "https://www.cnbc.com/2020/06/08/ibm-gets-out-of-facial-recognition-business-"
    "calls-on-congress-to-advance-policies-tackling-racial-injustice.html"
)
LEAD_IMAGE = (
    "https://image.cnbcfm.com/api/v1/image/106365286-1580420465213preview-2.jpg?v=1587425495"
)
CNET_ARTICLE = "https://www.cnet.com/news/ibm-to-withdraw-from-the-facial-recognition-market/"


def test_every_group_is_written_in_every_format(seed_output: Path) -> None:
    assert sorted(files_of(seed_output)) == [
        ".feeds-manifest.json",
        ".feeds-report.json",
        "all.atom.xml",
        "all.json",
        "all.rss.xml",
        "feeds.opml",
        "index.html",
        "providers/cnbc-com.atom.xml",
        "providers/cnbc-com.json",
        "providers/cnbc-com.rss.xml",
        "providers/cnet-com.atom.xml",
        "providers/cnet-com.json",
        "providers/cnet-com.rss.xml",
        "topics/ai.atom.xml",
        "topics/ai.json",
        "topics/ai.rss.xml",
        "topics/computer-vision.atom.xml",
        "topics/computer-vision.json",
        "topics/computer-vision.rss.xml",
    ]


def test_computer_vision_rss_item_carries_every_element(seed_output: Path) -> None:
    (item,) = xml(seed_output / "topics/computer-vision.rss.xml").findall("channel/item")
    assert item.findtext("title") == (
        "IBM gets out of facial recognition business, calls on Congress to advance policies "
        "tackling racial injustice"
    )
    assert item.findtext("link") == ARTICLE
    guid = item.find("guid")
    assert guid is not None and guid.text == ARTICLE and guid.get("isPermaLink") == "true"
    assert item.findtext("pubDate") == "Mon, 08 Jun 2020 23:17:00 +0000"
    assert item.findtext("description", "").startswith("IBM CEO Arvind Krishna called on Congress")
    assert item.findtext("dc:creator", namespaces=NS) == "CNBC"
    categories = {c.text: c.get("domain") for c in item.findall("category")}
    assert categories == {
        "AI": BASE_URL + "topics/ai.rss.xml",
        "Computer Vision": BASE_URL + "topics/computer-vision.rss.xml",
    }
    enclosure = item.find("enclosure")
    assert enclosure is not None
    assert dict(enclosure.attrib) == {"url": LEAD_IMAGE, "length": "0", "type": "image/jpeg"}
    (content,) = item.findall("media:content", NS)
    assert (content.get("url"), content.get("width"), content.get("height")) == (
        LEAD_IMAGE,
        "3915",
        "2534",
    )
    (thumbnail,) = item.findall("media:thumbnail", NS)
    assert thumbnail.get("url") == LEAD_IMAGE
    assert not item.findall(".//media:group", NS)


def test_provider_feed_shows_the_provider_logo(seed_output: Path) -> None:
    channel = xml(seed_output / "providers/cnbc-com.rss.xml").find("channel")
    assert channel is not None
    assert channel.findtext("image/url") == (
        "https://smartableai.github.io/artificial-intelligence/assets/images/organizations/"
        "cnbc.com-50x50.jpg"
    )
    assert (channel.findtext("image/width"), channel.findtext("image/height")) == ("50", "50")
    atom = xml(seed_output / "providers/cnbc-com.atom.xml")
    assert atom.findtext("atom:logo", namespaces=NS) == channel.findtext("image/url")


def test_atom_entry_links_keep_rel_type_and_length(seed_output: Path) -> None:
    (entry,) = xml(seed_output / "topics/ai.atom.xml").findall("atom:entry", NS)
    links = [dict(link.attrib) for link in entry.findall("atom:link", NS)]
    assert links == [
        {"href": ARTICLE, "rel": "alternate", "type": "text/html"},
        {
            "href": LEAD_IMAGE,
            "rel": "enclosure",
            "type": "image/jpeg",
            "length": "0",
            "title": "IBM gets out of facial recognition business, calls on Congress to advance policies tackling racial injustice",
        },
        # The seed mentions the CNET story twice: one related link per distinct URL.
        {
            "href": CNET_ARTICLE,
            "rel": "related",
            "type": "text/html",
            "title": "IBM to withdraw from the facial recognition market out of profiling fears",
        },
    ]


def test_related_coverage_has_its_own_provider_feed_only(seed_output: Path) -> None:
    (item,) = xml(seed_output / "providers/cnet-com.rss.xml").findall("channel/item")
    assert item.findtext("link") == CNET_ARTICLE
    # Of the two mentions of one URL, the later one is kept.
    assert item.findtext("pubDate") == "Tue, 09 Jun 2020 02:18:00 +0000"
    all_links = [i.findtext("link") for i in xml(seed_output / "all.rss.xml").iter("item")]
    assert all_links == [ARTICLE]


def test_feed_times_are_item_times_not_the_build_time(seed_output: Path) -> None:
    channel = xml(seed_output / "all.rss.xml").find("channel")
    assert channel is not None
    assert channel.findtext("lastBuildDate") == "Mon, 08 Jun 2020 23:17:00 +0000"
    atom = xml(seed_output / "all.atom.xml")
    assert atom.findtext("atom:updated", namespaces=NS) == "2020-06-08T23:17:00+00:00"


def test_secured_token_never_reaches_the_output(seed_output: Path) -> None:
    secured = next(
        line.split('"')[1]
        for line in (SEEDS / "000_ea97ea1826c20505.txt").open()
        if "secured" in line
    )
    for data in files_of(seed_output).values():
        assert secured[:40].encode() not in data


def _shown_images(path: Path) -> list[dict[str, str]]:
    """The `<img>` of each item's HTML in a feed file (RSS, Atom or JSON), as attributes."""
    found = []
    for content in contents_of(path):
        (img,) = html.fromstring(content).xpath("//img")
        found.append(dict(img.attrib))
    return found


@pytest.mark.parametrize("fmt", ["rss.xml", "atom.xml", "json"])
def test_the_lead_image_is_shown_at_most_600_px_wide_in_proportion(
    seed_output: Path, fmt: str
) -> None:
    (shown,) = _shown_images(seed_output / f"topics/computer-vision.{fmt}")
    # 3915 x 2534 in the record
    assert (shown["src"], shown["width"], shown["height"]) == (LEAD_IMAGE, "600", "388")
    (cnet,) = _shown_images(seed_output / f"providers/cnet-com.{fmt}")
    assert (cnet["width"], cnet["height"]) == ("600", "450")  # 756x567


def test_a_small_image_keeps_its_size_and_a_lone_dimension_is_handled(tmp_path: Path) -> None:
    sizes = {
        "small": "width: 320\n    height: 240",
        "wide-no-height": "width: 3000",
        "narrow-no-height": "width: 300",
        "height-only": "height: 2000",
    }
    for day, (name, size) in enumerate(sizes.items(), start=1):
        write_record(
            tmp_path / "seeds",
            f"{name}.md",
            f"""
title: {name}
excerpt: An image {name}.
webUrl: https://example.com/{name}
publishedDateTime: 2024-05-0{day}T10:00:00Z
images:
  - url: https://example.com/{name}.jpg
    {size}
""",
        )
    build_into(tmp_path / "seeds", tmp_path / "output")
    shown = {
        img["src"].removeprefix("https://example.com/").removesuffix(".jpg"): {
            k: v for k, v in img.items() if k in ("width", "height")
        }
        for img in _shown_images(tmp_path / "output/all.rss.xml")
    }
    assert shown == {
        "small": {"width": "320", "height": "240"},
        "wide-no-height": {"width": "600"},  # the reader keeps the proportions
        "narrow-no-height": {"width": "300"},
        "height-only": {},  # not cappable; a lone height would stretch a narrowed image
    }
