"""Which pages of the groups a delta run changed (`regroup.Changes`) to make again: a changed
group's pages are cut from its members' day counts near the changes only (`pages.cuts`), each
fingerprinted from its rows in the index, and wanted when a format's fingerprint moved; the
files of pages that are no more are dropped. A custom feed sorted by heat is cut from all its
members, ranked as a full build ranks them: it costs what the feed holds."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import NamedTuple, cast

from feeds import codec
from feeds.cache import OutputRows
from feeds.collect import Group, GroupKind
from feeds.config import Config
from feeds.fingerprints import file_fingerprint, page_digest, settings_key
from feeds.index import Index
from feeds.index_rows import Indexed, Row, from_micros
from feeds.model import Article
from feeds.pages import Cut, Page, cuts, near, pages
from feeds.regroup import Changes
from feeds.remake import Wanted


def changed_pages(
    config: Config,
    index: Index,
    groups: dict[int, Indexed],
    changes: dict[int, Changes],
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
                outputs.get(page.path(fmt), (b"",))[0] != file_fingerprint(settings, fmt, content)
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


def pages_by_heat(
    config: Config, index: Index, indexed: Indexed, outputs: OutputRows
) -> tuple[list[Wanted], dict[str, str | None]]:
    """`changed_pages` of a changed feed sorted by heat: its pages cut from all its members,
    ranked as a full build ranks them (`filters.by_heat`, their heat from their facts) and cut
    by the same function (`pages.pages`); those whose fingerprint moved, and the files of its pages
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
            outputs.get(page.path(fmt), (b"",))[0] != file_fingerprint(settings, fmt, content)
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
