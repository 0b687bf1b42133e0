"""The data every later stage works on: validated, immutable articles and the problems found.

An `Article` exists only once its record passed validation (see `validate.py`): its URL is an
absolute http(s) URI (`uris.as_uri`), its text carries no control characters
(`text.strip_controls`), its times are aware and in UTC.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    width: int | None = None
    height: int | None = None
    title: str | None = None

    @property
    def is_square(self) -> bool:
        return bool(self.width and self.width == self.height)

    @property
    def is_wide(self) -> bool:
        return bool(self.width and self.height and self.width > self.height)


class Texts(NamedTuple):
    """What an article shows of itself in its items only: an outline has none (`NO_TEXTS`)."""

    title: str
    excerpt: str | None = None
    body: str | None = None
    images: tuple[Image, ...] = ()  # lead image first
    amp_url: str | None = None


NO_TEXTS = Texts("")  # an outline's: one object for all of them


@dataclass(frozen=True, slots=True)
class Provider:
    """A publisher. `key` is its identity: the domain (lowercase, no `www.`), else the name."""

    key: str
    name: str
    domain: str | None = None
    logo: Image | None = None


_PROVIDERS: dict[Provider, Provider] = {}  # one instance of each distinct provider
# One tuple of each distinct list of topics: a million records name a few hundred thousand
# (most name one to three of a few hundred topics). Forgotten when a build ends
# (`forget_shared`): a program that builds again and again would keep every list it met.
_TOPIC_LISTS: dict[tuple[str, ...], tuple[str, ...]] = {}
# The names of each day articles were published on, and of its month (`Article.day`), by the
# day's number (`datetime.toordinal`): made once, not kept by article. Forgotten likewise.
_DAYS: dict[int, tuple[str, str]] = {}


def forget_shared() -> None:
    """Forget the lists of topics and the days' names that the articles made so far share."""
    _TOPIC_LISTS.clear()
    _DAYS.clear()


@dataclass(frozen=True, slots=True)
class Article:
    url: str  # the record's `webUrl`: its identity, permalink and feed id
    texts: Texts  # title, excerpt, body, images, AMP URL: what only its items show
    published: datetime
    updated: datetime | None = None
    provider: Provider | None = None
    topics: tuple[str, ...] = ()  # display spellings as written in the record, trimmed
    related: tuple[Article, ...] = ()  # other coverage of the same story
    category: str | None = None
    type: str | None = None
    quality: int | None = None
    heat: int | None = None
    is_published: bool | None = None
    source: str = ""  # the record file, relative to the seeds folder
    revision: bytes = b""  # a digest of that file: changes whenever the article may have
    # Set on an outline: an article decoded from the cache without its texts (`NO_TEXTS`),
    # which only the items that are made need (`complete.py`). Where they are in its file's
    # outcome: (the article's index, the related article's index or -1).
    place: tuple[int, int] | None = field(default=None, compare=False, repr=False)
    # Which record of a list file it is (1 for the first; 0 in a file of one record, and for a
    # related article): what a note about it names.
    item: int = field(default=0, compare=False, repr=False)

    def __post_init__(self) -> None:
        # A big site has a hundred thousand articles naming a few hundred providers and topics:
        # each article built (read, or decoded from a worker or the cache) shares one copy.
        set_field = object.__setattr__
        if self.provider is not None:
            set_field(self, "provider", _PROVIDERS.setdefault(self.provider, self.provider))
        if self.topics:
            topics = tuple(map(sys.intern, self.topics))
            set_field(self, "topics", _TOPIC_LISTS.setdefault(topics, topics))
        if self.category is not None:
            set_field(self, "category", sys.intern(self.category))
        if self.type is not None:
            set_field(self, "type", sys.intern(self.type))

    # The texts as fields of their own: kept in one (`texts`), an outline, which has none,
    # holds one reference to `NO_TEXTS` instead of five; a cold build holds 1.3 million
    # outlines at 1,000,000 records, 32 bytes fewer each (42 MB).
    @property
    def title(self) -> str:
        return self.texts.title

    @property
    def excerpt(self) -> str | None:
        return self.texts.excerpt

    @property
    def body(self) -> str | None:
        """Markdown after the front matter, when the record has one."""
        return self.texts.body

    @property
    def images(self) -> tuple[Image, ...]:
        """The lead image first."""
        return self.texts.images

    @property
    def amp_url(self) -> str | None:
        return self.texts.amp_url

    @property
    def day(self) -> str:
        """The day (UTC) of its archive page, `2024-05-31` (`pages.py`), asked for every page
        that shows it: a name made once a day, not kept by article (two fields fewer: 16 bytes
        an article, 21 MB of a cold build at 1,000,000 records, for about 0.2 µs an ask)."""
        return _day_and_month(self.published)[0]

    @property
    def month(self) -> str:
        """The month (UTC) of its archive page, `2024-05`."""
        return _day_and_month(self.published)[1]

    @property
    def is_outline(self) -> bool:
        return self.place is not None

    @property
    def last_modified(self) -> datetime:
        """The time readers should see as the item's last change."""
        return max(self.published, self.updated) if self.updated else self.published

    @property
    def lead_image(self) -> Image | None:
        return self.images[0] if self.images else None

    def related_coverage(self) -> tuple[Article, ...]:
        """Related articles, one per URL in first-seen order, by the duplicate rule."""
        others = (r for r in self.related if r.url != self.url)
        return tuple(latest_per_url(others).values())


def _day_and_month(published: datetime) -> tuple[str, str]:
    """The names of the day and month of a time in UTC (`strftime` costs four times as much)."""
    number = published.toordinal()
    names = _DAYS.get(number)
    if names is None:
        day = sys.intern(f"{published.year:04d}-{published.month:02d}-{published.day:02d}")
        names = _DAYS[number] = (day, sys.intern(day[:7]))
    return names


def latest_per_url(articles: Iterable[Article]) -> dict[str, Article]:
    """The duplicate rule: of articles sharing a URL, the one changed most recently; on a tie, the
    one seen first. URLs keep the order in which they were first seen."""
    chosen: dict[str, Article] = {}
    for article in articles:
        current = chosen.get(article.url)
        if current is None or article.last_modified > current.last_modified:
            chosen[article.url] = article
    return chosen


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with an input file, in words a curator understands."""

    path: str
    message: str
    field: str | None = None
    line: int | None = None
    level: Level = Level.ERROR

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "")
        what = f"{self.field}: " if self.field else ""
        return one_line(f"{where}: {self.level.value}: {what}{self.message}")


# What must not reach a terminal or a log as itself: control characters (a line end in a file's
# name made one problem two lines, the second forged; ESC sequences recolour or clear the
# screen), the Unicode line and paragraph separators, and the bidi controls that reorder a line.
_NOT_ON_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def one_line(text: str) -> str:
    """`text` as one printable line: those characters written as escapes (`\\n`, `\\x1b`)."""
    if text.isascii() and text.isprintable():
        return text
    return _NOT_ON_ONE_LINE.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


class FileStat(NamedTuple):
    """One entry of the seeds folder, as `scan.Scan` gives it (it keeps its entries in columns
    and makes these when asked). A named tuple, not a dataclass: the full way makes one per
    record file, and a tuple is made in half the time."""

    path: str  # relative to the seeds folder, with `/`
    size: int
    stamp: int  # its ctime: moves with any change, its mtime's too (`scan.change_stamp`)
    skip: Problem | None = None  # why the file is not opened: said instead of reading it


@dataclass(frozen=True, slots=True)
class FileOutcome:
    path: str
    ignored: bool = False
    records: int = 0
    rejected: int = 0
    articles: tuple[Article, ...] = ()
    problems: tuple[Problem, ...] = ()  # rejections and warnings, in order
    retry: bool = False  # the file could not be read now: never cached, read again next run
