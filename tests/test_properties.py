"""Property-based tests: arbitrary text, bytes and YAML values never crash the reader, never make an
unsafe file name, and never make a feed that does not parse."""

from __future__ import annotations

import json
import re
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.collect import collect
from feeds.config import Config
from feeds.model import Article, Provider, Texts
from feeds.records import _RecordLoader, read_file
from feeds.render import plan
from feeds.slugs import MAX_LENGTH, provider_slug, slugify, topic_slug
from feeds.text import identity_key
from feeds.validate import validate
from tests.test_jsonfeed import spec_problems

SAFE_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# A group's slug: plain words, or readable words then `--` and a hash of its identity.
GROUP_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*(--[0-9a-f]{16})?$")
FIXTURE = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


@given(st.text())
def test_every_slug_is_a_safe_file_name(name: str) -> None:
    slug = slugify(name)
    assert SAFE_SLUG.match(slug), slug
    assert len(slug) <= MAX_LENGTH
    for group_slug in (topic_slug(identity_key(name)), provider_slug(identity_key(name))):
        assert GROUP_SLUG.match(group_slug), group_slug
        assert len(group_slug) <= MAX_LENGTH


# Names made to nearly collide: case, accents, symbols, spaces, hyphens, dots, other scripts, and
# lengths around the cap; plus any text at all.
near_names = st.one_of(
    st.text(alphabet="cCdDnNrRkKuUüÜ1 +#&@%.-_人工", min_size=1, max_size=8),
    st.text(alphabet="ab .-", min_size=60, max_size=100),
    st.text(min_size=1, max_size=20),
).filter(identity_key)  # a topic or provider name is never blank
domains = st.lists(st.text(alphabet="ab1-", min_size=1, max_size=4), min_size=1, max_size=3).map(
    ".".join
)
providers = st.one_of(
    domains.map(lambda d: Provider(d, d, d)),
    near_names.map(lambda n: Provider(identity_key(n), n)),
)


def _slugs(articles: list[Article]) -> dict[tuple[str, str], str]:
    """Each topic's and provider's slug, by (kind, identity key), as a build names its files."""
    groups = collect(articles, kinds=("topics", "providers")).groups
    return {(g.kind.value, g.key): g.slug for g in groups}


@settings(max_examples=300)
@given(st.lists(st.tuples(near_names, providers), min_size=1, max_size=8))
def test_a_slug_depends_on_its_identity_alone_and_is_nobody_elses(
    named: list[tuple[str, Provider]],
) -> None:
    published = datetime(2020, 1, 1, tzinfo=UTC)
    articles = [
        Article(
            f"https://example.com/{i}", Texts("t"), published, provider=provider, topics=(topic,)
        )
        for i, (topic, provider) in enumerate(named)
    ]
    together = _slugs(articles)
    for article in articles:
        assert _slugs([article]).items() <= together.items(), "alone, the same slug"
    assert _slugs(articles[::-1]) == together, "in any order"
    for kind in ("topics", "providers"):
        slugs = [slug for (k, _), slug in together.items() if k == kind]
        assert len(set(slugs)) == len(slugs), "distinct identities, distinct slugs"
        assert all(GROUP_SLUG.match(slug) and len(slug) <= MAX_LENGTH for slug in slugs)


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
    for name, data in ((p.path, p.make()) for p in plan(collect(articles), config)):
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


scalar_texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "~", "null", "Null", "NULL", "true", "False", "yes", "on", "0", "-12",
                     "+3", "0x1F", "0o17", "1_000", "1.5", "-.inf", ".NaN", "6.8e+3", "2024-01-01",
                     "2024-01-01T10:00:00Z", "<<", "=", "0b101", "190:20:30", "tilde", "nully"]),
)  # fmt: skip


@given(scalar_texts, st.booleans(), st.booleans())
def test_records_resolve_tags_as_pyyaml_does(value: str, plain: bool, quoted: bool) -> None:
    """The record loader's own `resolve` (faster: no path resolvers) gives every node the tag
    PyYAML's resolver gives it, with the same implicit resolvers (all but timestamps)."""
    loader = _RecordLoader("")
    try:
        for kind in (yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode):
            ours = loader.resolve(kind, value, (plain, quoted))
            assert ours == yaml.resolver.BaseResolver.resolve(loader, kind, value, (plain, quoted))
    finally:
        loader.dispose()
    if plain and value.startswith("2024-01-01"):  # times stay strings (`validate.py` reads them)
        assert loader.resolve(yaml.ScalarNode, value, (True, False)) == "tag:yaml.org,2002:str"
