"""How a delta run (`delta.py`) changes the index's groups: the changed files' articles,
collected as they were and as they are, are moved out of and into each group they are in
(`regroup`); groups appear and go, spellings and known names are counted out and in by the
same difference, each group's members by day are moved (`Changes`), and the pages near those
days are then planned again (`changed_pages.py`).

A topic whose displayed name (its most common spelling) changes is in the items of all its
articles (`renamed_topics`): the rows of every article that names it are written again in every
group that shows it, as if it went and came back. A custom feed whose settings changed, that is
new, or whose cut-off moved with the newest article chooses its articles again from the index's
rows (`choose_again`). Where the index does not add up (counts of members, names or days), it
is damaged (`codec.Damaged`) and the build goes the full way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, replace
from datetime import datetime

from feeds import codec
from feeds.collect import Collection, Group, GroupKind, most_common
from feeds.config import Config
from feeds.declined import Declined, at_most_changed
from feeds.filters import CustomFeed, facts
from feeds.fingerprints import ArticleKeys
from feeds.index import Index
from feeds.index_rows import KEPT, LEFT_OUT, MENTIONED, Indexed, Members, mentioned_topics
from feeds.model import Article, Provider
from feeds.pages import DayCounts
from feeds.slugs import provider_slug, topic_slug
from feeds.text import identity_key
from feeds.window import Window


@dataclass
class Changes:
    """What the changed files did to one group."""

    removed: list[Article]
    added: list[Article]
    before: DayCounts  # its members on each day (`Index.day_counts`)
    after: DayCounts  # the same, now
    gone: Group | None = None  # the group, when it went with them
    # Every page may differ: its header changed (a provider's name or logo, a custom feed's
    # title), or its members were chosen again.
    all_pages: bool = False

    def months(self) -> set[str]:
        """The months with a changed member."""
        return {a.month for a in (*self.removed, *self.added)}

    def touched(self) -> set[str]:
        """The months and days with a changed member."""
        return self.months() | {a.day for a in (*self.removed, *self.added)}


_KIND_ORDER = {GroupKind.ALL: 0, GroupKind.TOPIC: 1, GroupKind.PROVIDER: 2, GroupKind.CUSTOM: 3}


def collection_place(indexed: Indexed) -> tuple[int, str]:
    """A group's place in the collection (`collect.collect`): by kind, then slug."""
    return _KIND_ORDER[indexed.group.kind], indexed.group.slug


def group_headers(ordered: list[Indexed]) -> Collection:
    """The groups without their articles: what items need of them (the topics' names)."""
    return Collection(
        tuple(g.group for g in ordered),
        topics={g.group.key: g.group for g in ordered if g.group.kind is GroupKind.TOPIC},
    )


def check_groups(
    index: Index, groups: dict[int, Indexed], config: Config, chosen: Set[str]
) -> None:
    """`Damaged` unless the index has the groups a full build would make of it: every topic and
    provider whose spellings it counts, the group of all news, and the custom feeds, but those
    chosen again or gone (`chosen`), which may or may not have one."""
    have = {(g.group.kind, g.group.key) for g in groups.values()}
    have -= {(GroupKind.CUSTOM, slug) for slug in chosen}
    want = index.named() | {(GroupKind.CUSTOM, f.slug) for f in config.custom}
    want -= {(GroupKind.CUSTOM, slug) for slug in chosen}
    if GroupKind.ALL in config.groups:
        want.add((GroupKind.ALL, "all"))
    if have != want:
        raise codec.Damaged("the index's groups are not those its names and settings give")


def renamed_topics(
    index: Index, groups: dict[int, Indexed], names: dict[tuple[GroupKind, str], Counter[str]]
) -> dict[int, str]:
    """The topic groups whose displayed name (the most common spelling) changes, by number,
    with their name now. Declined when related articles name one: their items in providers'
    feeds would say it too."""
    by_key = {(g.group.kind, g.group.key): g for g in groups.values()}
    renamed = {}
    for (kind, key), counts in names.items():
        known = by_key.get((kind, key))
        if kind is GroupKind.TOPIC and known and counts and most_common(counts) != known.group.name:
            if index.known(MENTIONED, key):
                raise Declined(
                    f"the name of {known.group.name} changes, and related articles say it"
                )
            renamed[known.gid] = most_common(counts)
    return renamed


def files_of(index: Index, groups: dict[int, Indexed], gids: Iterable[int]) -> set[str]:
    """The record files of the groups' members, as many as their groups count."""
    files: set[str] = set()
    for gid in gids:
        rows = index.rows(gid, None, 0, groups[gid].items)
        if len(rows) != groups[gid].items:
            raise codec.Damaged("the index counts a group's members apart")
        files.update(row.path for row in rows)
        at_most_changed(len(files), "a topic whose name changes has too many articles")
    return files


def names_after(
    index: Index, old: Collection, new: Collection
) -> dict[tuple[GroupKind, str], Counter[str]]:
    """The spellings of each name the changed files have, once they are counted out and in."""
    after = {}
    for kind_key in old.spellings.keys() | new.spellings.keys():
        counts = index.spellings(*kind_key)
        counts.subtract(old.spellings.get(kind_key, Counter()))
        counts.update(new.spellings.get(kind_key, Counter()))
        if any(n < 0 for n in counts.values()):
            raise Declined("the index counts fewer names than the changed files had")  # a bug
        after[kind_key] = Counter({name: n for name, n in counts.items() if n})
    return after


def regroup(
    index: Index,
    groups: dict[int, Indexed],
    collected: tuple[Collection, Collection],
    dated: Sequence[CustomFeed],
    window: Window,
    renamed: Mapping[int, str],
) -> dict[int, Changes]:
    """Move the changed articles out of and into their groups (`groups` updated: groups that
    appear are added, groups left empty removed), and the custom feeds that count days back from
    the newest article (`dated`) while it stays (`window`); give the `renamed` topics their name
    now, and write again the rows of the articles that name them. Each changed group's changes."""
    old, new = collected
    names = names_after(index, old, new)
    index.add_names(old.spellings, old.known + mentioned_topics(old), -1)
    index.add_names(new.spellings, new.known + mentioned_topics(new))
    for gid, name in renamed.items():
        # All its articles are collected: the index's counts of its spellings must be theirs
        # (a count moved from one spelling to another would rename it in every item).
        kind_key = (GroupKind.TOPIC, groups[gid].group.key)
        if names.get(kind_key) != new.spellings.get(kind_key):
            raise codec.Damaged("the index counts a topic's spellings apart")
        groups[gid] = groups[gid]._replace(group=replace(groups[gid].group, name=name))
    by_key = {(g.group.kind, g.group.key): g for g in groups.values()}
    names_now: dict[int, str] = {}
    for (kind, key), counts in names.items():
        known = by_key.get((kind, key))
        if known and counts and most_common(counts) != known.group.name:
            if kind is GroupKind.TOPIC:  # found by `renamed_topics`, on the same counts
                raise Declined(f"the name of {known.group.name} changes unseen")  # a bug
            names_now[known.gid] = most_common(counts)  # only its own pages say it
        if bool(known) != bool(counts):
            _appear_or_go(index, kind, key)
        if not known and counts:
            slug = (topic_slug if kind is GroupKind.TOPIC else provider_slug)(key)
            appeared = index.add_group(Group(kind, key, most_common(counts), slug, ()))
            by_key[kind, key] = groups[appeared.gid] = appeared
    # Members by URL, before and after; an article in both (of an unchanged file) stays.
    members: dict[int, tuple[dict[str, Article], dict[str, Article]]] = {}
    for which, sub in ((0, old), (1, new)):
        for group in sub.groups:
            if group.articles:
                found = by_key.get((group.kind, group.key))
                if found is None:
                    raise Declined(f"{group.name} has no group")  # the index lost it: a bug
                sides = members.setdefault(found.gid, ({}, {}))
                sides[which].update((a.url, a) for a in group.articles)
    rows = Members(ArticleKeys(group_headers(sorted(groups.values(), key=collection_place)), ""))
    # The articles the feeds choose from, with their facts (`index_rows.KEPT`), and those the
    # filters of every feed leave out (`index_rows.LEFT_OUT`).
    _repool(index, LEFT_OUT, old.left_out, new.left_out, rows)
    removed, added = _repool(index, KEPT, old.kept, new.kept, rows)
    # The articles that name a renamed topic, in each group that shows them now.
    renamed_keys = {groups[gid].group.key for gid in renamed}
    named = [a for a in new.kept if not renamed_keys.isdisjoint(map(identity_key, a.topics))]
    showing = [g for g in new.groups if g.articles] if named else []  # each has its gid: above
    ids = {id(a) for a in named}
    shown = {by_key[g.kind, g.key].gid: [a for a in g.articles if id(a) in ids] for g in showing}
    # A feed's articles are those its test passes (when the newest moved, it chooses again).
    for feed in dated if window.now == window.before else ():
        found = by_key.get((GroupKind.CUSTOM, feed.slug))
        if found is None:
            raise codec.Damaged(f"the index lost the custom feed {feed.slug!r}")
        test = feed.filters.test(window.now)
        members[found.gid] = (
            {a.url: a for a in removed if test(facts(a))},
            {a.url: a for a in added if test(facts(a))},
        )
        shown[found.gid] = [a for a in named if test(facts(a))]
    changes: dict[int, Changes] = {}
    for gid, sides in members.items():
        gone, came = _difference(*sides)
        if gone or came:
            by_day = _day_counts(index, groups[gid])
            changes[gid] = Changes(gone, came, by_day, _moved(by_day, gone, came))
    if named:  # their rows written again, with what their items depend on now
        moved = {a.url for a in (*removed, *added)}
        again = [a for a in named if a.url not in moved]
        index.remove_members(KEPT, again)
        index.add_kept(again, rows)
        for gid, articles in shown.items():
            _write_again(index, groups[gid], changes, articles)
    for gid, change in changes.items():
        indexed = groups[gid]
        index.remove_members(gid, change.removed)
        index.add_members(indexed, change.added, rows)
        items = indexed.items + len(change.added) - len(change.removed)
        header = _provider_header(index, indexed, names_now.get(gid, indexed.group.name))
        change.all_pages = indexed.items > 0 and (header != indexed.group or gid in renamed)
        if items <= 0 and header.kind in (GroupKind.TOPIC, GroupKind.PROVIDER):
            change.before.read()  # its every page goes: all its days, before their rows do
            index.drop_group(gid)
            change.gone = groups.pop(gid).group
            continue
        counted = names.get((header.kind, header.key))
        if counted is not None and sum(counted.values()) != items:
            raise codec.Damaged("the index counts names and members apart")
        index.set_day_counts(gid, change.after, change.months())
        groups[gid] = Indexed(gid, header, items, index.newest(gid))
        index.set_group(groups[gid])
    return changes


def _write_again(
    index: Index, indexed: Indexed, changes: dict[int, Changes], articles: Sequence[Article]
) -> None:
    """The group's rows of `articles`, members before and now, written again: as if they went
    and came back (their pages are fingerprinted again), unless they go or come anyway."""
    if not articles:
        return
    change = changes.get(indexed.gid)
    if change is None:
        by_day = _day_counts(index, indexed)
        change = changes[indexed.gid] = Changes([], [], by_day, by_day)
    moved = {a.url for a in (*change.removed, *change.added)}
    again = [a for a in articles if a.url not in moved]
    change.removed += again
    change.added += again


def _repool(
    index: Index,
    gid: int,
    old: Sequence[Article],
    new: Sequence[Article],
    rows: Members,
) -> tuple[list[Article], list[Article]]:
    """Move the changed articles out of and into `KEPT` or `LEFT_OUT`, and count their days;
    the articles removed and added."""
    removed, added = _difference({a.url: a for a in old}, {a.url: a for a in new})
    if removed or added:
        by_day = index.day_counts(gid)
        index.remove_members(gid, removed)
        (index.add_kept if gid == KEPT else index.add_left_out)(added, rows)
        months = {a.month for a in (*removed, *added)}
        index.set_day_counts(gid, _moved(by_day, removed, added), months)
    return removed, added


def _difference(
    before: dict[str, Article], after: dict[str, Article]
) -> tuple[list[Article], list[Article]]:
    """The articles removed and added, by URL; an article in both (of an unchanged file) is
    the same object on both sides, and stays."""
    removed = [a for url, a in before.items() if after.get(url) is not a]
    added = [a for url, a in after.items() if before.get(url) is not a]
    return removed, added


def _day_counts(index: Index, indexed: Indexed) -> DayCounts:
    """A group's members on each day, checked against its number of members."""
    by_day = index.day_counts(indexed.gid)
    if by_day.total != indexed.items:
        raise codec.Damaged("the index counts a group's members apart")
    return by_day


def choose_again(
    index: Index,
    groups: dict[int, Indexed],
    config: Config,
    feeds: tuple[set[str], Set[str]],
    newest: datetime | None,
) -> dict[int, Changes]:
    """Custom feeds whose settings changed or that are new, or whose cut-off moved with the
    newest article (the first of `feeds`), choose their articles again, by their filters, from
    every article the feeds choose from (`index_rows.KEPT`): every one of their pages may differ.
    Those no longer configured (the second) go with their pages."""
    again, ended = feeds
    custom = {g.group.key: g for g in groups.values() if g.group.kind is GroupKind.CUSTOM}
    changes: dict[int, Changes] = {}
    for slug in ended:
        gone = custom.get(slug)
        if gone is None:
            raise codec.Damaged(f"the index lost the custom feed {slug!r}")
        none = DayCounts.of({})
        before = _day_counts(index, gone).read()  # its every page goes: all its days
        changes[gone.gid] = Changes([], [], before, none, gone=gone.group)
        index.drop_members(gone.gid)
        index.drop_group(gone.gid)
        del groups[gone.gid]
    for feed in config.custom:
        if feed.slug not in again:
            continue
        header = Group(
            GroupKind.CUSTOM, feed.slug, feed.title, feed.slug, (), description=feed.description
        )
        known = custom.get(feed.slug) or index.add_group(header)
        before = _day_counts(index, known).read()  # every page may differ: all its days
        after = index.choose(known.gid, feed.filters.test(newest))
        index.set_day_counts(known.gid, after)
        groups[known.gid] = Indexed(known.gid, header, after.total, index.newest(known.gid))
        index.set_group(groups[known.gid])
        changes[known.gid] = Changes([], [], before, after, all_pages=True)
    return changes


def _moved(counts: DayCounts, removed: list[Article], added: list[Article]) -> DayCounts:
    """Members on each day once `removed` went and `added` came: their months' days read and
    moved, every other month as it was."""
    changed: dict[str, dict[str, int]] = {}
    for articles, step in ((removed, -1), (added, 1)):
        for article in articles:
            month, day = article.month, article.day
            if month not in changed:
                changed[month] = dict(counts.days(month)) if month in counts.months else {}
            days = changed[month]
            days[day] = days.get(day, 0) + step
    months = dict(counts.months)
    for month, days in changed.items():
        if any(n < 0 for n in days.values()):
            raise codec.Damaged("the index counts fewer members on a day than go")
        changed[month] = days = {day: n for day, n in sorted(days.items(), reverse=True) if n}
        if days:
            months[month] = sum(days.values())
        else:
            months.pop(month, None)
    if not changed.keys() <= counts.months.keys():  # a month is new
        months = dict(sorted(months.items(), reverse=True))
    return DayCounts(months, counts.days, changed)


def _appear_or_go(index: Index, kind: GroupKind, key: str) -> None:
    """Decline when a group that appears or goes would change other pages than its own: a
    topic that related articles name (their items gain or lose its category). (A name a
    filter gives that starts or stops being known is said from the names counted after,
    `delta._config_warnings`.)"""
    if kind is GroupKind.TOPIC and index.known(MENTIONED, key):
        raise Declined(f"the topic {key!r} appears or goes, and related articles name it")


def _provider_header(index: Index, indexed: Indexed, name: str) -> Group:
    """A provider group's header with the name, domain and logo its members give it now."""
    group = indexed.group
    if group.kind is not GroupKind.PROVIDER:
        return group
    domain, logo = index.provider_details(indexed.gid)
    return replace(group, name=name, provider=Provider(group.key, name, domain, logo))
