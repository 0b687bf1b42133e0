"""Every JSON Feed file: valid against the JSON Feed 1.1 spec, and the same items as its RSS twin."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from tests.helpers import BASE_URL, NS, SEEDS, build_into, feeds_of, xml

VERSION = "https://jsonfeed.org/version/1.1"
LOGO = "https://news.example.org/logo.png"
ICON = "https://news.example.org/icon.png"
CNBC_LOGO = (
    "https://smartableai.github.io/artificial-intelligence/assets/images/organizations/"
    "cnbc.com-50x50.jpg"
)


def _url(value: Any) -> bool:
    return isinstance(value, str) and urlsplit(value).scheme in ("http", "https")


def _rfc3339(value: Any) -> bool:
    return (
        isinstance(value, str) and "T" in value and datetime.fromisoformat(value).tzinfo is not None
    )


def spec_problems(feed: dict[str, Any]) -> list[str]:
    """What the JSON Feed 1.1 spec requires of a feed and its items (https://jsonfeed.org/version/1.1)."""
    problems = []
    if feed.get("version") != VERSION:
        problems.append("version")
    if not isinstance(feed.get("title"), str):
        problems.append("title")
    problems += [
        key
        for key in ("home_page_url", "feed_url", "icon", "favicon")
        if key in feed and not _url(feed[key])
    ]
    for author in feed.get("authors", []):
        if not author.get("name") and not author.get("url"):
            problems.append("authors")
    if not isinstance(feed.get("items"), list):
        return [*problems, "items"]
    ids = [item.get("id") for item in feed["items"]]
    if len(set(ids)) != len(ids):
        problems.append("duplicate ids")
    for item in feed["items"]:
        if not isinstance(item.get("id"), str):
            problems.append("item id")
        if not isinstance(item.get("content_html"), str) and not isinstance(
            item.get("content_text"), str
        ):
            problems.append("item content")
        problems += [
            f"item {k}" for k in ("url", "image", "banner_image") if k in item and not _url(item[k])
        ]
        problems += [
            f"item {k}"
            for k in ("date_published", "date_modified")
            if k in item and not _rfc3339(item[k])
        ]
        if item.get("summary") == item.get("content_html"):
            problems.append("summary equals content")
        if not all(isinstance(t, str) for t in item.get("tags", [])):
            problems.append("item tags")
        for attachment in item.get("attachments", []):
            if not _url(attachment.get("url")) or not isinstance(attachment.get("mime_type"), str):
                problems.append("attachment")
    return problems


def test_every_json_feed_follows_the_spec_and_matches_rss(corpus_output: Path) -> None:
    paths = feeds_of(corpus_output, (".json",))
    assert len(paths) == len(feeds_of(corpus_output, (".rss.xml",))) == 17
    for path in paths:
        feed = json.loads((corpus_output / path).read_text(encoding="utf-8"))
        assert spec_problems(feed) == [], path
        assert feed["feed_url"] == BASE_URL + path
        rss = etree.parse(str(corpus_output / path.replace(".json", ".rss.xml")))
        items = rss.findall("channel/item")
        assert [i["id"] for i in feed["items"]] == [i.findtext("guid") for i in items]
        assert [i["url"] for i in feed["items"]] == [i.findtext("link") for i in items]
        assert [i["title"] for i in feed["items"]] == [i.findtext("title") for i in items]
        for entry, item in zip(feed["items"], items, strict=True):
            assert entry.get("tags", []) == [c.text for c in item.findall("category")]
            assert (
                entry.get("image") == item.find("enclosure").get("url")
                if item.find("enclosure") is not None
                else "image" not in entry
            )
            media = [m.get("url") for m in item.findall("media:content", NS)]
            assert [a["url"] for a in entry.get("attachments", [])] == media
            creator = item.findtext("dc:creator", namespaces=NS)
            assert [a["name"] for a in entry.get("authors", [])] == ([creator] if creator else [])


def test_a_wide_image_becomes_the_banner(corpus_output: Path) -> None:
    feed = json.loads((corpus_output / "providers/heise-de.json").read_text(encoding="utf-8"))
    (item,) = feed["items"]
    assert (
        item["image"]
        == item["banner_image"]
        == "https://www.heise.de/imgs/18/2/9/roboter-greifen.webp"
    )
    assert item["date_published"] == "2020-06-09T08:30:00Z"
    assert item["date_modified"] == "2020-06-09T10:00:00Z"
    assert [a["mime_type"] for a in item["attachments"]] == [
        "image/webp",
        "image/png",
        "image/jpeg",
    ]


def _images(output: Path, group: str) -> tuple[str | None, str | None]:
    """A feed's JSON `icon` and `favicon`, once checked against its Atom `<logo>` and `<icon>`."""
    feed = json.loads((output / f"{group}.json").read_text(encoding="utf-8"))
    assert spec_problems(feed) == []
    atom = xml(output / f"{group}.atom.xml")
    atom_images = (
        atom.findtext("atom:logo", namespaces=NS),
        atom.findtext("atom:icon", namespaces=NS),
    )
    assert atom_images == (feed.get("icon"), feed.get("favicon"))
    return feed.get("icon"), feed.get("favicon")


def test_the_site_logo_is_the_icon_and_the_site_icon_the_favicon(tmp_path: Path) -> None:
    build_into(SEEDS, tmp_path, logo=LOGO, icon=ICON)
    assert _images(tmp_path, "all") == (LOGO, ICON)
    assert _images(tmp_path, "topics/ai") == (LOGO, ICON)
    # A provider's feed stands for the provider: its own square logo, or no image at all.
    assert _images(tmp_path, "providers/cnbc-com") == (CNBC_LOGO, CNBC_LOGO)
    assert _images(tmp_path, "providers/cnet-com") == (None, None)


def test_an_icon_alone_is_only_the_favicon(tmp_path: Path) -> None:
    build_into(SEEDS, tmp_path / "icon", icon=ICON)
    assert _images(tmp_path / "icon", "all") == (None, ICON)
    build_into(SEEDS, tmp_path / "logo", logo=LOGO)
    # A logo of unknown shape is no favicon: a reader would squash a wide one into a square.
    assert _images(tmp_path / "logo", "all") == (LOGO, None)
