"""Plan and render every output file: each group's pages in each format, and the site files.

Pure. One loop over (group x page x format); what each format looks like is decided by its writer
in `WRITERS`, what every feed says is decided once, in `feed_document`.

Pages (RFC 5005 archived feeds): a group's subscription document shows its newest `limit` items;
the older ones go to archive pages, one per calendar month (UTC) of publication. A month's page
changes only when an item of that month is added, edited or removed, or when items cross the
boundary into it from the subscription document: so a complete month never changes again, and a
backdated record touches only its own month. Each page links to the next older page
(`prev-archive`, JSON Feed `next_url`) and to the subscription document (`current`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import mimetypes
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
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


@dataclass(frozen=True, slots=True)
class Page:
    """One document of a group: the subscription document (`month` None) or a month's archive."""

    group: Group
    articles: tuple[Article, ...]
    month: str | None = None  # "2024-05"
    older: str | None = None  # the month of the next older archive page, if any

    def path(self, fmt: str) -> str:
        base = self.group.path if self.month is None else f"{self.group.path}/{self.month}"
        return base + WRITERS[fmt][0]


@dataclass(frozen=True, slots=True)
class Planned:
    """One output file: where it goes, a fingerprint of what it is made from, how to make it."""

    path: str
    fingerprint: str  # changes whenever the bytes could
    make: Callable[[], bytes]
    month: str | None = None  # the archive month, "2024-05"; None for other files

    @property
    def locality(self) -> tuple[int, int]:
        """Sort key for rendering: other files first, then archives newest month first, so pages
        that share articles (a month's archive in every group) are made together and the bounded
        caches keep hitting."""
        return (0, 0) if self.month is None else (1, -int(self.month.replace("-", "")))


def feed_path(group: Group, fmt: str) -> str:
    return Page(group, ()).path(fmt)


def pages(group: Group, config: Config) -> list[Page]:
    current = group.articles[: config.limit]
    by_month: dict[str, list[Article]] = {}
    if config.archives:
        for article in group.articles[config.limit :]:  # newest first: months come newest first
            by_month.setdefault(article.published.strftime("%Y-%m"), []).append(article)
    months = list(by_month)
    older = [*months[1:], None][: len(months)]
    return [
        Page(group, current, None, months[0] if months else None),
        *(Page(group, tuple(by_month[m]), m, o) for m, o in zip(months, older, strict=True)),
    ]


def plan(collection: Collection, config: Config) -> Iterator[Planned]:
    """Every feed file, in a stable order: each group's pages in each format."""
    settings = settings_key(config)
    renderer = _Renderer(collection, config)
    keys: dict[int, bytes] = {}  # an article's part of the fingerprint, made once
    for group in collection.groups:
        for page in pages(group, config):
            content = _content_digest(page, collection, keys)
            for fmt in config.formats:
                fingerprint = hashlib.sha256(f"{CODE_DIGEST}|{settings}|{fmt}|".encode() + content)
                yield Planned(
                    page.path(fmt), fingerprint.hexdigest(), renderer.maker(page, fmt), page.month
                )


def settings_key(config: Config) -> str:
    """The settings that shape the output: all but where the input, output and cache are."""
    return repr(dataclasses.replace(config, seeds=Path(), output=Path(), cache=None))


def render_files(collection: Collection, config: Config) -> Iterator[tuple[str, bytes]]:
    for planned in plan(collection, config):
        yield planned.path, planned.make()


class _Renderer:
    """Makes pages; an article's item is made once per format, and its HTML content once,
    whatever pages show it (Markdown and sanitizing are the costly part)."""

    KEEP = 30_000  # items kept at once: bounded memory, enough for a month of every group

    def __init__(self, collection: Collection, config: Config) -> None:
        self.collection = collection
        self.config = config
        self._items: OrderedDict[tuple[int, str], Item] = OrderedDict()
        self._html: OrderedDict[int, str] = OrderedDict()

    def maker(self, page: Page, fmt: str) -> Callable[[], bytes]:
        return lambda: WRITERS[fmt][1](feed_document(page, fmt, self.collection, self.config, self))

    def item(self, article: Article, fmt: str) -> Item:
        key = (id(article), fmt)  # articles live as long as the collection: their ids are stable
        return _remember(
            self._items,
            key,
            lambda: _item(article, fmt, self.collection, self.config, self.html(article)),
            self.KEEP,
        )

    def html(self, article: Article) -> str:
        return _remember(self._html, id(article), lambda: item_html(article), self.KEEP)


K = TypeVar("K")
V = TypeVar("V")


def _remember(cache: OrderedDict[K, V], key: K, make: Callable[[], V], keep: int) -> V:
    """A least-recently-used cache of `keep` entries."""
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = cache[key] = make()
    if len(cache) > keep:
        cache.popitem(last=False)
    return value


def _content_digest(page: Page, collection: Collection, keys: dict[int, bytes]) -> bytes:
    """What a page's bytes depend on besides the code, settings and format: the group, the page's
    place in the archive chain, and for each item the record file it came from (its revision)
    and the names and slugs of its topics."""
    group = page.group
    digest = hashlib.sha256(f"{page.month}|{page.older}|".encode())
    digest.update(repr((group.kind, group.key, group.name, group.slug, group.provider)).encode())
    for article in page.articles:
        key = keys.get(id(article))
        if key is None:
            topics = [collection.topics.get(identity_key(t)) for t in article.topics]
            names = [(t.name, t.slug) for t in topics if t]
            key = keys[id(article)] = (
                f"|{article.url}|{article.revision}|{article.source}|{names}".encode()
            )
        digest.update(key)
    return digest.digest()


def feed_document(
    page: Page, fmt: str, collection: Collection, config: Config, renderer: _Renderer | None = None
) -> FeedDoc:
    group = page.group
    logo = group.provider.logo if group.provider else None
    if logo is None and config.logo and group.kind is not GroupKind.PROVIDER:
        logo = Image(config.logo)
    title = _feed_title(group, config)
    links = []
    if page.older:
        older = dataclasses.replace(page, month=page.older)
        links.append(Link(config.url(older.path(fmt)), "prev-archive"))
    if page.month:
        title = f"{title} · archive {page.month}"
        links.append(Link(config.url(feed_path(group, fmt)), "current"))
    elif config.websub_hub:
        links.append(Link(config.websub_hub, "hub"))
    return FeedDoc(
        title=title,
        description=_feed_description(group, config),
        home_url=config.home_url,
        self_url=config.url(page.path(fmt)),
        language=config.language,
        author=config.publisher,
        ttl=config.ttl,
        generator="feeds",
        generator_version=__version__,
        generator_uri=GENERATOR_URI,
        updated=max((a.last_modified for a in page.articles), default=EMPTY_FEED_TIME),
        logo=logo,
        items=tuple(
            renderer.item(a, fmt) if renderer else _item(a, fmt, collection, config, item_html(a))
            for a in page.articles
        ),
        archive=page.month is not None,
        links=tuple(links),
    )


def _feed_title(group: Group, config: Config) -> str:
    return config.title if group.kind is GroupKind.ALL else f"{group.name} · {config.title}"


def _feed_description(group: Group, config: Config) -> str:
    if group.kind is GroupKind.TOPIC:
        return f"The latest news about {group.name}, from {config.title}."
    if group.kind is GroupKind.PROVIDER:
        return f"The latest news from {group.name}, collected by {config.title}."
    if group.kind is GroupKind.CUSTOM:
        return group.description or f"{group.name}, selected by {config.title}."
    return config.description


def _item(
    article: Article, fmt: str, collection: Collection, config: Config, content_html: str
) -> Item:
    provider = article.provider
    return Item(
        id=article.url,
        title=article.title,
        link=article.url,
        published=article.published,
        updated=article.last_modified,
        summary=article.excerpt,
        content_html=content_html,
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
        elif "topics" not in config.groups:  # no topic feeds to point at: the name alone
            categories.append(Category(topic, None))
    return tuple(categories)


def image_type(url: str) -> str:
    """The media type from the URL's file extension; JPEG, the common case, when it has none."""
    guessed, _ = mimetypes.guess_type(urlsplit(url).path, strict=False)
    return guessed if guessed and guessed.startswith("image/") else "image/jpeg"
