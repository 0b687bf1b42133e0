"""The pipeline, assembled:

    scan seeds -> ingest (read + validate, or the cached outcome) -> collect -> plan outputs
    -> render what changed -> publish (atomic, unchanged kept, stale removed) -> report

Each record ends as an accepted article, a rejection with its reason, a duplicate, or (for files
that are not records) ignored; no single record can stop the run. The cache only saves
work: a build with it gives the same bytes as a build without it (docs/design.md).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from functools import partial
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from feeds import codec
from feeds._version import CODE_DIGEST
from feeds.beside import beside, forkable
from feeds.cache import (
    Cache,
    Known,
    OutputRows,
    database_path,
    default_cache_folder,
    outputs_as_recorded,
)
from feeds.config import Config
from feeds.errors import ConfigError
from feeds.files import resolved
from feeds.filters import warnings_in_place
from feeds.lock import output_lock
from feeds.model import Article, FileStat, Level, Problem, forget_shared
from feeds.paths import MANIFEST_PATH, REPORT_PATH
from feeds.report import Report
from feeds.scan import Scan, scan, scan_file

if TYPE_CHECKING:
    from feeds.batches import Batch, Planned
    from feeds.collect import Collection
    from feeds.index import Index
    from feeds.publish import Publisher, Stager
    from feeds.render import ItemError

STORE_EVERY = 5_000  # outcomes kept in the cache at once while reading
MANIFEST_DIGEST = "manifest"  # the cache's key of `publish.Published.manifest`
RUNS_BEGUN = "runs"  # the cache's key of `publish.Publisher.runs`, while a run publishes
# The cache's key of the URLs of the subscription documents written that the WebSub hub has
# not taken yet: kept before the files are put in place, forgotten once the hub took them.
UNANNOUNCED = "websub"


Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True, slots=True)
class Checked:
    """The outcome of reading and validating every record, before anything is written."""

    articles: tuple[Article, ...]
    collection: Collection
    report: Report
    complete: bool = True  # every file could be read: none must be tried again next run
    file_problems: tuple[tuple[str, tuple[Problem, ...]], ...] = ()  # by file, for the index


def check(config: Config, cache: Cache | None = None, progress: Progress | None = None) -> Checked:
    """Read and validate every record of `config.seeds`, or the one record file it names;
    write nothing but the cache."""
    seeds = config.seeds
    if not seeds.is_dir() and (seeds.is_symlink() or seeds.exists()):
        # `feeds check article.md`: that entry alone, named as it is, found as a scan of its
        # folder finds it (a FIFO, a link to nowhere, a name that is not UTF-8 included).
        config = replace(config, seeds=seeds.parent)
        stats = scan_file(seeds)
    else:
        stats = _scan(config)
    with _collectable_afterwards():
        checked = _check(config, stats, cache, progress)
    notices = (*checked.report.notices, *_not_followed(stats))
    return replace(checked, report=replace(checked.report, notices=notices))


def build(config: Config, progress: Progress | None = None) -> Report:
    """Build every feed of `config` into its output folder and say what happened."""
    cache_folder = config.cache or default_cache_folder(config.output)
    _check_layout(config.seeds, config.output, cache_folder)
    with output_lock(config.output), _collectable_afterwards():
        database = database_path(cache_folder, config.seeds, config.output)
        found = _found_in(config.output)
        # Every output file's stat is checked meanwhile, in a process of its own (`beside.py`).
        with beside(lambda: outputs_as_recorded(database, found)) as outputs_checked:
            stats = _scan(config)
            cache = Cache(cache_folder, config.seeds, config.output)
            try:
                report = _build(config, stats, cache, progress, outputs_checked)
            finally:
                cache.close()
        return replace(report, notices=(*cache.notices, *_not_followed(stats), *report.notices))


def _not_followed(stats: Scan) -> tuple[str, ...]:
    """What a run says of each link to a folder in the seeds folder: on every run, as the scan
    finds it (not kept with the report: the link may go without any record changing)."""
    return tuple(
        f"{link} in the seeds folder is a link to a folder, which feeds does not follow (a link "
        "may lead back up the tree, or out of it): the records in it are not read; move or copy "
        "them into the seeds folder"
        for link in stats.links
    )


@contextlib.contextmanager
def _collectable_afterwards() -> Iterator[None]:
    """A run freezes what it made out of the garbage collector's sight (`_check`, `_publish`);
    when it ends, all is handed back, so a program that runs builds one after another does not
    keep every one's articles (nor the lists of topics and days' names they shared,
    `model.forget_shared`)."""
    try:
        yield
    finally:
        gc.unfreeze()
        forget_shared()


def _build(
    config: Config,
    stats: Scan,
    cache: Cache,
    progress: Progress | None,
    outputs_checked: Callable[[], bool | None],
) -> Report:
    state = _state(config, stats)
    last = _last_report(cache)
    stored = cache.get("state")  # None: the last run did not finish (or went without)
    # Every output file as the last complete build left it? Else the full way looks at each.
    in_place = (
        bool(last) and stored is not None and _outputs_in_place(cache, outputs_checked, config)
    )
    # Nothing changed since? Its warnings must still name where the configuration says what
    # they are about: a comment added above a filter moves its line (a delta run says them).
    if (
        last
        and in_place
        and stored == state
        and warnings_in_place(last.problems, config.filters, config.custom)
    ):
        report = replace(last, parsed=0, removed=(), refused=(), recent=())
        # Nothing changed, but a hub that failed (or a run killed before it told the hub) may
        # still have feeds to hear of.
        return _announce(config.websub_hub, cache, report) if config.websub_hub else report
    # A few records changed: the index of the last build says which pages they touch. Not when
    # the last run did not finish: a delta run killed before it published left its changes in
    # the index.
    rows = cache.output_rows()  # read a row at a time: a delta run asks for few
    outputs: Mapping[str, Known] = rows
    read: set[str] = set()  # the files a delta run read, should it go the full way after all
    found = _delta(config, stats, cache, last, rows, progress, read) if last and in_place else None
    indexed = False
    if found is not None:
        report, fresh = found
        gone, afresh = {*report.removed, *report.refused}, False
    else:
        checked = _check(config, stats, cache, progress, read)
        # What follows needs only the seeds folders' digests (for the index) and the links.
        folders = stats.digests()
        stats.let_go_of_entries()
        outputs = cache.output_fingerprints()  # after reading: a damaged cache may be replaced
        report, fresh, checked, indexed = _publish(
            config, checked, folders, outputs, cache, progress
        )
        gone, afresh = outputs.keys() - fresh.keys(), not outputs
    cache.store_outputs(fresh, outputs, gone, afresh=afresh)
    cache.put("report", codec.report_to_plain(_as_kept(report)))
    # When a file could not be read, the next run must try it again, changed or not; when a
    # file feeds did not write held a place, the next run must look whether it is still there.
    done = (found is not None or checked.complete) and not report.refused
    cache.put("state", state if done else None)
    if not done:
        cache.drop_index()
    elif indexed and cache.intact:  # last: it says the report is its own
        from feeds.index import index_about

        cache.describe_index(index_about(config))
    if config.websub_hub:
        report = _announce(config.websub_hub, cache, report)
    return report


def _delta(
    config: Config,
    stats: Scan,
    cache: Cache,
    last: Report,
    outputs: OutputRows,
    progress: Progress | None,
    read: set[str],
) -> tuple[Report, dict[str, Known]] | None:
    """Publish what the changed records changed (`delta.py`), given the outputs' fingerprints,
    sizes and mtimes before: the report, and those of the files made or kept now; None when the
    full way must (the files read meanwhile are in `read`)."""
    from feeds import delta
    from feeds.render import ItemError

    found = delta.run(config, stats, cache, last, outputs, progress, read)
    if found is None:
        return None
    try:
        report, fresh = _put_in_place(
            config,
            found.planned,
            found.changing,
            outputs,
            cache,
            found.report,
            progress,
            announced=found.subscribed,
        )
        found.store.forget(found.stale)
    # The full way leaves out an article whose item cannot be made, and says why; and reads
    # every record when the index no longer gives a page the rows it was planned from (its
    # pages' rows are read again as they are made).
    except (ItemError, codec.Damaged, sqlite3.Error):
        cache.drop_index()
        return None
    finally:
        found.close()
    return report, fresh


def _indexable(checked: Checked, cache: Cache) -> bool:
    """Whether a full build can be indexed for the next runs (`index.py`): when its articles are
    outlines (with the cache in memory they are not, and the index would be lost anyway)."""
    if not cache.intact:  # an index of records the cache lost, or cannot keep
        return False
    return all(a.place is not None for g in checked.collection.groups for a in g.articles)


def _index_writer(checked: Checked, folders: dict[str, bytes]) -> Callable[[Index], None]:
    return lambda index: index.write(
        checked.collection, checked.articles, checked.file_problems, folders
    )


# For this many articles, a full build writes its index in a process of its own while its pages
# are made (`_IndexBeside`): writing it took one core for 9 of the 63 s of a cold build at
# 100,000 records, while making pages keeps both busy (the build took 71 s instead of 80 to 84
# s, measured in turn). That process touches every article, so the process tree holds a second
# copy of their memory while it lasts (330 MB instead of 251 at 100,000 records, 811 MB at
# 400,000): beyond the upper bound, where a cold build nears its 1 GB (985 MB at 1,000,000
# records without the copy), the index is written first, in this process.
# Below the lower bound, a fork is not worth the few milliseconds the index takes.
INDEX_BESIDE = range(1_000, 400_001)


class _IndexBeside:
    """Writes a full build's index (`Cache.index_apart`) in a forked process while the pages
    are made: entered once the cache's last write before the pages is done (the writer holds
    the database's write lock), left before its next one; `written` says whether the index
    was. A build that fails meanwhile stops it (what it wrote stays undescribed), and a build
    killed takes it along (`libc.die_with`, on Linux). Without an answer (no process could be
    forked, it died: the out-of-memory killer picks it first) or with a failure there, the
    index is written here after the pages, as before: a failure is then said, a bug met.

    The writer's connection is its own, but SQLite's record of which files this process has
    open and locked is inherited with the fork: this process holds no transaction when it
    forks the writer, keeps its connections open and writes nothing to the cache while the
    writer lives, which `_put_in_place` does (it only reads, through connections of its own in
    WAL mode, as the workers do)."""

    def __init__(self, cache: Cache, write: Callable[[Index], None]) -> None:
        self.cache, self.write = cache, write
        self.written = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        if not self.cache.intact:  # since it was planned
            yield
            return
        with beside(self.cache.index_apart(self.write), dies_with_build=True) as answer:
            yield
            written = answer()
        self.written = written is True or self.cache.keep_index(self.write)


MAX_LEFT_OUT = 10  # articles whose items cannot be made, left out before the run gives up


def _publish(
    config: Config,
    checked: Checked,
    folders: dict[str, bytes],
    outputs: dict[str, Known],
    cache: Cache,
    progress: Progress | None,
) -> tuple[Report, dict[str, Known], Checked, bool]:
    """Publish; when one article's item cannot be made (a bug), reject its record, leave it out
    and publish again: one record never stops the build. Also what was published, and whether
    its index was written (`index.py`): not when an article was left out, which the index
    of its record's outcome would not say."""
    from feeds.render import ItemError

    # The digests of the seeds folders the index is of; none once an article is left out.
    index_of: dict[str, bytes] | None = folders
    for _ in range(MAX_LEFT_OUT):
        try:
            report, fresh, indexed = _publish_once(
                config, checked, index_of, outputs, cache, progress
            )
            return report, fresh, checked, indexed
        except ItemError as e:
            checked, index_of = _left_out(checked, config, e), None
    report, fresh, _ = _publish_once(config, checked, None, outputs, cache, progress)
    return report, fresh, checked, False


def _left_out(checked: Checked, config: Config, error: ItemError) -> Checked:
    """`checked` without the article whose item could not be made: the record's own article
    (the record is rejected), or a related article it mentions (dropped, with a warning)."""
    from feeds.collect import collect

    what = f"could not be written into a feed: {error.what}"
    what += " (a bug in feeds; please report it)" if error.bug else ""
    articles, rejected, problem = [], 0, None
    for article in checked.articles:
        if error.of_record(article):
            rejected, problem = 1, Problem(error.source, what)
            continue
        if error.of_mention_in(article):
            related = tuple(r for r in article.related if r.url != error.url)
            article = replace(article, related=related)
            problem = problem or Problem(error.source, what, "related", level=Level.WARNING)
        articles.append(article)
    if problem is None:  # not one record's doing after all
        raise error
    collection = collect(
        articles, kinds=config.groups, filters=config.filters, custom=config.custom
    )
    report = replace(
        checked.report,
        accepted=len(articles) - len(collection.duplicates),
        rejected=checked.report.rejected + rejected,
        duplicates=len(collection.duplicates),
        problems=(*checked.report.problems, problem),
        duplicate_notes=collection.duplicates,
        recent=(*checked.report.recent, problem),
        groups=len(collection.groups),
    )
    return replace(checked, articles=tuple(articles), collection=collection, report=report)


def _publish_once(
    config: Config,
    checked: Checked,
    folders: dict[str, bytes] | None,
    outputs: dict[str, Known],
    cache: Cache,
    progress: Progress | None,
) -> tuple[Report, dict[str, Known], bool]:
    """Plan every file, index the build (given the digests of the seeds folders it was read
    from: before the files are made, or while they are, `_IndexBeside`), make those whose
    inputs changed (by fingerprint) and put everything in place (`_put_in_place`); also whether
    it was indexed."""
    # Imported here, not above: a run with nothing to do never renders, and these modules
    # (feedgen, lxml, nh3, markdown-it) are most of its start-up time.
    from feeds.batches import noting_months
    from feeds.cache import OutcomeReader
    from feeds.complete import Completer
    from feeds.itemstore import ItemStore
    from feeds.render import plan
    from feeds.site import listings, plan_site

    store = ItemStore(cache.item_store())
    reader = OutcomeReader(cache.database)
    whole = Completer(config.seeds, reader).wholes
    # The pages and each day's articles first (`render.plan`): finding those takes, while it
    # lasts, a list entry for each time a page shows an article, which would add to the rows
    # the index holds while it is written (`Cache.keep_index`).
    pages = plan(checked.collection, config, store, whole)
    indexed, beside_pages = False, None
    if folders is not None and _indexable(checked, cache):
        write = _index_writer(checked, folders)
        if len(checked.articles) in INDEX_BESIDE and forkable():
            beside_pages = _IndexBeside(cache, write)
        else:
            indexed = cache.keep_index(write)
    # One file at a time, held by nobody here: the files made are let go as they are recorded
    # (`_put_in_place`), when a cold build's process is at its biggest.
    months: set[str] = set()
    planned = noting_months(chain(pages, plan_site(listings(checked.collection), config)), months)
    try:
        report, fresh = _put_in_place(
            config,
            planned,
            None,
            outputs,
            cache,
            checked.report,
            progress,
            _subscribed(checked, config),
            alongside=beside_pages or contextlib.nullcontext,
        )
    finally:
        store.close()
        reader.close()
    store.prune(months)
    cache.forget_shared_item_store()
    return report, fresh, indexed or (beside_pages is not None and beside_pages.written)


def _put_in_place(
    config: Config,
    planned: Iterable[Planned],
    changing: Set[str] | None,
    outputs: Mapping[str, Known],
    cache: Cache,
    report: Report,
    progress: Progress | None,
    announced: Set[str] = frozenset(),
    alongside: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
) -> tuple[Report, dict[str, Known]]:
    """Make the planned files whose fingerprint (or file) changed, keep the others, put
    everything in place; the report, and each planned file's fingerprint, size and mtime for the
    next run. On the full way every file is planned (`changing` None); a delta run's keeps every
    file the last run left but the `changing` ones. Those of `announced` (the subscription
    documents) that are written are kept for the WebSub hub to hear of (`_announce`)."""
    from feeds.publish import Publisher

    begun = cache.get(RUNS_BEGUN)  # plain data, whatever a damaged cache holds
    publisher = Publisher(
        config.output,
        outputs,
        trusted=cache.get(MANIFEST_DIGEST),
        begun=begun if isinstance(begun, list) else (),
    )
    if changing is not None:
        publisher.keep_recorded(but=changing)
    found = _found_in(config.output)
    # Kept twice, in the cache and the journal (`begin`): a killed run's temporary files are
    # swept by the next run while either still names it. Kept before the plan is gone through:
    # the cache's last write before the pages, after which what goes `alongside` them (a full
    # build's index) begins, beside the fingerprinting of every planned file.
    cache.put(RUNS_BEGUN, publisher.runs)
    gc.freeze()  # the plan: a forked process's collections must not write to (and copy) its pages
    try:
        with alongside():  # from here until the pages are made, the cache is not written
            fresh, batches = _kept_or_claimed(planned, outputs, found, publisher)
            report_claimed = publisher.claim(REPORT_PATH)
            gc.freeze()  # what the workers inherit too
            publisher.begin()
            # A delta run (`changing` given) makes its files in its own process: its memory is
            # bounded by its work, and each forked worker would add a copy of what it touches.
            _render(list(batches.values()), publisher, progress, may_fork=changing is None)
        if report_claimed:
            records = report.records_json_bytes()
            publisher.add(REPORT_PATH, publisher.stager.stage(REPORT_PATH, records))
        if config.websub_hub:  # before any is in place: a run killed then leaves them said
            _keep_unannounced(cache, [config.url(p) for p in publisher.staged if p in announced])
        published = publisher.finish()
    except BaseException:
        publisher.abort()
        raise
    cache.put(MANIFEST_DIGEST, published.manifest)
    cache.put(RUNS_BEGUN, [])
    # Stat after `finish`: the files are in place now. Each batch let go once recorded: a
    # cold build's plan makes way for what the next run needs of it.
    while batches:
        for item in batches.popitem()[1]:
            fresh[item.path] = (item.fingerprint, *found(item.path))
    if report_claimed:  # recorded too, to be recognized as ours (its fingerprint: none)
        fresh[REPORT_PATH] = (b"", *found(REPORT_PATH))
    report = replace(
        report,
        written=published.written,
        unchanged=published.unchanged,
        removed=published.removed,
        refused=published.refused,
        notices=(*report.notices, *published.notices),
    )
    return report, fresh


def _kept_or_claimed(
    planned: Iterable[Planned],
    outputs: Mapping[str, Known],
    found: Callable[[str], tuple[int, int]],
    publisher: Publisher,
) -> tuple[dict[str, Known], dict[Batch, list[Planned]]]:
    """Each planned file kept as it is (its fingerprint and its file as recorded), by path, or
    claimed to be made, in its batch."""
    kept: dict[str, Known] = {}
    batches: dict[Batch, list[Planned]] = {}
    for item in planned:
        known = outputs.get(item.path)
        if known and known[0] == item.fingerprint and found(item.path) == known[1:]:
            if publisher.keep(item.path):
                kept[item.path] = known
        elif publisher.claim(item.path):
            batches.setdefault(item.batch, []).append(item)
    return kept, batches


def _announce(hub: str, cache: Cache, report: Report) -> Report:
    """Notify the hub of the subscription documents written since it last took a notification:
    this run's, and those a run whose hub failed, or that was killed first, left (not archives:
    their subscribers are the feeds' own). Kept until the hub takes them."""
    from feeds.websub import notify

    urls = _unannounced(cache)
    if not urls:
        return report
    taken: list[str] = []
    problem = notify(hub, urls, taken=taken)
    # What the hub took is not told again, what it did not is: a hub that takes a few batches
    # of a big change per run (a limit on requests, the deadline) hears of all in a few runs.
    done = set(taken)
    cache.put(UNANNOUNCED, [url for url in urls if url not in done])
    return replace(report, notified=tuple(urls), hub_problem=problem)


def _subscribed(checked: Checked, config: Config) -> Set[str]:
    """The subscription documents a full build announces: none without a hub."""
    if not config.websub_hub:
        return frozenset()
    return {g.file(fmt) for g in checked.collection.groups for fmt in config.formats}


def _unannounced(cache: Cache) -> list[str]:
    kept = cache.get(UNANNOUNCED)  # plain data, whatever a damaged cache holds
    return [url for url in kept if isinstance(url, str)] if isinstance(kept, list) else []


def _keep_unannounced(cache: Cache, urls: list[str]) -> None:
    if urls:
        cache.put(UNANNOUNCED, list(dict.fromkeys([*_unannounced(cache), *urls])))


BIG_BATCH = 5_000  # items: a batch this big gets a newly forked worker of its own
PARALLEL_WORK = 100_000  # items: less is made in this process (a small site)


def _render(
    batches: list[list[Planned]],
    publisher: Publisher,
    progress: Progress | None,
    may_fork: bool,
) -> None:
    """Make and stage every batch's files. Stage by stage (`Planned.stage`), the biggest batches
    first so that workers finish together."""
    make = partial(_make_batch, publisher.stager)
    in_workers = may_fork and sum(_work(batch) for batch in batches) >= PARALLEL_WORK
    done, total = 0, sum(len(batch) for batch in batches)
    for stage in sorted({batch[0].stage for batch in batches}):
        ordered = sorted((b for b in batches if b[0].stage == stage), key=_work, reverse=True)
        for batch, staged in zip(ordered, _made(make, ordered, in_workers), strict=True):
            for item, was_staged in zip(batch, staged, strict=True):
                publisher.add(item.path, was_staged)
            done += len(batch)
            if progress:
                progress("feeds written", done, total)


def _made(
    make: Callable[[list[Planned]], list[bool]],
    ordered: list[list[Planned]],
    in_workers: bool,
) -> Iterator[list[bool]]:
    """Each batch made, in order; on every core when there is enough work. A forked worker ends
    up with a private copy of every page of the parent's memory it touched: for a delta run's
    few thousand items that costs more memory than the cores save time (the same seconds,
    measured at 300,000 records, and a third more memory), and a custom feed chosen again (half
    the archive's items at 300,000 records) 11.6 s and 409 MB for its process tree on two cores
    against 18.5 s and 257 MB in one process. A month of a big site touches much: a big batch
    gets a newly forked worker; small ones are not worth a fork each."""
    if not in_workers:
        yield from map(make, ordered)
        return
    from feeds.parallel import give_back_memory, ordered_map

    give_back_memory()  # what the reading, indexing and planning freed: the workers come next
    big = [batch for batch in ordered if _work(batch) >= BIG_BATCH]
    for new_workers, work in ((True, big), (False, ordered[len(big) :])):
        yield from ordered_map(make, work, min_items=2, fresh=new_workers)


def _work(batch: list[Planned]) -> int:
    return sum(item.size for item in batch)


def _make_batch(stager: Stager, batch: list[Planned]) -> list[bool]:
    """Make a batch's files and stage them beside their targets; whether each was (in a worker
    process: only these travel back). Format by format: in a full build of a big archive the
    worker then holds one format's items of the batch at a time (`render.ONE_FORMAT_OVER`);
    otherwise it holds every format's, and the order changes nothing."""
    formats: dict[str, int] = {}
    for item in batch:
        formats.setdefault(item.fmt, len(formats))
    staged = [False] * len(batch)
    for place in sorted(range(len(batch)), key=lambda place: formats[batch[place].fmt]):
        item = batch[place]
        staged[place] = stager.stage(item.path, item.make())
    return staged


def _check(
    config: Config,
    stats: Sequence[FileStat],
    cache: Cache | None,
    progress: Progress | None,
    read: Set[str] = frozenset(),
) -> Checked:
    """Every record's outcome, read now or from the cache, collected. `read`: files read earlier
    in this run (by a delta run that then declined), whose outcomes the cache holds now: said
    and counted as read now."""
    # Reading makes hundreds of thousands of objects that live until the end and hold no cycles:
    # the cyclic garbage collector, run over and over as they pile up, would only cost time
    # (a third of it at 100,000 records). Afterwards they are frozen out of its sight, which also
    # keeps forked workers from touching (and so copying) their memory pages.
    gc.disable()
    if cache:  # the record outcomes change now: the index would describe other ones
        cache.drop_index()
    try:
        return _read_and_collect(config, stats, cache, progress, read)
    finally:
        gc.freeze()
        gc.enable()


def _read_and_collect(
    config: Config,
    stats: Sequence[FileStat],
    cache: Cache | None,
    progress: Progress | None,
    read_before: Set[str],
) -> Checked:
    files_read = ignored = records = rejected = parsed = 0
    complete = True
    articles: list[Article] = []
    problems: list[Problem] = []
    recent: list[Problem] = []  # the problems of the files looked at now, not taken from the cache
    file_problems: list[tuple[str, tuple[Problem, ...]]] = []
    fresh: set[str] = set()
    # The files read now, with their encoded outcome (outline and texts).
    read: list[tuple[FileStat, tuple[bytes, bytes]]] = []

    def tick(done: int) -> None:
        if progress:
            progress("records read", done, len(stats))

    # Imported here: a run with nothing to do never reads a record (nor loads YAML, dateutil,
    # multiprocessing for it).
    from feeds.collect import collect
    from feeds.ingest import ingest

    known = cache.outcomes(stats) if cache else {}
    # With the cache on disk, where every worker can find the texts, the parent holds outlines.
    outlines = cache is not None and cache.database is not None
    for (outcome, encoded), stat in zip(
        ingest(config.seeds, stats, known, tick, outlines=outlines), stats, strict=True
    ):
        files_read += 1
        ignored += outcome.ignored
        records += outcome.records
        rejected += outcome.rejected
        articles.extend(outcome.articles)
        problems.extend(outcome.problems)
        if outcome.problems:
            file_problems.append((stat.path, outcome.problems))
        # Read earlier in this run (by a delta run that declined): its outcome is the cache's.
        read_earlier = stat.path in read_before and outcome is known.get(stat.path)
        if outcome is not known.get(stat.path) or read_earlier:
            recent.extend(outcome.problems)
            fresh.add(stat.path)
        complete = complete and not outcome.retry
        parsed += encoded is not None or read_earlier
        if stat.size < 0 and cache:  # skipped: kept too, for a delta run to compare and count
            encoded = codec.encode_outcome(outcome)
        if encoded is not None and cache:
            read.append((stat, encoded))
            if len(read) >= STORE_EVERY:  # a few at a time: they take memory
                cache.store_outcomes(read)
                read.clear()
    if cache:
        cache.store_outcomes(read)
        cache.forget_files_except({s.path for s in stats})
    collection = collect(
        articles, kinds=config.groups, filters=config.filters, custom=config.custom
    )
    duplicates = len(collection.duplicates)
    report = Report(
        files_read=files_read,
        files_ignored=ignored,
        records=records,
        accepted=len(articles) - duplicates,
        rejected=rejected,
        duplicates=duplicates,
        problems=(*problems, *collection.warnings),
        duplicate_notes=collection.duplicates,
        # The configuration's warnings are said on every run that does work: they are few, and
        # a run after the configuration changed must say them.
        recent=(
            *recent,
            *collection.warnings,
            *(
                note
                for note, kept in zip(collection.duplicates, collection.kept_instead, strict=True)
                if note.path in fresh or kept in fresh
            ),
        ),
        groups=len(collection.groups),
        parsed=parsed,
    )
    return Checked(tuple(articles), collection, report, complete, tuple(file_problems))


def _check_layout(seeds: Path, output: Path, cache: Path) -> None:
    """Refuse folders that overlap: feeds would read its own feeds back as records, publish its
    cache, or delete records as stale outputs."""
    seeds, output, cache = resolved(seeds), resolved(output), resolved(cache)
    if output.is_relative_to(seeds):
        where = "is" if output == seeds else "is inside"
        raise ConfigError(
            f"the output folder {str(output)!r} {where} the seeds folder: feeds would read its "
            "own feeds back as records; choose another output folder"
        )
    if seeds.is_relative_to(output):
        raise ConfigError(
            f"the seeds folder {str(seeds)!r} is inside the output folder: the records would be "
            "published; choose another output folder"
        )
    for folder, name, harm in (
        (output, "output", "published"),
        (seeds, "seeds", "read as records"),
    ):
        if cache.is_relative_to(folder):
            raise ConfigError(
                f"the cache folder {str(cache)!r} is inside the {name} folder: it would be "
                f"{harm}; choose another cache folder (--cache)"
            )


def _scan(config: Config) -> Scan:
    if not config.seeds.is_dir():
        raise ConfigError(f"seeds folder {str(config.seeds)!r} does not exist or is not a folder")
    try:
        return scan(config.seeds)
    except OSError as e:  # a folder that cannot be listed: its records are not gone, just unseen
        where = e.filename or config.seeds
        raise ConfigError(
            f"the seeds folder {str(where)!r} cannot be read ({e.strerror or e}); nothing was "
            "written, the feeds stay as they were"
        ) from e


def _state(config: Config, stats: Scan) -> str:
    """Everything a build's output depends on, short of reading a file: if this is unchanged since
    the last complete build, and its outputs are still in place, there is nothing to do."""
    settings = config.without_folders()
    digest = hashlib.sha256(f"{CODE_DIGEST}|{settings!r}|{len(stats)}|".encode())
    for folder, found in stats.digests().items():  # of its files' names, sizes and stamps
        digest.update(folder.encode("utf-8", "surrogateescape") + b"\0" + found)
    return digest.hexdigest()


def _as_kept(report: Report) -> Report:
    """The report as the cache keeps it: what the next run with nothing to do says, every file
    unchanged. Not the names of the files written: a cold build of 1,000,000 records writes
    440,000, and decoding them again would double the time of the run after it."""
    files = len(report.written) + report.unchanged
    return replace(report, written=(), unchanged=files, notices=())


def _last_report(cache: Cache) -> Report | None:
    try:
        return codec.report_from_plain(cache.get("report"))
    except codec.Damaged:
        return None


def _outputs_in_place(cache: Cache, checked: Callable[[], bool | None], config: Config) -> bool:
    """Whether every output file is as the last run recorded it: the answer of the check run
    beside the scan, else the cache's own; and the manifest of them there (the cache records
    no stat of it: one deleted stayed gone until the files owned changed; the full way, which
    knows its files by the cache's record of them, writes it again)."""
    answer = checked()
    if answer is None:
        answer = cache.outputs_in_place(_found_in(config.output))
    return answer and os.path.isfile(os.path.join(config.output, MANIFEST_PATH))


def _found_in(output: Path) -> Callable[[str], tuple[int, int]]:
    """The size and mtime of an output file now, by its path. Paths are joined as text:
    `pathlib` would cost more than the `stat` calls themselves."""
    folder = os.fspath(output) + os.sep
    return lambda path: _stat(folder + path)


def _stat(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)
