"""The build's configuration: one frozen dataclass, checked in one place.

With no file and no flags, `Config()` is what a newcomer gets: `seeds/` in, `output/` out, feeds
addressed at `http://localhost:8000/` where `feeds serve` shows them. A YAML file (`feeds.yaml`,
or `--config FILE`) sets what the README's annotated example shows (`config_file.py` reads it);
command-line flags override it. `Config` itself checks what any caller gives it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feeds.errors import ConfigError
from feeds.filters import NO_FILTERS, CustomFeed, Filters
from feeds.paths import FORMAT_NAMES, FORMATS
from feeds.uris import NotAUri, as_uri, browser_problem, is_plain

DEFAULT_BASE_URL = "http://localhost:8000/"
MAX_AGE_DAYS = 36_525  # a century: a larger `max_age_days` would leave what a datetime can hold
DEFAULT_CONFIG_FILE = Path("feeds.yaml")
GROUP_KINDS = ("all", "topics", "providers")


@dataclass(frozen=True, slots=True)
class Config:
    seeds: Path = Path("seeds")
    output: Path = Path("output")
    cache: Path | None = None  # parsed records between runs; default ~/.cache/feeds/<output>
    base_url: str = DEFAULT_BASE_URL  # every URL in the output is this plus a path
    title: str = "News feeds"  # the site's name, shown in every feed title
    description: str = "The latest news, by topic and by provider."
    site_url: str | None = None  # the website the feeds belong to; the base URL when unset
    language: str = "en"
    logo: str | None = None  # the site's logo URL, used by feeds that have no logo of their own
    icon: str | None = None  # the site's small square icon (favicon); the logo when unset
    author: str | None = None  # who publishes the feeds; the site's title when unset
    limit: int = 50  # items per feed
    formats: tuple[str, ...] = FORMAT_NAMES
    archives: bool = True  # older items in monthly archive pages (RFC 5005)
    # A month with more items than this in one feed is archived in a page per day: archive
    # pages stay small enough for a reader to fetch, and a change rewrites little.
    split_months_over: int = 500
    ttl: int | None = None  # RSS <ttl>: minutes a reader may cache a feed
    groups: tuple[str, ...] = GROUP_KINDS  # which built-in groups get feeds
    filters: Filters = NO_FILTERS  # applied to every feed
    custom: tuple[CustomFeed, ...] = ()
    websub_hub: str | None = None  # a WebSub hub to announce every feed to, and to notify

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", _base_url(self.base_url, "site.base_url"))
        urls = {
            "site_url": "site.url",
            "logo": "site.logo",
            "icon": "site.icon",
            "websub_hub": "websub.hub",
        }
        for name, key in urls.items():
            if (url := getattr(self, name)) is not None:
                object.__setattr__(self, name, absolute_url(url, key))
        for key, value in (("limit", self.limit), ("split_months_over", self.split_months_over)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"defaults.{key}: must be a whole number of at least 1, not {value!r}"
                )
        if not self.formats or any(f not in FORMATS for f in self.formats):
            choices = ", ".join(FORMATS)
            raise ConfigError(f"defaults.formats: must be a list drawn from {choices}")
        if len(set(self.formats)) != len(self.formats):  # two files of one name
            raise ConfigError(f"defaults.formats: names a format twice: {self.formats!r}")
        if twice := duplicate_slug(self.custom):
            first, second = twice
            slug = self.custom[second].slug
            raise ConfigError(
                f"custom[{second}].slug: {slug!r} is already the slug of custom[{first}]"
            )

    @property
    def home_url(self) -> str:
        return self.site_url or self.base_url

    @property
    def publisher(self) -> str:
        return self.author or self.title

    def url(self, path: str) -> str:
        return self.base_url + path

    def without_folders(self) -> Config:
        """The settings alone, not where the seeds, output and cache are: what a run compares
        with the last one's. One pair of folders is one cache, whichever way it is named (the
        cache is keyed by their resolved paths), and cron naming them absolute while a person
        runs `feeds build` in the site's folder must not cost a full build each time."""
        return dataclasses.replace(self, seeds=Path(), output=Path(), cache=None)

    def with_overrides(self, **overrides: Any) -> Config:
        """A copy with the given values, skipping those left unset (None) on the command line."""
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})


def load_config(path: Path | None) -> Config:
    """Read the YAML file at `path`, or `feeds.yaml` if it exists, or return the defaults."""
    if path is None:
        if not DEFAULT_CONFIG_FILE.exists():
            return Config()
        path = DEFAULT_CONFIG_FILE
    from feeds.config_file import read_config  # YAML loads only when there is a file

    return read_config(path)


def _base_url(url: str, key: str) -> str:
    uri = absolute_url(url, key, base=True)
    return uri if uri.endswith("/") else uri + "/"


def absolute_url(url: str, key: str, base: bool = False) -> str:
    """The URL as feeds carry it (`uris.as_uri`); `ConfigError` when it is none they can."""
    if problem := url_problem(url, base):
        raise ConfigError(f"{key}: {problem}")
    try:
        uri = as_uri(url)
    except NotAUri as e:
        raise ConfigError(f"{key}: {e}, not {url!r}") from None
    # As a record's URL: one whose host or port browsers cannot read would reach every feed.
    if not is_plain(uri) and (problem := browser_problem(uri)):
        raise ConfigError(f"{key}: must be a URL with a well-formed host ({problem}), not {url!r}")
    return uri


def url_problem(url: str, base: bool = False) -> str | None:
    """What is wrong with a URL the configuration gives, if anything. A `base` URL (where the
    output is published) has no query or fragment: every feed's URL is it followed by a path."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (read for its check: a port browsers cannot use)
    except ValueError:  # "https://[bad": a bracketed host that is not one; a port past 65535
        parts = urlsplit("")
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() or not c.isprintable() for c in url)
    ):
        return f"must be an absolute http(s) URL, not {url!r}"
    if base and (parts.query or parts.fragment or url.endswith(("?", "#"))):
        return f"must not have a query or a fragment (feed URLs follow it), not {url!r}"
    return None


def duplicate_slug(feeds: Sequence[CustomFeed]) -> tuple[int, int] | None:
    """The first custom feed whose slug an earlier one has, as (earlier, later) indexes: two
    feeds cannot share a file."""
    first: dict[str, int] = {}
    for index, feed in enumerate(feeds):
        if feed.slug in first:
            return first[feed.slug], index
        first[feed.slug] = index
    return None
