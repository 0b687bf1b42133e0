"""Runs that cost what changed (`feeds/delta.py`, the index): whatever changes, the output is a
cold build's, byte for byte; and a run after a few new records reads nothing else."""

from __future__ import annotations

import json
import random
import re
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st

import feeds.build  # noqa: F401 (the module, as `pipeline`)
from feeds.cache import Cache
from feeds.collect import Group, GroupKind, newest_first
from feeds.config import Config
from feeds.filters import CustomFeed, Filters
from feeds.model import Article, Texts
from feeds.pages import Cut, DayCounts, Run, cuts, near, pages
from feeds.paths import MANIFEST_PATH
from feeds.report import Report
from feeds.synthetic import write_corpus
from tests.helpers import (
    BASE_URL,
    RECORD_AND_ITS_MENTION,
    files_of,
    item_store,
    write_record,
)

pipeline = sys.modules["feeds.build"]  # the module: `feeds.build` is its function

# -- the layout of a group's pages, from its day counts --------------------------------------


@given(
    days=st.sets(st.tuples(st.integers(1, 4), st.integers(1, 28)), max_size=12),
    counts=st.lists(st.integers(1, 4), min_size=12, max_size=12),
    limit=st.integers(1, 12),
    archives=st.booleans(),
    split_over=st.integers(1, 10),
)
def test_a_layout_cuts_pages_as_a_group_does(
    days: set[tuple[int, int]], counts: list[int], limit: int, archives: bool, split_over: int
) -> None:
    days_counts = zip(sorted(days), counts[: len(days)], strict=True)
    per_day = [(f"2024-{m:02d}-{d:02d}", n) for (m, d), n in days_counts][::-1]
    articles = [
        Article(f"https://ex.example/{day}/{k}", Texts("t"), _time(day, k))
        for day, n in per_day
        for k in range(n)
    ]
    group = Group(GroupKind.ALL, "all", "All", "all", newest_first(articles))
    config = Config(limit=limit, archives=archives, split_months_over=split_over)
    found = pages(group, config)
    expected = [(p.period, p.older, [a.url for a in p.articles]) for p in found]
    urls = [a.url for a in group.articles]
    cut = _every_cut(dict(per_day), split_over, limit, archives)
    assert [(p, o, urls[first:stop]) for p, o, first, stop in cut] == expected


@given(
    size=st.integers(0, 12),
    bounds=st.tuples(st.integers(0, 12), st.integers(0, 12)),
    at=st.integers(-14, 14),
    cut=st.slices(14),
)
def test_an_archive_pages_run_of_articles_reads_as_their_tuple(
    size: int, bounds: tuple[int, int], at: int, cut: slice
) -> None:
    """An archive page's articles are a run of its group's, not a copy (`pages.Run`): read
    every way a tuple is, they are the same articles."""
    articles = tuple(
        Article(f"https://ex.example/{k}", Texts("t"), _time("2024-01-01", k)) for k in range(size)
    )
    start, stop = sorted(min(b, size) for b in bounds)
    run, copy = Run(articles, start, stop), articles[start:stop]
    assert (len(run), tuple(run), list(reversed(run))) == (len(copy), copy, list(copy[::-1]))
    assert run == copy and copy == run and hash(run) == hash(copy)
    assert run[cut] == copy[cut]
    if -len(copy) <= at < len(copy):
        assert run[at] is copy[at]
    else:
        with pytest.raises(IndexError):
            run[at]


def _every_cut(by_day: dict[str, int], split_over: int, limit: int, archives: bool) -> list[Cut]:
    """A group's pages cut from its members on each day, newest first: every month's."""
    sub, archived = cuts(DayCounts.of(by_day), None, split_over, limit, archives)
    return [sub, *(cut for cut, _ in archived.values())]


_DAY = st.tuples(st.integers(1, 6), st.integers(1, 4)).map(lambda d: f"2024-{d[0]:02d}-{d[1]:02d}")


@given(
    before=st.dictionaries(_DAY, st.integers(1, 4), max_size=16),
    steps=st.lists(st.tuples(_DAY, st.sampled_from([-1, 1])), max_size=6),
    limit=st.integers(1, 12),
    archives=st.booleans(),
    split_over=st.integers(1, 8),
)
def test_the_pages_cut_near_changed_months_are_the_only_ones_that_differ(
    before: dict[str, int],
    steps: list[tuple[str, int]],
    limit: int,
    archives: bool,
    split_over: int,
) -> None:
    """A delta run cuts a changed group's pages only in the months `near` its changes: there
    they are `layout`'s cuts, and every page of another month is cut as it was before."""
    after = dict(before)
    for day, step in steps:
        after[day] = max(0, after.get(day, 0) + step)
    old_days = dict(sorted(before.items(), reverse=True))
    new_days = {d: n for d, n in sorted(after.items(), reverse=True) if n}
    changed = {day[:7] for day, _ in steps}
    old, new = DayCounts.of(old_days), DayCounts.of(new_days)
    months = near(old, new, changed, limit)
    for by_day, counts in ((old_days, old), (new_days, new)):
        every = _every_cut(by_day, split_over, limit, archives)
        sub, some = cuts(counts, months, split_over, limit, archives)
        assert sub == every[0]
        assert {p: cut for p, (cut, _) in some.items()} == {
            cut[0]: cut for cut in every[1:] if cut[0] and cut[0][:7] in months
        }
        assert all(n == by_day.get(p) or n == counts.months.get(p) for p, (_, n) in some.items())
    # A page is made again when its link or how many of its period's members it shows moved.
    old_cuts = {c[0]: _shown(c) for c in _every_cut(old_days, split_over, limit, archives)}
    new_cuts = {c[0]: _shown(c) for c in _every_cut(new_days, split_over, limit, archives)}
    far = {p for p in old_cuts.keys() | new_cuts.keys() if p and p[:7] not in months}
    assert {p: old_cuts.get(p) for p in far} == {p: new_cuts.get(p) for p in far}
    ranked = [day for day, n in new_days.items() for _ in range(n)][:limit]
    assert new.newest(limit) == Counter(ranked)


def _shown(cut: Cut) -> tuple[str | None, int]:
    return cut[1], cut[3] - cut[2]


def _time(day: str, hour: int) -> Any:
    from datetime import UTC, datetime

    return datetime(int(day[:4]), int(day[5:7]), int(day[8:]), hour, tzinfo=UTC)


def test_a_busy_month_is_archived_a_page_per_day(tmp_path: Path) -> None:
    """A month of more than `split_months_over` items in a feed has a page per day, linked in
    order; a quieter month of the same feed keeps one page."""
    seeds = tmp_path / "seeds"
    for n, day in enumerate(["2024-03-05", "2024-03-05", "2024-03-09", "2024-03-20", "2024-02-11"]):
        text = (
            f"title: Story {n}\nwebUrl: https://ex.example/{n}.html\n"
            f"publishedDateTime: {day}T0{n}:00:00Z\nprovider: {{name: Ex}}"
        )
        write_record(seeds, f"r{n}.md", text)
    config = Config(
        seeds=seeds, output=tmp_path / "out", cache=tmp_path / "cache", base_url=BASE_URL,
        limit=1, split_months_over=3, groups=("all",), formats=("atom",),
    )  # fmt: skip
    pipeline.build(config)
    archive = sorted(p.name for p in (tmp_path / "out" / "all").iterdir())
    assert archive == ["2024-02.atom.xml", "2024-03-05.atom.xml", "2024-03-09.atom.xml"]
    chain = []
    page = feedparser.parse((tmp_path / "out" / "all.atom.xml").read_bytes())
    while older := [x.href for x in page.feed.links if x.rel == "prev-archive"]:
        chain.append(older[0].removeprefix(BASE_URL))
        page = feedparser.parse((tmp_path / "out" / older[0].removeprefix(BASE_URL)).read_bytes())
        chain.append([e.link for e in page.entries])
    assert chain == [
        "all/2024-03-09.atom.xml", ["https://ex.example/2.html"],
        "all/2024-03-05.atom.xml", ["https://ex.example/1.html", "https://ex.example/0.html"],
        "all/2024-02.atom.xml", ["https://ex.example/4.html"],
    ]  # fmt: skip


# -- a few new records: only they are read ----------------------------------------------------


def test_new_records_are_published_without_reading_any_other_records_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 300, seed=1)
    config = Config(seeds=seeds, output=output, cache=cache, base_url=BASE_URL, limit=10)
    pipeline.build(config)
    write_corpus(seeds, 3, seed=1, start=10_000)
    report = _delta_build(config, monkeypatch)
    assert report.parsed == 3
    assert report.written and not report.notices
    assert files_of(output) == files_of(_cold(config, tmp_path / "cold"))
    # Every file feeds owns is counted once: written now, or left as it was.
    owned = json.loads((output / MANIFEST_PATH).read_text(encoding="utf-8"))["files"]
    assert len(report.written) + report.unchanged == len(owned)


def test_the_same_folders_named_another_way_redo_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cron names the folders in full; a person runs `feeds build` in the site's folder, or
    through a link to it: the same folders, the same cache, so nothing is redone. A run with
    nothing new writes nothing, and one after new records reads only them."""
    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 100, seed=1)
    config = Config(seeds=seeds, output=output, cache=cache, base_url=BASE_URL, limit=10)
    pipeline.build(config)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "site").symlink_to(tmp_path, target_is_directory=True)
    relative = replace(config, seeds=Path("seeds"), output=Path("output"), cache=Path("cache"))
    report = _delta_build(relative, monkeypatch)
    assert (report.parsed, report.written) == (0, ())
    write_corpus(seeds, 3, seed=1, start=10_000)
    linked = replace(relative, seeds=Path("site/seeds"), output=Path("site/output"))
    report = _delta_build(linked, monkeypatch)
    assert report.parsed == 3 and report.written
    assert files_of(output) == files_of(_cold(config, tmp_path / "cold"))


def test_more_changed_records_than_a_delta_run_takes_go_the_full_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delta run costs what it collects: past `MAX_CHANGED` record files, the full way is
    taken instead (its cost is the archive's, but bounded), with the same output."""
    import feeds.declined

    seeds, output, cache = tmp_path / "seeds", tmp_path / "output", tmp_path / "cache"
    write_corpus(seeds, 100, seed=1)
    config = Config(seeds=seeds, output=output, cache=cache, base_url=BASE_URL, limit=10)
    pipeline.build(config)
    monkeypatch.setattr(feeds.declined, "MAX_CHANGED", 3)
    full = _count_full_runs(monkeypatch)
    for step, count in enumerate([3, 4]):
        write_corpus(seeds, count, seed=2, start=10_000 + 10 * step)
        before = full[0]
        report = pipeline.build(config)
        assert (report.parsed, full[0] - before) == (count, step)  # the second: the full way
        assert files_of(output) == files_of(_cold(config, tmp_path / f"cold-{step}"))


def _delta_build(config: Config, monkeypatch: pytest.MonkeyPatch) -> Report:
    """A build that must not decode every record's outcome (the full way), nor read every
    output file's record (a big site's take more memory than the rest of a delta run)."""

    def refuse(*args: object) -> None:
        raise AssertionError("a delta run reads no unchanged record's outcome nor every output")

    with monkeypatch.context() as patch:
        patch.setattr(Cache, "outcomes", refuse)
        patch.setattr(Cache, "output_fingerprints", refuse)
        return pipeline.build(config)


# -- the custom feeds change: only theirs are chosen again -------------------------------------


@pytest.fixture
def with_feeds(tmp_path: Path) -> Config:
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 300, seed=1)
    feeds = (
        CustomFeed("good", "Good", filters=Filters(min_quality=50)),
        CustomFeed("tech", "Tech"),
    )
    config = Config(seeds=seeds, output=tmp_path / "output", cache=tmp_path / "cache")
    config = replace(config, base_url=BASE_URL, limit=10, split_months_over=20, custom=feeds)
    pipeline.build(config)
    return config


def test_a_custom_feeds_filter_changed_makes_only_that_feeds_files_again(
    with_feeds: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, tech = with_feeds.custom
    config = replace(with_feeds, custom=(replace(good, filters=Filters(min_quality=80)), tech))
    report = _delta_build(config, monkeypatch)
    assert report.written and not report.notices
    # The feed's own files, the index page (it says how many articles each feed has), the report.
    others = {p for p in report.written if not p.startswith("custom/good")}
    assert others <= {"index.html", ".feeds-report.json"}, others
    assert any(p.startswith("custom/good/") for p in report.written)  # its archive pages too
    assert all(p.startswith("custom/good/") for p in report.removed)
    assert files_of(config.output) == files_of(_cold(config, tmp_path / "cold"))


def test_a_delta_run_holds_one_batch_of_pages_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A custom feed chosen again may show half the archive: its pages' articles are stood in
    for a batch at a time (`remake.Batches`: a month's archive pages, the subscription
    documents), and a batch's are gone when the next starts."""
    import gc
    import weakref

    from feeds import remake

    seeds = tmp_path / "seeds"
    for n in range(120):  # ten a month, of every quality
        text = _record(f"r{n}", f"2024-{n % 12 + 1:02d}-{n % 28 + 1:02d}")
        write_record(seeds, f"r{n:03d}.md", f"{text}\nquality: {n % 100}")
    feed = CustomFeed("good", "Good", filters=Filters(min_quality=50))
    config = Config(seeds=seeds, output=tmp_path / "output", cache=tmp_path / "cache")
    config = replace(config, base_url=BASE_URL, limit=5, custom=(feed,))
    pipeline.build(config)
    made: list[weakref.ref[object]] = []
    alive: list[int] = []  # when each batch's stand-ins are made: how many others live
    init = remake.StandIns.__init__

    def tracked(self: object, *args: Any) -> None:
        gc.collect()
        alive.append(sum(ref() is not None for ref in made))
        made.append(weakref.ref(self))
        init(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(remake.StandIns, "__init__", tracked)
    config = replace(config, custom=(replace(feed, filters=Filters(min_quality=20)),))
    report = _delta_build(config, monkeypatch)
    assert len(report.written) > 30 and len(made) > 10  # one per batch
    assert alive == [0] * len(made)
    assert files_of(config.output) == files_of(_cold(config, tmp_path / "cold"))


@pytest.mark.parametrize("fault", ["other rows", "unreadable"])
def test_rows_that_differ_when_their_page_is_made_send_the_run_the_full_way(
    with_feeds: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """A delta run reads a page's rows twice: to fingerprint it, and to make it (a batch at a
    time). Should the second read not give the same rows, nothing is published from them: the
    run goes the full way, and its output is a cold build's."""
    from feeds.index import Index

    rows = Index.rows
    asked: set[tuple[object, ...]] = set()

    def twice(self: Index, *args: Any) -> Any:
        found = rows(self, *args)
        if args not in asked:
            asked.add(args)
            return found
        if fault == "unreadable":
            raise sqlite3.OperationalError("disk I/O error")
        return [row._replace(content=bytes(16)) for row in found]

    monkeypatch.setattr(Index, "rows", twice)
    full = _count_full_runs(monkeypatch)
    good, tech = with_feeds.custom
    config = replace(with_feeds, custom=(replace(good, filters=Filters(min_quality=70)), tech))
    report = pipeline.build(config)
    assert full == [1] and report.written and not report.notices
    monkeypatch.undo()
    assert files_of(config.output) == files_of(_cold(config, tmp_path / "cold"))


def test_custom_feeds_that_come_and_go_are_made_and_removed_without_reading_the_archive(
    with_feeds: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = with_feeds.custom[0]
    # `tech` goes, `topic` comes: only theirs (and the index page, the OPML, the report) change.
    topic = CustomFeed("topic", "One topic", "Its own", Filters(topics_any=("Tesla",)))
    config = replace(with_feeds, custom=(good, topic))
    report = _delta_build(config, monkeypatch)
    assert not report.notices
    assert {p.split("/")[1].split(".")[0] for p in report.written if "/" in p} == {"topic"}
    assert report.removed and all(p.startswith("custom/tech") for p in report.removed)
    assert files_of(config.output) == files_of(_cold(config, tmp_path / "cold"))


def test_a_feed_of_the_last_days_follows_new_records_and_the_newest_one(
    with_feeds: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`max_age_days` counts back from the newest article: a record newer than every other moves
    the feed's cut-off (it chooses again), an older one only joins it."""
    recent = CustomFeed("recent", "Recent", filters=Filters(max_age_days=30))
    config = replace(with_feeds, custom=(*with_feeds.custom, recent))
    pipeline.build(config)
    write_corpus(config.seeds, 3, seed=5, start=20_000)
    steps: list[Callable[[], object]] = [
        lambda: write_record(config.seeds, "new.md", _record("new", "2030-01-01")),  # the newest
        lambda: write_record(config.seeds, "old.md", _record("old", "2029-12-20")),  # joins
        lambda: (config.seeds / "old.md").unlink(),  # and leaves
    ]
    for step, change in enumerate([lambda: None, *steps]):
        change()
        report = _delta_build(config, monkeypatch)
        assert not report.notices
        assert step == 0 or "custom/recent.rss.xml" in report.written
        assert files_of(config.output) == files_of(_cold(config, tmp_path / f"cold-{step}"))


def test_the_newest_article_retracted_or_dated_back_moves_every_window_back(
    with_feeds: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a window of days for every feed (and another filter of every feed, so that the next
    newest article may be one the feeds leave out), the newest record deleted or its time moved
    back moves the window back: the older articles it keeps again come back into the feeds. The
    runs read no other record's outcome, and their output is a cold build's."""
    hot = CustomFeed("hot", "Hot lately", filters=Filters(max_age_days=7), sort="heat")
    config = replace(
        with_feeds,
        filters=Filters(max_age_days=30, min_quality=10),
        custom=(*with_feeds.custom, hot),
    )
    seeds = config.seeds
    dated = {"early": "2029-12-10", "later": "2029-12-25", "newest": "2030-01-20"}
    for name, day in dated.items():
        write_record(seeds, f"{name}.md", _record(name, day) + "\nquality: 50")
    pipeline.build(config)
    early = "https://x.example/early.html"
    assert early not in _ids(config.output / "all.rss.xml")  # 41 days before the newest
    steps: list[Callable[[], object]] = [
        lambda: (seeds / "newest.md").unlink(),  # published by mistake: the window moves back
        lambda: write_record(seeds, "later.md", _record("later", "2029-11-01") + "\nquality: 5"),
    ]
    for step, change in enumerate(steps):
        change()
        report = _delta_build(config, monkeypatch)
        assert not report.notices
        assert report.parsed == step  # the deleted file is not read; the edited one is
        assert early in _ids(config.output / "all.rss.xml"), step
        assert files_of(config.output) == files_of(_cold(config, tmp_path / f"cold-{step}"))


def test_a_topic_renamed_by_its_most_common_spelling_is_renamed_in_every_item(
    with_feeds: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A topic is shown by its most common spelling: when new records spelling it otherwise
    outnumber the others, the topic's feed and the item of every article about it, in every
    feed that shows one (archive pages of months no record changed in too), say the new
    spelling. The run reads only the new records; its output and index are a cold build's."""
    seeds = with_feeds.seeds
    for n, day in enumerate(["2029-06-01", "2029-06-02", "2029-12-01"]):
        write_record(seeds, f"old{n}.md", _record(f"old{n}", day) + "\ntopics: [Deep sea]")
    for n in range(12):  # newer: the June articles are on archive pages
        write_record(seeds, f"other{n}.md", _record(f"other{n}", f"2029-11-{n + 10}"))
    pipeline.build(with_feeds)
    june = with_feeds.output / "all" / "2029-06.rss.xml"
    assert ">Deep sea</category>" in _item(june, "old0")
    for n, day in enumerate(["2029-12-04", "2029-12-05", "2029-12-06", "2029-12-07"]):
        write_record(seeds, f"new{n}.md", _record(f"new{n}", day) + "\ntopics: [Deep Sea]")
    report = _delta_build(with_feeds, monkeypatch)
    assert report.parsed == 4 and not report.notices
    assert str(june.relative_to(with_feeds.output)) in report.written
    assert ">Deep Sea</category>" in _item(june, "old0")
    cold = tmp_path / "cold"
    assert files_of(with_feeds.output) == files_of(_cold(with_feeds, cold))
    assert with_feeds.cache is not None
    assert _index(with_feeds.cache) == _index(cold / "cache")


def _item(feed: Path, name: str) -> str:
    """The RSS item of the record `_record(name, ...)` made."""
    text = feed.read_text(encoding="utf-8")
    link = f"<link>https://x.example/{name}.html</link>"
    return next(item for item in text.split("<item>") if link in item)


def _ids(feed: Path) -> list[str]:
    return [entry.id for entry in feedparser.parse(feed.read_bytes()).entries]


def test_a_feed_sorted_by_heat_follows_new_records_and_edits(
    with_feeds: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed sorted by heat is cut by heat, not by time: a record hotter than every other goes
    first and pushes one into the archive of its own month; one cooled down goes the other way,
    to the end of its month's archive page, or the archive of a month it alone held (which goes
    with it). The runs read only the changed records, and their output is a cold build's."""
    hot = CustomFeed("hot", "Hot", filters=Filters(min_heat=1), sort="heat")
    config = replace(with_feeds, custom=(*with_feeds.custom, hot))
    pipeline.build(config)
    old = sorted(config.seeds.rglob("*.md"))[7]
    text = old.read_text(encoding="utf-8")
    steps: list[Callable[[], object]] = [
        lambda: write_record(config.seeds, "hot.md", _record("hot", "2029-12-20") + "\nheat: 9999"),
        lambda: old.write_text(re.sub(r"heat: \d+", "heat: 99999", text), encoding="utf-8"),
        lambda: write_record(config.seeds, "hot.md", _record("hot", "2029-12-20") + "\nheat: 1"),
        lambda: (config.seeds / "hot.md").unlink(),
    ]
    for step, change in enumerate(steps):
        change()
        report = _delta_build(config, monkeypatch)
        assert not report.notices
        changed = (*report.written, *report.removed)
        assert any(path.startswith("custom/hot") for path in changed), step
        assert files_of(config.output) == files_of(_cold(config, tmp_path / f"cold-{step}"))


def _record(name: str, day: str) -> str:
    return (
        f"webUrl: https://x.example/{name}.html\ntitle: {name}\npublishedDateTime: {day}T00:00:00Z"
    )


def test_a_comment_or_a_reordering_in_the_configuration_rewrites_only_the_report(
    with_feeds: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its warnings name the line and the feed of the filter they are about: they move."""
    good, tech = with_feeds.custom
    typo = Filters(topics_any=("Teslaa",), origin="feeds.yaml:9")
    config = replace(with_feeds, custom=(good, replace(tech, filters=typo)))
    pipeline.build(config)
    moved = replace(typo, origin="feeds.yaml:12")  # a comment added above it
    config = replace(config, custom=(replace(tech, filters=moved), good))  # and first now
    report = _delta_build(config, monkeypatch)
    assert report.written == (".feeds-report.json",) and not report.removed
    (warning,) = [p for p in report.problems if "Teslaa" in p.message]
    assert (warning.path, warning.field) == ("feeds.yaml:12", "custom[0].topics.any")
    assert warning in report.recent  # said again: the run did work
    assert files_of(config.output) == files_of(_cold(config, tmp_path / "cold"))


# -- every kind of change, at random: always a cold build's output ----------------------------

# Spellings that compete ("AI" and "ai" are one topic), rarer than the usual one.
# Spellings that compete: the one a topic is shown by changes now and then.
TOPICS = ["AI", "AI", "ai", "Space", "space", "Climate", "Elections", "C++", "C"]
PROVIDERS = [("Alpha News", "alpha.example"), ("alpha news", "alpha.example"),
             ("Beta", "beta.example"), ("Gamma", None)]  # fmt: skip


class Corpus:
    """Records written as curators write them, with every cross-record rule in reach: shared
    URLs, related mentions of other records, spellings that compete."""

    def __init__(self, seeds: Path, rng: random.Random) -> None:
        self.seeds, self.rng = seeds, rng
        self.names: list[str] = []
        self.serial = 0
        self.latest = datetime(2024, 7, 1, tzinfo=UTC)  # `newer` records come after every other

    def record(self, url: str | None = None) -> str:
        rng = self.rng
        self.serial += 1
        url = url or f"https://news.example/{self.serial}.html"
        month, day = rng.randrange(1, 7), rng.randrange(1, 28)
        name, domain = rng.choice(PROVIDERS)
        provider = f"{{name: {name!r}" + (f", domain: {domain}" if domain else "") + "}"
        if rng.random() < 0.3:
            provider = (
                provider[:-1]
                + f", images: [{{url: 'https://logo.example/{rng.randrange(3)}.png'}}]}}"
            )
        lines = [
            f"webUrl: {url}",
            f"title: Story {self.serial}",
            f"publishedDateTime: 2024-{month:02d}-{day:02d}T{rng.randrange(24):02d}:00:00Z",
            f"provider: {provider}",
            f"topics: {sorted({rng.choice(TOPICS) for _ in range(rng.randrange(0, 3))})!r}",
            f"quality: {rng.randrange(100)}",
        ]
        if rng.random() < 0.7:  # a few heats, so that feeds sorted by heat have ties
            lines.append(f"heat: {rng.choice([0, 5, 50, 100, rng.randrange(1000)])}")
        if rng.random() < 0.3:
            lines.append(f"updatedDateTime: 2024-07-{rng.randrange(1, 28):02d}T00:00:00Z")
        if rng.random() < 0.3:  # coverage elsewhere; now and then, of a story with a record
            other = rng.randrange(1, self.serial + 5)
            site = "news" if rng.random() < 0.1 else "other"
            lines.append(
                f"related: [{{webUrl: 'https://{site}.example/{other}.html', title: Also {other}, "
                f"publishedDateTime: '2024-0{month}-{day:02d}T12:00:00Z', "
                f"provider: {{name: {rng.choice(PROVIDERS)[0]!r}}}}}]"
            )
        return "\n".join(lines)

    def add(self) -> None:
        # In folders too: `2024/r0050/` sits among its parent's own records (r0049.md, r0051.md).
        folder = self.rng.choice(["", "", "", "2024/", "2024/r0050/", "zz/"])
        name = f"{folder}r{self.serial + 1:04d}.md"
        write_record(self.seeds, name, self.record())
        self.names.append(name)

    def _records(self) -> list[str]:
        """The files of one record each (bundles have operations of their own)."""
        return [name for name in self.names if name.endswith(".md")]

    def edit(self) -> None:
        if records := self._records():
            name = self.rng.choice(records)
            url = self._url(name)
            write_record(self.seeds, name, self.record(url))

    def delete(self) -> None:
        if self.names:
            name = self.names.pop(self.rng.randrange(len(self.names)))
            (self.seeds / name).unlink()

    def rename(self) -> None:
        if self.names:
            i = self.rng.randrange(len(self.names))
            new = f"moved/{self.names[i]}"
            (self.seeds / new).parent.mkdir(parents=True, exist_ok=True)
            (self.seeds / self.names[i]).rename(self.seeds / new)
            self.names[i] = new

    def duplicate(self) -> None:
        """A record of a URL another record has (a duplicate), or one a related article
        mentions (the mention turns into a record)."""
        if records := self._records():
            url = self._url(self.rng.choice(records))
            if self.rng.random() < 0.5:
                url = f"https://other.example/{self.rng.randrange(1, self.serial + 5)}.html"
            name = f"d{self.serial + 1:04d}.md"
            write_record(self.seeds, name, self.record(url))
            self.names.append(name)

    def bundle(self) -> None:
        """A file of a few records (a YAML list), where one mentions another's URL in its
        related articles, with a title and time of its own: written anew, or deleted."""
        bundles = [name for name in self.names if name.endswith(".yaml")]
        if bundles and self.rng.random() < 0.3:
            name = self.rng.choice(bundles)
            self.names.remove(name)
            (self.seeds / name).unlink()
            return
        name = self.rng.choice(bundles) if bundles and self.rng.random() < 0.5 else None
        name = name or f"f{self.serial + 1:04d}.yaml"
        records = [self.record() for _ in range(self.rng.randrange(2, 4))]
        records = [re.sub(r"\nrelated: .*", "", r) for r in records]
        # The mention on the record's day, and often of its topics (none, as mentions have):
        # where the item store would mistake one's item for the other's.
        if self.rng.random() < 0.7:
            records[-1] = re.sub(r"\ntopics: .*", "\ntopics: []", records[-1])
        if self.rng.random() < 0.5:  # left out by a `min_quality`, its mention kept
            records[-1] = re.sub(r"\nquality: .*", "\nquality: 5", records[-1])
        mentioned = records[-1].split("webUrl: ", 1)[1].split("\n", 1)[0]
        day = records[-1].split("publishedDateTime: ", 1)[1][:10]
        records[0] += (
            f"\nrelated: [{{webUrl: '{mentioned}', title: Mentioned, "
            f"publishedDateTime: '{day}T12:30:00Z', provider: {{name: Gamma}}}}]"
        )
        text = "".join("- " + r.replace("\n", "\n  ") + "\n" for r in records)
        (self.seeds / name).write_text(text, encoding="utf-8")
        if name not in self.names:
            self.names.append(name)

    def newer(self) -> None:
        """A record newer than every other, as cron brings them in: the newest article moves."""
        self.latest += timedelta(days=self.rng.randrange(0, 9), hours=self.rng.randrange(1, 24))
        name = f"n{self.serial + 1:04d}.md"
        published = f"publishedDateTime: {self.latest:%Y-%m-%dT%H:00:00Z}"
        text = re.sub(r"publishedDateTime: \S+", published, self.record(), count=1)
        write_record(self.seeds, name, text)
        self.names.append(name)

    def retract(self) -> None:
        """The newest record deleted (published by mistake), or its time corrected back: the
        newest article moves back, and a window of days with it."""
        newest = [name for name in self.names if name.startswith("n")]
        if not newest:
            return
        name = max(newest, key=self._published)
        if self.rng.random() < 0.5:
            self.names.remove(name)
            (self.seeds / name).unlink()
        else:
            earlier = self._published(name) - timedelta(days=self.rng.randrange(0, 30), hours=1)
            text = self._front_matter(name)
            published = f"publishedDateTime: {earlier:%Y-%m-%dT%H:00:00Z}"
            write_record(self.seeds, name, re.sub(r"publishedDateTime: \S+", published, text))

    def break_one(self) -> None:
        """A record with a time no one can read: rejected, with its reason in the report."""
        name = f"b{self.serial + 1:04d}.md"
        text = self.record().replace("publishedDateTime: 2024", "publishedDateTime: 20x4")
        write_record(self.seeds, name, text)
        self.names.append(name)

    def edge(self) -> None:
        """A record at the edges of its values: a time whose offset moves it to another day,
        month or year in UTC (or a leap second), a topic spelled in another script, case or
        width (`AI` in full-width letters is `AI`), right to left or with an emoji, a URL of another
        record written as browsers would send it otherwise (another case, its scheme's port,
        a dot segment): the same article, a duplicate."""
        rng = self.rng
        text = self.record()
        published = rng.choice(EDGE_TIMES)
        text = re.sub(r"publishedDateTime: \S+", f"publishedDateTime: '{published}'", text)
        topics = sorted({rng.choice(EDGE_TOPICS) for _ in range(rng.randrange(1, 3))})
        text = re.sub(r"\ntopics: .*", f"\ntopics: {json.dumps(topics, ensure_ascii=False)}", text)
        if (records := self._records()) and rng.random() < 0.5:
            url = self._url(rng.choice(records)).replace("https://", "")
            host, _, path = url.partition("/")
            written = rng.choice([f"HTTPS://{host.upper()}/{path}", f"https://{host}:443/{path}",
                                  f"https://{host}/x/../{path}", f"https://{host}/./{path}"])  # fmt: skip
            text = re.sub(r"webUrl: \S+", f"webUrl: {written}", text, count=1)
        name = f"e{self.serial + 1:04d}.md"
        write_record(self.seeds, name, text)
        self.names.append(name)

    def _front_matter(self, name: str) -> str:
        text = (self.seeds / name).read_text(encoding="utf-8")
        return text.removeprefix("---\n").split("\n---\n", 1)[0]

    def _url(self, name: str) -> str:
        return self._front_matter(name).split("webUrl: ", 1)[1].split("\n", 1)[0]

    def _published(self, name: str) -> datetime:
        found = re.search(r"publishedDateTime: (\S+)", self._front_matter(name))
        assert found is not None
        return datetime.fromisoformat(found[1])


# Times at the edges: offsets that move a day, a month or a year in UTC; a leap second.
EDGE_TIMES = ["2024-01-01T01:30:00+14:00", "2023-12-31T23:30:00-12:00", "2024-02-29T23:00:00-05:00",
              "2024-03-01T00:30:00+01:00", "2024-06-30T23:59:60Z", "2024-04-01T00:00:00+00:00"]  # fmt: skip
# Spellings at the edges: of the corpus's topics in another case or in full-width letters (AI,
# C++), and other scripts.
EDGE_TOPICS = ["\uff21\uff29", "Ai", "SPACE", "Künstliche Intelligenz", "künstliche intelligenz",
               "KÜNSTLICHE INTELLIGENZ", "ذكاء اصطناعي", "🚀 Space", "人工知能", "\uff23\uff0b\uff0b"]  # fmt: skip

AI = Filters(topics_any=("AI", "Robots"))  # no article is about robots: a warning
ALPHA = Filters(providers_any=("alpha.example",))
# Custom feeds as a curator edits them: a filter changed, a feed added or removed, a title, the
# feeds reordered, a comment that moves a filter's line (its warning must say the new one).
FEEDS: list[tuple[CustomFeed, ...]] = [
    (),
    (CustomFeed("ai", "AI", filters=AI),),
    (CustomFeed("ai", "AI", filters=replace(AI, origin="feeds.yaml:7")),),
    (CustomFeed("ai", "AI news", "All of it", filters=Filters(topics_any=("ai",))),),
    (CustomFeed("ai", "AI", filters=AI), CustomFeed("alpha", "Alpha", filters=ALPHA)),
    (CustomFeed("alpha", "Alpha", filters=ALPHA), CustomFeed("ai", "AI", filters=AI)),
    (CustomFeed("alpha", "Alpha", filters=replace(ALPHA, min_quality=50)),),
    (
        CustomFeed(
            "space", "Space", filters=Filters(topics_all=("Space",), providers_none=("Beta",))
        ),
    ),
    (CustomFeed("all", "Everything"), CustomFeed("none", "None", filters=Filters(type="x"))),
    # Days back from the newest article: the cut-off moves with it.
    (CustomFeed("recent", "Recent", filters=Filters(max_age_days=40)),),
    (CustomFeed("recent", "Recent", filters=Filters(max_age_days=40)), CustomFeed("ai", "AI")),
    (CustomFeed("recent", "Recent AI", filters=replace(AI, max_age_days=90)),),
    # Sorted by heat: a change anywhere in the feed may move any of its pages.
    (CustomFeed("hot", "Hot", sort="heat"), CustomFeed("ai", "AI", filters=AI)),
    (CustomFeed("hot", "Hot lately", filters=Filters(max_age_days=40, min_heat=5), sort="heat"),),
]

CONFIGS: list[dict[str, Any]] = [
    {},
    {"limit": 5},
    {"custom": (CustomFeed("ai", "AI", filters=Filters(topics_any=("AI", "Robots"))),)},
    {"filters": Filters(max_age_days=60)},
    {"filters": Filters(max_age_days=60, min_quality=30)},
    {"custom": (CustomFeed("hot", "Hot", sort="heat"),)},
    {"filters": Filters(min_quality=30), "archives": False},
    {"split_months_over": 500},
]


def _operations(corpus: Corpus, kind: str) -> list[Callable[[], None]]:
    """The changes a random sequence draws from: of every kind, or mostly records at the edges
    of their values (`Corpus.edge`: times that cross a day, month or year in UTC, a leap second,
    topics in other scripts, cases and widths, URLs of other records written another way)."""
    if kind == "edges":
        return [corpus.edge, corpus.edge, corpus.edge, corpus.edit, corpus.delete, corpus.rename,
                corpus.duplicate, corpus.newer]  # fmt: skip
    return [
        corpus.add, corpus.add, corpus.add, corpus.edit, corpus.edit, corpus.delete,
        corpus.rename, corpus.duplicate, corpus.break_one, corpus.newer, corpus.retract,
        corpus.bundle,
    ]  # fmt: skip


SEQUENCES = [(seed, "every") for seed in (1, 2, 3, 4)] + [(seed, "edges") for seed in (1, 2, 3)]


@pytest.mark.parametrize(("seed", "kind"), SEQUENCES)
def test_any_sequence_of_changes_gives_a_cold_builds_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, kind: str
) -> None:
    rng = random.Random(seed)
    corpus, settings = _started(tmp_path, rng)
    full = _count_full_runs(monkeypatch)
    delta_runs = 0
    operations = _operations(corpus, kind)
    for step in range(14):
        if step == 7:  # the configuration changes too
            settings = {**settings, **rng.choice(CONFIGS)}
        if rng.random() < 0.4:  # and the custom feeds, now and then
            settings["custom"] = rng.choice(FEEDS)
        for _ in range(rng.randrange(0, 4)):
            rng.choice(operations)()
        config = Config(base_url=BASE_URL, **settings)
        delta_runs += _built_as_cold(config, tmp_path / f"cold-{step}", full)
    assert delta_runs >= 3, "the index served some of the runs"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_window_of_days_for_every_feed_follows_the_newest_article(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """`max_age_days` in the filters of every feed: each record newer than every other moves
    the window, and the articles it leaves behind go from every feed (the mentions of their URLs
    show again); the newest record deleted or dated back moves it back, and the articles it
    keeps again come back. Whatever changes, the output and the index are a cold build's, and
    every run after the first goes the delta way."""
    rng = random.Random(seed)
    corpus, settings = _started(tmp_path, rng)
    # With another filter of every feed too, now and then: the newest article may be one the
    # feeds leave out.
    days = rng.choice([10, 20, 40])
    settings["filters"] = rng.choice(
        [Filters(max_age_days=days), Filters(max_age_days=days, min_quality=30)]
    )
    full = _count_full_runs(monkeypatch)
    delta_runs = 0
    operations: list[Callable[[], None]] = [
        corpus.newer, corpus.newer, corpus.newer, corpus.add, corpus.edit, corpus.delete,
        corpus.duplicate, corpus.retract, corpus.retract,
    ]  # fmt: skip
    for step in range(12):
        if rng.random() < 0.3:  # custom feeds too, some with their own window
            settings["custom"] = rng.choice(FEEDS)
        for _ in range(rng.randrange(1, 4)):
            rng.choice(operations)()
        config = Config(base_url=BASE_URL, **settings)
        delta_runs += _built_as_cold(config, tmp_path / f"cold-{step}", full)
    assert delta_runs == 11, "the index served every run after the first"


def _started(tmp_path: Path, rng: random.Random) -> tuple[Corpus, dict[str, Any]]:
    """Forty records, and the settings of the builds to come (where they go)."""
    corpus = Corpus(tmp_path / "seeds", rng)
    for _ in range(40):
        corpus.add()
    # Months of more than 5 members in a group are archived by day: months go over and back.
    settings: dict[str, Any] = {"limit": 3, "split_months_over": 5, "seeds": tmp_path / "seeds"}
    settings.update(output=tmp_path / "output", cache=tmp_path / "cache")
    return corpus, settings


def _built_as_cold(config: Config, cold: Path, full: list[int]) -> bool:
    """Build; the output, the problems said and the index must be a cold build's (into `cold`).
    Whether the build went the delta way (`full`: `_count_full_runs`)."""
    assert config.cache is not None
    before = full[0]
    report = pipeline.build(config)
    delta = full[0] == before
    assert not report.notices, report.notices
    output = _cold(config, cold)
    assert files_of(config.output) == files_of(output), cold.name
    assert report.problems == _report_of(cold / "cache").problems, cold.name
    # The index a delta run updated is the one a full build writes.
    assert _index(config.cache) == _index(cold / "cache"), cold.name
    return delta


def _index(cache: Path) -> dict[str, list[Any]]:
    """Every table of the index, but for the numbers given to groups."""
    from feeds import codec

    (database,) = cache.glob("*.sqlite")
    with sqlite3.connect(database) as db:
        if db.execute("SELECT value FROM meta WHERE key = 'index'").fetchone() is None:
            return {}  # none kept: the configuration is one the index does not follow
        return {
            "groups": sorted(codec.load(h) for (h,) in db.execute("SELECT header FROM groups")),
            "members": sorted(
                db.execute(
                    "SELECT min(gid, 0), time, url, modified, day, path, i, j, content, "
                    "ifnull(provider, x'') FROM members"
                )
            ),
            "kept": sorted(db.execute("SELECT gid, month, counts FROM days WHERE gid < 0")),
            "urls": sorted(db.execute("SELECT url, path, check_ FROM urls")),
            "names": sorted(db.execute("SELECT kind, key, spelling, n FROM names")),
            "problems": sorted(
                (path, codec.load(blob))
                for path, blob in db.execute("SELECT path, problems FROM problems")
            ),
            "folders": sorted(db.execute("SELECT folder, digest FROM folders")),
            "corpus": sorted(db.execute("SELECT key, value FROM corpus")),
            "days": sorted(
                (codec.load(header), month, list(codec.load(counts)[2].items()))
                for header, month, counts in db.execute(
                    "SELECT header, month, counts FROM groups JOIN days USING (gid)"
                )
            ),
        }


def _report_of(cache: Path) -> Any:
    from feeds import codec

    (database,) = cache.glob("*.sqlite")
    with sqlite3.connect(database) as db:
        (blob,) = db.execute("SELECT value FROM meta WHERE key = 'report'").fetchone()
    return codec.report_from_plain(codec.load(blob))


def _count_full_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    count = [0]
    check = pipeline._check

    def counted(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return check(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_check", counted)
    return count


def test_an_edited_article_adds_its_items_to_its_day_without_reading_the_days_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An old record edited: its new items join its day's file in the item store, whose other
    items stay; the day's other articles are not read from the index. With the day's file
    gone, the day is made and stored whole again. The output is a cold build's both times."""
    from feeds.cache import OutcomeReader

    seeds = tmp_path / "seeds"
    write_corpus(seeds, 60, seed=3)
    config = Config(seeds=seeds, output=tmp_path / "output", cache=tmp_path / "cache", limit=5)
    config = replace(config, base_url=BASE_URL)
    pipeline.build(config)
    record = sorted(seeds.rglob("*.md"))[0]  # the oldest: of an archive month
    day = record.read_text().split("publishedDateTime: '")[1][:10]
    (day_file,) = (tmp_path / "cache").rglob(f"{day}.items")
    items_before = int.from_bytes(day_file.read_bytes()[:8], "big")
    asked: list[str] = []
    real = OutcomeReader.day_members

    def day_members(reader: OutcomeReader, day: str) -> list[tuple[Any, ...]]:
        asked.append(day)
        return real(reader, day)

    monkeypatch.setattr(OutcomeReader, "day_members", day_members)
    text = record.read_text()
    record.write_text(text.replace("title: ", "title: Edited - ", 1))
    assert _delta_build(config, monkeypatch).parsed == 1
    assert asked == []
    formats = len(config.formats)
    assert int.from_bytes(day_file.read_bytes()[:8], "big") == items_before + formats
    assert files_of(config.output) == files_of(_cold(config, tmp_path / "cold"))

    day_file.unlink()
    record.write_text(text.replace("title: ", "title: Edited again - ", 1))
    assert _delta_build(config, monkeypatch).parsed == 1
    assert asked == [day], "the day is read from the index, to be stored whole"
    assert int.from_bytes(day_file.read_bytes()[:8], "big") == items_before
    assert files_of(config.output) == files_of(_cold(config, tmp_path / "cold-again"))


def _cold(config: Config, folder: Path) -> Path:
    pipeline.build(replace(config, output=folder / "output", cache=folder / "cache"))
    return folder / "output"


# Every setting but where the input, output and cache are, with another value. A setting added
# to `Config` must be added here: the test below says whether items depend on it.
CHANGED_SETTINGS: dict[str, Any] = {
    "base_url": "https://other.example.org/news/",
    "title": "Other news",
    "description": "Other news, by topic.",
    "site_url": "https://www.example.org/",
    "language": "de",
    "logo": "https://example.org/logo.png",
    "icon": "https://example.org/icon.png",
    "author": "The desk",
    "limit": 2,
    "formats": ("rss", "json"),
    "archives": False,
    "split_months_over": 2,
    "ttl": 30,
    "groups": ("all", "providers"),
    "filters": Filters(min_quality=40),
    "custom": (CustomFeed("ai", "AI", filters=Filters(topics_any=("AI",))),),
    "websub_hub": "http://127.0.0.1:9/hub",
}
# The settings an item's bytes depend on (`fingerprints.item_settings`), and the filters of
# every feed, which decide which topics get feeds (in an item's key by its topics' names): a
# change of any other makes pages again from the items kept, not items.
ITEMS_DEPEND_ON = {"base_url", "groups", "filters"}


MENTION = """\
title: A record with a mention
webUrl: https://alpha.example/record
publishedDateTime: 2024-01-01T00:30:00Z
topics: [AI]
related:
  - title: Coverage elsewhere
    webUrl: https://beta.example/mention
    publishedDateTime: 2024-01-01T00:20:00Z
    provider: {name: Beta, domain: beta.example}
    topics: [Quiet topic]
"""


def test_every_setting_is_tried() -> None:
    from dataclasses import fields

    settings = {f.name for f in fields(Config)} - {"seeds", "output", "cache"}
    assert settings == CHANGED_SETTINGS.keys()


@pytest.mark.parametrize("name", sorted(CHANGED_SETTINGS))
def test_a_changed_setting_gives_a_cold_builds_output_and_remakes_items_only_for_it(
    tmp_path: Path, name: str
) -> None:
    """A setting changed in `feeds.yaml`: the output is a cold build's, byte for byte; items
    are made again only when they depend on it (a topic's category links to its feed), the
    others are taken from the item store, whose day files stay as they were."""
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 40, seed=7)
    # Shown in its provider's feed, a related article names a topic no record names: a
    # category without a link when topics get no feeds, none when they do.
    write_record(seeds, "mention.md", MENTION)
    before = Config(
        seeds=seeds,
        output=tmp_path / "output",
        cache=tmp_path / "cache",
        base_url=BASE_URL,
        limit=4,
        split_months_over=6,
    )
    pipeline.build(before)
    store = item_store(tmp_path / "cache")
    days = {p.name: (p.stat().st_ino, p.read_bytes()) for p in store.glob("*.items")}
    assert days
    after = replace(before, **{name: CHANGED_SETTINGS[name]})
    report = pipeline.build(after)
    assert report.written and not report.notices
    assert files_of(after.output) == files_of(_cold(after, tmp_path / "cold"))
    now = {p.name: (p.stat().st_ino, p.read_bytes()) for p in store.glob("*.items")}
    kept = {day for day in days.keys() & now.keys() if days[day] == now[day]}
    if name in ITEMS_DEPEND_ON - {"filters"}:  # a filter remakes the items its topics name
        assert not kept, "every item was made again"
    elif name not in ITEMS_DEPEND_ON:
        assert kept == days.keys() & now.keys(), "no item was made again"


ALPHA_PROVIDER = "provider: {name: Alpha, domain: alpha.example}"


@pytest.mark.parametrize(
    "change",
    [
        "a newer record moves the window",
        "a filter is added",
        "a filter is added, the cache's database locked",
    ],
)
def test_a_record_and_a_mention_of_its_url_in_one_file_keep_their_own_items(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """What an item depends on names which of its file's articles it is, not only its URL and
    the file: the record's item, made and kept first, is not the mention's (nor a page that
    showed one the other's). Outlines are told apart by their place in the file; whole
    articles (read while the cache's database cannot be used, the item store can) by all they
    hold."""
    if change.endswith("locked"):
        _open = Cache._open

        def locked(cache: Cache, path: Path | str) -> sqlite3.Connection:
            if path != ":memory:":
                raise sqlite3.OperationalError("database is locked")
            return _open(cache, path)

        monkeypatch.setattr(Cache, "_open", locked)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "one-url-twice.yaml").write_text(RECORD_AND_ITS_MENTION, encoding="utf-8")
    write_record(seeds, "g.md", _record("g", "2024-01-21") + "\nquality: 50\n" + ALPHA_PROVIDER)
    window = Filters(max_age_days=20) if change.startswith("a newer") else Filters()
    config = Config(
        seeds=seeds,
        output=tmp_path / "output",
        cache=tmp_path / "cache",
        base_url=BASE_URL,
        limit=1,
        filters=window,
    )
    pipeline.build(config)
    archive = config.output / "providers" / "alpha-example" / "2024-01.rss.xml"
    assert "Full record two" in _titles(archive)
    if change.startswith("a newer"):  # the record leaves the window, the mention stays in it
        write_record(seeds, "h.md", _record("h", "2024-01-26"))
        _delta_build(config, monkeypatch)
    else:  # the full way: every page planned, every item looked up in the store
        config = replace(config, filters=Filters(min_quality=10))
        pipeline.build(config)
    assert "Mention of two" in _titles(archive)
    assert "Full record two" not in _titles(archive)
    assert files_of(config.output) == files_of(_cold(config, tmp_path / "cold"))


def _titles(feed: Path) -> list[str]:
    return [entry.title for entry in feedparser.parse(feed.read_bytes()).entries]
