"""Plain data for the cache: what a build keeps between runs, as checked JSON.

The cache is a file anyone with access to it may change or damage. So it holds plain data only
(JSON: reading it back can build values, never run code, unlike pickle), and every stored value is
sealed with a checksum of its bytes: a flipped bit, a torn write or a file cut short is found when
the value is read, and the value is treated as missing (the work is done again). A value that is
well-formed JSON of the wrong shape fails to decode, and is treated the same way.

Records are lists in field order, not objects: an incremental run decodes every record's outline,
and lists are the fastest shape to build and read.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from feeds.model import NO_TEXTS, Article, FileOutcome, Image, Level, Problem, Provider, Texts
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


def encode_outcome(outcome: FileOutcome) -> tuple[bytes, bytes]:
    """The outcome as two sealed values: its outline (all but the articles' texts: what
    grouping and planning need) and the texts, which only the items that are made need."""
    outline = dump(
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
    # The texts name their outline (by its checksum) and the file's revision: texts planted
    # beside another file's outline, or left from another version of the file, well-formed and
    # sealed, are not taken for its own.
    revision, texts = texts_of(outcome)
    return outline, dump([outline[:_CHECK].hex(), revision.hex(), texts])


def texts_of(outcome: FileOutcome) -> tuple[bytes, list[Any]]:
    """The revision of the outcome's file and its articles' texts (as plain data)."""
    revision = outcome.articles[0].revision if outcome.articles else b""
    return revision, [_texts(a) for a in outcome.articles]


def decode_texts(blob: bytes) -> tuple[bytes, list[Any]]:
    """What `texts_of` gave, from the cache: the file's revision and each article's texts (to
    be checked by `with_texts`); `Damaged` when it cannot be read back."""
    try:
        _, revision, each = load(blob)
        if type(each) is not list:
            raise TypeError("the texts are not a list")
        return _revision(revision), each
    except (TypeError, ValueError) as e:
        raise Damaged(f"not stored texts: {e}") from e


def with_texts(outline: Article, texts: Any) -> Article:
    """The outline made whole with `texts` (one article's, from `texts_of`); its own fields are
    kept, so a related article the build left out stays out. `Damaged` when they do not fit."""
    try:
        title, excerpt, body, images, amp_url, related = texts
        return replace(
            outline,
            texts=_to_texts(title, excerpt, body, images, amp_url),
            related=tuple(
                r if r.place is None else with_texts(r, related[r.place[1]])
                for r in outline.related
            ),
            place=None,
        )
    except (TypeError, ValueError, IndexError) as e:
        raise Damaged(f"texts that do not fit: {e}") from e


def decode_outcome(outline: bytes, texts: bytes | None = None, name: str = "") -> FileOutcome:
    """The outcome `encode_outcome` stored, with its articles whole when `texts` is given, else
    as outlines (`Article.is_outline`); `Damaged` when it cannot be read back. `name`: the
    file's path as the caller holds it, shared by the outcome when it is the same."""
    try:
        path, ignored, records, rejected, articles, problems, retry = load(outline)
        path = name if name and name == path else _text(path)
        if texts is None:
            seen: dict[Any, Any] = {path: path}  # its articles' file and revision: one copy each
            decoded = tuple(
                _to_article(a, None, _place(i, -1), seen) for i, a in enumerate(articles)
            )
        else:
            of, _, each = load(texts)
            if of != outline[:_CHECK].hex() or len(each) != len(articles):
                raise ValueError("the texts are not those of the outline")
            decoded = tuple(map(_to_article, articles, each))
        return FileOutcome(
            path,
            ignored is True,
            int(records),
            int(rejected),
            decoded,
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
    """The article's outline: all but its texts (`_texts`)."""
    return [
        a.url,
        a.published.isoformat(),
        a.updated.isoformat() if a.updated else None,
        provider_to_plain(a.provider) if a.provider else None,
        list(a.topics),
        [_article(r) for r in a.related],
        a.category,
        a.type,
        a.quality,
        a.heat,
        a.is_published,
        a.source,
        a.revision.hex(),
        a.item,
    ]


def _texts(a: Article) -> list[Any]:
    return [
        a.title,
        a.excerpt,
        a.body,
        [_image(i) for i in a.images],
        a.amp_url,
        [_texts(r) for r in a.related],
    ]


def _to_texts(title: Any, excerpt: Any, body: Any, images: Any, amp_url: Any) -> Texts:
    return Texts(
        _text(title),
        _maybe_text(excerpt),
        _maybe_text(body),
        tuple(map(_to_image, images)) if images else (),
        _maybe_text(amp_url),
    )


def _to_article(
    v: list[Any],
    texts: list[Any] | None = None,
    place: tuple[int, int] | None = None,
    seen: dict[Any, Any] | None = None,
) -> Article:
    """The article whole from its outline and `texts`; without them, an outline at `place`.
    `seen`: the file names and revisions decoded from its file so far, shared, not copied."""
    (url, published, updated, provider, topics, related, category, kind, quality, heat,
     is_published, source, revision, item) = v  # fmt: skip
    own: Texts = NO_TEXTS
    related_texts: Any = ()
    if texts is not None:
        title, excerpt, body, images, amp_url, related_texts = texts
        own = _to_texts(title, excerpt, body, images, amp_url)
    source, revision = _text(source), _revision(revision)
    if seen is not None:
        source, revision = seen.setdefault(source, source), seen.setdefault(revision, revision)
    if related and texts is None:
        assert place is not None
        inner = tuple(
            _to_article(r, None, _place(place[0], j), seen) for j, r in enumerate(related)
        )
    elif related:
        if len(related_texts) != len(related):
            raise ValueError("the texts are not those of the outline")
        inner = tuple(map(_to_article, related, related_texts))
    else:
        inner = ()
    return Article(  # by position, in the dataclass's order: a third faster than by keyword
        _text(url),
        own,
        _time(published),
        _time(updated) if updated is not None else None,
        provider_from_plain(provider) if provider is not None else None,
        tuple(map(_text, topics)),
        inner,
        _maybe_text(category),
        _maybe_text(kind),
        _maybe_int(quality),
        _maybe_int(heat),
        None if is_published is None else is_published is True,
        source,
        revision,
        place,
        _int(item),
    )


_PLACES: dict[tuple[int, int], tuple[int, int]] = {}  # the places most outlines are at


def _place(i: int, j: int) -> tuple[int, int]:
    """An outline's place in its file's outcome, one tuple for all outlines at the same place:
    a big site holds a million outlines, nearly all at a handful of places (one record a file,
    a few related articles each)."""
    if i >= 16 or j >= 16:
        return (i, j)
    return _PLACES.setdefault((i, j), (i, j))


def provider_to_plain(p: Provider) -> list[Any]:
    return [p.key, p.name, p.domain, _image(p.logo) if p.logo else None]


def provider_from_plain(v: list[Any]) -> Provider:
    key, name, domain, logo = v
    # A few hundred providers, named by a hundred thousand articles: each decoded once.
    known = (key, name, domain, tuple(logo) if type(logo) is list else logo)
    provider = _DECODED_PROVIDERS.get(known)
    if provider is None:
        logo = _to_image(logo) if logo else None
        provider = Provider(_text(key), _text(name), _maybe_text(domain), logo)
        _DECODED_PROVIDERS[known] = provider
    return provider


_DECODED_PROVIDERS: dict[tuple[Any, ...], Provider] = {}


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


def _revision(value: Any) -> bytes:
    """A file's revision (`records.FileResult.revision`) from its hexadecimal text."""
    return bytes.fromhex(_text(value))


def _maybe_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _maybe_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _int(value: Any) -> int:
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
