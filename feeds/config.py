"""The build's configuration: one frozen dataclass, loaded and checked in one place (SPEC §7).

With no file and no flags, `Config()` is what a newcomer gets: `seeds/` in, `output/` out, feeds
addressed at `http://localhost:8000/` where `feeds serve` shows them. A YAML file (`feeds.yaml`,
or `--config FILE`) may set the keys below; command-line flags override it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

DEFAULT_BASE_URL = "http://localhost:8000/"
DEFAULT_CONFIG_FILE = Path("feeds.yaml")
FORMATS = ("rss", "atom", "json")


class ConfigError(Exception):
    """A configuration or usage mistake, told in one line that names the key."""


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
    limit: int = 50  # items per feed
    formats: tuple[str, ...] = FORMATS
    archives: bool = True  # older items in monthly archive pages (RFC 5005)
    websub_hub: str | None = None  # a WebSub hub to announce every feed to, and to notify

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", _base_url(self.base_url, "base_url"))
        if self.site_url is not None:
            _absolute_url(self.site_url, "site_url")
        if self.logo is not None:
            _absolute_url(self.logo, "logo")
        if self.websub_hub is not None:
            _absolute_url(self.websub_hub, "websub_hub")
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise ConfigError(f"limit: must be a whole number of at least 1, not {self.limit!r}")
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown or not self.formats:
            raise ConfigError(f"formats: must be a list drawn from {', '.join(FORMATS)}")

    @property
    def home_url(self) -> str:
        return self.site_url or self.base_url

    def url(self, path: str) -> str:
        return self.base_url + path

    def with_overrides(self, **overrides: Any) -> Config:
        """A copy with the given values, skipping those left unset (None) on the command line."""
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})


_FILE_KEYS = {f.name: f for f in dataclasses.fields(Config)}
_PATH_KEYS = {"seeds", "output", "cache"}


def load_config(path: Path | None) -> Config:
    """Read the YAML file at `path`, or `feeds.yaml` if it exists, or return the defaults."""
    if path is None:
        if not DEFAULT_CONFIG_FILE.exists():
            return Config()
        path = DEFAULT_CONFIG_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read: {e.strerror or e}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: YAML error: {e}") from e
    if data is None:
        return Config()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must hold 'key: value' lines")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _FILE_KEYS:
            raise ConfigError(f"{path}: unknown key {key!r} (known: {', '.join(_FILE_KEYS)})")
        if key in _PATH_KEYS:
            value = path.parent / str(value)
        elif key == "formats" and isinstance(value, list):
            value = tuple(value)
        elif key == "archives" and not isinstance(value, bool):
            raise ConfigError(f"{path}: archives: must be true or false, not {value!r}")
        elif (
            key not in ("limit", "formats", "archives")
            and value is not None
            and not isinstance(value, str)
        ):
            raise ConfigError(f"{path}: {key}: must be text, not {value!r}")
        values[key] = value
    try:
        return Config(**values)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from e


def _base_url(url: str, key: str) -> str:
    _absolute_url(url, key)
    return url if url.endswith("/") else url + "/"


def _absolute_url(url: str, key: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{key}: must be an absolute http(s) URL, not {url!r}")
