"""Every RSS and Atom file, read back by feedparser (what many readers are built on).

feedparser 6 does not read JSON Feed; `test_jsonfeed.py` checks those files."""

from __future__ import annotations

import calendar
from pathlib import Path

import feedparser
import pytest

from feeds.build import check
from feeds.collect import Collection
from feeds.config import Config
from feeds.model import Article
from feeds.text import identity_key
from tests.helpers import BASE_URL, CORPUS, feeds_of

XML = (".rss.xml", ".atom.xml")


@pytest.fixture(scope="module")
def collection() -> Collection:
    return check(Config(seeds=CORPUS)).collection


def test_every_file_parses_cleanly_with_every_item(
    corpus_output: Path, collection: Collection
) -> None:
    shown = {group.path: group.articles[:50] for group in collection.groups}
    paths = feeds_of(corpus_output, XML)
    assert len(paths) == 2 * len(shown)
    for path in paths:
        parsed = feedparser.parse(str(corpus_output / path))
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.version in ("rss20", "atom10"), path
        articles = shown[path.removesuffix(".rss.xml").removesuffix(".atom.xml")]
        assert len(parsed.entries) == len(articles), path
        for entry, article in zip(parsed.entries, articles, strict=True):
            _check_entry(entry, article, collection)


def _check_entry(
    entry: feedparser.FeedParserDict, article: Article, collection: Collection
) -> None:
    assert entry.title == article.title
    assert entry.link == article.url, "the item link must be the article, never an image"
    assert entry.id == article.url
    assert calendar.timegm(entry.published_parsed) == int(article.published.timestamp())
    topics = {collection.topics[identity_key(t)].name for t in article.topics}
    assert {tag.term for tag in entry.get("tags", [])} == topics
    if article.lead_image:
        (enclosure,) = entry.enclosures
        assert enclosure.href == article.lead_image.url
        assert enclosure.type.startswith("image/")
        assert [m["url"] for m in entry.media_content] == [i.url for i in article.images]
        assert entry.media_thumbnail[0]["url"] == article.lead_image.url
    else:
        assert not entry.get("enclosures")
        assert "media_content" not in entry
    if article.provider:
        assert entry.author == article.provider.name


def test_self_links_point_at_each_file(corpus_output: Path) -> None:
    for path in feeds_of(corpus_output, XML):
        parsed = feedparser.parse(str(corpus_output / path))
        self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
        assert self_links == [BASE_URL + path]


def test_corpus_covers_what_the_issue_asks_for(collection: Collection) -> None:
    """Guards the corpus itself: if an edit removes a case, this says which."""
    articles = collection.groups[0].articles
    assert len({a.provider.key for a in articles if a.provider}) >= 4
    assert any(not a.images for a in articles) and any(len(a.images) > 1 for a in articles)
    assert any(a.related for a in articles)
    assert any(not name.isascii() for name in (g.name for g in collection.groups))
    assert collection.duplicates
