"""Plain data for the cache: what a build keeps between runs, as checked JSON.

The cache is a file anyone with access to it may change or damage. So it holds plain data only
(JSON: reading it back can build values, never run code, unlike pickle), and every stored value is
sealed with a checksum of its bytes: a flipped bit, a torn write or a file cut short is found when
the value is read, and the value is treated as missing (the work is done again). A value that is
well-formed JSON of the wrong shape fails to decode, and is treated the same way.

Records are lists in field order, not objects: an incremental run decodes every record's outcome,
and lists are the fastest shape to build and read.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import fields
from datetime import datetime
from typing import Any

from feeds.model import Article, FileOutcome, Image, Level, Problem, Provider
from feeds.report import Report

_CHECK = 4  # bytes of CRC-32 in front of each sealed value

_decode_json = json.JSONDecoder().decode
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Damaged(ValueError):
    """A stored value whose bytes or shape are not what was stored."""


def seal(data: bytes) -> bytes:
    """`data` with its checksum in front."""
    return zlib.crc32(data).to_bytes(_CHECK, "big") + data


def unseal(blob: bytes) -> bytes:
    """The data sealed in `blob`; `Damaged` when it does not match its checksum."""
    data = blob[_CHECK:]
    if len(blob) < _CHECK or zlib.crc32(data).to_bytes(_CHECK, "big") != blob[:_CHECK]:
        raise Damaged("the stored value does not match its checksum")
    return data


def dump(value: Any) -> bytes:
    """Plain data (JSON types only), sealed."""
    return seal(_encode_json(value).encode())


def load(blob: bytes) -> Any:
    """What `dump` sealed; `Damaged` when it cannot be."""
    try:
        return _decode_json(unseal(blob).decode())
    except (ValueError, RecursionError, MemoryError) as e:  # a planted value with a right CRC
        raise Damaged(f"{type(e).__name__}: {e}") from e


def encode_outcome(outcome: FileOutcome) -> bytes:
    return dump(
        [
            outcome.path,
            outcome.ignored,
            outcome.records,
            outcome.rejected,
            [_article(a) for a in outcome.articles],
            [problem_to_plain(p) for p in outcome.problems],
            outcome.retry,
        ]
    )


def decode_outcome(blob: bytes) -> FileOutcome:
    """The outcome `encode_outcome` stored; `Damaged` when it cannot be read back."""
    try:
        path, ignored, records, rejected, articles, problems, retry = load(blob)
        return FileOutcome(
            _text(path),
            ignored is True,
            int(records),
            int(rejected),
            tuple(map(_to_article, articles)),
            tuple(map(problem_from_plain, problems)),
            retry is True,
        )
    except (TypeError, ValueError, IndexError, KeyError, OverflowError) as e:
        raise Damaged(f"not a stored outcome: {e}") from e


def problem_to_plain(p: Problem) -> list[Any]:
    return [p.path, p.message, p.field, p.line, p.level.value]


def problem_from_plain(value: list[Any]) -> Problem:
    path, message, field, line, level = value
    return Problem(_text(path), _text(message), _maybe_text(field), _maybe_int(line), Level(level))


def _article(a: Article) -> list[Any]:
    return [
        a.url,
        a.title,
        a.published.isoformat(),
        a.updated.isoformat() if a.updated else None,
        a.excerpt,
        a.body,
        _provider(a.provider) if a.provider else None,
        list(a.topics),
        [_image(i) for i in a.images],
        [_article(r) for r in a.related],
        a.amp_url,
        a.category,
        a.type,
        a.quality,
        a.heat,
        a.is_published,
        a.source,
        a.revision,
    ]


def _to_article(v: list[Any]) -> Article:
    (url, title, published, updated, excerpt, body, provider, topics, images, related, amp_url,
     category, kind, quality, heat, is_published, source, revision) = v  # fmt: skip
    return Article(  # by position, in `_article`'s order: a third faster than by keyword
        _text(url),
        _text(title),
        _time(published),
        _time(updated) if updated is not None else None,
        _maybe_text(excerpt),
        _maybe_text(body),
        _to_provider(provider) if provider is not None else None,
        tuple(map(_text, topics)),
        tuple(map(_to_image, images)) if images else (),
        tuple(map(_to_article, related)) if related else (),
        _maybe_text(amp_url),
        _maybe_text(category),
        _maybe_text(kind),
        _maybe_int(quality),
        _maybe_int(heat),
        None if is_published is None else is_published is True,
        _text(source),
        _text(revision),
    )


def _provider(p: Provider) -> list[Any]:
    return [p.key, p.name, p.domain, _image(p.logo) if p.logo else None]


def _to_provider(v: list[Any]) -> Provider:
    key, name, domain, logo = v
    return Provider(_text(key), _text(name), _maybe_text(domain), _to_image(logo) if logo else None)


def _image(i: Image) -> list[Any]:
    return [i.url, i.width, i.height, i.title]


def _to_image(v: list[Any]) -> Image:
    url, width, height, title = v
    return Image(_text(url), _maybe_int(width), _maybe_int(height), _maybe_text(title))


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(_text(value))
    if parsed.tzinfo is None:
        raise ValueError("a stored time without its offset")
    return parsed


def _text(value: Any) -> str:
    if type(value) is not str:
        raise TypeError(f"expected text, found {type(value).__name__}")
    return value


def _maybe_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _maybe_int(value: Any) -> int | None:
    if value is None:
        return None
    if type(value) is not int:
        raise TypeError(f"expected a whole number, found {type(value).__name__}")
    return value


_PROBLEM_LISTS = ("problems", "duplicate_notes", "recent")


def report_to_plain(report: Report) -> dict[str, Any]:
    """The report as plain data: what a run with nothing to do says again."""
    plain: dict[str, Any] = {}
    for field in fields(report):
        value = getattr(report, field.name)
        if field.name in _PROBLEM_LISTS:
            value = [problem_to_plain(p) for p in value]
        elif isinstance(value, tuple):
            value = list(value)
        plain[field.name] = value
    return plain


def report_from_plain(plain: Any) -> Report:
    """The report `report_to_plain` kept; `Damaged` when it is not one."""
    try:
        values: dict[str, Any] = {}
        for field in fields(Report):
            value = plain[field.name]
            if field.name in _PROBLEM_LISTS:
                value = tuple(map(problem_from_plain, value))
            elif isinstance(value, list):
                value = tuple(map(_text, value))
            elif field.type == "int":
                value = _maybe_int(value) or 0
            elif value is not None:
                value = _text(value)
            values[field.name] = value
        return Report(**values)
    except (TypeError, ValueError, KeyError) as e:
        raise Damaged(f"not a stored report: {e}") from e
