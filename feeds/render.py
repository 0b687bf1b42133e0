"""Plan and render every output file: each group's pages in each format, and the site files.

Pure, but for the optional item store (a cache). One loop over (group x page x format); what each
format looks like is decided by its writer in `WRITERS`, what every feed says is decided once, in
`feed_document`. An article's item is serialized once per format and spliced into every page
that shows it (`_Renderer`): feedgen's cost is per item, so this is most of the speed.

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from feeds._version import CODE_DIGEST, __version__
from feeds.collect import Collection, Group, GroupKind
from feeds.config import Config
from feeds.content import item_html
from feeds.document import Category, FeedDoc, Item, Link
from feeds.feedgen_writer import atom_items, atom_page, rss_items, rss_page
from feeds.itemstore import ItemStore
from feeds.jsonfeed import json_items, json_page
from feeds.model import Article, Image
from feeds.text import identity_key

GENERATOR_URI = "https://pypi.org/project/feeds/"
EMPTY_FEED_TIME = datetime(1970, 1, 1, tzinfo=UTC)  # an empty feed has no newest item

CURRENT_BATCH = 64  # groups whose subscription documents are made together


class ItemError(Exception):
    """One article's item could not be made: a bug in feeds, met on one record. The build leaves
    the article out, rejects its record with this message and goes on."""

    def __init__(self, source: str, url: str, what: str) -> None:
        super().__init__(source, url, what)  # the arguments: so it crosses from a worker whole
        self.source, self.url, self.what = source, url, what


@dataclass(frozen=True, slots=True)
class Writer:
    """A format's writer: how it serializes items, and the document around them. A page
    is made from items serialized once, whatever pages show them."""

    items: Callable[[Sequence[Item]], list[bytes]]
    page: Callable[[FeedDoc, Sequence[bytes]], bytes]  # the doc's own `items` are ignored


WRITERS = {
    "rss": Writer(rss_items, rss_page),
    "atom": Writer(atom_items, atom_page),
    "json": Writer(json_items, json_page),
}


@dataclass(frozen=True, slots=True)
class Page:
    """One document of a group: the subscription document (`month` None) or a month's archive."""

    group: Group
    articles: tuple[Article, ...]
    month: str | None = None  # "2024-05"
    older: str | None = None  # the month of the next older archive page, if any

    def path(self, fmt: str) -> str:
        return self.group.file(fmt, self.month)


@dataclass(frozen=True, slots=True)
class Planned:
    """One output file: where it goes, a fingerprint of what it is made from, how to make it."""

    path: str
    fingerprint: str  # changes whenever the bytes could
    make: Callable[[], bytes]
    batch: str = ""  # files of one batch are best made together, in one process (`_batch`)
    size: int = 1  # the work of making it, in items
    stage: int = 1  # stages go in order: 0 (archive pages) keeps the items that 1 reuses


def pages(group: Group, config: Config) -> list[Page]:
    current = group.articles[: config.limit]
    by_month: dict[str, list[Article]] = {}
    if config.archives:
        for article in group.articles[config.limit :]:  # newest first: months come newest first
            by_month.setdefault(_month(article), []).append(article)
    months = list(by_month)
    older = [*months[1:], None][: len(months)]
    return [
        Page(group, current, None, months[0] if months else None),
        *(Page(group, tuple(by_month[m]), m, o) for m, o in zip(months, older, strict=True)),
    ]


def plan(
    collection: Collection, config: Config, store: ItemStore | None = None
) -> Iterator[Planned]:
    """Every feed file, in a stable order: each group's pages in each format. With a `store`,
    items made by earlier runs are reused, and the items of each archive month are kept."""
    settings = settings_key(config)
    keys = _ArticleKeys(collection, f"{CODE_DIGEST}|{settings}")
    grouped = [(index, page) for index, group in enumerate(collection.groups)
               for page in pages(group, config)]  # fmt: skip
    # Each archive month's batch makes and stores the items of all the month's articles shown
    # anywhere, subscription documents included: an item that later moves into an archive page
    # is found in the store, and subscription documents find theirs there too.
    members: dict[str, dict[int, Article]] = {}  # archive batch -> its month's articles, once
    for _, page in grouped:
        if page.month:
            members.setdefault(f"archive {page.month}", {})
    seen: set[int] = set()
    for _, page in grouped:
        for article in page.articles:
            if id(article) not in seen:
                seen.add(id(article))
                if (month := members.get(f"archive {_month(article)}")) is not None:
                    month[id(article)] = article
    renderer = _Renderer(collection, config, keys, store, members)
    for index, page in grouped:
        content = _content_digest(page, keys)
        batch = _batch(page, index)
        for fmt in config.formats:
            fingerprint = hashlib.sha256(f"{CODE_DIGEST}|{settings}|{fmt}|".encode() + content)
            yield Planned(
                page.path(fmt),
                fingerprint.hexdigest(),
                renderer.maker(page, fmt, batch),
                batch,
                len(page.articles),
                0 if page.month else 1,
            )


def stored_months(planned: Iterable[Planned]) -> set[str]:
    """The months whose items the item store keeps: those with archive pages."""
    return {p.batch.removeprefix("archive ") for p in planned if p.stage == 0}


def _batch(page: Page, group_index: int) -> str:
    """Pages made together share their items: a month's archive pages of every group (an article
    is in one month only), and the subscription documents of a few groups at a time. Keep in
    step with the member lists in `plan`."""
    if page.month:
        return f"archive {page.month}"
    return f"current {group_index // CURRENT_BATCH}"


def settings_key(config: Config) -> str:
    """The settings that shape the output: all but where the input, output and cache are."""
    return repr(dataclasses.replace(config, seeds=Path(), output=Path(), cache=None))


class _ArticleKeys:
    """What an article's item depends on, besides the format: its URL, the record file it came
    from and that file's revision, the names and slugs of its topics; with the code and settings
    for `item`, the key of its serialized item in the store."""

    def __init__(self, collection: Collection, prefix: str) -> None:
        self.collection = collection
        self.prefix = prefix.encode()
        self.known: dict[int, bytes] = {}  # id(article) -> `content(article)`, once made
        self._items: dict[int, bytes] = {}  # id(article) -> digest of prefix and content

    def content(self, article: Article) -> bytes:
        key = self.known.get(id(article))
        if key is None:
            topics = [self.collection.topics.get(identity_key(t)) for t in article.topics]
            names = [(t.name, t.slug) for t in topics if t]
            key = f"|{article.url}|{article.revision}|{article.source}|{names}".encode()
            self.known[id(article)] = key
        return key

    def item(self, article: Article, fmt: str) -> bytes:
        digest = self._items.get(id(article))
        if digest is None:
            digest = hashlib.sha256(self.prefix + self.content(article)).digest()
            self._items[id(article)] = digest
        return digest + fmt.encode()


class _Renderer:
    """Makes pages from items serialized once per format, however many pages show them; an
    article's HTML content is made once for all formats (Markdown and sanitizing are costly).

    Items are taken from the store (kept by earlier batches and runs) or made now. Work goes by
    batch (`Planned.batch`): the first time an archive month's batch lacks an item, it makes
    every item of the month that the store lacks, in one go, and stores the whole month again,
    so the store always holds complete months. What a batch holds is dropped when the next one
    starts: memory holds one month of items at a time."""

    def __init__(
        self,
        collection: Collection,
        config: Config,
        keys: _ArticleKeys,
        store: ItemStore | None,
        members: dict[str, dict[int, Article]],
    ) -> None:
        self.collection = collection
        self.config = config
        self.keys = keys
        self.store = store
        self.members = members  # archive batch -> the articles of its month
        self._batch: str | None = None
        self._stored = False  # this archive batch has stored its month
        self._made: dict[tuple[int, str], bytes] = {}  # (id(article), format) -> item bytes
        self._categories: dict[tuple[str, str], Category | None] = {}  # (topic, format) ->

    def maker(self, page: Page, fmt: str, batch: str) -> Callable[[], bytes]:
        return lambda: self.page_bytes(page, fmt, batch)

    def page_bytes(self, page: Page, fmt: str, batch: str) -> bytes:
        if batch != self._batch:
            self._batch, self._stored = batch, False
            self._made.clear()
        if lacking := self._take(page.articles, (fmt,)):
            month = self.members.get(batch)
            if month is not None and not self._stored:
                self._store_month(batch.removeprefix("archive "), list(month.values()))
            else:
                self._make(lacking, (fmt,))
        doc = feed_document(page, fmt, self.config)
        return WRITERS[fmt].page(doc, [self._made[id(a), fmt] for a in page.articles])

    def _store_month(self, month: str, articles: Sequence[Article]) -> None:
        formats = self.config.formats
        self._make(self._take(articles, formats), formats)
        self._stored = True
        if self.store:
            self.store.put(month, {
                self.keys.item(a, fmt): self._made[id(a), fmt] for a in articles for fmt in formats
            })  # fmt: skip

    def _take(self, articles: Iterable[Article], formats: Sequence[str]) -> list[Article]:
        """Have the items at hand that were made or stored already; the articles lacking one."""
        lacking = []
        for article in articles:
            found = True
            for fmt in formats:
                if (id(article), fmt) in self._made:
                    continue
                stored = None
                if self.store:
                    stored = self.store.get(_month(article), self.keys.item(article, fmt))
                if stored:
                    self._made[id(article), fmt] = stored
                else:
                    found = False
            if not found:
                lacking.append(article)
        return lacking

    def _make(self, articles: Sequence[Article], formats: Sequence[str]) -> None:
        """Serialize the articles' items in every format; when that fails, find the article
        whose item cannot be made (`ItemError`), so the build can go on without it."""
        try:
            self._make_together(articles, formats)
        except Exception:
            for article in articles:
                try:
                    self._make_together([article], formats)
                except Exception as e:
                    raise ItemError(article.source, article.url, f"{type(e).__name__}: {e}") from e
            raise  # they fail only together: not one record's doing

    def _make_together(self, articles: Sequence[Article], formats: Sequence[str]) -> None:
        """Serialize the articles' items in every format, each format's in one go."""
        items: dict[str, list[Item]] = {fmt: [] for fmt in formats}
        for article in articles:
            each = _items(article, formats, self.collection, self.config, self._categories)
            for fmt, item in each.items():
                items[fmt].append(item)
        for fmt in formats:
            made = WRITERS[fmt].items(items[fmt])
            self._made.update(((id(a), fmt), data) for a, data in zip(articles, made, strict=True))


def _month(article: Article) -> str:
    published = article.published  # `strftime` costs four times as much
    return f"{published.year:04d}-{published.month:02d}"


def _content_digest(page: Page, keys: _ArticleKeys) -> bytes:
    """What a page's bytes depend on besides the code, settings and format: the group, the page's
    place in the archive chain, and what each of its items depends on."""
    group = page.group
    digest = hashlib.sha256(f"{page.month}|{page.older}|".encode())
    digest.update(repr((group.kind, group.key, group.name, group.slug, group.provider)).encode())
    known = keys.known
    digest.update(b"".join([known.get(id(a)) or keys.content(a) for a in page.articles]))
    return digest.digest()


def feed_document(page: Page, fmt: str, config: Config) -> FeedDoc:
    """What page `page` says in format `fmt`, but its items: they are made once, and spliced."""
    group = page.group
    # The site's logo and icon stand for the site: a provider's feed shows the provider's own.
    of_site = group.kind is not GroupKind.PROVIDER
    logo = group.provider.logo if group.provider else None
    if logo is None and config.logo and of_site:
        logo = Image(config.logo)
    title = _feed_title(group, config)
    links = []
    if page.older:
        older = dataclasses.replace(page, month=page.older)
        links.append(Link(config.url(older.path(fmt)), "prev-archive"))
    if page.month:
        title = f"{title} · archive {page.month}"
        links.append(Link(config.url(group.file(fmt)), "current"))
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
        items=(),
        archive=page.month is not None,
        links=tuple(links),
        icon=config.icon if of_site else None,
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


def _items(
    article: Article,
    formats: Iterable[str],
    collection: Collection,
    config: Config,
    known: dict[tuple[str, str], Category | None] | None = None,
) -> dict[str, Item]:
    """The article's item in each format: the same but for the topic links (each format's own
    topic feed). `known` keeps the topics' categories from one article to the next."""
    provider = article.provider
    common = Item(
        id=article.url,
        title=article.title,
        link=article.url,
        published=article.published,
        updated=article.last_modified,
        summary=article.excerpt,
        content_html=item_html(article),
        author=provider.name if provider else None,
        author_uri=f"https://{provider.domain}/" if provider and provider.domain else None,
        categories=(),
        images=article.images,
        attachments=tuple(
            Link(i.url, "enclosure", image_type(i.url), length=0, title=i.title)  # size unknown
            for i in article.images
        ),
        related=tuple(
            Link(r.url, "related", "text/html", title=r.title) for r in article.related_coverage()
        ),
    )
    categories = known if known is not None else {}
    return {
        fmt: dataclasses.replace(
            common, categories=_categories(article, fmt, collection, config, categories)
        )
        for fmt in formats
    }


def _categories(
    article: Article,
    fmt: str,
    collection: Collection,
    config: Config,
    known: dict[tuple[str, str], Category | None],
) -> tuple[Category, ...]:
    """The article's topics as categories, each linking to its topic feed in format `fmt`;
    `known` remembers what each (topic, format) became."""
    categories = []
    for topic in article.topics:
        if (topic, fmt) not in known:
            group = collection.topics.get(identity_key(topic))
            if group:
                known[topic, fmt] = Category(group.name, config.url(group.file(fmt)))
            elif "topics" not in config.groups:  # no topic feeds to point at: the name alone
                known[topic, fmt] = Category(topic, None)
            else:
                known[topic, fmt] = None
        if category := known[topic, fmt]:
            categories.append(category)
    return tuple(categories)


def image_type(url: str) -> str:
    """The media type from the URL's file extension; JPEG, the common case, when it has none."""
    name = url.partition("?")[0].partition("#")[0].rpartition("/")[2]
    return _image_type(name.rpartition(".")[2].lower() if "." in name else "")


@lru_cache(maxsize=256)
def _image_type(extension: str) -> str:
    guessed, _ = mimetypes.guess_type(f"image.{extension}", strict=False)
    return guessed if extension and guessed and guessed.startswith("image/") else "image/jpeg"
