"""A group's pages (RFC 5005 archived feeds): the subscription document and monthly archives.

Pure. A group's subscription document shows its newest `limit` items; the older ones go to
archive pages, one per calendar month (UTC) of publication. A month's page changes only when an
item of that month is added, edited or removed, or when items cross the boundary into it from the
subscription document: so a complete month never changes again, and a backdated record touches
only its own month. Each page links to the next older page (`prev-archive`, JSON Feed
`next_url`) and to the subscription document (`current`); there is no `next-archive` link, which
would change a complete page when the next month begins.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter

from feeds.collect import Group
from feeds.config import Config
from feeds.model import Article


@dataclass(frozen=True, slots=True)
class Page:
    """One document of a group: the subscription document (`month` None) or a month's archive."""

    group: Group
    articles: tuple[Article, ...]
    month: str | None = None  # "2024-05"
    older: str | None = None  # the month of the next older archive page, if any

    def path(self, fmt: str) -> str:
        return self.group.file(fmt, self.month)


def pages(group: Group, config: Config) -> list[Page]:
    current = group.articles[: config.limit]
    archived = group.articles[config.limit :] if config.archives else ()
    # Newest first, so each month's articles are together and months come newest first (by
    # published time; custom feeds sorted by heat mix months, and a month may come back).
    by_month: dict[str, list[Article]] = {}
    for month, articles in groupby(archived, key=_MONTH):
        by_month.setdefault(month, []).extend(articles)
    months = list(by_month)
    older = [*months[1:], None][: len(months)]
    return [
        Page(group, current, None, months[0] if months else None),
        *(Page(group, tuple(by_month[m]), m, o) for m, o in zip(months, older, strict=True)),
    ]


_MONTH = attrgetter("month")
