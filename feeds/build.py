"""The pipeline, assembled: read -> validate -> collect -> render -> publish -> report.

Each record ends as an accepted article, a rejection with its reason, a duplicate, or (for files
that are not records) ignored; no single record can stop the run (SPEC §3).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import chain

from feeds.collect import Collection, collect
from feeds.config import Config, ConfigError
from feeds.model import Article, Problem
from feeds.publish import publish
from feeds.records import read_folder
from feeds.render import render_files
from feeds.report import Report
from feeds.validate import validate

# The records part of the report, kept with the output. Hidden, because a published site need not
# show its rejected drafts; `--json` prints the same and more.
REPORT_PATH = ".feeds-report.json"


@dataclass(frozen=True, slots=True)
class Checked:
    """The outcome of reading and validating every record, before anything is written."""

    articles: tuple[Article, ...]
    collection: Collection
    report: Report


def check(config: Config) -> Checked:
    """Read and validate every record of `config.seeds`; write nothing."""
    if not config.seeds.is_dir():
        raise ConfigError(f"seeds folder {str(config.seeds)!r} does not exist or is not a folder")
    files_read = ignored = records = rejected = 0
    articles: list[Article] = []
    problems: list[Problem] = []
    for result in read_folder(config.seeds):
        files_read += 1
        if result.ignored:
            ignored += 1
        elif result.problem:
            records += 1
            rejected += 1
            problems.append(result.problem)
        for raw in result.records:
            records += 1
            outcome = validate(raw)
            problems.extend(outcome.problems)
            if outcome.article is None:
                rejected += 1
            else:
                articles.append(outcome.article)
    collection = collect(articles)
    duplicates = len(collection.duplicates)
    report = Report(
        files_read=files_read,
        files_ignored=ignored,
        records=records,
        accepted=len(articles) - duplicates,
        rejected=rejected,
        duplicates=duplicates,
        problems=tuple(problems),
        duplicate_notes=collection.duplicates,
        groups=len(collection.groups),
    )
    return Checked(tuple(articles), collection, report)


def build(config: Config) -> Report:
    """Build every feed of `config` into its output folder and say what happened."""
    checked = check(config)
    report_file = (REPORT_PATH, checked.report.records_json_bytes())
    files = chain(render_files(checked.collection, config), [report_file])
    published = publish(config.output, files)
    return replace(checked.report, written=published.written, unchanged=len(published.unchanged))
