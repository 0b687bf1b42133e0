"""Pages made again from the index's rows (`delta.py`), a batch at a time: the articles of a
page are stood in for by their rows (URL, times, place in their record file, what their items
depend on); only those whose items are not in the store are decoded from the cache, then made
whole. Memory holds one batch's pages, not every page the run makes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

from feeds import codec
from feeds.cache import OutcomeReader
from feeds.collect import Collection
from feeds.config import Config
from feeds.fingerprints import file_fingerprint, settings_key
from feeds.index import Index
from feeds.index_rows import Row, checked_row, from_micros
from feeds.itemstore import ItemStore
from feeds.model import NO_TEXTS, Article, FileOutcome
from feeds.pages import Page

if TYPE_CHECKING:
    from feeds.batches import Batch, Planned


class Wanted(NamedTuple):
    """A page to make again: its group, the page (without its articles), where its rows are
    (`Index.rows`: period, skip, count) and its content digest (`page_digest`); or its rows
    themselves (`listed`), when they are not a stretch of the group's newest-first order (a
    feed sorted by heat)."""

    gid: int
    page: Page
    rows: tuple[str | None, int, int]
    content: bytes
    listed: tuple[Row, ...] | None = None


class StandIns:
    """The articles of the pages to make, known by their rows in the index: stand-ins that
    carry what a page needs of them when their items are in the store (URL, times, place; what
    their items depend on, `contents`). Only those whose items must be made are decoded
    (`outlines`), then made whole. One stand-in per article within a batch (`Batches` makes
    one of these per batch), so that a page and its month's members share their objects (the
    renderer knows items by `id`)."""

    def __init__(self, decoded: dict[str, FileOutcome], reader: OutcomeReader) -> None:
        self.decoded = decoded  # record file -> its outcome (outlines)
        self.reader = reader
        self.contents: dict[int, bytes] = {}  # id(stand-in) -> `ArticleKeys.content`
        self._stand_ins: dict[tuple[str, int, int], Article] = {}

    def stand_in(self, row: Row) -> Article:
        place = (row.path, row.i, row.j)
        found = self._stand_ins.get(place)
        if found is None:
            updated = from_micros(row.modified) if row.modified != row.time else None
            found = Article(
                row.url, NO_TEXTS, from_micros(row.time), updated, source=row.path, place=place[1:]
            )
            self._stand_ins[place] = found
            self.contents[id(found)] = row.content
        return found

    def outlines(self, stand_ins: Sequence[Article]) -> list[Article]:
        """The articles the stand-ins stand for, decoded from the cache."""
        from feeds.render import ItemError

        wanted = sorted({a.source for a in stand_ins} - self.decoded.keys())
        for path, blob in self.reader.outlines(wanted).items():
            with contextlib.suppress(codec.Damaged):  # then it is not found: said below
                self.decoded[path] = codec.decode_outcome(blob)
        outlines = []
        for stand_in in stand_ins:
            assert stand_in.place is not None
            found = self._at(stand_in.source, *stand_in.place)
            if found is None or found.url != stand_in.url:
                raise ItemError(stand_in.source, stand_in.url, LOST, False, stand_in.place)
            outlines.append(found)
        return outlines

    def _at(self, path: str, i: int, j: int) -> Article | None:
        outcome = self.decoded.get(path)
        try:
            article = outcome.articles[i] if outcome else None
            return article.related[j] if article is not None and j >= 0 else article
        except IndexError:
            return None


LOST = "the cache lost what the index says of it; the next run reads it again"


class DayMembers(Mapping[str, list[Article]]):
    """Each day's articles that any page shows, for the days of `months` (what `render.days_shown`
    gives), read from the index only when a batch stores a day's items (through the reader's
    own connection). Iterates over the days read so far."""

    def __init__(self, months: set[str], articles: StandIns) -> None:
        self.months = months
        self.articles = articles
        self._read: dict[str, list[Article]] = {}

    def __getitem__(self, day: str) -> list[Article]:
        if day[:7] not in self.months:
            raise KeyError(day)
        found = self._read.get(day)
        if found is None:
            by_id: dict[int, Article] = {}
            for gid, *values in self.articles.reader.day_members(day):
                try:
                    article = self.articles.stand_in(checked_row(gid, *values))
                except codec.Damaged:  # left out: the day's store only lacks its item
                    continue
                by_id[id(article)] = article
            found = self._read[day] = list(by_id.values())
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._read)

    def __len__(self) -> int:
        return len(self._read)


class Batches:
    """Makes a delta run's pages a batch at a time (`batches.Batch`: an archive month's pages in
    every group, or a block of groups' subscription documents). When a batch's first file is
    made, its pages' rows are read again from the index and their articles stood in for
    (`StandIns`); when the next batch starts, all of that is dropped: the stand-ins, the items
    made, and what is known of them by `id` (so no later object can be taken for one of them).
    Memory holds one batch, not every page the run makes: a custom feed chosen again may show
    half the archive."""

    def __init__(
        self,
        config: Config,
        headers: Collection,
        index: Index,
        outlines: tuple[dict[str, FileOutcome], OutcomeReader],
        store: ItemStore,
    ) -> None:
        """`outlines`: the record files decoded so far (the changed ones), and where the others'
        are; shared by every batch."""
        from feeds.complete import Completer

        self.config, self.headers, self.index, self.store = config, headers, index, store
        self.decoded, self.reader = outlines
        self.complete = Completer(config.seeds, self.reader).wholes
        self._wanted: dict[Batch, list[tuple[int, Wanted]]] = {}
        self._months: set[str] = set()
        self._batch: Batch | None = None
        self._files: dict[str, Planned] = {}  # the current batch's

    def planned(self, wanted: Sequence[tuple[int, Wanted]]) -> list[Planned]:
        """The files of the pages to make again (each with its group's place in the headers),
        fingerprinted from their rows' digests."""
        from feeds.batches import Planned, batch_of

        settings = settings_key(self.config)
        self._months = {w.page.month for _, w in wanted if w.page.month}
        planned = []
        for place, page in wanted:
            batch = batch_of(page.page, place)
            self._wanted.setdefault(batch, []).append((place, page))
            for fmt in self.config.formats:
                path, fingerprint = (
                    page.page.path(fmt),
                    file_fingerprint(settings, fmt, page.content),
                )
                planned.append(Planned(path, fingerprint, self._make, batch, page.rows[2]))
        return planned

    def _make(self, planned: Planned) -> bytes:
        batch, path, fingerprint = planned.batch, planned.path, planned.fingerprint
        if batch != self._batch:
            self._files = {}  # the last batch's go first
            self._batch = batch
            self._files = {p.path: p for p in self._plan(self._wanted[batch])}
        found = self._files[path]
        if found.fingerprint != fingerprint:  # its rows are not those it was planned from
            raise codec.Damaged(f"the index changed while {path} was made")
        return found.make()

    def _plan(self, wanted: list[tuple[int, Wanted]]) -> Iterator[Planned]:
        from feeds.render import days_shown, plan_pages

        articles = StandIns(self.decoded, self.reader)
        grouped = []
        for place, page in wanted:
            rows = self.index.rows(page.gid, *page.rows) if page.listed is None else page.listed
            grouped.append(
                (place, replace(page.page, articles=tuple(map(articles.stand_in, rows))))
            )
        members = DayMembers(self._months, articles)
        shown = days_shown((page for _, page in grouped), self._months)

        def whole(stand_ins: Sequence[Article]) -> list[Article]:
            return self.complete(articles.outlines(stand_ins))

        return plan_pages(
            grouped,
            self.headers,
            self.config,
            members,
            self.store,
            whole,
            articles.contents,
            add_to_days=shown,  # only the changed articles' items are lacking
        )
