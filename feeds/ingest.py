"""Read and validate the seeds folder, one outcome per file, re-reading only files that changed.

A file's outcome (its articles, rejections, warnings, or "ignored") depends on its bytes alone, so
it is kept in the cache under the file's size and change stamp (`scan.change_stamp`: its
ctime); an unchanged file is not read again. A file that could not be read (permissions, a
link to nowhere) is never kept: it is tried again on the next run, even unchanged. What is not a
regular file with a UTF-8 name is never opened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path

from feeds import codec
from feeds.model import Article, FileOutcome, FileStat, Level, Problem
from feeds.parallel import ordered_map
from feeds.records import read_file
from feeds.validate import validate


def _skipped_outcome(file: FileStat) -> FileOutcome:
    problem = file.skip
    if problem is None:
        return FileOutcome(file.path, ignored=True)
    if problem.level is Level.WARNING:
        return FileOutcome(file.path, ignored=True, problems=(problem,))
    # Not `retry`: what made it unreadable (a name, a link) shows in the next scan when it changes.
    return FileOutcome(file.path, records=1, rejected=1, problems=(problem,))


def ingest_file(seeds: Path, name: str) -> FileOutcome:
    def crashed(where: str, e: Exception) -> Problem:
        # A bug in feeds must cost the one record (or file) it met, never the build: say so in
        # words that get it reported, cut short (an exception may quote a megabyte of record).
        what = f"{type(e).__name__}: {e}"
        what = what if len(what) <= 200 else what[:199] + "…"
        return Problem(where, f"could not be processed: {what} (a bug in feeds; please report it)")

    try:
        result = read_file(seeds / name, name)
    except Exception as e:  # read_file reports what is wrong with a file; anything else is a bug
        return FileOutcome(name, records=1, rejected=1, problems=(crashed(name, e),))
    if result.ignored:
        return FileOutcome(name, ignored=True)
    if result.problem:
        failed = (result.problem,)
        return FileOutcome(name, records=1, rejected=1, problems=failed, retry=result.transient)
    articles: list[Article] = []
    problems: list[Problem] = list(result.warnings)
    for raw in result.records:
        try:
            checked = validate(raw, result.revision)
        except Exception as e:  # validate rejects what is wrong with a record; this is a bug
            problems.append(crashed(f"{name} ({raw.label})" if raw.label else name, e))
            continue
        problems.extend(checked.problems)
        if checked.article:
            articles.append(checked.article)
    rejected = len(result.records) - len(articles)
    return FileOutcome(name, False, len(result.records), rejected, tuple(articles), tuple(problems))


def ingest(
    seeds: Path,
    stats: Sequence[FileStat],
    cached: Mapping[str, FileOutcome],
    progress: Callable[[int], None] | None = None,
    *,
    outlines: bool = False,
) -> Iterator[tuple[FileOutcome, tuple[bytes, bytes] | None]]:
    """Each file's outcome, from `cached` (by path) when it has one, else read now (on every
    core when there are many); for a file read now, with the outcome encoded for the cache (the
    bytes that brought it from the worker), unless it must be read again next time. With
    `outlines`, files read now give outlines too (their texts are in the encoded outcome, which
    the caller keeps in the cache): a first build then holds no article's texts."""
    known = [_skipped_outcome(s) if s.size < 0 else cached.get(s.path) for s in stats]
    missing = [file.path for file, outcome in zip(stats, known, strict=True) if outcome is None]
    fresh = ordered_map(partial(_ingest_encoded, seeds), missing)
    for done, (stat, outcome) in enumerate(zip(stats, known, strict=True), start=1):
        if outcome:
            yield outcome, None
        else:
            outline, texts = encoded = next(fresh)
            outcome = codec.decode_outcome(outline, None if outlines else texts, stat.path)
            yield outcome, None if outcome.retry else encoded
        if progress:
            progress(done)


def _ingest_encoded(seeds: Path, name: str) -> tuple[bytes, bytes]:
    """In a worker: the file's outcome as plain data, which is what the cache keeps (decoding it
    costs what unpickling would)."""
    return codec.encode_outcome(ingest_file(seeds, name))
