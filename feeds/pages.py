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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter

from feeds.collect import Group
from feeds.config import Config
from feeds.model import Article


@dataclass(frozen=True, slots=True)
class Page:
    """One document of a group: the subscription document (`period` None) or an archive page
    of a month (`2024-05`) or a day (`2024-05-31`)."""

    group: Group
    articles: tuple[Article, ...]
    period: str | None = None
    older: str | None = None  # the period of the next older archive page, if any

    @property
    def month(self) -> str | None:
        """An archive page's month (its articles' items are kept together, by month)."""
        return self.period[:7] if self.period else None

    def path(self, fmt: str) -> str:
        return self.group.file(fmt, self.period)


def pages(group: Group, config: Config) -> list[Page]:
    current = group.articles[: config.limit]
    archived = group.articles[config.limit :] if config.archives else ()
    split = split_months(group.articles, config.split_months_over) if archived else set()

    def period(article: Article) -> str:
        return article.day if article.month in split else article.month

    # Newest first, so each period's articles are together and periods come newest first (by
    # published time; custom feeds sorted by heat mix periods, and a period may come back).
    by_period: dict[str, list[Article]] = {}
    for key, articles in groupby(archived, key=period if split else _MONTH):
        by_period.setdefault(key, []).extend(articles)
    periods = list(by_period)
    older = [*periods[1:], None][: len(periods)]
    return [
        Page(group, current, None, periods[0] if periods else None),
        *(Page(group, tuple(by_period[p]), p, o) for p, o in zip(periods, older, strict=True)),
    ]


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


def periods(day_counts: Mapping[str, int], split_over: int) -> list[tuple[str, int]]:
    """A group's archive periods, newest first, with how many members each has, from its members
    on each day, newest first: a month, or its days when it has more than `split_over`."""
    # Plain dicts, not Counters (whose missing keys cost a Python call): a delta run cuts a few
    # hundred groups' periods, from hundreds of days each.
    in_month: dict[str, int] = {}
    for day, n in day_counts.items():
        month = day[:7]
        in_month[month] = in_month.get(month, 0) + n
    if max(in_month.values(), default=0) <= split_over:  # no month goes by day
        return list(in_month.items())
    found: dict[str, int] = {}
    for day, n in day_counts.items():
        period = day if in_month[day[:7]] > split_over else day[:7]
        found[period] = found.get(period, 0) + n
    return list(found.items())


def layout(periods: Sequence[tuple[str, int]], limit: int, archives: bool) -> tuple[Cut, ...]:
    """A group's pages from how many members it has in each period, newest first (`periods`):
    as `pages` cuts them."""
    archived: list[tuple[str, int, int]] = []
    rank = 0
    for period, n in periods:
        first, rank = max(rank, limit), rank + n
        if archives and first < rank:
            archived.append((period, first, rank))
    older = [*(p for p, _, _ in archived[1:]), None][: len(archived)]
    return (
        (None, archived[0][0] if archived else None, 0, min(limit, rank)),
        *((p, o, first, stop) for (p, first, stop), o in zip(archived, older, strict=True)),
    )
