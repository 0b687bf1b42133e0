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
(`index_rows.KEPT` and `index_rows.LEFT_OUT`), and the articles a window moved back keeps again (the
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
from the index's rows of every article the feeds choose from (`index_rows.KEPT`); one no longer
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
- more than `declined.MAX_CHANGED` files changed, share URLs with the changed ones, hold
  articles a moved window brings in or leaves behind, or hold a renamed topic's articles; a
  file that cannot be read (a skipped entry, a FIFO or a link to nowhere, is followed: its
  outcome comes from the scan, and its problem is said on every run, as the full way says it);
- a damaged index (a row whose checksum is wrong, day counts that do not add up to the group's
  members, a page's rows other than its day counts say, groups other than the topics and
  providers it counts names of and the custom feeds configured, a renamed topic's spelling
  counts other than its articles give).

The parts: `regroup.py` moves the changed articles out of and into the index's groups,
`window.py` follows the newest article, `changed_pages.py` says which pages to make again and
`remake.py` makes them from the index's rows; `declined.py` is where any of them gives up.

The property test (`tests/test_delta.py`) checks sequences of every kind of change against a
cold build.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import TYPE_CHECKING

from feeds import codec
from feeds.cache import Cache, IndexAbout, OutcomeReader, OutputRows
from feeds.changed_pages import changed_pages, pages_by_heat
from feeds.collect import Collection, GroupKind, collect
from feeds.config import Config
from feeds.declined import Declined, at_most_changed
from feeds.filters import CustomFeed, config_warnings
from feeds.index import Index, feed_keys, index_about
from feeds.index_rows import Indexed, from_micros
from feeds.ingest import ingest
from feeds.itemstore import ItemStore
from feeds.model import Article, FileOutcome, FileStat, Problem
from feeds.paths import REPORT_PATH
from feeds.regroup import (
    check_groups,
    choose_again,
    collection_place,
    files_of,
    group_headers,
    names_after,
    regroup,
    renamed_topics,
)
from feeds.remake import Batches
from feeds.report import Report
from feeds.scan import Scan, position
from feeds.site import Listing, plan_site
from feeds.window import Window, newest_now, newest_window

if TYPE_CHECKING:
    from feeds.batches import Planned


Progress = Callable[[str, int, int], None]


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
    store = ItemStore(cache.item_store())
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
    # filters alone (`regroup`), or choose again when the newest moved.
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
    window, moved = newest_window(
        index, config, (olds, news), old.keys() | new.keys() | around.keys()
    )
    moving = _outcomes(index, moved)
    if moving.keys() - around.keys() - old.keys() - new.keys():
        around = _outcomes(index, _around(index, old, new, moving))
        olds, news = _sides(old, new, around)
    sides = _collect_sides(config, following, (olds, news), window)
    groups = {g.gid: g for g in index.groups()}
    ended = about.feeds.keys() - feeds.keys()
    check_groups(index, groups, config, again | ended)
    # A topic whose displayed name changes is in the items of all its articles: their files are
    # collected too (on both sides, as they are), and their rows written again.
    renamed = renamed_topics(index, groups, names_after(index, *sides))
    if named := files_of(index, groups, renamed) - around.keys() - old.keys() - new.keys():
        also = {**moving, **_outcomes(index, named)}
        around = _outcomes(index, _around(index, old, new, also))
        sides = _collect_sides(config, following, _sides(old, new, around), window)
    new_sub = sides[1]
    changes = regroup(index, groups, sides, dated, window, renamed)
    newest = newest_now(index, window)
    if newest != window.before:
        again |= {feed.slug for feed in dated}
    changes.update(choose_again(index, groups, config, (again, ended), newest))
    index.replace_files(old.keys() | new.keys(), new, parsed)

    ordered = sorted(groups.values(), key=collection_place)
    headers = group_headers(ordered)
    heat_sorted = _sorted_by_heat(config)
    by_heat = {g.gid for g in ordered if (g.group.kind, g.group.key) in heat_sorted}
    timed = {gid: change for gid, change in changes.items() if gid not in by_heat}
    wanted, dropped = changed_pages(config, index, groups, timed, outputs)
    for gid in changes.keys() & by_heat:
        more, gone = pages_by_heat(config, index, groups[gid], outputs)
        wanted += more
        dropped.update(gone)
    site = list(plan_site(_listings(ordered), config))
    places = {g.gid: place for place, g in enumerate(ordered)}
    batches = Batches(config, headers, index, (dict(new), reader), store)
    planned = batches.planned([(places[w.gid], w) for w in wanted])
    planned += [p for p in site if outputs.get(p.path, (b"",))[0] != p.fingerprint]
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
    # Only folders whose digest moved are compared, file by file, as sets of (path, size, stamp).
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
    at_most_changed(len(changed) + len(gone), "too much changed")
    # A skipped entry's problem may change while its path, size and stamp do not (a link whose
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


def _collect_sides(
    config: Config,
    following: Sequence[CustomFeed],
    sides: tuple[list[Article], list[Article]],
    window: Window,
) -> tuple[Collection, Collection]:
    """The collected files' articles collected as they were (the window as it was) and as they
    are, with the custom feeds that follow the changed records (`following`)."""
    old, new = (
        collect(a, kinds=config.groups, filters=config.filters, custom=following, newest=at)
        for a, at in zip(sides, window, strict=True)
    )
    return old, new


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
        at_most_changed(len(found), "too many records share their URLs with the changed ones")
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


def _config_warnings(index: Index, config: Config) -> tuple[Problem, ...]:
    """The warnings about names the filters give that no article has, as a full build says
    them (`filters.config_warnings`), from the names the index knows."""
    known = {name: index.known(*name) for name in _named(config)}
    return config_warnings(known, config.filters, config.custom)


def _named(config: Config) -> set[tuple[str, str]]:
    from feeds.filters import names_keys

    named = set()
    for filters in (config.filters, *(feed.filters for feed in config.custom)):
        for field, names in filters.names().items():
            kind = field.split(".")[0]
            named |= {(kind, key) for name in names for key in names_keys(kind, name)}
    return named


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
