"""The index's rows (`index.py`), made and read back: an article's row in a group (`Members`,
`Row`) with the checksum that finds it damaged, its facts for the custom feeds, a group's header
(`Indexed`), times as microseconds since 1970 (UTC); and the numbers under which `members`
keeps every article the feeds choose from (`KEPT`) and those they leave out (`LEFT_OUT`)."""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from feeds import codec
from feeds.collect import Collection, Group, GroupKind
from feeds.filters import Facts, facts
from feeds.fingerprints import ArticleKeys
from feeds.model import Article, Problem
from feeds.pages import DayCounts
from feeds.text import identity_key

# The number under which `members` keeps every article the feeds choose from, with its facts.
KEPT = -1


# The number under which it keeps the articles the filters of every feed leave out.
LEFT_OUT = -2


POOLS = (KEPT, LEFT_OUT)  # every article, once duplicates are resolved


KNOWN = "known:"  # `names` rows of `Collection.known`: kind "known:topics", spelling ""


# How many related articles shown in provider groups name each topic (by key): their items
# gain or lose the topic's category when its group appears or goes.
MENTIONED = "mentioned"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_MICROSECOND = timedelta(microseconds=1)


def micros(time: datetime) -> int:
    return (time - _EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    return _EPOCH + value * _MICROSECOND


def period_span(period: str) -> tuple[int, int]:
    """The times of a month (`2024-05`) or a day (`2024-05-31`): from its first microsecond to
    the next one's."""
    try:
        if len(period) not in (7, 10):
            raise ValueError(period)
        year, number = int(period[:4]), int(period[5:7])
        start = datetime(year, number, int(period[8:] or 1), tzinfo=UTC)
    except ValueError as e:
        raise codec.Damaged(f"not a month or a day: {period!r}") from e
    try:
        if len(period) == 10:
            end = start + timedelta(days=1)
        else:
            end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    except (ValueError, OverflowError):  # the last month or day of year 9999
        return micros(start), micros(datetime.max.replace(tzinfo=UTC)) + 1
    return micros(start), micros(end)


class Indexed(NamedTuple):
    """A group as the index knows it: its header (a `Group` without articles), how many
    articles it shows, the newest one's time."""

    gid: int
    group: Group
    items: int
    newest: int | None


class Row(NamedTuple):
    """One member of a group: enough to fingerprint its pages, find it in its file, and take
    its items from the store without decoding it."""

    time: int
    url: str
    modified: int  # `Article.last_modified`
    day: str
    path: str
    i: int
    j: int
    content: bytes


class Members:
    """Makes articles' rows in groups' `members`, each with its checksum (a damaged value is
    found when it is read). An article is in four or five groups, and its row's checksum is
    made for each: kept by article, they took 50 MB more at 300,000 records while a full
    build's index was written (that process's peak then), to save 2.5 s of the 40 s it takes."""

    def __init__(self, keys: ArticleKeys) -> None:
        self.keys = keys
        self._providers: dict[int, bytes] = {}  # a few hundred, shared by many articles

    def rows(
        self, articles: Iterable[Article], gid: int, group: Group
    ) -> Iterator[tuple[Any, ...]]:
        of_provider = group.kind is GroupKind.PROVIDER
        for article in articles:
            part, crc = self._article(article)
            provider = self._provider(article) if of_provider else None
            yield (gid, *part, provider, _check(gid, provider, crc))

    def _article(self, article: Article) -> tuple[tuple[Any, ...], int]:
        part = _part(article, self.keys.content(article))
        return part, _article_check(*part)

    def kept_rows(self, articles: Iterable[Article]) -> Iterator[tuple[Any, ...]]:
        """The rows of `KEPT`: each article's, with its facts where a provider would be."""
        for article in articles:
            part, crc = self._article(article)
            blob = facts_to_plain(facts(article))
            yield (KEPT, *part, blob, _check(KEPT, blob, crc))

    def left_out_rows(self, articles: Iterable[Article]) -> Iterator[tuple[Any, ...]]:
        """The rows of `LEFT_OUT`: where the articles are and when, not what their items depend
        on (no page shows them: that changes with groups they are not in) nor their facts."""
        for article in articles:
            part = _part(article, b"")
            yield (LEFT_OUT, *part, None, _check(LEFT_OUT, None, _article_check(*part)))

    def _provider(self, article: Article) -> bytes | None:
        if article.provider is None:
            return None
        found = self._providers.get(id(article.provider))
        if found is None:
            found = codec.dump(codec.provider_to_plain(article.provider))
            self._providers[id(article.provider)] = found
        return found


def _part(article: Article, content: bytes) -> tuple[Any, ...]:
    """An article's row but for its group, provider and checksum."""
    assert article.place is not None  # only outlines are indexed: they know their place
    return (
        micros(article.published),
        article.url,
        micros(article.last_modified),
        article.day,
        article.source,
        *article.place,
        content,
    )


def _article_check(
    time: int, url: str, modified: int, day: str, path: str, i: int, j: int, content: bytes
) -> int:
    text = f"{time}\0{url}\0{modified}\0{day}\0{path}\0{i}\0{j}\0"
    return zlib.crc32(content, zlib.crc32(_utf8(text)))


def _check(gid: int, provider: bytes | None, article: int) -> int:
    return zlib.crc32(b"%d\0" % gid + (provider or b""), article)


def member_check(gid: int, provider: bytes | None, *values: Any) -> int:
    """The checksum of a row of `members`: its group, provider and values (`Row`'s)."""
    return _check(gid, provider, _article_check(*values))


def checked_row(gid: int, *row: Any) -> Row:
    """A row of `members` read back (with its provider and checksum): `Damaged` when the
    checksum finds it changed."""
    *values, provider, check = row
    if member_check(gid, provider, *values) != check:
        raise codec.Damaged("a damaged row in the index")
    return Row(*values)


def facts_to_plain(found: Facts) -> bytes:
    """An article's facts but its time (its row's): sorted, so that equal facts are equal bytes."""
    return codec.dump([sorted(found.topics), sorted(found.providers), *found[2:7]])


def facts_from_plain(blob: bytes, time: int) -> Facts:
    try:
        topics, providers, *rest = codec.load(blob)
        category, kind, quality, published, heat = rest
        found = (category, kind, quality, published, heat, from_micros(time))
        return Facts(frozenset(topics), frozenset(providers), *found)
    except (TypeError, ValueError) as e:
        raise codec.Damaged(f"not an article's facts: {e}") from e


def day_of(time: int) -> str:
    at = from_micros(time)
    return f"{at.year:04d}-{at.month:02d}-{at.day:02d}"


def problems_to_plain(problems: Iterable[Problem]) -> bytes:
    return codec.dump([codec.problem_to_plain(p) for p in problems])


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def day_counts_of(articles: Iterable[Article]) -> DayCounts:
    return DayCounts.of(dict(sorted(Counter(a.day for a in articles).items(), reverse=True)))


def urls_of(outcome_articles: Iterable[Article]) -> Iterator[tuple[str, str, int]]:
    """(URL, record file, checksum) of each article and related article."""
    for article in outcome_articles:
        for url in (article.url, *(r.url for r in article.related)):
            yield url, article.source, url_check(url, article.source)


def url_check(url: str, path: str) -> int:
    """The checksum of a row of `urls`."""
    return zlib.crc32(_utf8(f"{url}\0{path}"))


def mentioned_topics(collection: Collection) -> Counter[tuple[str, str]]:
    """`MENTIONED` counts of a collection: the topics of the related articles it shows."""
    return Counter(
        (MENTIONED, identity_key(topic))
        for group in collection.groups
        if group.kind is GroupKind.PROVIDER
        for article in group.articles
        if article.place is not None and article.place[1] >= 0
        for topic in article.topics
    )


def header_to_plain(indexed: Indexed) -> bytes:
    group = indexed.group
    provider = codec.provider_to_plain(group.provider) if group.provider else None
    about = [group.kind.value, group.key, group.name, group.slug, provider, group.description]
    return codec.dump([*about, indexed.items, indexed.newest])


def header_from_plain(gid: int, blob: bytes) -> Indexed:
    try:
        kind, key, name, slug, provider, description, items, newest = codec.load(blob)
        known = codec.provider_from_plain(provider) if provider is not None else None
        group = Group(GroupKind(kind), key, name, slug, (), known, description)
        return Indexed(gid, group, int(items), None if newest is None else int(newest))
    except (TypeError, ValueError) as e:
        raise codec.Damaged(f"not a group: {e}") from e
