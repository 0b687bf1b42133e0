"""Render every group in every configured format: (output path, bytes) pairs (SPEC §5).

Pure. One loop over (group x format); what each format looks like is decided by its writer in
`WRITERS`, what every feed says is decided once, in `feed_document`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import mimetypes
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from feeds._version import CODE_DIGEST, __version__
from feeds.collect import Collection, Group, GroupKind
from feeds.config import Config
from feeds.content import item_html
from feeds.document import Category, FeedDoc, Item, Link
from feeds.feedgen_writer import atom_bytes, rss_bytes
from feeds.jsonfeed import json_bytes
from feeds.model import Article, Image
from feeds.text import identity_key

GENERATOR_URI = "https://pypi.org/project/feeds/"
EMPTY_FEED_TIME = datetime(1970, 1, 1, tzinfo=UTC)  # an empty feed has no newest item

# format -> (file suffix, writer)
WRITERS: dict[str, tuple[str, Callable[[FeedDoc], bytes]]] = {
    "rss": (".rss.xml", rss_bytes),
    "atom": (".atom.xml", atom_bytes),
    "json": (".json", json_bytes),
}


def feed_path(group: Group, fmt: str) -> str:
    return group.path + WRITERS[fmt][0]


@dataclass(frozen=True, slots=True)
class Planned:
    """One output file: where it goes, what it is made from, and how to make it."""

    path: str
    fingerprint: str  # changes whenever the bytes could
    group: Group
    fmt: str


def plan(collection: Collection, config: Config) -> Iterator[Planned]:
    """Every output file, in a stable order: each group in each format."""
    settings = repr(dataclasses.replace(config, seeds=Path(), output=Path()))
    for group in collection.groups:
        for fmt in config.formats:
            path = feed_path(group, fmt)
            fingerprint = _fingerprint(group, fmt, collection, settings, config.limit)
            yield Planned(path, fingerprint, group, fmt)


def render(planned: Planned, collection: Collection, config: Config) -> bytes:
    return WRITERS[planned.fmt][1](feed_document(planned.group, planned.fmt, collection, config))


def render_files(collection: Collection, config: Config) -> Iterator[tuple[str, bytes]]:
    for planned in plan(collection, config):
        yield planned.path, render(planned, collection, config)


def _fingerprint(group: Group, fmt: str, collection: Collection, settings: str, limit: int) -> str:
    """What a feed's bytes depend on: the code, the settings, the group, and for each item shown
    the record file it came from (its revision) and the names and slugs of its topics."""
    digest = hashlib.sha256(f"{CODE_DIGEST}|{settings}|{fmt}|".encode())
    digest.update(repr((group.kind, group.key, group.name, group.slug, group.provider)).encode())
    for article in group.articles[:limit]:
        topics = [collection.topics.get(identity_key(t)) for t in article.topics]
        names = [(t.name, t.slug) for t in topics if t]
        digest.update(f"|{article.url}|{article.revision}|{article.source}|{names}".encode())
    return digest.hexdigest()


def feed_document(group: Group, fmt: str, collection: Collection, config: Config) -> FeedDoc:
    articles = group.articles[: config.limit]
    logo = group.provider.logo if group.provider else None
    if logo is None and config.logo and group.kind is not GroupKind.PROVIDER:
        logo = Image(config.logo)
    return FeedDoc(
        title=_feed_title(group, config),
        description=_feed_description(group, config),
        home_url=config.home_url,
        self_url=config.url(feed_path(group, fmt)),
        language=config.language,
        author=config.title,
        generator="feeds",
        generator_version=__version__,
        generator_uri=GENERATOR_URI,
        updated=max((a.last_modified for a in articles), default=EMPTY_FEED_TIME),
        logo=logo,
        items=tuple(_item(a, fmt, collection, config) for a in articles),
    )


def _feed_title(group: Group, config: Config) -> str:
    return config.title if group.kind is GroupKind.ALL else f"{group.name} · {config.title}"


def _feed_description(group: Group, config: Config) -> str:
    if group.kind is GroupKind.TOPIC:
        return f"The latest news about {group.name}, from {config.title}."
    if group.kind is GroupKind.PROVIDER:
        return f"The latest news from {group.name}, collected by {config.title}."
    return config.description


def _item(article: Article, fmt: str, collection: Collection, config: Config) -> Item:
    provider = article.provider
    return Item(
        id=article.url,
        title=article.title,
        link=article.url,
        published=article.published,
        updated=article.last_modified,
        summary=article.excerpt,
        content_html=item_html(article),
        author=provider.name if provider else None,
        author_uri=f"https://{provider.domain}/" if provider and provider.domain else None,
        categories=_categories(article, fmt, collection, config),
        images=article.images,
        attachments=tuple(
            Link(i.url, "enclosure", image_type(i.url), length=0, title=i.title)  # size unknown
            for i in article.images
        ),
        related=tuple(
            Link(r.url, "related", "text/html", title=r.title) for r in article.related_coverage()
        ),
    )


def _categories(
    article: Article, fmt: str, collection: Collection, config: Config
) -> tuple[Category, ...]:
    categories = []
    for topic in article.topics:
        group = collection.topics.get(identity_key(topic))
        if group:
            categories.append(Category(group.name, config.url(feed_path(group, fmt))))
    return tuple(categories)


def image_type(url: str) -> str:
    """The media type from the URL's file extension; JPEG, the common case, when it has none."""
    guessed, _ = mimetypes.guess_type(urlsplit(url).path, strict=False)
    return guessed if guessed and guessed.startswith("image/") else "image/jpeg"
