"""Read and validate the seeds folder, one outcome per file, re-reading only files that changed.

A file's outcome (its articles, rejections, warnings, or "ignored") depends on its bytes alone, so
it is kept in the cache under the file's size and mtime; an unchanged file is not read again.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from feeds.model import Article, Problem, pickle_by_fields
from feeds.parallel import ordered_map
from feeds.records import iter_record_files, read_file
from feeds.validate import validate


@dataclass(frozen=True, slots=True)
class FileStat:
    path: str  # relative to the seeds folder, with `/`
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class FileOutcome:
    __reduce__ = pickle_by_fields

    path: str
    ignored: bool = False
    records: int = 0
    rejected: int = 0
    articles: tuple[Article, ...] = ()
    problems: tuple[Problem, ...] = ()  # rejections and warnings, in order


def scan(seeds: Path) -> list[FileStat]:
    """Every candidate file under `seeds`, sorted, with what tells whether it changed."""
    stats = []
    for name, entry in iter_record_files(seeds):
        try:
            st = entry.stat()
            size, mtime = st.st_size, st.st_mtime_ns
        except OSError:
            size, mtime = -1, -1  # unreadable: `read_file` says why
        stats.append(FileStat(name, size, mtime))
    return stats


def ingest_file(seeds: Path, name: str) -> FileOutcome:
    result = read_file(seeds / name, name)
    if result.ignored:
        return FileOutcome(name, ignored=True)
    if result.problem:
        return FileOutcome(name, records=1, rejected=1, problems=(result.problem,))
    articles: list[Article] = []
    problems: list[Problem] = []
    for raw in result.records:
        checked = validate(raw, result.revision)
        problems.extend(checked.problems)
        if checked.article:
            articles.append(checked.article)
    rejected = len(result.records) - len(articles)
    return FileOutcome(name, False, len(result.records), rejected, tuple(articles), tuple(problems))


def ingest(
    seeds: Path,
    stats: list[FileStat],
    cached: Mapping[str, FileOutcome],
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[FileOutcome, bytes | None]]:
    """Each file's outcome, from `cached` (by path) when it has one, else read now (on every
    core when there are many); for a file read now, with the outcome pickled for the cache (the
    bytes that brought it from the worker)."""
    known = [cached.get(stat.path) for stat in stats]
    missing = [stat.path for stat, outcome in zip(stats, known, strict=True) if outcome is None]
    fresh = ordered_map(partial(_ingest_pickled, seeds), missing)
    for done, outcome in enumerate(known, start=1):
        if outcome:
            yield outcome, None
        else:
            pickled = next(fresh)
            yield pickle.loads(pickled), pickled
        if progress:
            progress(done)


def _ingest_pickled(seeds: Path, name: str) -> bytes:
    return pickle.dumps(ingest_file(seeds, name), pickle.HIGHEST_PROTOCOL)
