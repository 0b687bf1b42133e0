"""A group's pages (RFC 5005 archived feeds): the subscription document and monthly archives.

Pure. A group's subscription document shows its newest `limit` items; the older ones go to
archive pages, one per calendar month (UTC) of publication, or one per day for a month with more
than `split_months_over` items in the group (so that no page grows to megabytes, and a change
rewrites a small page). A page changes only when an item of its month or day is added, edited or
removed, or when items cross the boundary into it from the subscription document: so a complete
month never changes again, and a backdated record touches only its own page. Each page links to
the next older page (`prev-archive`, JSON Feed `next_url`) and to the subscription document
(`current`); there is no `next-archive` link, which would change a complete page when the next
month begins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from itertools import groupby, islice
from operator import attrgetter
from typing import overload

from feeds.collect import Group
from feeds.config import Config
from feeds.model import Article


@dataclass(frozen=True, slots=True)
class Page:
    """One document of a group: the subscription document (`period` None) or an archive page
    of a month (`2024-05`) or a day (`2024-05-31`)."""

    group: Group
    articles: Sequence[Article]  # a `Run` of the group's, or a tuple
    period: str | None = None
    older: str | None = None  # the period of the next older archive page, if any

    @property
    def month(self) -> str | None:
        """An archive page's month (its articles' items are kept together, by month)."""
        return self.period[:7] if self.period else None

    def path(self, fmt: str) -> str:
        return self.group.file(fmt, self.period)


class Run(Sequence[Article]):
    """Articles `start` to `stop` of a group's, without a copy: a cold build holds every page
    of every group at once, and a tuple for each archive page took as much memory as the
    groups' own (about 45 MB at 1,000,000 records)."""

    __slots__ = ("_articles", "_start", "_stop")

    def __init__(self, articles: tuple[Article, ...], start: int, stop: int) -> None:
        self._articles, self._start, self._stop = articles, start, stop

    def __len__(self) -> int:
        return self._stop - self._start

    @overload
    def __getitem__(self, i: int) -> Article: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[Article, ...]: ...
    def __getitem__(self, i: int | slice) -> Article | tuple[Article, ...]:
        if isinstance(i, slice):
            return self._articles[self._start : self._stop][i]
        if not -len(self) <= i < len(self):
            raise IndexError("Run index out of range")
        return self._articles[self._start + i % len(self)]

    def __iter__(self) -> Iterator[Article]:
        return map(self._articles.__getitem__, range(self._start, self._stop))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"Run({self._start}:{self._stop} of {len(self._articles)})"


def pages(group: Group, config: Config) -> list[Page]:
    articles, limit = group.articles, config.limit
    current = articles[:limit]
    archived = config.archives and len(articles) > limit
    split = split_months(articles, config.split_months_over) if archived else set()

    def period(article: Article) -> str:
        return article.day if article.month in split else article.month

    # Newest first, so each period's articles are together and periods come newest first (by
    # published time; custom feeds sorted by heat mix periods, and a period may come back):
    # each period's runs of the group's articles, as (start, stop).
    runs: dict[str, list[tuple[int, int]]] = {}
    start = limit
    archive = islice(articles, limit, None) if archived else ()
    for key, each in groupby(archive, key=period if split else _MONTH):
        stop = start + sum(1 for _ in each)
        runs.setdefault(key, []).append((start, stop))
        start = stop
    periods = list(runs)
    older = [*periods[1:], None][: len(periods)]
    return [
        Page(group, current, None, periods[0] if periods else None),
        *(
            Page(group, _shown(articles, runs[p]), p, o)
            for p, o in zip(periods, older, strict=True)
        ),
    ]


def _shown(articles: tuple[Article, ...], runs: list[tuple[int, int]]) -> Sequence[Article]:
    """A page's articles: one run of the group's, or the runs of a period that comes back."""
    if len(runs) == 1:
        return Run(articles, *runs[0])
    return tuple(a for start, stop in runs for a in articles[start:stop])


def split_months(articles: Sequence[Article], over: int) -> set[str]:
    """The months of more than `over` of the articles: archived a page per day."""
    if len(articles) <= over:
        return set()
    return {month for month, n in Counter(map(_MONTH, articles)).items() if n > over}


_MONTH = attrgetter("month")


# The same cut from counts alone: a delta run (`delta.py`) cuts a changed group's pages from its
# members on each day, kept in the index, without its articles (a property test holds the two
# ways together).
#
# A page of a group, in its newest-first order: (period, older, first, stop); `period` None is
# the subscription document, else the month or day of an archive page; ranks `first` to `stop`
# are its members.
Cut = tuple[str | None, str | None, int, int]


class DayCounts:
    """A group's members on each day, newest first, kept by month (as the index keeps them): every
    month's total at once, a month's days when asked for (`days`). A delta run changes a few days
    of groups whose archives span thousands: it reads, cuts and writes only the months near them
    (`cuts`), not each group's whole history."""

    def __init__(
        self,
        months: dict[str, int],
        days_of: Callable[[str], dict[str, int]],
        known: dict[str, dict[str, int]] | None = None,
    ) -> None:
        self.months = months  # month -> members, newest first
        self._days_of = days_of
        self._days = {} if known is None else known

    @classmethod
    def of(cls, by_day: Mapping[str, int]) -> DayCounts:
        """From the members on each day, newest first."""
        days: dict[str, dict[str, int]] = {}
        for day, n in by_day.items():
            days.setdefault(day[:7], {})[day] = n
        return cls({m: sum(d.values()) for m, d in days.items()}, days.__getitem__, days)

    @property
    def total(self) -> int:
        return sum(self.months.values())

    def days(self, month: str) -> dict[str, int]:
        """The month's members on each of its days, newest first."""
        found = self._days.get(month)
        if found is None:
            found = self._days[month] = self._days_of(month)
        return found

    def read(self) -> DayCounts:
        """Every month's days read now: before their rows are written over, or go."""
        for month in self.months:
            self.days(month)
        return self

    def periods(self, month: str, split_over: int) -> list[tuple[str, int]]:
        """The month's archive periods, newest first, with their members: itself, or its days
        when it has more than `split_over` (as `pages` cuts them)."""
        n = self.months[month]
        return [(month, n)] if n <= split_over else list(self.days(month).items())

    def newest(self, count: int) -> Counter[str]:
        """How many of the `count` newest members are on each day."""
        found: Counter[str] = Counter()
        for month in self.months:
            for day, n in self.days(month).items():
                if count <= 0:
                    return found
                found[day] = min(n, count)
                count -= found[day]
        return found


def near(before: DayCounts, after: DayCounts, changed: Set[str], limit: int) -> set[str]:
    """The months whose archive pages may differ once the months `changed` did (from `before`
    to `after`): those, the month newer than each (its oldest page links to their newest), and
    the newest months, through the first whose members reach past `limit` on either side (they
    hold the subscription document's members, and the first archive page it links to). A page
    of another month shows all its period's members, as it did, and links to the same page."""
    found = set(changed)
    for counts in (before, after):
        rank = 0
        for month, n in counts.months.items():
            if rank > limit:
                break
            found.add(month)
            rank += n
        for month in changed:
            newer = [m for m in counts.months if m > month]  # newest first: the last is nearest
            if newer:
                found.add(newer[-1])
    return found


def cuts(
    counts: DayCounts, months: Set[str] | None, split_over: int, limit: int, archives: bool
) -> tuple[Cut, dict[str, tuple[Cut, int]]]:
    """A group's pages as `pages` cuts them, from its `DayCounts`, with only the archive pages of
    `months` (None: of every month; `near` says which may differ): the subscription document's
    cut, and these archive pages' cuts by period, newest first, each with its period's members.
    `months` must hold the newest months, through the first whose members reach past `limit`."""
    ordered = list(counts.months)
    found: dict[str, tuple[Cut, int]] = {}
    first_archived: str | None = None
    rank = 0
    for k, month in enumerate(ordered):
        start, rank = rank, rank + counts.months[month]
        if not archives or (months is not None and month not in months):
            continue
        periods = counts.periods(month, split_over)
        at = start
        for i, (period, n) in enumerate(periods):
            first, stop = max(at, limit), at + n
            if first < stop:
                first_archived = first_archived or period
                if i + 1 < len(periods):
                    older: str | None = periods[i + 1][0]
                elif k + 1 < len(ordered):
                    older = counts.periods(ordered[k + 1], split_over)[0][0]
                else:
                    older = None
                found[period] = ((period, older, first, stop), n)
            at = stop
    return (None, first_archived, 0, min(limit, rank)), found
