"""A published feed URL never changes meaning: slugs of the names that nearly collide, and a feed
that keeps its file when a near-namesake arrives (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.slugs import provider_slug, topic_slug
from feeds.text import identity_key
from tests.helpers import build_into, write_record, xml

# Exact values: a slug is a published URL, so a change of these is a change of every subscriber's
# feed, never a refactoring.
TOPICS = [
    ("C++", "c-plus-plus--cedb1bac7efcd7db"),
    ("C", "c"),
    ("C#", "c-sharp--951a4d36e0a9018b"),
    ("R&D", "r-and-d--dacc7c16cdbd7096"),
    ("R D", "r-d"),
    (".NET", "dot-net--fb74851c8bc7bddd"),
    ("NET", "net"),
    ("Künstliche Intelligenz", "kunstliche-intelligenz--77da35f4b70f65fa"),
    ("Kunstliche Intelligenz", "kunstliche-intelligenz"),
    ("人工知能", "rengongzhineng--d6bc0a3e4d1291f4"),
    ("Computer Vision", "computer-vision"),
    ("covid-19", "covid-19--88529c3ac8ebd2dc"),
    ("COVID 19", "covid-19"),
]
PROVIDERS = [
    ("cnbc.com", "cnbc-com"),
    ("cnbc com", "cnbc-com--3a5712f266dd18a5"),  # a provider's name, not its domain
    ("reuters", "reuters"),
    ("spectrum.ieee.org", "spectrum-ieee-org"),
    ("my-site.com", "my-site-com--6849d8a7594090ae"),
    ("my.site.com", "my-site-com"),
]


@pytest.mark.parametrize(("name", "slug"), TOPICS, ids=[n for n, _ in TOPICS])
def test_near_namesake_topics_get_distinct_stable_slugs(name: str, slug: str) -> None:
    assert topic_slug(identity_key(name)) == slug


@pytest.mark.parametrize(("key", "slug"), PROVIDERS, ids=[k for k, _ in PROVIDERS])
def test_provider_domains_and_names_get_distinct_stable_slugs(key: str, slug: str) -> None:
    assert provider_slug(key) == slug


def test_a_long_name_is_capped_and_keeps_its_own_slug() -> None:
    long = "machine learning " * 6
    slug = topic_slug(identity_key(long))
    assert len(slug) <= 80 and slug.startswith("machine-learning-") and "--" in slug
    assert topic_slug(identity_key(long + "x")) != slug


def _topic_record(folder: Path, name: str, topic: str, day: int) -> None:
    write_record(
        folder,
        f"{name}.md",
        f"""
title: "A story about {topic}"
webUrl: https://example.com/{name}
publishedDateTime: 2024-05-{day:02d}T10:00:00Z
topics: ["{topic}"]
""",
    )


def test_a_topic_keeps_its_file_when_a_near_namesake_arrives(tmp_path: Path) -> None:
    seeds, output = tmp_path / "seeds", tmp_path / "output"
    _topic_record(seeds, "cpp", "C++", 1)
    build_into(seeds, output)
    (cpp_file,) = (output / "topics").glob("*.rss.xml")

    _topic_record(seeds, "c", "C", 2)
    build_into(seeds, output)
    assert xml(cpp_file).findtext("channel/title") == "C++ · News feeds"
    c_file = output / "topics" / "c.rss.xml"
    assert xml(c_file).findtext("channel/title") == "C · News feeds"
    assert sorted((output / "topics").glob("*.rss.xml")) == sorted([cpp_file, c_file])
