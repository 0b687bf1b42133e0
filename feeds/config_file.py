"""Read a configuration file (`feeds.yaml`): YAML in, a checked `Config` out.

Every mistake is reported as `FILE:LINE: key.path: what is wrong`, before anything is written:
unknown keys, wrong types, impossible values. The file gets the limits of a record file (size,
depth, aliases: `safe_yaml.py`), and its text is cleaned like a record's. The shape of the file
is one table, `_SECTIONS`: each key with the `Config` attribute it sets and its converter.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from feeds.config import GROUP_KINDS, MAX_AGE_DAYS, Config, duplicate_slug, url_problem
from feeds.errors import ConfigError
from feeds.filters import CustomFeed, Filters
from feeds.paths import FORMAT_NAMES
from feeds.safe_yaml import MAX_DEPTH, MAX_FILE_BYTES, nodes_expand_beyond, too_deep
from feeds.slugs import slugify
from feeds.text import strip_bidi_controls, strip_controls
from feeds.uris import NotAUri, as_uri


def read_config(path: Path) -> Config:
    """The configuration the YAML file at `path` describes; `ConfigError` for any mistake."""
    text = _read(path)
    if too_deep(text):  # the Python composer would raise RecursionError, libyaml's crash
        raise ConfigError(f"{path}: YAML is nested more than {MAX_DEPTH} levels deep")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else 0
        raise ConfigError(f"{path}:{line}: YAML error: {e.problem}") from e
    except yaml.reader.ReaderError as e:  # its words run to two lines, and give no line
        line = text.count("\n", 0, e.position) + 1
        raise ConfigError(
            f"{path}:{line}: holds a control character YAML does not allow ({chr(e.character)!r})"
        ) from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: YAML error: {e}") from e
    if root is None:
        return Config()
    if "&" in text and nodes_expand_beyond(root, limit=len(text) + 64):  # see safe_yaml.py
        raise ConfigError(
            f"{path}: YAML aliases expand to more values than the file holds (alias bomb?)"
        )
    reader = _Reader(path)
    values = reader.section(root, "", _SECTIONS)
    try:
        return Config(**values)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from e


def _read(path: Path) -> str:
    """The file's text: a regular file, UTF-8 (a BOM is fine), at most `MAX_FILE_BYTES`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the build
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ConfigError(f"{path}: is not a regular file")
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read: {e.strerror or e}") from e
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: is larger than {MAX_FILE_BYTES // 1024} KB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:  # said as a record file's is (`e.object`: after a BOM)
        line = e.object[: e.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: is not UTF-8 text (byte 0x{e.object[e.start]:02x} cannot be decoded)"
        ) from e


# -- the file's shape ---------------------------------------------------------------------------

Convert = Callable[["_Reader", yaml.Node, str], Any]


class _Reader:
    """Turns YAML nodes into values, naming the key path and line of every mistake."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._constructor = yaml.SafeLoader("")  # turns one node into its Python value

    def origin(self, node: yaml.Node) -> str:
        return f"{self.path}:{node.start_mark.line + 1}"

    def fail(self, node: yaml.Node, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.path}:{node.start_mark.line + 1}: {key}: {message}")

    def mapping(self, node: yaml.Node, key: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, key or "file", "must be a set of 'key: value' lines")
        pairs: list[tuple[str, yaml.Node, yaml.Node]] = []
        lines: dict[str, int] = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                raise self.fail(k, key or "file", "keys must be plain names")
            name = str(k.value)
            if name in lines:  # YAML keeps the last silently: a second `custom:` hid the first
                where = f"{key}.{name}" if key else name
                first = lines[name]
                raise self.fail(k, where, f"is given twice (also on line {first}); give it once")
            lines[name] = k.start_mark.line + 1
            pairs.append((name, k, v))
        return pairs

    def section(self, node: yaml.Node, prefix: str, fields: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, key_node, value_node in self.mapping(node, prefix.rstrip(".")):
            key = prefix + name
            if name not in fields:
                known = ", ".join(fields)
                raise self.fail(key_node, key, f"unknown key (known here: {known})")
            target = fields[name]
            if isinstance(target, dict):
                values.update(self.section(value_node, key + ".", target))
            else:
                attribute, convert = target
                values[attribute] = convert(self, value_node, key)
        return values

    def value(self, node: yaml.Node, key: str) -> Any:
        try:
            return self._constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, KeyError, AttributeError, TypeError, OverflowError,
                IndexError):  # fmt: skip
            # A tag the value does not fit (`!!bool maybe`), or one that builds objects: PyYAML
            # raises what no caller expects, in several lines.
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            shown = f"{tag} {node.value!r}" if isinstance(node, yaml.ScalarNode) else tag
            raise self.fail(node, key, f"{shown} cannot be made; write a plain value") from None


def _text(r: _Reader, node: yaml.Node, key: str) -> str:
    value = r.value(node, key)
    # Cleaned like record text: it lands in every feed, index.html and feeds.opml, where a control
    # character XML cannot carry breaks the file, and a bidi control reorders what is shown.
    text = strip_bidi_controls(strip_controls(value)).strip() if isinstance(value, str) else ""
    if not text:
        raise r.fail(node, key, f"must be text, not {value!r}")
    return text


def _url(r: _Reader, node: yaml.Node, key: str, base: bool = False) -> str:
    text = _text(r, node, key)
    if problem := url_problem(text, base):
        raise r.fail(node, key, problem)
    try:
        return as_uri(text)
    except NotAUri as e:
        raise r.fail(node, key, f"{e}, not {text!r}") from None


def _base_url(r: _Reader, node: yaml.Node, key: str) -> str:
    return _url(r, node, key, base=True)


def _path(r: _Reader, node: yaml.Node, key: str) -> Path:
    return r.path.parent / _text(r, node, key)


def _boolean(r: _Reader, node: yaml.Node, key: str) -> bool:
    value = r.value(node, key)
    if not isinstance(value, bool):
        raise r.fail(node, key, f"must be true or false, not {value!r}")
    return value


def _whole(minimum: int, maximum: int | None = None) -> Convert:
    def convert(r: _Reader, node: yaml.Node, key: str) -> int:
        value = r.value(node, key)
        too_big = maximum is not None and isinstance(value, int) and value > maximum
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or too_big:
            limits = f"from {minimum} to {maximum}" if maximum is not None else f"≥ {minimum}"
            raise r.fail(node, key, f"must be a whole number {limits}, not {value!r}")
        return value

    return convert


def _names(r: _Reader, node: yaml.Node, key: str) -> tuple[str, ...]:
    value = r.value(node, key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise r.fail(node, key, f"must be a list of names, not {value!r}")
    return tuple(v.strip() for v in value)


def _choices(allowed: tuple[str, ...]) -> Convert:
    def convert(r: _Reader, node: yaml.Node, key: str) -> tuple[str, ...]:
        names = _names(r, node, key)
        if not names or any(n not in allowed for n in names):
            raise r.fail(node, key, f"must be a list drawn from {', '.join(allowed)}")
        if twice := next((n for i, n in enumerate(names) if n in names[:i]), None):
            raise r.fail(node, key, f"names {twice} twice")
        return names

    return convert


def _groups(r: _Reader, node: yaml.Node, key: str) -> tuple[str, ...]:
    chosen = {name: True for name in GROUP_KINDS}
    for name, key_node, value_node in r.mapping(node, key):
        if name not in chosen:
            raise r.fail(
                key_node, f"{key}.{name}", f"unknown group (known: {', '.join(GROUP_KINDS)})"
            )
        chosen[name] = _boolean(r, value_node, f"{key}.{name}")
    return tuple(name for name, wanted in chosen.items() if wanted)


_FILTERS: dict[str, Any] = {
    "topics": {
        "any": ("topics_any", _names),
        "all": ("topics_all", _names),
        "none": ("topics_none", _names),
    },
    "providers": {"any": ("providers_any", _names), "none": ("providers_none", _names)},
    "category": ("category", _text),
    "type": ("type", _text),
    "min_quality": ("min_quality", _whole(0, 100)),
    "published_only": ("published_only", _boolean),
    "max_age_days": ("max_age_days", _whole(1, MAX_AGE_DAYS)),
    "min_heat": ("min_heat", _whole(-(10**9))),
}


def _filters(r: _Reader, node: yaml.Node, key: str) -> Filters:
    return Filters(**r.section(node, key + ".", _FILTERS), origin=r.origin(node))


def _custom(r: _Reader, node: yaml.Node, key: str) -> tuple[CustomFeed, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise r.fail(node, key, "must be a list of feeds")
    feeds: list[CustomFeed] = []
    slug_nodes: list[yaml.Node] = []
    for i, item in enumerate(node.value):
        where = f"{key}[{i}]"
        fields = {
            "slug": ("slug", _text),
            "title": ("title", _text),
            "description": ("description", _text),
            "sort": ("sort", _sort),
            **_FILTERS,
        }
        values = r.section(item, where + ".", fields)
        if "title" not in values:
            raise r.fail(item, where, "needs a title")
        slug = values.pop("slug", None) or slugify(values["title"])
        slug_node = next((v for k, _, v in r.mapping(item, where) if k == "slug"), item)
        if slugify(slug) != slug:
            like = slugify(slug)
            raise r.fail(
                slug_node, f"{where}.slug", f"must be lowercase words joined by '-', like {like!r}"
            )
        slug_nodes.append(slug_node)
        filter_values = {
            k: values.pop(k) for k in list(values) if k in Filters.__dataclass_fields__
        }
        filters = Filters(**filter_values, origin=r.origin(item))
        feeds.append(CustomFeed(slug=slug, filters=filters, **values))
    if twice := duplicate_slug(feeds):
        first, second = twice
        message = f"{feeds[second].slug!r} is already the slug of {key}[{first}]"
        raise r.fail(slug_nodes[second], f"{key}[{second}].slug", message)
    return tuple(feeds)


def _sort(r: _Reader, node: yaml.Node, key: str) -> str:
    value = r.value(node, key)
    if value not in ("newest", "heat"):
        raise r.fail(node, key, f"must be 'newest' or 'heat' (hottest, then newest), not {value!r}")
    return str(value)


_SECTIONS: dict[str, Any] = {
    "site": {
        "title": ("title", _text),
        "base_url": ("base_url", _base_url),
        "url": ("site_url", _url),
        "description": ("description", _text),
        "language": ("language", _text),
        "logo": ("logo", _url),
        "icon": ("icon", _url),
        "author": ("author", _text),
    },
    "defaults": {
        "limit": ("limit", _whole(1)),
        "formats": ("formats", _choices(FORMAT_NAMES)),
        "archives": ("archives", _boolean),
        "split_months_over": ("split_months_over", _whole(1)),
        "ttl": ("ttl", _whole(1)),
    },
    "groups": ("groups", _groups),
    "filters": ("filters", _filters),
    "custom": ("custom", _custom),
    "websub": {"hub": ("websub_hub", _url)},
    "paths": {"seeds": ("seeds", _path), "output": ("output", _path), "cache": ("cache", _path)},
}
