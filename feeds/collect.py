"""Collect articles into groups: everything, one per topic, one per provider.

Pure: plain data in, plain data out. Two rules are decided here and nowhere else:

- Duplicates: records sharing a `webUrl` are one article. The one changed most recently (its
  `updatedDateTime`, else `publishedDateTime`) is kept; on a tie, the record whose file sorts first.
  Each other record is reported as a duplicate. Related mentions of one URL follow the same rule,
  and a full record always wins over a related mention.
- Related coverage is made of articles too: each related article that has no record of its own
  appears in its provider's feed, and only there.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from feeds.filters import NO_FILTERS, CustomFeed, Filters, by_heat, config_warnings, facts
from feeds.model import Article, Image, Level, Problem, Provider, latest_per_url
from feeds.paths import feed_path
from feeds.slugs import provider_slug, topic_slug
from feeds.text import identity_key


class GroupKind(StrEnum):
    ALL = "all"
    TOPIC = "topics"
    PROVIDER = "providers"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class Group:
    kind: GroupKind
    key: str  # identity: topic key, provider key, or "all"
    name: str  # display name
    slug: str
    # Newest first, ties by URL (a custom feed sorted by heat: hottest first, `by_heat`); every
    # one, not just the newest.
    articles: tuple[Article, ...]
    provider: Provider | None = None  # on provider groups: the publisher, with its logo
    description: str | None = None  # on custom groups, when the configuration gives one

    @property
    def newest(self) -> datetime | None:
        """The time of its newest article: its first, but in a custom feed sorted by heat."""
        if self.kind is GroupKind.CUSTOM:
            return max((a.published for a in self.articles), default=None)
        return self.articles[0].published if self.articles else None

    @property
    def path(self) -> str:
        """Output path without the format suffix, e.g. `topics/ai`."""
        return self.slug if self.kind is GroupKind.ALL else f"{self.kind.value}/{self.slug}"

    def file(self, fmt: str, period: str | None = None) -> str:
        """The file of its subscription document in `fmt`, or of an archive page."""
        return feed_path(self.path, fmt, period)


@dataclass(frozen=True, slots=True)
class Collection:
    groups: tuple[Group, ...]  # all, topics, providers, custom; each kind sorted by slug
    duplicates: tuple[Problem, ...] = ()
    topics: dict[str, Group] = field(default_factory=dict)  # topic key -> its group, if written
    warnings: tuple[Problem, ...] = ()  # filters that name no topic or provider of the corpus
    kept_instead: tuple[str, ...] = ()  # for each duplicate, the file of the record kept
    # How many articles spell each topic's and provider's name each way (what names a group),
    # by (group kind, key); and how many name each topic or provider key at all, kept or not
    # (what a filter's name is checked against). Kept so that a run can update them by
    # difference (`delta.py`).
    spellings: dict[tuple[GroupKind, str], Counter[str]] = field(default_factory=dict)
    known: Counter[tuple[str, str]] = field(default_factory=Counter)
    # Every article the feeds choose from (de-duplicated, through the filters of every feed),
    # newest first: what a custom feed whose filters change chooses from again (`delta.py`).
    kept: tuple[Article, ...] = ()
    # The others once duplicates are resolved, newest first: those the filters of every feed
    # leave out (none without such filters). With `kept`, every article the newest may be:
    # when it goes, a delta run finds the next one among both, and a window of days that moves
    # back takes those it now keeps from these.
    left_out: tuple[Article, ...] = ()
    # The newest article's time once duplicates are resolved, before any filter (or the time
    # `collect` was given): what `max_age_days` counts back from.
    newest: datetime | None = None


def newest_first(articles: Iterable[Article]) -> tuple[Article, ...]:
    by_url = sorted(articles, key=lambda a: a.url)
    return tuple(sorted(by_url, key=lambda a: a.published, reverse=True))


def collect(
    articles: Sequence[Article],
    *,
    kinds: Sequence[str] = ("all", "topics", "providers"),
    filters: Filters = NO_FILTERS,
    custom: Sequence[CustomFeed] = (),
    newest: datetime | None = None,
) -> Collection:
    """Group the articles. `kinds` names the built-in groups wanted; `filters` applies to every
    feed (after duplicates are resolved); each custom feed adds its own group. `max_age_days`
    counts back from the newest article (`newest_article`): of `articles`, or `newest` when
    they are part of a corpus whose newest is known (`delta.py` collects the changed records)."""
    deduped, duplicates, kept_instead = _dedupe(articles)
    if newest is None:
        newest = max((a.published for a in deduped), default=None)
    # In feed order from the start: each group's share then needs no real sorting.
    wanted = filters.predicate(newest)
    kept, left_out = _split(newest_first(deduped), wanted, filters != NO_FILTERS)
    mentions = _related_mentions(kept)
    spellings = {
        **(_spellings(GroupKind.TOPIC, kept) if "topics" in kinds else {}),
        **(_spellings(GroupKind.PROVIDER, [*kept, *mentions]) if "providers" in kinds else {}),
    }
    topic_groups = _groups(GroupKind.TOPIC, spellings, kept) if "topics" in kinds else []
    groups = [
        *([Group(GroupKind.ALL, "all", "All news", "all", kept)] if "all" in kinds else []),
        *topic_groups,
        *(
            _groups(GroupKind.PROVIDER, spellings, [*kept, *mentions])
            if "providers" in kinds
            else []
        ),
        *_custom_groups(kept, custom, newest),
    ]
    known = known_names(deduped)
    warnings = config_warnings(known, filters, custom)
    topics = {g.key: g for g in topic_groups}
    return Collection(
        tuple(groups),
        duplicates,
        topics,
        warnings,
        kept_instead,
        spellings,
        known,
        kept,
        left_out,
        newest,
    )


def _split(
    articles: tuple[Article, ...], wanted: Callable[[Article], bool], filtered: bool
) -> tuple[tuple[Article, ...], tuple[Article, ...]]:
    """The articles the filters of every feed keep, and those they leave out."""
    if not filtered:
        return articles, ()
    kept: list[Article] = []
    left_out: list[Article] = []
    for article in articles:
        (kept if wanted(article) else left_out).append(article)
    return tuple(kept), tuple(left_out)


def newest_article(articles: Sequence[Article]) -> datetime | None:
    """The time of the newest of the articles once duplicates are resolved: what `max_age_days`
    counts back from."""
    return max((a.published for a in _dedupe(articles)[0]), default=None)


def _custom_groups(
    kept: Sequence[Article], custom: Sequence[CustomFeed], newest: datetime | None
) -> list[Group]:
    feeds = sorted(custom, key=lambda f: f.slug)
    tests = [feed.filters.test(newest) for feed in feeds]
    chosen: list[list[Article]] = [[] for _ in feeds]
    for article in kept if feeds else ():  # each article's facts made once, for every feed
        found = facts(article)
        for test, into in zip(tests, chosen, strict=True):
            if test(found):
                into.append(article)
    groups = []
    for feed, members in zip(feeds, chosen, strict=True):
        ordered = by_heat(members) if feed.sort == "heat" else newest_first(members)
        groups.append(
            Group(
                GroupKind.CUSTOM,
                feed.slug,
                feed.title,
                feed.slug,
                ordered,
                description=feed.description,
            )
        )
    return groups


def known_names(articles: Sequence[Article]) -> Counter[tuple[str, str]]:
    """How many articles name each topic key and provider key (by domain or name, theirs or
    their related articles'): a filter may name any of them."""
    known: Counter[tuple[str, str]] = Counter()
    for article in articles:
        known.update({("topics", identity_key(t)) for t in article.topics})
        known.update(
            {
                ("providers", key)
                for a in (article, *article.related)
                if a.provider
                for key in (a.provider.key, identity_key(a.provider.name))
            }
        )
    return known


def _dedupe(
    articles: Sequence[Article],
) -> tuple[list[Article], tuple[Problem, ...], tuple[str, ...]]:
    """The articles kept, a note for each duplicate, and the file of the record kept instead."""
    in_file_order = sorted(articles, key=lambda a: a.source)
    winners = latest_per_url(in_file_order)
    losers = [a for a in in_file_order if winners[a.url] is not a]
    problems = tuple(
        Problem(
            article.source,
            f"{_which(article)} webUrl as {_where(winners[article.url])}, which was kept "
            "(changed later or sorts first)",
            "webUrl",
            level=Level.WARNING,
        )
        for article in losers
    )
    return list(winners.values()), problems, tuple(winners[a.url].source for a in losers)


def _which(article: Article) -> str:
    """Which record of its file a note is about: the file alone says it unless it is a list."""
    return f"item {article.item} has the same" if article.item else "same"


def _where(article: Article) -> str:
    return f"{article.source} (item {article.item})" if article.item else article.source


def _related_mentions(kept: Sequence[Article]) -> list[Article]:
    """Related articles that have no record of their own, one per URL, by the duplicate rule."""
    full = {a.url for a in kept}
    mentions = (
        related
        for article in sorted(kept, key=lambda a: a.source)
        for related in article.related_coverage()
        if related.url not in full
    )
    return list(latest_per_url(mentions).values())


def _spellings(
    kind: GroupKind, articles: Sequence[Article]
) -> dict[tuple[GroupKind, str], Counter[str]]:
    """How many of the articles spell each topic's (or provider's) name each way, by key."""
    spellings: defaultdict[tuple[GroupKind, str], Counter[str]] = defaultdict(Counter)
    for article in articles:
        for key, name in _names(kind, article):
            spellings[kind, key][name] += 1
    return dict(spellings)


def _names(kind: GroupKind, article: Article) -> list[tuple[str, str]]:
    """The (key, spelling) of each group of `kind` the article belongs to."""
    if kind is GroupKind.TOPIC:
        return [(identity_key(topic), topic) for topic in article.topics]
    return [(article.provider.key, article.provider.name)] if article.provider else []


def _groups(
    kind: GroupKind,
    spellings: dict[tuple[GroupKind, str], Counter[str]],
    articles: Sequence[Article],
) -> list[Group]:
    members: dict[str, list[Article]] = {}
    for article in articles:
        for key, _ in _names(kind, article):
            members.setdefault(key, []).append(article)
    # Slugs come from the identity alone, not the display name nor the other groups: a provider's
    # file is named after its domain, and a feed's URL stays put when its most common spelling
    # changes or a near-namesake arrives (`C` beside `C++`).
    slug_of = topic_slug if kind is GroupKind.TOPIC else provider_slug
    slugs = {key: slug_of(key) for key in members}
    groups = []
    for key in sorted(members, key=lambda k: slugs[k]):
        name = most_common(spellings[kind, key])
        articles = newest_first(members[key])
        provider = _group_provider(key, name, articles) if kind is GroupKind.PROVIDER else None
        groups.append(Group(kind, key, name, slugs[key], articles, provider))
    return groups


def _group_provider(key: str, name: str, articles: Sequence[Article]) -> Provider:
    """The publisher as its group shows it: most common name, the newest record's logo."""
    providers = [a.provider for a in articles if a.provider]
    return Provider(key, name, *group_provider_details(providers))


def group_provider_details(providers: Iterable[Provider]) -> tuple[str | None, Image | None]:
    """A provider group's domain and logo: the first given of its providers, newest first.
    One pass, stopping when both are found: the index (`delta.py`) reads them from a query."""
    domain, logo = None, None
    for provider in providers:
        if domain is None and provider.domain:
            domain = provider.domain
        if logo is None and provider.logo:
            logo = provider.logo
        if domain is not None and logo is not None:
            break
    return domain, logo


def most_common(counter: Counter[str]) -> str:
    """The most used spelling; on a tie the one that sorts first, so the choice is stable."""
    return min(counter, key=lambda name: (-counter[name], name))
