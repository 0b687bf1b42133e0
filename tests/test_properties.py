"""Property-based tests: arbitrary text, bytes and YAML values never crash the reader, never make an
unsafe file name, and never make a feed that does not parse."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import feedparser
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.collect import collect
from feeds.config import Config
from feeds.records import _RecordLoader, read_file
from feeds.render import render_files
from feeds.slugs import MAX_LENGTH, assign_slugs, slugify
from feeds.validate import validate
from tests.test_jsonfeed import spec_problems

SAFE_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FIXTURE = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


@given(st.text())
def test_every_slug_is_a_safe_file_name(name: str) -> None:
    slug = slugify(name)
    assert SAFE_SLUG.match(slug), slug
    assert len(slug) <= MAX_LENGTH


@given(st.lists(st.text(), unique=True))
def test_slugs_are_distinct_and_deterministic(names: list[str]) -> None:
    keys = {name: name for name in names}
    slugs = assign_slugs(keys)
    assert len(set(slugs.values())) == len(names)
    assert all(SAFE_SLUG.match(s) and len(s) <= MAX_LENGTH for s in slugs.values())
    assert assign_slugs(dict(reversed(list(keys.items())))) == slugs


@FIXTURE
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".md", ".txt", ".yaml", ".json"]))
def test_arbitrary_bytes_never_raise(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"record{suffix}"
    path.write_bytes(data)
    result = read_file(path, path.name)
    outcomes = [result.ignored, result.problem is not None, bool(result.records)]
    assert outcomes.count(True) == 1, result  # every file ends as exactly one of these
    for raw in result.records:
        validate(raw)


@FIXTURE
@given(text=st.text(max_size=2000))
def test_arbitrary_front_matter_text_never_raises(tmp_path: Path, text: str) -> None:
    path = tmp_path / "record.md"
    path.write_text(f"---\n{text}\n---\n", encoding="utf-8", errors="surrogatepass")
    for raw in read_file(path, path.name).records:
        validate(raw)


# Values YAML can carry, including text XML cannot, markup, and nested lists and mappings.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(["<b>x</b>", "javascript:alert(1)", "https://example.com/a", "../../etc", ""]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
urls = st.builds(
    lambda path: f"https://example.com/{path}",
    st.text(alphabet=string.ascii_letters + string.digits + "-_/", max_size=20),
)
titles = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=60)
dates = st.sampled_from(["2020-06-08T23:17:00Z", "2021-01-01", "2020-06-08T23:17:00+05:30"])
records = st.fixed_dictionaries(
    {"title": titles, "webUrl": urls, "publishedDateTime": dates},
    optional={
        "excerpt": st.one_of(titles, values),
        "topics": st.one_of(st.lists(titles, max_size=3), values),
        "provider": st.one_of(
            st.fixed_dictionaries({"name": titles}, optional={"domain": values, "images": values}),
            values,
        ),
        "images": st.one_of(
            st.lists(st.fixed_dictionaries({"url": urls | values}), max_size=3), values
        ),
        "related": values,
        "quality": values,
        "heat": values,
    },
)


@settings(FIXTURE, max_examples=60)
@given(batch=st.lists(records, min_size=1, max_size=4))
def test_any_accepted_records_make_feeds_that_parse(
    tmp_path: Path, batch: list[dict[str, Any]]
) -> None:
    path = tmp_path / "records.yaml"
    path.write_text(
        yaml.safe_dump(batch, allow_unicode=True), encoding="utf-8", errors="surrogatepass"
    )
    articles = [
        c.article for raw in read_file(path, path.name).records if (c := validate(raw)).article
    ]
    config = Config(seeds=tmp_path, output=tmp_path / "out")
    for name, data in render_files(collect(articles), config):
        if name.endswith(".json"):
            assert spec_problems(json.loads(data)) == [], name
            continue
        parsed = feedparser.parse(data)
        assert not parsed.bozo, (name, parsed.get("bozo_exception"))
        if name.startswith("all."):
            assert len(parsed.entries) == len({a.url for a in articles})


def _load(text: str, *, plain: bool) -> tuple[str, Any]:
    loader = _RecordLoader(text)
    try:
        return ("data", loader.plain_document() if plain else loader.get_single_data())
    except Exception as e:  # PyYAML raises more than YAMLError: compare them all
        return ("error", f"{type(e).__name__}: {e}")
    finally:
        loader.dispose()


yaml_texts = st.one_of(
    values.map(lambda v: yaml.safe_dump(v, allow_unicode=True)),
    values.map(lambda v: yaml.safe_dump(v, default_flow_style=True)),
    st.lists(
        st.sampled_from(["a:", " b:", "- ", "? ", "<<: ", "!!set ", "!!int ", "!!str ", "[1, 2]",
                         "{x: y}", "012", "0x1F", "1_000", "yes", "~", "NULL", "1.5", ".inf",
                         "2024-01-01", "\n", "  ", "'q'", "!!binary aGk=", "!!omap ", "!!map ",
                         "!!seq ", "!!float ", "!!bool ", "!!null "]),
        max_size=12,
    ).map("".join),
)  # fmt: skip


@given(yaml_texts)
def test_the_plain_data_walk_builds_what_pyyaml_builds(text: str) -> None:
    """Records are built by a short walk over plain data; anything else goes to PyYAML's own
    constructor: the values and the errors are the same either way."""
    assert _load(text, plain=True) == _load(text, plain=False)
