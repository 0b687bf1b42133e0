"""Make every planned output file: each group's pages in each format.

Pure, but for the optional item store (a cache). One loop over (group x page x format) in `plan`;
what each format looks like is decided by its writer in `WRITERS`, what a page says about itself
in `wording.py`, what an item says in `items.py`. An article's item is serialized once per format
and spliced into every page that shows it (`_Renderer`): feedgen's cost is per item, so this is
most of the speed (docs/design.md, "Speed").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from operator import itemgetter

from feeds._version import CODE_DIGEST
from feeds.batches import Batch, Planned, batch_of
from feeds.collect import Collection
from feeds.config import Config
from feeds.document import Category, FeedDoc, Item
from feeds.feedgen_writer import atom_items, atom_page, rss_and_atom_items, rss_items, rss_page
from feeds.fingerprints import (
    ArticleKeys,
    content_digest,
    file_fingerprint,
    item_settings,
    settings_key,
)
from feeds.items import items_of
from feeds.itemstore import ItemStore
from feeds.jsonfeed import json_items, json_page
from feeds.model import Article
from feeds.pages import Page, pages
from feeds.wording import feed_document


class ItemError(Exception):
    """One article's item could not be made: a bug in feeds met on one record (`bug`), or a
    record that changed while the build ran. The build leaves the article out, rejects its
    record with this message and goes on."""

    def __init__(
        self,
        source: str,
        url: str,
        what: str,
        bug: bool = True,
        place: tuple[int, int] | None = None,
    ) -> None:
        # The arguments: it crosses from a worker whole.
        super().__init__(source, url, what, bug, place)
        self.source, self.url, self.what, self.bug = source, url, what, bug
        # Which of the file's articles (`Article.place`), when known: a record and another
        # record's mention of its URL may be in one file, and only one's item failed.
        self.place = place

    def of_record(self, article: Article) -> bool:
        """Whether the item that could not be made is this record's own."""
        if article.source != self.source or article.url != self.url:
            return False
        return self.place is None or article.place is None or article.place == self.place

    def of_mention_in(self, article: Article) -> bool:
        """Whether it is a related article of this record's (its related articles of that URL
        are one article, by the duplicate rule)."""
        place, there = self.place, article.place
        if place is not None and there is not None and (place[1] < 0 or place[0] != there[0]):
            return False
        return article.source == self.source and any(r.url == self.url for r in article.related)


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


def _serialized(items: Mapping[str, Sequence[Item]]) -> dict[str, list[bytes]]:
    """Each format's items serialized by its writer; RSS and Atom together when both are
    made (`rss_and_atom_items`: the items of the same articles)."""
    made: dict[str, list[bytes]] = {}
    if "rss" in items and "atom" in items:
        made["rss"], made["atom"] = rss_and_atom_items(items["rss"], items["atom"])
    for fmt, each in items.items():
        if fmt not in made:
            made[fmt] = WRITERS[fmt].items(each)
    return made


# Archives of more articles than this are made one format at a time (`_Renderer`, `by_format`):
# each worker then holds a third of a month's items (about 20 MB less for a month of the
# benchmark's corpus, whatever its size), for a look-up of each day in the store in the other
# formats, which cost about 8 % of a cold build's time at 100,000 records (65 to 70 s against
# 60 to 64 s, in turn). The memory counts only where the process tree nears its 1 GB: at about
# a kilobyte an article, a million articles.
ONE_FORMAT_OVER = 500_000


def plan(
    collection: Collection,
    config: Config,
    store: ItemStore | None = None,
    whole: Callable[[Sequence[Article]], list[Article]] | None = None,
) -> Iterator[Planned]:
    """Every feed file, in a stable order: batch by batch (`batches.py`), and in a batch each
    group's pages in each format. With a `store`, items made by earlier runs are reused, and
    the items of each archive month are kept. Articles that are outlines are made `whole`
    before their items are made (`complete.Completer`)."""
    grouped = [(index, page) for index, group in enumerate(collection.groups)
               for page in pages(group, config)]  # fmt: skip
    days = days_shown(page for _, page in grouped)
    # Planned batch by batch, a batch's files lie together in memory: a worker forked to make
    # them copies every page of this process's memory it touches (reference counts are
    # writes), and a batch planned group by group had each file on a page of its own.
    grouped.sort(key=_by_batch)
    articles = len(collection.kept) + len(collection.left_out)
    by_format = store is not None and articles > ONE_FORMAT_OVER
    return plan_pages(grouped, collection, config, days, store, whole, by_format=by_format)


def _by_batch(placed: tuple[int, Page]) -> tuple[int, str, int]:
    batch = batch_of(placed[1], placed[0])
    return batch.stage, batch.month or "", batch.block


def plan_pages(
    grouped: Sequence[tuple[int, Page]],
    collection: Collection,
    config: Config,
    days: Mapping[str, Sequence[Article]],
    store: ItemStore | None = None,
    whole: Callable[[Sequence[Article]], list[Article]] | None = None,
    known: dict[int, bytes] | None = None,
    add_to_days: Mapping[str, Sequence[Article]] | None = None,
    by_format: bool = False,
) -> Iterator[Planned]:
    """The files of the given pages (each with its group's place in `collection.groups`), in each
    format. `days`: each day's articles that any page shows, for the days kept in the item
    store (`days_shown`); `collection`
    gives the topics' names; `known`, what items of articles depend on, when it is known
    already (`ArticleKeys`); `add_to_days`, when the items lacking are of changed articles only
    (a delta run): each day's articles of these pages, for the days kept in the store, whose
    lacking items are added to their day's file (`_Renderer`); `by_format`, when each archive
    month's files are made format by format and its items kept whole in the store (a full
    build of a big archive, `ONE_FORMAT_OVER`): only the format at hand's items are held
    (`_Renderer`)."""
    settings = settings_key(config)
    keys = ArticleKeys(collection, f"{CODE_DIGEST}|{item_settings(config)}", known)
    made_whole = whole or _as_they_are
    renderer = _Renderer(
        collection, config, keys, store, days, made_whole, add_to_days, by_format=by_format
    )
    make = renderer.page_file  # one bound method for every file
    for index, page in grouped:
        content, batch = content_digest(page, keys), batch_of(page, index)
        for fmt in config.formats:
            yield Planned(
                page.path(fmt),
                file_fingerprint(settings, fmt, content),
                make,
                batch,
                len(page.articles),
                page,
                fmt,
            )


def _as_they_are(articles: Sequence[Article]) -> list[Article]:
    if any(a.is_outline for a in articles):
        raise ValueError("an outline cannot be made into items: give `plan` a way to make it whole")
    return list(articles)


def days_shown(every: Iterable[Page], months: Set[str] | None = None) -> dict[str, list[Article]]:
    """Each day's articles shown anywhere (once each), for the days of `months` (by default
    those with an archive page), subscription documents included: the first page of a month's
    batch that lacks an item of a day makes and stores the whole day's, so an item that later
    moves into an archive page is found in the store, and subscription documents find theirs
    there too."""
    shown = list(every)
    kept = {p.month for p in shown if p.month} if months is None else months
    # Lists, not dicts by `id`: a cold build's hold every article of the archive (8.7 MB as
    # dicts at 100,000 records, 1.2 MB as lists). Each day's articles as often as pages show
    # them first, then once, a day at a time: one set of every article met took 116 MB at
    # 1,000,000 records while it lasted (the ints of 1.3 million `id`s and a set of them).
    days: dict[str, list[Article]] = {}
    for page in shown:
        for article in page.articles:
            if article.month in kept:
                days.setdefault(article.day, []).append(article)
    for day, listed in days.items():
        days[day] = _once_each(listed)
    return days


def _once_each(articles: list[Article]) -> list[Article]:
    """The articles in their order, each (by identity) where it first is."""
    met: set[int] = set()
    once: list[Article] = []
    for article in articles:
        if id(article) not in met:
            met.add(id(article))
            once.append(article)
    return once


class _Renderer:
    """Makes pages from items serialized once per format, however many pages show them; an
    article's HTML content is made once for all formats (Markdown and sanitizing are costly).

    Items are taken from the store (kept by earlier batches and runs) or made now. Work goes by
    batch (`Planned.batch`, an archive month's pages): the first time a batch lacks an item of
    a day, it makes every item of the day that the store lacks, in one go, and stores the whole
    day again, so the store always holds complete days, and a changed article costs its day's
    file, not its month's. What a batch holds is dropped when the next one starts: memory holds
    one month of items at a time.

    A delta run's batches lack only the items of the articles that changed (`add_to_days`):
    the first time a batch lacks an item of a day, the items of the day's articles on its pages
    are taken, those lacking made and added to the day's file at once, which keeps the items it
    holds; the day's other articles are not read (from the index) nor looked up. A day without
    a readable file is made and stored whole, as above.

    With `by_format` (a full build of a big archive, whose batches come format by format:
    `build._make_batch`), an archive month's batch holds one format's items: the others, made
    with them and kept in the store, are dropped once their day is stored and taken from it
    again when their format's files come. A month of a big site's items in every format took
    36 MB in each worker (at 100,000 records); one format's, a third of it, for a store
    look-up of each day in the other formats (8 % of a cold build's time)."""

    def __init__(
        self,
        collection: Collection,
        config: Config,
        keys: ArticleKeys,
        store: ItemStore | None,
        days: Mapping[str, Sequence[Article]],
        whole: Callable[[Sequence[Article]], list[Article]],
        add_to_days: Mapping[str, Sequence[Article]] | None = None,
        *,
        by_format: bool = False,
    ) -> None:
        self.collection = collection
        self.by_format = by_format
        self.whole = whole
        self.config = config
        self.keys = keys
        self.store = store
        self.days = days  # day -> its articles, for the days the store keeps
        self.add_to_days = add_to_days  # day -> the pages' articles, for the days kept
        self._batch: Batch | None = None
        self._formats = config.formats  # those whose items the batch holds
        self._stored: set[str] = set()  # the days this batch has stored
        self._ready: set[int] = set()  # id(page) of the batch's pages whose items are at hand
        self._days: set[str] = set()  # with `by_format`: the days whose items are at hand
        self._made: dict[tuple[int, str], bytes] = {}  # (id(article), format) -> item bytes
        self._categories: dict[tuple[str, str], Category | None] = {}  # (topic, format) ->

    def page_file(self, planned: Planned) -> bytes:
        """The file `planned` (`plan_pages`): its page in its format."""
        assert planned.page is not None
        return self.page_bytes(planned.page, planned.fmt, planned.batch)

    def page_bytes(self, page: Page, fmt: str, batch: Batch) -> bytes:
        formats = (fmt,) if self.by_format and batch.month and self.store else self.config.formats
        if batch != self._batch or formats != self._formats:
            if batch != self._batch:
                self._stored.clear()
            self._batch, self._formats = batch, formats
            self._made.clear()
            self._ready.clear()
            self._days.clear()
        # Every format's item at once, unless `by_format`: the batch's other formats' pages show
        # the same articles, and a day's file is read once, not once per format. The page's
        # files in the other formats then find every item at hand without looking (most pages
        # of a big site show hundreds of articles: 1.2 million look-ups at 100,000 records).
        if id(page) not in self._ready:
            self._have_items(page.articles)
            self._ready.add(id(page))
        doc = feed_document(page, fmt, self.config)
        return WRITERS[fmt].page(doc, [self._made[id(a), fmt] for a in page.articles])

    def _have_items(self, articles: Sequence[Article]) -> None:
        """Have the item of `articles` in every format held at hand: taken from the store, or
        made."""
        formats = self._formats
        if len(formats) < len(self.config.formats):
            # A day's items of this format at once, in one look-up: a month's pages show each
            # of its days over and over (a topic's month page shows all of them), and the day's
            # articles (`days`) are all on the batch's pages.
            for day in {a.day for a in articles} - self._days:
                self._days.add(day)
                self._take(self.days.get(day, ()), formats)
        if lacking := self._take(articles, formats):
            for day in sorted({a.day for a in lacking} - self._stored):
                if self._added_to_day(day):
                    continue
                if members := self.days.get(day):
                    self._store_day(day, members)
            if lacking := self._take(lacking, formats):
                self._make(lacking, formats)

    def _added_to_day(self, day: str) -> bool:
        """With `add_to_days`, make the items the day's articles on the batch's pages lack and
        add them to the day's file, when the store keeps the day and has a readable file of it;
        whether they were."""
        shown = self.add_to_days.get(day) if self.add_to_days is not None else None
        if not (shown and self.store):
            return False
        formats = self.config.formats
        lacking = self._take(shown, formats)
        self._make(lacking, formats)
        if not self.store.add(day, self._items(lacking)):
            return False
        self._stored.add(day)
        return True

    def _store_day(self, day: str, articles: Sequence[Article]) -> None:
        formats = self.config.formats
        self._make(self._take(articles, formats), formats)
        self._stored.add(day)
        if self.store:
            self.store.put(day, self._items(articles))
        if len(self._formats) < len(formats):  # kept in the store: the others are not held
            made, held = self._made, self._formats
            for article in articles:
                for fmt in formats:
                    if fmt not in held:
                        made.pop((id(article), fmt), None)

    def _items(self, articles: Sequence[Article]) -> dict[bytes, bytes]:
        """The articles' items made, in every format, by their keys in the store."""
        made, key, formats = self._made, self.keys.item, self.config.formats
        return {key(a, fmt): made[id(a), fmt] for a in articles for fmt in formats}

    def _take(self, articles: Iterable[Article], formats: Sequence[str]) -> list[Article]:
        """Have the items at hand that were made or stored already; the articles lacking one,
        in their order."""
        made, store = self._made, self.store
        asked: dict[str, list[tuple[int, Article, list[str]]]] = {}  # by day: formats missing
        for place, article in enumerate(articles):
            missing = [fmt for fmt in formats if (id(article), fmt) not in made]
            if missing:  # else the common case: made for another page of the batch
                asked.setdefault(article.day, []).append((place, article, missing))
        lacking: list[tuple[int, Article]] = []
        for day, needs in asked.items():
            # A day's file is looked up once for the page's articles of that day, each
            # article's formats at once (they lie side by side).
            wanted = [(self.keys.items(a), [fmt.encode() for fmt in fmts]) for _, a, fmts in needs]
            found = store.get_many(day, wanted) if store else [{} for _ in needs]
            for (place, article, missing), items in zip(needs, found, strict=True):
                for fmt in missing:
                    stored = items.get(fmt.encode())
                    if stored is None:
                        lacking.append((place, article))
                        break
                    made[id(article), fmt] = stored
        return [article for _, article in sorted(lacking, key=itemgetter(0))]

    def _make(self, articles: Sequence[Article], formats: Sequence[str]) -> None:
        """Serialize the articles' items in every format; when that fails, find the article
        whose item cannot be made (`ItemError`), so the build can go on without it."""
        try:
            self._make_together(articles, formats)
        except Exception:
            for article in articles:
                try:
                    self._make_together([article], formats)
                except ItemError:
                    raise
                except Exception as e:
                    what = f"{type(e).__name__}: {e}"
                    raise ItemError(article.source, article.url, what, place=article.place) from e
            raise  # they fail only together: not one record's doing

    def _make_together(self, articles: Sequence[Article], formats: Sequence[str]) -> None:
        """Serialize the articles' items in every format, each format's in one go."""
        items: dict[str, list[Item]] = {fmt: [] for fmt in formats}
        for whole in self.whole(articles):
            each = items_of(whole, formats, self.collection, self.config, self._categories)
            for fmt, item in each.items():
                items[fmt].append(item)
        for fmt, made in _serialized(items).items():
            self._made.update(((id(a), fmt), data) for a, data in zip(articles, made, strict=True))
