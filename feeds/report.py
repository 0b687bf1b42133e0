"""What a run did, for people (one summary line, then details) and for programs (JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from feeds.model import Level, Problem


@dataclass(frozen=True, slots=True)
class Report:
    files_read: int
    files_ignored: int
    records: int  # records found in record files; a file that could not be read counts as one
    accepted: int
    rejected: int
    duplicates: int
    problems: tuple[Problem, ...] = ()  # rejections and warnings, in file order
    duplicate_notes: tuple[Problem, ...] = ()
    # Of both, those about the files read in this run (and every one on a run that read all):
    # what a run prints. The others were printed when their files were read.
    recent: tuple[Problem, ...] = ()
    groups: int = 0
    parsed: int = 0  # files read and validated this run; the others came from the cache
    written: tuple[str, ...] = ()
    unchanged: int = 0
    removed: tuple[str, ...] = ()  # files of groups that disappeared
    refused: tuple[str, ...] = ()  # paths held by files this tool did not write
    notified: tuple[str, ...] = ()  # feed URLs announced to the WebSub hub
    hub_problem: str | None = None  # why the hub did not take them
    notices: tuple[str, ...] = ()  # warnings about the run itself: cache, output folder

    @property
    def rejections(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level is Level.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level is Level.WARNING)

    @property
    def earlier(self) -> int:
        """How many problems and duplicate notes were printed by earlier runs, not this one."""
        return len(self.problems) + len(self.duplicate_notes) - len(self.recent)

    def records_line(self) -> str:
        return (
            f"{count(self.files_read, 'file')} ({self.files_ignored} ignored, "
            f"{self.parsed} parsed): {count(self.records, 'record')}, {self.accepted} accepted, "
            f"{self.rejected} rejected, {count(self.duplicates, 'duplicate')}"
        )

    def summary(self) -> str:
        files = len(self.written) + self.unchanged
        line = (
            f"{self.records_line()}; {count(self.groups, 'feed')} in {count(files, 'file')}, "
            f"{len(self.written)} written, {self.unchanged} unchanged"
        )
        if self.removed:
            line += f", {len(self.removed)} removed"
        if not self.written and not self.removed:
            line += " (nothing changed)"
        return line

    def to_json(self) -> dict[str, Any]:
        """Everything, for `--json`."""
        return {
            **self.records_json(),
            "files_parsed": self.parsed,
            "files_written": list(self.written),
            "files_unchanged": self.unchanged,
            "files_removed": list(self.removed),
            "files_refused": list(self.refused),
            "websub_notified": list(self.notified),
            "websub_problem": self.hub_problem,
            "notices": list(self.notices),
        }

    def records_json(self) -> dict[str, Any]:
        """What the input was, without what this run wrote: the same input gives the same bytes."""
        return {
            "files": {"read": self.files_read, "ignored": self.files_ignored},
            "records": {
                "found": self.records,
                "accepted": self.accepted,
                "rejected": self.rejected,
                "duplicate": self.duplicates,
            },
            "rejections": [_problem_json(p) for p in self.rejections],
            "warnings": [_problem_json(p) for p in self.warnings],
            "duplicates": [_problem_json(p) for p in self.duplicate_notes],
            "feeds": self.groups,
        }

    def records_json_bytes(self) -> bytes:
        return (json.dumps(self.records_json(), indent=2, ensure_ascii=False) + "\n").encode()


def count(number: int, noun: str, plural: str = "") -> str:
    """`1 file`, `2 files`, `0 files`."""
    return f"{number} {noun}" if number == 1 else f"{number} {plural or noun + 's'}"


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "path": problem.path,
        "line": problem.line,
        "field": problem.field,
        "message": problem.message,
    }
