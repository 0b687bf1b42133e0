"""Turn a raw record into an `Article`, or reject it with a reason a curator understands.

Pure: no I/O. Required fields that are missing or wrong reject the record; optional values that are
wrong are dropped with a warning and the record is kept; text is cleaned of what feeds cannot carry.
Optional fields are converted through one table (`_optional_fields`), not a chain of ifs.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import dateutil.parser

from feeds.model import Article, Image, Level, Problem, Provider, Texts
from feeds.records import LongNumber, Mistagged, RawRecord
from feeds.text import (
    collapse_spaces,
    control_count,
    display_name,
    domain_key,
    host_identity,
    html_to_text,
    identity_key,
    is_visible,
    strip_controls,
)
from feeds.uris import NotAUri, as_uri, browser_problem, is_plain, not_a_host

# Topics, images and related articles kept per record. A real record has a handful; thousands
# would make one record cost thousands of feeds.
MAX_LIST_ITEMS = 50
# Times are kept from the year 1000 to 9998 (UTC). Before 1000, RSS dates (strftime's `%Y`) have
# fewer than four digits, and readers take year 999 for 2899 and year 1 for 2001. RFC 3339 (Atom,
# JSON Feed) ends with 9999, and a time in 9999 can overflow in a reader east of UTC, whose local
# time is then in year 10000; 9998 is the last year every reader can show in any time zone.
EARLIEST_YEAR, LATEST_YEAR = 1000, 9998
# An image side beyond JPEG's limit (65535) is a typo or a wrong unit, not pixels: no reader
# could lay it out, and some keep sizes in 16 or 32 bits.
MAX_PIXELS = 65_535
# `heat` ranks stories; the configuration's `min_heat` goes down to -10**9. Beyond that it is a
# mistake, and unbounded integers have no place in a reader's sort.
MAX_HEAT = 10**9
# A topic or provider name is a few words. Feeds repeat names in every item, and readers take
# time quadratic in a name's length to look for an e-mail address in an author (feedparser: 3 s
# for 20,000 characters, hours for a megabyte).
MAX_NAME_LENGTH = 200
_SPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class Validated:
    """The outcome for one record: an article (maybe with warnings), or a rejection."""

    article: Article | None
    problems: tuple[Problem, ...] = ()


class _Reject(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class _Checker:
    """Collects the warnings of one record while its fields are converted."""

    def __init__(self, raw: RawRecord, revision: bytes) -> None:
        self.raw = raw
        self.revision = revision
        self.warnings: list[Problem] = []

    def warn(self, field: str, message: str) -> None:
        top = field.split(".")[0].split("[")[0]
        self.warnings.append(
            Problem(self._where, message, field, self.raw.line_of(top), Level.WARNING)
        )

    @property
    def _where(self) -> str:
        return f"{self.raw.path} ({self.raw.label})" if self.raw.label else self.raw.path

    def reject(self, e: _Reject) -> Problem:
        top = e.field.split(".")[0].split("[")[0]
        return Problem(self._where, e.message, e.field, self.raw.line_of(top))

    # -- value converters; `field` is the path shown to the curator -----------------------------

    def text(self, value: Any, field: str) -> str | None:
        """Plain text, trimmed, without control characters (`strip_controls`); None when blank."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _Reject(field, f"must be text, not {_describe(value)}")
        try:
            text = str(value).strip()
        except ValueError:  # an integer of more than 4300 digits cannot be written out
            raise _Reject(field, f"must be text, not {_describe(value)}") from None
        if bad := control_count(text):
            self.warn(field, f"{bad} control character(s) that feeds cannot carry were removed")
            text = strip_controls(text).strip()
        return text or None

    def plain_text(self, value: Any, field: str) -> str | None:
        """Text meant to be plain (titles, excerpts): markup is removed and shown as text."""
        text = self.text(value, field)
        if text is None:
            return None
        plain, had_markup = html_to_text(text)
        if had_markup:
            self.warn(field, "HTML tags were removed; titles and excerpts are plain text")
        return collapse_spaces(plain) or None

    def url(self, value: Any, field: str) -> str:
        text = self.text(value, field)
        if text is None:
            raise _Reject(field, "is missing")
        if is_plain(text):  # the usual case, without `urlsplit`
            return text
        try:
            parts = urlsplit(text)
        except ValueError:  # "https://[bad": a bracketed host that is not one
            raise _Reject(field, "must be a URL with a well-formed host") from None
        scheme = parts.scheme.lower()
        # The message describes the URL instead of quoting it: a rejected `javascript:` URL must
        # not reach any output file, the kept report included.
        if scheme and scheme not in ("http", "https"):
            raise _Reject(field, f"must be an absolute http(s) URL, not a {scheme[:20]!r} one")
        if not parts.netloc:
            raise _Reject(
                field, "must be an absolute http(s) URL like https://example.com/a; no host"
            )
        if not scheme:  # "//example.com/a": readers need to be told http or https
            raise _Reject(
                field, "must be an absolute http(s) URL like https://example.com/a; no scheme"
            )
        if _SPACE.search(text):
            raise _Reject(field, "must be a URL without spaces (write them as %20)")
        try:
            text = as_uri(text)
        except NotAUri as e:
            raise _Reject(field, str(e)) from None
        if problem := browser_problem(text):
            raise _Reject(field, f"must be a URL with a well-formed host ({problem})")
        return text

    def time(self, value: Any, field: str) -> datetime:
        if isinstance(value, datetime):
            parsed, written = value, value.isoformat()
        elif isinstance(value, date):
            parsed, written = datetime(value.year, value.month, value.day), value.isoformat()
        else:
            written = self.text(value, field) or ""
            if not written:
                raise _Reject(field, "is missing")
            parsed = _parse_iso_time(written, field)
        naive = parsed.tzinfo is None
        utc = _in_utc(parsed.replace(tzinfo=UTC) if naive else parsed)
        if utc is None:
            years = f"{EARLIEST_YEAR} to {LATEST_YEAR}"
            raise _Reject(
                field, f"must be a time in the years {years} (UTC), not {_describe(written)}"
            )
        if naive:
            self.warn(field, "has no time zone offset; taken as UTC")
        return utc

    def optional(self, convert: Callable[[Any, str], Any], value: Any, field: str) -> Any:
        """An optional value: when wrong, warn and drop it; the record stays."""
        if value is None:
            return None
        try:
            return convert(value, field)
        except _Reject as e:
            self.warn(e.field, f"{e.message}; ignored")
            return None

    def integer(self, value: Any, field: str) -> int:
        if isinstance(value, LongNumber):
            raise _Reject(field, f"is {_describe(value)}, too long to read")
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _Reject(field, f"must be a whole number, not {_describe(value)}")
        try:
            return int(value)
        except ValueError:  # not a number, or longer than the 4300 digits Python reads
            raise _Reject(field, f"must be a whole number, not {_describe(value)}") from None

    def quality(self, value: Any, field: str) -> int:
        number = self.integer(value, field)
        if not 0 <= number <= 100:
            raise _Reject(field, f"must be between 0 and 100, not {_describe(number)}")
        return number

    def heat(self, value: Any, field: str) -> int:
        number = self.integer(value, field)
        if not -MAX_HEAT <= number <= MAX_HEAT:
            raise _Reject(
                field, f"must be between -{MAX_HEAT} and {MAX_HEAT}, not {_describe(number)}"
            )
        return number

    def boolean(self, value: Any, field: str) -> bool:
        if not isinstance(value, bool):
            raise _Reject(field, f"must be true or false, not {_describe(value)}")
        return value

    def image(self, value: Any, field: str) -> Image:
        if not isinstance(value, dict):
            raise _Reject(field, f"must be a mapping with a url, not {_describe(value)}")
        size = [
            self.optional(self.dimension, value.get(k), f"{field}.{k}") for k in ("width", "height")
        ]
        return Image(
            url=self.url(value.get("url"), f"{field}.url"),
            width=size[0],
            height=size[1],
            title=self.optional(self.text, value.get("title"), f"{field}.title"),
        )

    def dimension(self, value: Any, field: str) -> int:
        number = self.integer(value, field)
        if number <= 0:
            raise _Reject(field, f"must be a positive number of pixels, not {_describe(number)}")
        if number > MAX_PIXELS:
            raise _Reject(field, f"must be at most {MAX_PIXELS} pixels, not {_describe(number)}")
        return number

    def images(self, value: Any, field: str) -> tuple[Image, ...]:
        """Good images kept in order; a bad one is dropped with a warning."""
        kept = []
        for i, item in enumerate(self.as_list(value, field)):
            try:
                kept.append(self.image(item, f"{field}[{i}]"))
            except _Reject as e:
                self.warn(e.field, f"{e.message}; image dropped")
        return tuple(kept)

    def as_list(self, value: Any, field: str) -> list[Any]:
        """A list field; anything else is warned about and read as an empty list."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.warn(field, f"must be a list, not {_describe(value)}; ignored")
            return []
        if len(value) > MAX_LIST_ITEMS:
            self.warn(field, f"has {len(value)} items; only the first {MAX_LIST_ITEMS} are kept")
            return value[:MAX_LIST_ITEMS]
        return value

    def topics(self, value: Any, field: str) -> tuple[str, ...]:
        kept: dict[str, str] = {}
        for i, item in enumerate(self.as_list(value, field)):
            where = f"{field}[{i}]"
            try:
                name = self.name(item, where)
            except _Reject as e:
                self.warn(e.field, f"{e.message}; topic dropped")
                continue
            if name is None:
                self.warn(where, "is empty; topic dropped")
            elif "/" in name or "\\" in name or name.strip(".") == "":
                self.warn(
                    where,
                    f"{_describe(name)} looks like a file path, not a topic name; topic dropped",
                )
            else:
                kept.setdefault(identity_key(name), name)
        return tuple(kept.values())

    def name(self, value: Any, field: str) -> str | None:
        """A name as feeds show it (topic, provider): plain text (it is a feed's title, an item's
        category or author), see `display_name`; None when blank."""
        plain, had_markup = html_to_text(self.text(value, field) or "")
        if had_markup:
            self.warn(field, "HTML tags were removed; names are plain text")
        name = display_name(plain)
        if len(name) > MAX_NAME_LENGTH:
            raise _Reject(
                field, f"is {len(name)} characters long; a name has at most {MAX_NAME_LENGTH}"
            )
        return name if identity_key(name) else None  # nothing visible: no name at all

    def provider(self, value: Any, field: str) -> Provider:
        if not isinstance(value, dict):
            raise _Reject(field, f"must be a mapping with a name or domain, not {_describe(value)}")
        name = self.optional(self.name, value.get("name"), f"{field}.name")
        domain = self.optional(self.domain, value.get("domain"), f"{field}.domain")
        if not (name or domain):
            raise _Reject(field, "has neither a name nor a domain")
        logos = self.images(value.get("images"), f"{field}.images")
        return Provider(
            key=host_identity(domain) if domain else identity_key(name),
            name=name or domain,
            domain=domain,
            logo=logos[0] if logos else None,
        )

    def domain(self, value: Any, field: str) -> str:
        text = domain_key(self.text(value, field) or "")
        try:
            host = urlsplit("//" + text).hostname if text else None
        except ValueError:  # "[bad": a bracketed host that is not one
            host = None
        # Shown as the provider's name and link when it has no other: nothing invisible, no
        # spaces, and a host browsers can read (`exa mple.com` and a bidi override pass
        # `urlsplit`; a zero-width space is one more provider of the same look).
        if (
            not host
            or host != text
            or display_name(text) != text
            or _SPACE.search(text)
            or (not is_plain(f"http://{text}/") and not_a_host(f"http://{text}/"))
        ):
            raise _Reject(field, f"must be a domain name like example.com, not {_describe(value)}")
        return text

    def related(self, value: Any, field: str) -> tuple[Article, ...]:
        kept = []
        for i, item in enumerate(self.as_list(value, field)):
            try:
                if not isinstance(item, dict):
                    raise _Reject(f"{field}[{i}]", f"must be a mapping, not {_describe(item)}")
                kept.append(self.article(item, prefix=f"{field}[{i}].", with_related=False))
            except _Reject as e:
                self.warn(e.field, f"{e.message}; related article dropped")
        return tuple(kept)

    def article(self, data: Mapping[str, Any], *, prefix: str = "", with_related: bool) -> Article:
        title = self.plain_text(data.get("title"), prefix + "title")
        if title is None or not is_visible(title):  # zero-width spaces alone: no title to show
            raise _Reject(prefix + "title", "is missing or empty")
        published = data.get("publishedDateTime")
        if published is None:
            raise _Reject(prefix + "publishedDateTime", "is missing")
        fields = {
            name: self.optional(convert, data.get(key), prefix + key)
            for key, (name, convert) in _optional_fields(self).items()
        }
        # In this order: a record's warnings are said in the order its fields are checked.
        url = self.url(data.get("webUrl"), prefix + "webUrl")
        when = self.time(published, prefix + "publishedDateTime")
        topics = self.topics(data.get("topics"), prefix + "topics")
        images = self.images(data.get("images"), prefix + "images")
        return Article(
            url=url,
            texts=Texts(title, fields.pop("excerpt"), None, images, fields.pop("amp_url")),
            published=when,
            topics=topics,
            related=self.related(data.get("related"), "related") if with_related else (),
            source=self.raw.path,
            revision=self.revision,
            item=self.raw.item if with_related else 0,
            **fields,
        )


def _optional_fields(c: _Checker) -> dict[str, tuple[str, Callable[[Any, str], Any]]]:
    """Record key -> (Article attribute, converter) for the optional scalar fields."""
    return {
        "updatedDateTime": ("updated", c.time),
        "excerpt": ("excerpt", c.plain_text),
        "provider": ("provider", c.provider),
        "ampWebUrl": ("amp_url", c.url),
        "category": ("category", c.text),
        "type": ("type", c.text),
        "quality": ("quality", c.quality),
        "heat": ("heat", c.heat),
        "published": ("is_published", c.boolean),
    }


def validate(raw: RawRecord, revision: bytes = b"") -> Validated:
    """The record's article, or why it has none; `revision` (a digest of its file) goes into
    the article and its related articles, so that later stages can tell when it changed."""
    checker = _Checker(raw, revision)
    try:
        if not raw.data:
            raise _Reject("record", "is not a mapping of fields" if raw.label else "has no fields")
        article = checker.article(raw.data, with_related=True)
        body = checker.text(raw.body, "body")
    except _Reject as e:
        return Validated(None, (checker.reject(e), *checker.warnings))
    if article.updated and article.updated < article.published:
        checker.warn("updatedDateTime", "is earlier than publishedDateTime; ignored")
        article = replace(article, updated=None)
    if body:
        article = replace(article, texts=article.texts._replace(body=body))
    return Validated(article, tuple(checker.warnings))


# A leap second, `23:59:60` in UTC: RFC 3339 times may have one, Python's cannot.
_LEAP_SECOND = re.compile(r"(?<=[T t][0-9]{2}:[0-9]{2}:)60(?=[.,Zz+-]|$)")


def _parse_iso_time(text: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(text)  # fast path: covers the usual ISO 8601 forms
    except ValueError:
        pass
    if _LEAP_SECOND.search(text):  # taken as the second after it, as POSIX time does
        before = _parse_iso_time(_LEAP_SECOND.sub("59", text), field)
        # Only the last second of a day in UTC is ever one; past year 9998, `time` says so.
        in_utc = _in_utc(before.replace(tzinfo=before.tzinfo or UTC))
        if in_utc and (in_utc.hour, in_utc.minute) == (23, 59):
            with contextlib.suppress(OverflowError):
                return before + timedelta(seconds=1)
    try:
        return dateutil.parser.isoparse(text)
    except (ValueError, OverflowError) as e:
        if _looks_iso(text):  # dateutil says what is impossible: "day is out of range for month"
            raise _Reject(field, f"is not a possible date: {text[:40]!r} ({e})") from None
        example = "2020-06-08T23:17:00Z"
        raise _Reject(field, f"is not an ISO 8601 time like {example}: {text[:40]!r}") from None


def _looks_iso(text: str) -> bool:
    return len(text) >= 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit()


def _in_utc(time: datetime) -> datetime | None:
    """`time` in UTC, or None when it is outside the years every format can write."""
    try:
        utc = time.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:00:00+05:00" is in year 0 in UTC
        return None
    return utc if EARLIEST_YEAR <= utc.year <= LATEST_YEAR else None


def _describe(value: Any) -> str:
    """A value as a message shows it: short, whatever its size (a record may hold 1 MB)."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, LongNumber):
        return f"a number of {sum(c.isdigit() for c in value):,} digits"
    if isinstance(value, Mistagged):
        return f"{_describe(value.text)} (tagged {value.short_tag}, which it is not)"
    try:
        shown = repr(value)
    except ValueError:  # an integer of more than 4300 digits cannot even be written out
        return "a number too long to show"
    return shown if len(shown) <= 60 else shown[:59] + "…"
