"""Deliberately broken records (tests/bad_records/), each with its exact outcome (SPEC §3).

A rejection names the file, the line where known, the field and what is wrong; a warning says what
was cleaned. Nothing bad stops the build or reaches a feed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import html

from feeds.build import check
from feeds.config import Config
from tests.helpers import CORPUS, build_into, contents_of, feeds_of, files_of, xml

BAD = Path(__file__).parent / "bad_records"

EXPECTED = [
    "alias-bomb.md: error: YAML aliases expand to more values than the file holds (alias bomb?)",
    "api-export.json (item 2): error: record: is not a mapping of fields",
    "bad-optional-fields.md:5: warning: provider.domain: must be a domain name like example.com, not 'http://bad/domain'; ignored",
    "bad-optional-fields.md:5: warning: provider.images[0].url: must be an absolute http(s) URL, not a 'ftp' one; image dropped",
    "bad-optional-fields.md:6: warning: quality: must be between 0 and 100, not 120; ignored",
    "bad-optional-fields.md:7: warning: heat: must be a whole number, not 'lots'; ignored",
    "bad-optional-fields.md:8: warning: published: must be true or false, not 'maybe'; ignored",
    "bad-optional-fields.md:9: warning: topics: must be a list, not 'AI'; ignored",
    "binary.md: error: is a binary file, not a text record",
    "cleaned-with-warnings.md:2: warning: title: 1 control character(s) that XML cannot carry were removed",
    "cleaned-with-warnings.md:2: warning: title: HTML tags were removed; titles and excerpts are plain text",
    "cleaned-with-warnings.md:4: warning: publishedDateTime: has no time zone offset; taken as UTC",
    "cleaned-with-warnings.md:5: warning: topics[0]: '../../etc' looks like a file path, not a topic name; topic dropped",
    "cleaned-with-warnings.md:5: warning: topics[1]: is empty; topic dropped",
    "cleaned-with-warnings.md:6: warning: images[0].url: must be an absolute http(s) URL, not a 'javascript' one; image dropped",
    "cleaned-with-warnings.md:6: warning: images[1].width: must be a positive number of pixels, not -3; ignored",
    "empty.md: error: is empty",
    "html-in-title.md:2: warning: title: HTML tags were removed; titles and excerpts are plain text",
    "html-in-title.md:5: warning: excerpt: HTML tags were removed; titles and excerpts are plain text",
    "impossible-date.md:4: error: publishedDateTime: is not a possible date: '2020-02-30T00:00:00Z' (day is out of range for month)",
    "javascript-url.md:3: error: webUrl: must be an absolute http(s) URL, not a 'javascript' one",
    "json-syntax-error.json:2: error: JSON syntax error: Expecting value",
    "latin-1.md:2: error: is not UTF-8 text (byte 0xff cannot be decoded)",
    "malformed-host.md:3: error: webUrl: must be a URL with a well-formed host",
    "malformed-host.md:5: warning: provider.domain: must be a domain name like example.com, not '[bad'; ignored",
    "missing-date.md: error: publishedDateTime: is missing",
    "missing-title.md: error: title: is missing or empty",
    "missing-weburl.md: error: webUrl: is missing",
    "no-front-matter.md:1: error: has no front matter: the first line must be '---'",
    "not-a-date.md:4: error: publishedDateTime: is not an ISO 8601 time like 2020-06-08T23:17:00Z: 'yesterday'",
    "not-a-mapping.md:2: error: front matter is a list, not a set of 'field: value' lines",
    "object-tag.md:2: error: YAML tag !!python/object/apply:os.system is not allowed; records hold plain values only",
    "relative-url.md:3: error: webUrl: must be an absolute http(s) URL like https://example.com/a; no host",
    "scheme-relative-url.md:3: error: webUrl: must be an absolute http(s) URL like https://example.com/a; no scheme",
    "tagged-value.md: error: YAML has a !!tagged value that cannot be made: invalid literal for int() with base 16: ''",
    "title-not-text.md:2: error: title: must be text, not a list",
    "unclosed-front-matter.md:1: error: front matter is not closed: no second '---' line after line 1",
    "yaml-syntax-error.md:3: error: YAML syntax error: did not find expected ',' or ']'",
]


def test_each_bad_record_gets_its_exact_reason() -> None:
    report = check(Config(seeds=BAD)).report
    assert [str(p) for p in report.problems] == EXPECTED


def test_the_accounting_adds_up() -> None:
    report = check(Config(seeds=BAD)).report
    files = sorted(p.name for p in BAD.iterdir())
    assert report.files_read == len(files)
    assert report.files_ignored == 1  # notes.html
    assert report.records == report.accepted + report.rejected + report.duplicates
    assert report.rejected == sum(": error: " in line for line in EXPECTED)
    assert report.records == report.files_read - report.files_ignored + 1  # api-export holds two


def test_an_oversized_file_is_rejected_without_being_parsed(tmp_path: Path) -> None:
    (tmp_path / "huge.md").write_text("---\ntitle: " + "x" * 2_000_000 + "\n---\n")
    (problem,) = check(Config(seeds=tmp_path)).report.problems
    assert str(problem) == "huge.md: error: is larger than 1024 KB, the limit for one record file"


def test_good_records_still_build_next_to_bad_ones(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds / "good")
    shutil.copytree(BAD, seeds / "bad")
    report = build_into(seeds, tmp_path / "out")
    assert report.rejected == sum(": error: " in line for line in EXPECTED)
    good = check(Config(seeds=CORPUS)).collection.groups[0].articles
    shown = {item.findtext("link") for item in xml(tmp_path / "out/all.rss.xml").iter("item")}
    assert {a.url for a in good} <= shown
    written = {p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(seeds)}
    assert written == {p for p in (tmp_path / "out").rglob("*") if p.is_file()}


def test_nothing_dangerous_reaches_any_output_file(tmp_path: Path) -> None:
    build_into(BAD, tmp_path)
    for path, data in files_of(tmp_path).items():  # the feeds and the kept report
        assert b"javascript:" not in data, path
        assert b"ftp://" not in data, path
    for path in feeds_of(tmp_path):
        for content in contents_of(tmp_path / path):
            fragment = html.fragment_fromstring(content, create_parent="div")
            assert not fragment.xpath("//script"), path
            assert not [a for e in fragment.iter() for a in e.attrib if a.startswith("on")], path


RECORD = "title: T\nwebUrl: https://example.com/t\npublishedDateTime: 2020-01-01T00:00:00Z\n"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "deep-flow.md",
            "---\ntitle: " + "[" * 100_000 + "]" * 100_000 + "\n---\n",
            "deep-flow.md: error: YAML is nested more than 64 levels deep",
        ),
        (
            "deep-block.yaml",
            "".join(" " * i + "- \n" for i in range(1000)),
            "deep-block.yaml: error: YAML is nested more than 64 levels deep",
        ),
        (
            "empty-list.yaml",
            "news: []\n",
            "empty-list.yaml:1: error: holds an empty list: no records",
        ),
        (
            "many-topics.md",
            "---\n" + RECORD + "topics: [" + ", ".join(f"t{i}" for i in range(500)) + "]\n---\n",
            "many-topics.md:5: warning: topics: has 500 items; only the first 50 are kept",
        ),
        (
            "comment-bomb.json",
            # Unclosed comments: a naive tag pattern would scan this quadratically (minutes).
            json.dumps(
                {
                    "title": "<!--" * 200_000,
                    "webUrl": "https://e.com/c",
                    "publishedDateTime": "2020",
                }
            ),
            "comment-bomb.json: warning: publishedDateTime: has no time zone offset; taken as UTC",
        ),
    ],
    ids=["deep-flow", "deep-block", "empty-list", "many-topics", "comment-bomb"],
)
def test_hostile_files_are_rejected_quickly(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    (tmp_path / name).write_text(content)
    assert [str(p) for p in check(Config(seeds=tmp_path)).report.problems] == [expected]


def test_an_unreadable_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "gone.md").symlink_to(tmp_path / "nowhere")
    (problem,) = check(Config(seeds=tmp_path)).report.problems
    assert str(problem) == "gone.md: error: cannot be read: No such file or directory"
