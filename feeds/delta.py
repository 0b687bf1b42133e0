"""A run that costs what changed: the changed record files are read, the index of the last
complete build (`index.py`) is updated from them, and only the pages whose members changed are
fingerprinted and, if their fingerprint moved, made again. The rest of the archive is not
decoded, grouped or fingerprinted.

How it stays exact: the changed files are collected (`collect.collect`, the one place the rules
live) twice, as they were and as they are, together with every unchanged file that shares a URL
with them (directly or through each other: duplicates and related mentions are decided among
those files alone). What differs between the two collections is what changed in each group;
spellings and known names are counted in and out by the same difference.

A `max_age_days` counts back from the newest article of all, whose time the index keeps. With
one of every feed, when a newer article comes, the articles the feeds chose from that are older
than the days now kept (the index's rows of them) are collected with the changed files, on both
sides, as they were kept and as they are not. When the newest article is deleted or made
older, the next one is found among the changed files and the index's rows of every article
(`index.KEPT` and `index.LEFT_OUT`), and the articles a window moved back keeps again (the
`LEFT_OUT` rows of those days) are collected the same way, as they were left out and as they are
kept.

A topic whose displayed name (its most common spelling) changes is in the items of all its
articles: the record files of its members are collected with the changed ones, on both sides as
they are, and the rows of every article that names it are written again in every group that
shows it (what its items depend on names the topic), as if it went and came back: its pages, in
every group, are fingerprinted again, and its items made again. It costs what the topic holds.

A custom feed sorted by heat follows the changed records as any group does, but its pages are
cut from all its members, ranked by heat (their facts), as a full build cuts them: it costs what
the feed holds.

A custom feed whose settings changed, or that is new, chooses its articles again by its filters
from the index's rows of every article the feeds choose from (`index.KEPT`); one no longer
configured goes with its pages. The configuration's warnings (a filter's name that no article
gives) are said again from the names the index knows, with the line and place of their filter
now: a comment or a reordering in `feeds.yaml` costs a rewritten report, no more.

The result must be byte for byte what a full build gives. Where a change reaches further than
that, it declines (`Declined`) and the build goes the full way, which writes the index afresh:

- no index for this code and configuration (other than its custom feeds: the last build went
  the full way without finishing, its cache was in memory, or a setting changed that every
  feed depends on), or an output file is not as the last build left it;
- a topic whose displayed name changes, or a topic group that appears or goes, while related
  articles name it (their items, in providers' feeds, say it or gain or lose it);
- more than `MAX_CHANGED` files changed, share URLs with the changed ones, hold articles a
  moved window brings in or leaves behind, or hold a renamed topic's articles; a file that
  cannot be read (a skipped entry, a FIFO or a link to nowhere, is followed: its outcome comes
  from the scan, and its problem is said on every run, as the full way says it);
- a damaged index (a row whose checksum is wrong, day counts that do not add up to the group's
  members, a page's rows other than its day counts say, groups other than the topics and
  providers it counts names of and the custom feeds configured, a renamed topic's spelling
  counts other than its articles give).

The property test (`tests/test_delta.py`) checks sequences of every kind of change against a
cold build.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, replace
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, NamedTuple, cast

from feeds import codec
from feeds.cache import Cache, IndexAbout, OutcomeReader, OutputRows
from feeds.collect import Collection, Group, GroupKind, collect, most_common, newest_article
from feeds.config import Config
from feeds.filters import CustomFeed, config_warnings, facts
from feeds.fingerprints import ArticleKeys, file_fingerprint, page_digest, settings_key
from feeds.index import (
    KEPT,
    LEFT_OUT,
    MENTIONED,
    POOLS,
    Index,
    Indexed,
    Members,
    Row,
    feed_keys,
    from_micros,
    index_about,
    mentioned_topics,
    micros,
)
from feeds.ingest import ingest
from feeds.itemstore import ItemStore
from feeds.model import Article, FileOutcome, FileStat, Problem, Provider
from feeds.pages import Cut, DayCounts, Page, cuts, near, pages
from feeds.paths import REPORT_PATH
from feeds.remake import Batches, Wanted
from feeds.report import Report
from feeds.scan import Scan, position
from feeds.site import Listing, plan_site
from feeds.slugs import provider_slug, topic_slug
from feeds.text import identity_key

if TYPE_CHECKING:
    from feeds.batches import Planned

# Record files a delta run collects for each reason (changed; sharing URLs with them; moved in
# or out by a window; holding a renamed topic's articles: each counted on its own, so a run may
# collect a few times as many) before it goes the full way instead. The delta way costs what it
# collects, about 3.5 KB and 1.7 ms a file, beside what every run holds: 10,000 new records at
# 100,000 took 26 s and 140 MB, the full way 41 s and 221 MB (which grow with the archive). A few
# thousand keep a run within 300 MB at 1,000,000 records.
MAX_CHANGED = 5_000

Progress = Callable[[str, int, int], None]


class Declined(Exception):
    """The delta way cannot vouch for the result here: go the full way."""


@dataclass
class _Changes:
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


@dataclass
class Delta:
    """What a delta run decided, before anything is published."""

    planned: list[Planned]  # the files to make again
    changing: set[str]  # the output files that may be made again or removed; the others stay
    report: Report  # but for what publishing says
    subscribed: set[str]  # every group's subscription documents (for WebSub)
    reader: OutcomeReader
    store: ItemStore
    stale: set[str]  # months whose items the store need not keep any more

    def close(self) -> None:
        self.reader.close()
        self.store.close()


def run(
    config: Config,
    stats: Scan,
    cache: Cache,
    last: Report,
    outputs: OutputRows,
    progress: Progress | None,
    read: set[str],
) -> Delta | None:
    """Update the index from the changed files and plan what to make again, given every output's
    fingerprint, size and mtime (all in place), or None to go the full way. The cache's tables
    are updated in one transaction: its record outcomes and the index stay in step whatever
    happens next (an output made from them is checked by its fingerprint and size next time).
    The files read are added to `read`, their outcomes kept in the cache either way: a run
    that goes the full way after all takes them from there, and must say them as read now."""
    from feeds.index import config_key

    index, about = cache.index(), cache.index_about()
    if index is None or about is None or about.key != config_key(config):
        return None
    parsed: list[tuple[FileStat, tuple[bytes, bytes]]] = []
    reader = OutcomeReader(cache.database)
    store = ItemStore(cache.items)
    try:
        with cache.transaction():
            return _plan(
                config, stats, cache, progress, (index, about), last, outputs, parsed, reader, store
            )
    except Exception as e:
        if not isinstance(e, Declined | sqlite3.Error | codec.Damaged):
            # A bug: said, and it costs this run the full way, never the build.
            what = f"{type(e).__name__}: {e}"[:200]
            cache.notices.append(
                f"the index could not be used ({what}; a bug in feeds, "
                "please report it); this run read every record's outcome"
            )
        reader.close()
        store.close()
        cache.drop_index()
        cache.store_outcomes(parsed)  # read once: the full way takes them from the cache
        return None
    finally:
        read.update(stat.path for stat, _ in parsed)


def _sorted_by_heat(config: Config) -> set[tuple[GroupKind, str]]:
    return {(GroupKind.CUSTOM, feed.slug) for feed in config.custom if feed.sort == "heat"}


def _plan(
    config: Config,
    stats: Scan,
    cache: Cache,
    progress: Progress | None,
    indexed: tuple[Index, IndexAbout],
    last: Report,
    outputs: OutputRows,
    parsed: list[tuple[FileStat, tuple[bytes, bytes]]],
    reader: OutcomeReader,
    store: ItemStore,
) -> Delta:
    index, about = indexed
    # Custom feeds whose settings changed (or that are new) choose their articles again;
    # the others follow the changed records like any group.
    feeds = feed_keys(config)
    again = {slug for slug, key in feeds.items() if about.feeds.get(slug) != key}
    # Those that count days back from the newest article follow the changed articles by their
    # filters alone (`_regroup`), or choose again when the newest moved.
    dated = [f for f in config.custom if f.filters.max_age_days is not None and f.slug not in again]
    following = [f for f in config.custom if f.slug not in again and f.filters.max_age_days is None]
    old, new = _read_changes(config, stats, index, progress, parsed)
    # The files that share a URL with them: how duplicates and related mentions resolve is
    # decided among these alone, so both sides are collected with them.
    around = _outcomes(index, _around(index, old, new))
    olds, news = _sides(old, new, around)
    # The newest article's time, what a `max_age_days` counts back from; with one of every
    # feed, when it moves, the articles whose days it moves in or out (`moving`) come or go
    # too, with the records that share their URLs.
    window, moving = _window(index, config, (olds, news), old.keys() | new.keys() | around.keys())
    if moving.keys() - around.keys() - old.keys() - new.keys():
        around = _outcomes(index, _around(index, old, new, moving))
        olds, news = _sides(old, new, around)
    sides = _collect_sides(config, following, (olds, news), window)
    groups = {g.gid: g for g in index.groups()}
    ended = about.feeds.keys() - feeds.keys()
    _check_groups(index, groups, config, again | ended)
    # A topic whose displayed name changes is in the items of all its articles: their files are
    # collected too (on both sides, as they are), and their rows written again.
    renamed = _renamed_topics(index, groups, _names_after(index, *sides))
    if named := _files_of(index, groups, renamed) - around.keys() - old.keys() - new.keys():
        also = {**moving, **_outcomes(index, named)}
        around = _outcomes(index, _around(index, old, new, also))
        sides = _collect_sides(config, following, _sides(old, new, around), window)
    new_sub = sides[1]
    changes = _regroup(index, groups, sides, dated, window, renamed)
    newest = _newest_now(index, window)
    if newest != window.before:
        again |= {feed.slug for feed in dated}
    changes.update(_choose_again(index, groups, config, (again, ended), newest))
    index.replace_files(old.keys() | new.keys(), new, parsed)

    ordered = sorted(groups.values(), key=_place)
    headers = _headers(ordered)
    heat_sorted = _sorted_by_heat(config)
    by_heat = {g.gid for g in ordered if (g.group.kind, g.group.key) in heat_sorted}
    timed = {gid: change for gid, change in changes.items() if gid not in by_heat}
    wanted, dropped = _pages(config, index, groups, timed, outputs)
    for gid in changes.keys() & by_heat:
        more, gone = _pages_by_heat(config, index, groups[gid], outputs)
        wanted += more
        dropped.update(gone)
    site = list(plan_site(_listings(ordered), config))
    places = {g.gid: place for place, g in enumerate(ordered)}
    batches = Batches(config, headers, index, (dict(new), reader), store)
    planned = batches.planned([(places[w.gid], w) for w in wanted])
    planned += [p for p in site if outputs.get(p.path, ("",))[0] != p.fingerprint]
    changing = {p.path for p in planned} | dropped.keys() | {REPORT_PATH}
    collected = old.keys() | new.keys() | around.keys()
    warnings = _config_warnings(index, config)
    report = _report(last, stats, index, (old, new), new_sub, collected, warnings, len(ordered))
    # With the index it describes (the next delta run starts from it), whatever happens next.
    cache.describe_index(index_about(config))
    cache.put("report", codec.report_to_plain(report))
    cache.put("state", None)
    subscribed = {g.group.file(fmt) for g in ordered for fmt in config.formats}
    months = {period[:7] for period in dropped.values() if period}
    stale = {m for m in months if not (config.archives and index.archived(m, config.limit))}
    return Delta(planned, changing, report, subscribed, reader, store, stale)


def _read_changes(
    config: Config,
    stats: Scan,
    index: Index,
    progress: Progress | None,
    parsed: list[tuple[FileStat, tuple[bytes, bytes]]],
) -> tuple[dict[str, FileOutcome], dict[str, FileOutcome]]:
    """The old outcomes of the files that changed or went, and the new ones of those that
    changed or came (read now; `parsed` gets them encoded, for the cache)."""
    # Only folders whose digest moved are compared, file by file, as sets of (path, size, mtime).
    stored, digests = index.folders(), stats.digests()
    folders = {f for f, d in digests.items() if stored.get(f) != d} | (stored.keys() - digests)
    index.set_folders({folder: digests.get(folder) for folder in folders})
    part = stats.in_folders(folders)
    now = list(map(itemgetter(0, 1, 2), part))
    before = index.file_stats(folders)
    came = set(now).difference(before)  # changed or new
    went = before.difference(now)  # changed or gone
    changed = [s for s, key in zip(part, now, strict=True) if key in came]  # in the scan's order
    present = {path for path, _, _ in came}
    gone = sorted(path for path, _, _ in went if path not in present)
    if len(changed) + len(gone) > MAX_CHANGED:
        raise Declined("too much changed")
    # A skipped entry's problem may change while its path, size and mtime do not (a link whose
    # target went): it is made again from the scan on every run (never opened, it costs no
    # reading, and is not counted as a change).
    listed = {s.path for s in changed}
    changed += [stats[i] for i in stats.skips if stats.paths[i] not in listed]
    changed.sort(key=lambda s: position(s.path))
    old = index.outcomes(sorted({s.path for s in changed} | set(gone)))

    def tick(done: int) -> None:
        if progress:
            progress("records read", done, len(changed))

    new: dict[str, FileOutcome] = {}
    for stat, (outcome, encoded) in zip(
        changed, ingest(config.seeds, changed, {}, tick, outlines=True), strict=True
    ):
        if stat.size < 0:  # skipped, never opened (a FIFO): its outcome follows from the scan
            encoded = codec.encode_outcome(outcome)
        elif outcome.retry or encoded is None:
            raise Declined(f"{stat.path} could not be read")
        new[stat.path] = outcome
        parsed.append((stat, encoded))
    return old, new


_KIND_ORDER = {GroupKind.ALL: 0, GroupKind.TOPIC: 1, GroupKind.PROVIDER: 2, GroupKind.CUSTOM: 3}


def _place(indexed: Indexed) -> tuple[int, str]:
    """A group's place in the collection (`collect.collect`): by kind, then slug."""
    return _KIND_ORDER[indexed.group.kind], indexed.group.slug


def _headers(ordered: list[Indexed]) -> Collection:
    """The groups without their articles: what items need of them (the topics' names)."""
    return Collection(
        tuple(g.group for g in ordered),
        topics={g.group.key: g.group for g in ordered if g.group.kind is GroupKind.TOPIC},
    )


def _check_groups(
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


def _collect_sides(
    config: Config,
    following: Sequence[CustomFeed],
    sides: tuple[list[Article], list[Article]],
    window: _Window,
) -> tuple[Collection, Collection]:
    """The collected files' articles collected as they were (the window as it was) and as they
    are, with the custom feeds that follow the changed records (`following`)."""
    old, new = (
        collect(a, kinds=config.groups, filters=config.filters, custom=following, newest=at)
        for a, at in zip(sides, window, strict=True)
    )
    return old, new


def _renamed_topics(
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


def _files_of(index: Index, groups: dict[int, Indexed], gids: Iterable[int]) -> set[str]:
    """The record files of the groups' members, as many as their groups count."""
    files: set[str] = set()
    for gid in gids:
        rows = index.rows(gid, None, 0, groups[gid].items)
        if len(rows) != groups[gid].items:
            raise codec.Damaged("the index counts a group's members apart")
        files.update(row.path for row in rows)
        if len(files) > MAX_CHANGED:
            raise Declined("a topic whose name changes has too many articles")
    return files


def _regroup(
    index: Index,
    groups: dict[int, Indexed],
    collected: tuple[Collection, Collection],
    dated: Sequence[CustomFeed],
    window: _Window,
    renamed: Mapping[int, str],
) -> dict[int, _Changes]:
    """Move the changed articles out of and into their groups (`groups` updated: groups that
    appear are added, groups left empty removed), and the custom feeds that count days back from
    the newest article (`dated`) while it stays (`window`); give the `renamed` topics their name
    now, and write again the rows of the articles that name them. Each changed group's changes."""
    old, new = collected
    names = _names_after(index, old, new)
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
            if kind is GroupKind.TOPIC:  # found by `_renamed_topics`, on the same counts
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
    rows = Members(ArticleKeys(_headers(sorted(groups.values(), key=_place)), ""))
    # The articles the feeds choose from, with their facts (`index.KEPT`), and those the
    # filters of every feed leave out (`index.LEFT_OUT`).
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
    changes: dict[int, _Changes] = {}
    for gid, sides in members.items():
        gone, came = _difference(*sides)
        if gone or came:
            by_day = _day_counts(index, groups[gid])
            changes[gid] = _Changes(gone, came, by_day, _moved(by_day, gone, came))
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
    index: Index, indexed: Indexed, changes: dict[int, _Changes], articles: Sequence[Article]
) -> None:
    """The group's rows of `articles`, members before and now, written again: as if they went
    and came back (their pages are fingerprinted again), unless they go or come anyway."""
    if not articles:
        return
    change = changes.get(indexed.gid)
    if change is None:
        by_day = _day_counts(index, indexed)
        change = changes[indexed.gid] = _Changes([], [], by_day, by_day)
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


def _choose_again(
    index: Index,
    groups: dict[int, Indexed],
    config: Config,
    feeds: tuple[set[str], Set[str]],
    newest: datetime | None,
) -> dict[int, _Changes]:
    """Custom feeds whose settings changed or that are new, or whose cut-off moved with the
    newest article (the first of `feeds`), choose their articles again, by their filters, from
    every article the feeds choose from (`index.KEPT`): every one of their pages may differ.
    Those no longer configured (the second) go with their pages."""
    again, ended = feeds
    custom = {g.group.key: g for g in groups.values() if g.group.kind is GroupKind.CUSTOM}
    changes: dict[int, _Changes] = {}
    for slug in ended:
        gone = custom.get(slug)
        if gone is None:
            raise codec.Damaged(f"the index lost the custom feed {slug!r}")
        none = DayCounts.of({})
        before = _day_counts(index, gone).read()  # its every page goes: all its days
        changes[gone.gid] = _Changes([], [], before, none, gone=gone.group)
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
        changes[known.gid] = _Changes([], [], before, after, all_pages=True)
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
    `_config_warnings`.)"""
    if kind is GroupKind.TOPIC and index.known(MENTIONED, key):
        raise Declined(f"the topic {key!r} appears or goes, and related articles name it")


def _provider_header(index: Index, indexed: Indexed, name: str) -> Group:
    """A provider group's header with the name, domain and logo its members give it now."""
    group = indexed.group
    if group.kind is not GroupKind.PROVIDER:
        return group
    domain, logo = index.provider_details(indexed.gid)
    return replace(group, name=name, provider=Provider(group.key, name, domain, logo))


def _around(
    index: Index,
    old: dict[str, FileOutcome],
    new: dict[str, FileOutcome],
    also: Mapping[str, FileOutcome] | None = None,
) -> set[str]:
    """The unchanged record files that share a URL with the changed ones (and with those of
    `also`, which are among the files given back), directly or through each other (a record, a
    duplicate, a related article of one URL are all decided together)."""
    changed = old.keys() | new.keys()
    urls = {
        url
        for outcome in (*old.values(), *new.values(), *(also or {}).values())
        for article in outcome.articles
        for url in (article.url, *(r.url for r in article.related))
    }
    found: set[str] = set((also or {}).keys() - changed)
    seen: set[str] = set()
    while urls:
        seen |= urls
        more = index.holders(urls) - changed - found
        found |= more
        if len(found) > MAX_CHANGED:
            raise Declined("too many records share their URLs with the changed ones")
        urls = index.urls_in(more) - seen
    return found


def _outcomes(index: Index, paths: set[str]) -> dict[str, FileOutcome]:
    """The stored outcomes of record files the index names; `Damaged` when one is missing."""
    found = index.outcomes(sorted(paths))
    if len(found) != len(paths):  # the index names a file the cache lost
        raise codec.Damaged("a record file's outcome is missing")
    return found


def _sides(
    old: dict[str, FileOutcome], new: dict[str, FileOutcome], around: dict[str, FileOutcome]
) -> tuple[list[Article], list[Article]]:
    """The articles collected as they were and as they are: the changed files' and, on both
    sides, those of the files around them."""
    same = [a for o in around.values() for a in o.articles]
    olds = [*(a for o in old.values() for a in o.articles), *same]
    news = [*(a for o in new.values() for a in o.articles), *same]
    return olds, news


class _Window(NamedTuple):
    """The time of the corpus's newest article, as the last run left it and now."""

    before: datetime | None
    now: datetime | None


def _window(
    index: Index,
    config: Config,
    sides: tuple[list[Article], list[Article]],
    collected: Set[str],
) -> tuple[_Window, dict[str, FileOutcome]]:
    """The newest article's time before and now (of all: the index keeps it), and with a
    `max_age_days` of every feed, the record files of the articles whose days it moves in or
    out: a newer article leaves behind those the feeds chose from that are older than it keeps
    now; when the newest article changed or went, the next one (the newest of the `collected`
    files' articles as they are, and of the index's rows of every other one) may keep older
    ones that the filters left out. `sides`: the collected files' articles before and now."""
    olds, news = sides
    known = index.corpus_newest()
    before = None if known is None else from_micros(known)
    had, has = newest_article(olds), newest_article(news)
    if had is not None and (before is None or had > before):
        raise codec.Damaged("an article newer than the index's newest")
    if had is not None and had == before and (has is None or has < had):
        rest = index.newest_besides(collected)
        now = _latest(has, None if rest is None else from_micros(rest))
    else:
        now = _latest(before, has)
    since, until = config.filters.oldest(before), config.filters.oldest(now)
    if now == before or since is None or until is None:
        return _Window(before, now), {}
    if until > since:
        paths = index.kept_before(micros(until))
    else:
        paths = index.left_out_between(micros(until), micros(since))
    if len(paths) > MAX_CHANGED:
        raise Declined("too many articles come into the feeds' days or leave them")
    return _Window(before, now), _outcomes(index, paths)


def _latest(*times: datetime | None) -> datetime | None:
    return max((t for t in times if t is not None), default=None)


def _newest_now(index: Index, window: _Window) -> datetime | None:
    """The newest article's time now, kept in the index; checked against the rows of every
    article (the feeds choose from them or the filters leave them out): a row lost is damage."""
    found = _latest(*(None if t is None else from_micros(t) for t in map(index.newest, POOLS)))
    if found != window.now:
        raise codec.Damaged("the index's newest article is not the corpus's")
    index.set_corpus_newest(None if found is None else micros(found))
    return found


def _names_after(
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


def _config_warnings(index: Index, config: Config) -> tuple[Problem, ...]:
    """The warnings about names the filters give that no article has, as a full build says
    them (`filters.config_warnings`), from the names the index knows."""
    known = {name: index.known(*name) for name in _named(config)}
    return config_warnings(known, config.filters, config.custom)


def _named(config: Config) -> set[tuple[str, str]]:
    from feeds.filters import provider_key
    from feeds.text import identity_key

    named = set()
    for filters in (config.filters, *(feed.filters for feed in config.custom)):
        for field, names in filters.names().items():
            kind = field.split(".")[0]
            normal = identity_key if kind == "topics" else provider_key
            named |= {(kind, normal(name)) for name in names}
    return named


def _pages(
    config: Config,
    index: Index,
    groups: dict[int, Indexed],
    changes: dict[int, _Changes],
    outputs: OutputRows,
) -> tuple[list[Wanted], dict[str, str | None]]:
    """The pages of changed groups whose fingerprint moved; and the files of pages that are no
    more, with their period."""
    settings = settings_key(config)
    split, limit, archives = config.split_months_over, config.limit, config.archives
    formats = config.formats
    wanted: list[Wanted] = []
    dropped: dict[str, str | None] = {}
    for gid, change in changes.items():
        # Every page when the group goes or all its pages may differ; else those near a change.
        whole = change.gone or change.all_pages
        months = None if whole else near(change.before, change.after, change.months(), limit)
        old_sub, old = cuts(change.before, months, split, limit, archives)
        if change.gone:  # its every page goes with it
            ended = (None, *old)
            dropped.update({Page(change.gone, (), p).path(f): p for p in ended for f in formats})
            if change.gone.kind is GroupKind.CUSTOM:  # it may have been sorted by heat
                dropped.update(_archive_files(outputs, change.gone))
            continue
        group = groups[gid].group
        new_sub, new = cuts(change.after, months, split, limit, archives)
        # A custom feed chosen again may have been cut otherwise (sorted by heat until now): its
        # archive files are looked up among the last run's (not every group's: it reads them all).
        if whole and group.kind is GroupKind.CUSTOM:
            made = {Page(group, (), p).path(f) for p in new for f in formats}
            dropped.update(
                (path, period)
                for path, period in _archive_files(outputs, group).items()
                if path not in made
            )
        touched = change.touched()
        for cut, in_period in ((new_sub, 0), *new.values()):
            period, older, first, stop = cut
            before = old_sub if period is None else old.get(period, (None, 0))[0]
            if not change.all_pages and not _may_differ(before, cut, touched):
                continue
            # An archive page shows the last `stop - first` members of its period.
            skip = in_period - (stop - first) if period else 0
            rows = index.rows(gid, period, skip, stop - first)
            # The rows must be as many as counted, and the newest on the days counted: a
            # member lost from the index would leave its place to the next one.
            if len(rows) != stop - first or (
                period is None and Counter(r.day for r in rows) != change.after.newest(stop)
            ):
                raise codec.Damaged("the index counts a group's members apart")
            content = page_digest(group, period, older, b"".join(r.content for r in rows))
            page = Page(group, (), period, older)
            if any(
                outputs.get(page.path(fmt), ("",))[0] != file_fingerprint(settings, fmt, content)
                for fmt in formats
            ):
                wanted.append(Wanted(gid, page, (period, skip, stop - first), content))
        ended = tuple(old.keys() - new.keys())
        dropped.update({Page(group, (), p).path(f): p for p in ended for f in formats})
    return wanted, dropped


class _Ranked(NamedTuple):
    """A member of a feed sorted by heat, in its place: what `pages.pages` cuts pages by."""

    row: Row
    day: str
    month: str


def _pages_by_heat(
    config: Config, index: Index, indexed: Indexed, outputs: OutputRows
) -> tuple[list[Wanted], dict[str, str | None]]:
    """`_pages` of a changed feed sorted by heat: its pages cut from all its members, ranked as
    a full build ranks them (`filters.by_heat`, their heat from their facts) and cut by the
    same function (`pages.pages`); those whose fingerprint moved, and the files of its pages
    that are no more (the last run's, as `outputs` has them). It costs what the feed holds."""
    gid, group = indexed.gid, indexed.group
    rows = index.rows(gid, None, 0, indexed.items)
    heat = index.heats(gid)
    if len(rows) != indexed.items or len(heat) != len(rows):
        raise codec.Damaged("the index counts a feed's members apart")

    def rank(row: Row) -> tuple[int, float, str]:
        return (-(heat[row.time, row.url] or 0), -from_micros(row.time).timestamp(), row.url)

    ranked = tuple(_Ranked(r, r.day, r.day[:7]) for r in sorted(rows, key=rank))
    settings = settings_key(config)
    wanted: list[Wanted] = []
    kept: set[str] = set()
    for page in pages(replace(group, articles=cast(tuple[Article, ...], ranked)), config):
        listed = tuple(cast(_Ranked, a).row for a in page.articles)
        content = page_digest(group, page.period, page.older, b"".join(r.content for r in listed))
        page = replace(page, articles=())
        kept.update(page.path(fmt) for fmt in config.formats)
        if any(
            outputs.get(page.path(fmt), ("",))[0] != file_fingerprint(settings, fmt, content)
            for fmt in config.formats
        ):
            wanted.append(Wanted(gid, page, (page.period, 0, len(listed)), content, listed))
    dropped = {path: p for path, p in _archive_files(outputs, group).items() if path not in kept}
    return wanted, dropped


def _archive_files(outputs: OutputRows, group: Group) -> dict[str, str | None]:
    """The files of a group's archive pages that the last run left, with their period
    (`2024-05` of `custom/hot/2024-05.rss.xml`). Looked up in the group's folder alone: a big
    site's outputs, read whole, take more memory than the rest of a delta run."""
    folder = group.path + "/"
    return {path: path[len(folder) :].partition(".")[0] for path in outputs.paths_in(group.path)}


def _may_differ(old: Cut | None, new: Cut, touched: set[str]) -> bool:
    """Whether a page's members or links may have changed: the subscription document of a
    changed group always; an archive page when its month or day has a changed member, or it is
    new, or its link or how many of its period's members it shows moved."""
    period = new[0]
    if period is None or old is None or period in touched:
        return True
    return old[1] != new[1] or old[3] - old[2] != new[3] - new[2]


def _report(
    last: Report,
    stats: Scan,
    index: Index,
    outcomes: tuple[dict[str, FileOutcome], dict[str, FileOutcome]],
    new_sub: Collection,
    collected: set[str],
    config_warnings: tuple[Problem, ...],
    groups: int,
) -> Report:
    """The last report, with the changed files' counts and problems in place of their old
    ones, and the duplicates among the files around them in place of theirs (in the order a
    full build gives them)."""
    old, new = outcomes
    by_file = sorted(index.problems().items(), key=lambda found: position(found[0]))
    # What the files read now say, and every skipped entry (a FIFO, a link to nowhere), changed
    # or not: the full way says them on every run that does work, as the scan finds them.
    skipped = {stats.paths[i]: problem for i, problem in stats.skips.items()}
    said: dict[str, tuple[Problem, ...]] = {
        path: (problem,) for path, problem in skipped.items() if problem is not None
    }
    said.update((path, outcome.problems) for path, outcome in new.items())
    recent = [p for path in sorted(said, key=position) for p in said[path]]
    # Duplicate notes are in the order of their files' names (`collect._dedupe`); the notes of
    # the files collected now replace theirs (a sort keeps each file's own order).
    notes = sorted(
        [*(n for n in last.duplicate_notes if n.path not in collected), *new_sub.duplicates],
        key=lambda note: note.path,
    )
    fresh = [
        note
        for note, kept in zip(new_sub.duplicates, new_sub.kept_instead, strict=True)
        if note.path in new or kept in new
    ]

    def change(count: Callable[[FileOutcome], int]) -> int:
        return sum(map(count, new.values())) - sum(map(count, old.values()))

    duplicates = len(notes)
    return replace(
        last,
        files_read=len(stats),
        files_ignored=last.files_ignored + change(lambda o: o.ignored),
        records=last.records + change(lambda o: o.records),
        rejected=last.rejected + change(lambda o: o.rejected),
        accepted=last.accepted + change(lambda o: len(o.articles)) - duplicates + last.duplicates,
        duplicates=duplicates,
        problems=(*(p for _, found in by_file for p in found), *config_warnings),
        duplicate_notes=tuple(notes),
        recent=(*recent, *config_warnings, *fresh),
        parsed=sum(path not in skipped for path in new),
        groups=groups,
        written=(),
        unchanged=0,
        removed=(),
        refused=(),
        notified=(),
        hub_problem=None,
        notices=(),
    )


def _listings(groups: list[Indexed]) -> list[Listing]:
    return [
        Listing(g.group, g.items, from_micros(g.newest) if g.newest is not None else None)
        for g in groups
    ]
