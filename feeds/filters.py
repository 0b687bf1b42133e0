"""Which articles a feed shows: filters on topics, providers and curation signals.

Pure. `max_age_days` counts back from the newest article of the corpus, not from the clock: the
same input must give the same bytes whenever it is built, and a corpus that cron keeps
fed has its newest article at about "now".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from feeds.model import Article, Level, Problem
from feeds.text import domain_key, host_identity, identity_key

Sort = Literal["newest", "heat"]


@dataclass(frozen=True, slots=True)
class Filters:
    topics_any: tuple[str, ...] = ()  # at least one of these topics
    topics_all: tuple[str, ...] = ()  # every one of these topics
    topics_none: tuple[str, ...] = ()  # none of these topics
    providers_any: tuple[str, ...] = ()  # from one of these providers (domain or name)
    providers_none: tuple[str, ...] = ()  # from none of these providers
    category: str | None = None
    type: str | None = None
    min_quality: int | None = None
    published_only: bool = False
    max_age_days: int | None = None
    min_heat: int | None = None
    # Where the filters were written, "feeds.yaml:12", for warnings; not part of what they are,
    # nor of a run's state: a comment added above them changes no feed. A run with nothing else
    # to do checks that the warnings it would repeat still name the right line
    # (`warnings_in_place`).
    origin: str = field(default="", compare=False, repr=False)

    def predicate(self, newest: datetime | None) -> Callable[[Article], bool]:
        """A test for one article; `newest` is the corpus's newest time, for `max_age_days`."""
        if self == NO_FILTERS:  # the common case: nothing to find out about each article
            return lambda article: True
        test = self.test(newest)
        return lambda article: test(facts(article))

    def test(self, newest: datetime | None) -> Callable[[Facts], bool]:
        """A test of what an article says (`Facts`): an article's, or one the index keeps
        (`index.py`, which re-chooses a custom feed's articles when its filters change)."""
        any_topics = {identity_key(t) for t in self.topics_any}
        all_topics = {identity_key(t) for t in self.topics_all}
        no_topics = {identity_key(t) for t in self.topics_none}
        any_providers = {key for p in self.providers_any for key in provider_keys(p)}
        no_providers = {key for p in self.providers_none for key in provider_keys(p)}
        oldest = self.oldest(newest)

        def matches(found: Facts) -> bool:
            topics, providers = found.topics, found.providers
            return (
                (not any_topics or bool(topics & any_topics))
                and all_topics <= topics
                and not topics & no_topics
                and (not any_providers or bool(providers & any_providers))
                and not providers & no_providers
                and (self.category is None or _same(found.category, self.category))
                and (self.type is None or _same(found.type, self.type))
                and (self.min_quality is None or (found.quality or 0) >= self.min_quality)
                and (not self.published_only or found.is_published is True)
                and (oldest is None or found.published >= oldest)
                and (self.min_heat is None or (found.heat or 0) >= self.min_heat)
            )

        return matches

    def oldest(self, newest: datetime | None) -> datetime | None:
        """The time of the oldest article `max_age_days` keeps, counted back from `newest` (the
        corpus's newest article); None: no limit."""
        return _days_before(newest, self.max_age_days) if newest and self.max_age_days else None

    def names(self) -> dict[str, tuple[str, ...]]:
        """The topic and provider names the filters mention, by key, to check they exist."""
        return {
            "topics.any": self.topics_any,
            "topics.all": self.topics_all,
            "topics.none": self.topics_none,
            "providers.any": self.providers_any,
            "providers.none": self.providers_none,
        }


NO_FILTERS = Filters()


class Facts(NamedTuple):
    """What filters test of an article, and all they test."""

    topics: frozenset[str]  # its topics' keys
    providers: frozenset[str]  # its provider's key, and its name's key
    category: str | None
    type: str | None
    quality: int | None
    is_published: bool | None
    heat: int | None
    published: datetime


def facts(article: Article) -> Facts:
    """What filters test of `article`."""
    p = article.provider
    return Facts(
        frozenset(identity_key(t) for t in article.topics),
        frozenset((p.key, identity_key(p.name))) if p else frozenset(),
        article.category,
        article.type,
        article.quality,
        article.is_published,
        article.heat,
        article.published,
    )


@dataclass(frozen=True, slots=True)
class CustomFeed:
    slug: str
    title: str
    description: str | None = None
    filters: Filters = field(default_factory=lambda: NO_FILTERS)
    sort: Sort = "newest"


def provider_keys(name: str) -> frozenset[str]:
    """The identities a provider named in a filter may have: a filter does not say whether it
    gives a domain (`www.cnbc.com`, `cnbc.com.`, `xn--bcher-kva.de`) or a name (`CNBC`, `A.P.`,
    `Reuters Inc.`), so both are matched."""
    text = domain_key(name)
    if "." not in text:
        return frozenset({identity_key(name)})
    return frozenset({identity_key(name), text, host_identity(text)})


def names_keys(kind: str, name: str) -> frozenset[str]:
    """The identities a topic or provider named in a filter may have (`kind`: `topics`...)."""
    return frozenset({identity_key(name)}) if kind == "topics" else provider_keys(name)


def _days_before(newest: datetime, days: int) -> datetime | None:
    """`days` before `newest`; None (no limit) when that is before the first year there is."""
    try:
        return newest - timedelta(days=days)
    except OverflowError:
        return None


def by_heat(articles: Iterable[Article]) -> tuple[Article, ...]:
    """Hottest first, then newest, then by URL: a stable order."""
    return tuple(sorted(articles, key=lambda a: (-(a.heat or 0), -a.published.timestamp(), a.url)))


def _same(value: str | None, wanted: str) -> bool:
    return value is not None and value.casefold() == wanted.casefold()


def _filter_sets(filters: Filters, custom: Sequence[CustomFeed]) -> list[tuple[str, Filters]]:
    """Each set of filters of the configuration, with where a warning says it is."""
    return [("filters", filters)] + [(f"custom[{i}]", c.filters) for i, c in enumerate(custom)]


def warnings_in_place(
    problems: Iterable[Problem], filters: Filters, custom: Sequence[CustomFeed]
) -> bool:
    """Whether each warning about a filter (`config_warnings`) names where that filter is
    written now: a comment added above it moves its line, and a run that repeats the last one's
    report must not repeat an old line."""
    origins = {where: f.origin or "configuration" for where, f in _filter_sets(filters, custom)}
    return all(
        origins.get(p.field.split(".")[0]) == p.path
        for p in problems
        if p.field and p.message.startswith(_UNKNOWN_NAME)
    )


_UNKNOWN_NAME = "no article has the "


def config_warnings(
    known: Mapping[tuple[str, str], int], filters: Filters, custom: Sequence[CustomFeed]
) -> tuple[Problem, ...]:
    """A filter that names a topic or provider no article has is probably a typo: say so.
    `known` counts the articles that name each (kind, key) (`known_names`)."""
    warnings = []
    for where, written in _filter_sets(filters, custom):
        for key, names in written.names().items():
            kind = key.split(".")[0]
            for name in names:
                if not any(known.get((kind, k)) for k in names_keys(kind, name)):
                    warnings.append(
                        Problem(
                            written.origin or "configuration",
                            f"{_UNKNOWN_NAME}{kind[:-1]} {name!r}",
                            f"{where}.{key}",
                            level=Level.WARNING,
                        )
                    )
    return tuple(warnings)
