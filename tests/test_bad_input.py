"""Deliberately broken records (tests/bad_records/), each with its exact outcome.

A rejection names the file, the line where known, the field and what is wrong; a warning says what
was cleaned. Nothing bad stops the build or reaches a feed.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
from pathlib import Path

import pytest
from lxml import html

from feeds import ingest, records
from feeds.build import check
from feeds.cli import main
from feeds.config import Config
from feeds.records import FileResult, RawRecord
from feeds.validate import Validated
from tests.helpers import (
    BASE_URL,
    CORPUS,
    NS,
    build_into,
    contents_of,
    feeds_of,
    files_of,
    write_record,
    xml,
)

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
    "cleaned-with-warnings.md:2: warning: title: 1 control character(s) that feeds cannot carry were removed",
    "cleaned-with-warnings.md:2: warning: title: HTML tags were removed; titles and excerpts are plain text",
    "cleaned-with-warnings.md:4: warning: publishedDateTime: has no time zone offset; taken as UTC",
    "cleaned-with-warnings.md:5: warning: topics[0]: '../../etc' looks like a file path, not a topic name; topic dropped",
    "cleaned-with-warnings.md:5: warning: topics[1]: is empty; topic dropped",
    "cleaned-with-warnings.md:6: warning: images[0].url: must be an absolute http(s) URL, not a 'javascript' one; image dropped",
    "cleaned-with-warnings.md:6: warning: images[1].width: must be a positive number of pixels, not -3; ignored",
    "empty.md: error: is empty",
    "entity-encoded-html.md:2: warning: title: HTML tags were removed; titles and excerpts are plain text",
    "entity-encoded-html.md:5: warning: excerpt: HTML tags were removed; titles and excerpts are plain text",
    "extreme-numbers.md:5: warning: quality: must be a whole number, not nan; ignored",
    "extreme-numbers.md:6: warning: heat: must be a whole number, not '9999999999999999999999999999999999999999999999999999999999…; ignored",
    "extreme-numbers.md:7: warning: images[0].width: must be at most 65535 pixels, not 100000; ignored",
    "extreme-numbers.md:7: warning: images[0].height: must be a whole number, not inf; ignored",
    "extreme-numbers.md:8: warning: related[0].heat: must be between -1000000000 and 1000000000, not 2000000000; ignored",
    "html-in-title.md:2: warning: title: HTML tags were removed; titles and excerpts are plain text",
    "html-in-title.md:5: warning: excerpt: HTML tags were removed; titles and excerpts are plain text",
    "impossible-date.md:4: error: publishedDateTime: is not a possible date: '2020-02-30T00:00:00Z' (day is out of range for month)",
    "javascript-url.md:3: error: webUrl: must be an absolute http(s) URL, not a 'javascript' one",
    "json-syntax-error.json:2: error: JSON syntax error: Expecting value",
    "latin-1.md:2: error: is not UTF-8 text (byte 0xff cannot be decoded)",
    "long-names.md:5: warning: provider.name: is 250 characters long; a name has at most 200; ignored",
    "long-names.md:6: warning: topics[0]: is 250 characters long; a name has at most 200; topic dropped",
    "malformed-host.md:3: error: webUrl: must be a URL with a well-formed host",
    "malformed-host.md:5: warning: provider.domain: must be a domain name like example.com, not '[bad'; ignored",
    "missing-date.md: error: publishedDateTime: is missing",
    "missing-title.md: error: title: is missing or empty",
    "missing-weburl.md: error: webUrl: is missing",
    "no-front-matter.md:1: error: has no front matter: the first line must be '---'",
    "not-a-date.md:4: error: publishedDateTime: is not an ISO 8601 time like 2020-06-08T23:17:00Z: 'yesterday'",
    "not-a-mapping.md:2: error: front matter is a list, not a set of 'field: value' lines",
    "object-tag.md:2: error: YAML tag !!python/object/apply:os.system is not allowed; records hold plain values only",
    "out-of-range-date.md:4: error: publishedDateTime: must be a time in the years 1000 to 9998 (UTC), not '0001-01-01T00:00:00+05:00'",
    "out-of-range-updated.md:5: warning: updatedDateTime: must be a time in the years 1000 to 9998 (UTC), not '9999-12-31T23:00:00-05:00'; ignored",
    "relative-url.md:3: error: webUrl: must be an absolute http(s) URL like https://example.com/a; no host",
    "scheme-relative-url.md:3: error: webUrl: must be an absolute http(s) URL like https://example.com/a; no scheme",
    "tagged-value.md:5: warning: quality: must be a whole number, not '0x' (tagged !!int, which it is not); ignored",
    "title-not-text.md:2: error: title: must be text, not a list",
    "unclosed-front-matter.md:1: error: front matter is not closed: no second '---' line after line 1",
    "unparsable-url.md:3: error: webUrl: must be a URL with a well-formed host (invalid port number)",
    "unparsable-url.md:5: warning: ampWebUrl: must be a URL with a well-formed host (invalid IPv4 address); ignored",
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
            "deep-one-line.yaml",  # no bracket, no indentation: libyaml crashed on it
            "- " * 50_000 + "x\n",
            "deep-one-line.yaml: error: YAML is nested more than 64 levels deep",
        ),
        (
            "deep-keys.yaml",
            "? " * 50_000 + "x\n",
            "deep-keys.yaml: error: YAML is nested more than 64 levels deep",
        ),
        (
            "deep.json",  # read whole, as YAML 64 levels deep is not: the same limit now
            '{"title": "T", "webUrl": "https://e.com/d", "publishedDateTime": "2020", "x": '
            + "[" * 65
            + "]" * 65
            + "}",
            "deep.json: error: JSON is nested more than 64 levels deep",
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
    ids=[
        "deep-flow",
        "deep-block",
        "deep-one-line",
        "deep-keys",
        "deep-json",
        "empty-list",
        "many-topics",
        "comment-bomb",
    ],
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


def test_a_bug_costs_one_record_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last safety net: an exception while validating a record (a bug in feeds) rejects that
    record, in words that get it reported, and the other records of its file go on."""
    records = [
        {
            "title": f"T{i}",
            "webUrl": f"https://example.com/{i}",
            "publishedDateTime": "2020-01-01T00:00:00Z",
        }
        for i in (1, 2, 3)
    ]
    (tmp_path / "three.json").write_text(json.dumps(records))
    real = ingest.validate

    def buggy(raw: RawRecord, revision: bytes = b"") -> Validated:
        if raw.label == "item 2":
            raise ZeroDivisionError("division by zero")
        return real(raw, revision)

    monkeypatch.setattr(ingest, "validate", buggy)
    outcome = ingest.ingest_file(tmp_path, "three.json")
    assert [str(p) for p in outcome.problems] == [
        "three.json (item 2): error: could not be processed: ZeroDivisionError: division by zero (a bug in feeds; please report it)"
    ]
    assert [a.url for a in outcome.articles] == ["https://example.com/1", "https://example.com/3"]
    assert (outcome.records, outcome.rejected) == (3, 1)


def test_a_number_python_cannot_read_costs_only_its_field(tmp_path: Path) -> None:
    """Python refuses to read a number of more than 4300 digits. The field that holds one is
    refused like any wrong value (an optional one is ignored with a warning), and the other
    records of its file stay: the loader once refused the whole file."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    huge = "9" * 5000
    (seeds / "list.json").write_text(
        '[{"title": "J", "webUrl": "https://example.com/j", "publishedDateTime": "2020-01-02T00:00:00Z",'
        f' "heat": -{huge}}},'
        ' {"title": "K", "webUrl": "https://example.com/k", "publishedDateTime": "2020-01-03T00:00:00Z"}]'
    )
    (seeds / "list.yaml").write_text(
        "- {title: Y, webUrl: 'https://example.com/y', publishedDateTime: 2020-01-04T00:00:00Z,"
        f" quality: 1_{huge}}}\n"
        "- title: &t Z\n  webUrl: https://example.com/z\n  publishedDateTime: 2020-01-05T00:00:00Z\n"
        f"  images: [{{url: 'https://example.com/z.png', width: {huge}}}]\n  alias: *t\n"
    )
    report = build_into(seeds, tmp_path / "out")
    assert [str(p) for p in report.problems] == [
        "list.json (item 1): warning: heat: is a number of 5,000 digits, too long to read; ignored",
        "list.yaml (item 1): warning: quality: is a number of 5,001 digits, too long to read; "
        "ignored",
        "list.yaml (item 2): warning: images[0].width: is a number of 5,000 digits, too long to "
        "read; ignored",
    ]
    assert (report.accepted, report.rejected) == (4, 0)
    channel = xml(tmp_path / "out/all.rss.xml").find("channel")
    assert channel is not None
    assert [item.findtext("title") for item in channel.iter("item")] == ["Z", "Y", "K", "J"]
    assert channel.find("item/enclosure").get("url") == "https://example.com/z.png"


def test_markup_written_as_entities_reaches_no_title(tmp_path: Path) -> None:
    """`&lt;script&gt;` is a tag once decoded: it is removed like one, in every format; a lone
    `<` stays text."""
    (tmp_path / "seeds").mkdir()
    shutil.copy(BAD / "entity-encoded-html.md", tmp_path / "seeds")
    build_into(tmp_path / "seeds", tmp_path / "out")
    (item,) = json.loads((tmp_path / "out/all.json").read_text())["items"]
    assert item["title"] == "alert(2) Breaking & news"
    assert item["summary"] == "a < b, <3, and twice encoded"
    rss = xml(tmp_path / "out/all.rss.xml")
    assert rss.findtext("channel/item/title") == "alert(2) Breaking & news"
    # RSS descriptions are HTML: the excerpt's `<` is escaped once, to be shown as text.
    assert rss.findtext("channel/item/description") == "a &lt; b, &lt;3, and twice encoded"
    atom = xml(tmp_path / "out/all.atom.xml")
    assert atom.findtext("atom:entry/atom:title", namespaces=NS) == "alert(2) Breaking & news"
    for path, data in files_of(tmp_path / "out").items():
        assert b"<script" not in data and b"&lt;script" not in data, path


def test_a_bug_while_reading_one_file_rejects_that_file_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README, "No record stops a build": an unexpected error while reading one file rejects
    that file only, saying it is a bug; the other records are published and the build succeeds.
    (Two files: they are read in this process, where the patch is.)"""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.md").write_text(f"---\n{RECORD}---\n")
    (seeds / "unlucky.md").write_text(
        f"---\n{RECORD.replace('example.com/t', 'example.com/u')}---\n"
    )
    real = records.read_file  # the function ingest calls under the name `read_file`

    def buggy(path: Path, name: str) -> FileResult:
        if name == "unlucky.md":
            raise KeyError("surprise")
        return real(path, name)

    monkeypatch.setattr("feeds.ingest.read_file", buggy)
    expected = (
        "unlucky.md: error: could not be processed: KeyError: 'surprise' "
        "(a bug in feeds; please report it)"
    )
    report = build_into(seeds, tmp_path / "out", cache=tmp_path / "cache")
    assert [str(p) for p in report.problems] == [expected]
    assert (report.files_read, report.files_ignored, report.records) == (2, 0, 2)
    assert (report.accepted, report.rejected, report.duplicates) == (1, 1, 0)
    links = [item.findtext("link") for item in xml(tmp_path / "out/all.rss.xml").iter("item")]
    assert links == ["https://example.com/t"]
    # What a user of the command sees: the rejection, the summary, exit code 0 (not 70).
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(
            [
                *("build", "--seeds", str(seeds), "--output", str(tmp_path / "cli")),
                *("--cache", str(tmp_path / "cli-cache"), "--base-url", BASE_URL),
            ]
        )
    assert (code, err.getvalue()) == (0, "")
    lines = out.getvalue().splitlines()
    assert lines[0] == expected
    assert lines[1].startswith(
        "2 files (0 ignored, 2 parsed): 2 records, 1 accepted, 1 rejected, 0 duplicates; "
    )
    assert len(lines) == 2
    kept = json.loads((tmp_path / "cli/.feeds-report.json").read_text())
    assert [(p["path"], p["message"]) for p in kept["rejections"]] == [
        ("unlucky.md", expected.split(": error: ", 1)[1])
    ]


def test_of_two_duplicates_changed_at_the_same_time_the_file_that_sorts_first_is_kept(
    tmp_path: Path,
) -> None:
    """README, "Rules this tool decides": records with the same webUrl are one article; the one
    changed most recently is kept; on a tie, the file that sorts first; the other is reported
    as a duplicate."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    times = "publishedDateTime: 2024-05-01T10:00:00Z\nupdatedDateTime: 2024-05-01T12:00:00Z\n"
    story = f"webUrl: https://example.com/story\n{times}topics: [AI]\n"
    # b.md is written first: "first" is by name, not by the order files were made.
    (seeds / "b.md").write_text(f"---\ntitle: Told by b\n{story}---\n")
    (seeds / "a.md").write_text(f"---\ntitle: Told by a\n{story}---\n")
    report = build_into(seeds, tmp_path / "out", cache=tmp_path / "cache")
    assert (report.records, report.accepted, report.rejected, report.duplicates) == (2, 1, 0, 1)
    assert [str(p) for p in report.duplicate_notes] == [
        "b.md: warning: webUrl: same webUrl as a.md, which was kept (changed later or sorts first)"
    ]
    for name in ("all", "topics/ai"):
        titles = [
            item.findtext("title") for item in xml(tmp_path / f"out/{name}.rss.xml").iter("item")
        ]
        assert titles == ["Told by a"], name
    (item,) = json.loads((tmp_path / "out/all.json").read_text())["items"]
    assert (item["title"], item["url"]) == ("Told by a", "https://example.com/story")


def test_a_value_its_tag_does_not_fit_costs_only_its_field_and_no_secret_is_said(
    tmp_path: Path,
) -> None:
    """`!!bool maybe`, `!!int 12abc`, `!!timestamp yesterday`: PyYAML raises on each. A
    `secured` token so tagged reached the report (published beside the feeds) and the cache in
    the loader's words, and `!!bool` or `!!timestamp` anywhere was called a bug in feeds. Now
    such a value is refused in its field like any wrong value, and an ignored field (`secured`)
    costs nothing."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for tag in ("int", "float", "bool", "timestamp"):
        (seeds / f"secret-{tag}.md").write_text(
            f"---\ntitle: {tag}\nwebUrl: https://example.com/{tag}\n"
            f"publishedDateTime: 2020-06-08T23:17:00Z\nsecured: !!{tag} S3CRET-{tag}\n---\n"
        )
    (seeds / "tagged.md").write_text(
        "---\ntitle: T\nwebUrl: https://example.com/t\npublishedDateTime: 2020-06-08T23:17:00Z\n"
        "published: !!bool maybe\nquality: !!int 12abc\nheat: !!float warm\n"
        f"excerpt: !!int {'x' * 100_000}\nsecured: !!int ''\n---\n"
    )
    (seeds / "when.md").write_text(
        "---\ntitle: W\nwebUrl: https://example.com/w\npublishedDateTime: !!timestamp yesterday\n"
        "---\n"
    )
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(
            ["build", "--seeds", str(seeds), "--output", str(tmp_path / "out"), "--cache",
             str(tmp_path / "cache"), "--json"]
        )  # fmt: skip
    report = json.loads(stdout.getvalue())
    assert code == 0
    assert [(p["path"], p["line"], p["field"], p["message"]) for p in report["warnings"]] == [
        ("tagged.md", 8, "excerpt", "must be text, not 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxx… (tagged !!int, which it is not); ignored"),
        ("tagged.md", 6, "quality", "must be a whole number, not '12abc' (tagged !!int, which it "
         "is not); ignored"),
        ("tagged.md", 7, "heat", "must be a whole number, not 'warm' (tagged !!float, which it "
         "is not); ignored"),
        ("tagged.md", 5, "published", "must be true or false, not 'maybe' (tagged !!bool, which "
         "it is not); ignored"),
    ]  # fmt: skip
    assert [(p["path"], p["line"], p["field"], p["message"]) for p in report["rejections"]] == [
        ("when.md", 4, "publishedDateTime", "must be text, not 'yesterday' (tagged !!timestamp, "
         "which it is not)")
    ]  # fmt: skip
    assert report["records"] == {"found": 6, "accepted": 5, "rejected": 1, "duplicate": 0}
    everything = [*(tmp_path / "out").rglob("*"), *(tmp_path / "cache").rglob("*")]
    assert [p for p in everything if p.is_file() and b"S3CRET" in p.read_bytes().upper()] == []
    assert "S3CRET" not in stdout.getvalue().upper()


def test_every_record_of_an_export_is_read_and_a_record_with_a_list_named_value_is_one(
    tmp_path: Path,
) -> None:
    """An object with both a `news` and a `value` list lost the second's records, uncounted; a
    record with a list field named `value` was taken for an export, itself lost."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    day = '"publishedDateTime": "2020-06-08T23:17:00Z"'
    records = [f'{{"title": "{t}", "webUrl": "https://example.com/{t}", {day}}}' for t in "NVW"]
    (seeds / "both.json").write_text(
        f'{{"news": [{records[0]}], "value": [{records[1]}, {records[2]}]}}'
    )
    (seeds / "single.yaml").write_text(
        "title: S\nwebUrl: https://example.com/S\npublishedDateTime: 2020-06-07T00:00:00Z\n"
        "value: [high, medium]\nnews: [{title: not a record}]\n"
    )
    report = build_into(seeds, tmp_path / "out")
    assert (report.records, report.accepted, report.rejected, report.problems) == (4, 4, 0, ())
    items = json.loads((tmp_path / "out/all.json").read_text())["items"]
    assert [item["title"] for item in items] == ["N", "V", "W", "S"]


def test_a_raw_control_character_is_removed_and_costs_no_record(tmp_path: Path) -> None:
    """A control character written as itself (pasted from a word processor), not escaped: YAML
    and JSON refuse to read the file, and every record in it was rejected. It is removed, with
    a warning on its line, as an escaped one is."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    day = "publishedDateTime: 2020-06-08T23:17:00Z"
    (seeds / "bell.md").write_text(
        f"---\ntitle: Ring\x07ing\nwebUrl: https://example.com/m\n{day}\n---\n"
    )
    (seeds / "list.yaml").write_text(
        f"- {{title: First, webUrl: 'https://example.com/y1', {day}}}\n"
        f"- {{title: 'Sec\x1b[2Jond\x7f', webUrl: 'https://example.com/y2', {day}}}\n"
    )
    (seeds / "api.json").write_text(
        '{"title": "J\x01SON", "webUrl": "https://example.com/j", '
        '"publishedDateTime": "2020-06-08T23:17:00Z"}'
    )
    report = build_into(seeds, tmp_path / "out")
    assert [str(p) for p in report.problems] == [
        "api.json:1: warning: 1 control character(s) that YAML and XML cannot carry were removed",
        "bell.md:2: warning: 1 control character(s) that YAML and XML cannot carry were removed",
        "list.yaml:2: warning: 2 control character(s) that YAML and XML cannot carry were removed",
    ]
    assert (report.accepted, report.rejected) == (4, 0)
    items = json.loads((tmp_path / "out/all.json").read_text())["items"]
    assert sorted(item["title"] for item in items) == ["First", "JSON", "Ringing", "Sec[2Jond"]


def test_a_field_given_twice_is_pointed_at_where_its_value_was_taken(tmp_path: Path) -> None:
    """YAML keeps the last of two keys: the problem names that one's line (it named the
    first, whose value was not the one refused)."""
    seeds = tmp_path / "seeds"
    write_record(
        seeds,
        "twice.md",
        "title: T\nquality: 5\nwebUrl: https://example.com/t\npublishedDateTime: 2020-06-08T23:17:00Z\n"
        "quality: 500\n",
    )
    assert [str(p) for p in build_into(seeds, tmp_path / "out").problems] == [
        "twice.md:6: warning: quality: must be between 0 and 100, not 500; ignored"
    ]


def test_a_byte_that_is_not_utf8_is_named_after_a_byte_order_mark_too(tmp_path: Path) -> None:
    """The decoder counts from after the mark: the byte and line named were three bytes off."""
    (tmp_path / "marked.md").write_bytes(b"\xef\xbb\xbf---\ntitle: Caf\xe9\n---\n")
    result = records.read_file(tmp_path / "marked.md", "marked.md")
    assert str(result.problem) == (
        "marked.md:2: error: is not UTF-8 text (byte 0xe9 cannot be decoded)"
    )


def test_a_duplicate_in_a_list_file_is_named_by_its_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A news-search export holds many records in one file: a duplicate note says which of
    them, as a rejection does ("same webUrl as export.yaml" named neither). A run that reads
    only the files that changed gives the same notes."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    day = "publishedDateTime: 2024-05-01T00:00:00Z"
    (seeds / "export.yaml").write_text(
        f"- {{title: A, webUrl: 'https://example.com/a', {day}}}\n"
        f"- {{title: B, webUrl: 'https://example.com/b', {day}}}\n"
        f"- {{title: A again, webUrl: 'https://example.com/a', {day}}}\n"
    )
    later = "publishedDateTime: 2024-05-02T00:00:00Z"
    (seeds / "z.md").write_text(
        f"---\ntitle: B later\nwebUrl: https://example.com/b\n{later}\n---\n"
    )
    cache = {"cache": tmp_path / "cache"}
    first = build_into(seeds, tmp_path / "out", **cache)
    kept_first = (
        "export.yaml: warning: webUrl: item 3 has the same webUrl as export.yaml (item 1), which "
        "was kept (changed later or sorts first)"
    )
    assert [str(p) for p in first.duplicate_notes] == [
        "export.yaml: warning: webUrl: item 2 has the same webUrl as z.md, which was kept "
        "(changed later or sorts first)",
        kept_first,
    ]
    (seeds / "z.md").unlink()
    (seeds / "new.md").write_text(f"---\ntitle: N\nwebUrl: https://example.com/n\n{later}\n---\n")
    # The full way would call `_check`: not taken.
    monkeypatch.setattr(sys.modules["feeds.build"], "_check", None)
    again = build_into(seeds, tmp_path / "out", **cache)
    monkeypatch.undo()
    assert again.parsed == 1  # new.md read, export.yaml's outline taken from the cache
    assert [str(p) for p in again.duplicate_notes] == [kept_first]
    cold = build_into(seeds, tmp_path / "cold", cache=tmp_path / "cold-cache")
    assert cold.duplicate_notes == again.duplicate_notes
    assert files_of(tmp_path / "out") == files_of(tmp_path / "cold")


def test_a_record_keeps_at_most_50_images_and_50_related_articles(tmp_path: Path) -> None:
    """README, "Records": a record keeps at most 50 images and 50 related articles (with a
    warning); what is kept is the first 50, and no feed shows more, nor any of the others."""
    images = ", ".join(
        f"{{url: 'https://img.example/i{n}.jpg', width: 800, height: 600}}" for n in range(60)
    )
    related = ", ".join(
        f"{{title: 'Related {n}', webUrl: 'https://other.example/r{n}.html', "
        f"publishedDateTime: '2020-01-0{1 + n % 9}T00:00:00Z', provider: {{domain: other.example}}}}"
        for n in range(60)
    )
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "many.md").write_text(
        f"---\n{RECORD}provider: {{name: Example, domain: example.com}}\n"
        f"images: [{images}]\nrelated: [{related}]\n---\n"
    )
    report = build_into(seeds, tmp_path / "out", cache=tmp_path / "cache")
    assert [str(p) for p in report.problems] == [
        "many.md:6: warning: images: has 60 items; only the first 50 are kept",
        "many.md:7: warning: related: has 60 items; only the first 50 are kept",
    ]
    assert (report.accepted, report.rejected) == (1, 0)
    out = tmp_path / "out"
    first_images = [f"https://img.example/i{n}.jpg" for n in range(50)]
    first_related = [f"https://other.example/r{n}.html" for n in range(50)]

    (item,) = xml(out / "all.rss.xml").iter("item")
    media = [m.get("url") for m in item.iterfind("media:content", NS)]
    assert media == first_images
    (entry,) = xml(out / "all.atom.xml").iterfind("atom:entry", NS)
    links = [link.get("href") for link in entry.iterfind("atom:link", NS)]
    assert [
        link.get("href") for link in entry.iterfind("atom:link", NS) if link.get("rel") == "related"
    ] == first_related, links
    (json_item,) = json.loads((out / "all.json").read_text())["items"]
    assert [a["url"] for a in json_item["attachments"]] == first_images
    # Each related article is in its provider's feed: the first 50, not 60.
    shown = {i.findtext("link") for i in xml(out / "providers/other-example.rss.xml").iter("item")}
    assert shown == set(first_related)
    for path, data in files_of(out).items():
        for n in range(50, 60):
            assert f"/i{n}.jpg".encode() not in data, path
            assert f"/r{n}.html".encode() not in data, path


def test_hidden_files_and_folders_are_neither_counted_nor_read_nor_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README, "Records": hidden files and folders are skipped. A draft kept as `.draft.md`, or a
    record inside `.git/`, is not counted in the summary, not opened and in no output file; on a
    first build and on a later run that finds new ones beside a new record. (Few files: they are
    read in this process, where the patch is.)"""
    seeds, out, cache = tmp_path / "seeds", tmp_path / "out", tmp_path / "cache"

    def record(name: str, title: str, n: int) -> None:
        front = RECORD.replace("title: T", f"title: {title}").replace("/t\n", f"/{n}\n")
        (seeds / name).parent.mkdir(parents=True, exist_ok=True)
        (seeds / name).write_text(f"---\n{front}---\n")

    record("visible.md", "Visible story", 1)
    record(".draft.md", "Secret draft story", 2)
    record(".git/x.md", "Story inside git", 3)
    opened: list[str] = []
    real = records.read_file  # the function ingest calls under the name `read_file`

    def reading(path: Path, name: str) -> FileResult:
        opened.append(name)
        return real(path, name)

    monkeypatch.setattr("feeds.ingest.read_file", reading)
    hidden = ["Secret draft story", "Story inside git", "example.com/2", "example.com/3"]

    def published() -> dict[str, bytes]:
        made = files_of(out)
        for path, data in made.items():  # every file, the hidden report included
            for text in hidden:
                assert text.encode() not in data, (path, text)
        return made

    report = build_into(seeds, out, cache=cache)
    assert (report.files_read, report.files_ignored, report.parsed) == (1, 0, 1)
    assert (report.records, report.accepted, report.problems) == (1, 1, ())
    assert opened == ["visible.md"]
    assert b"Visible story" in published()["all.rss.xml"]
    assert check(Config(seeds=seeds)).report.files_read == 1

    record("second.md", "Second story", 4)
    record(".later.md", "Secret draft story", 5)
    record(".git/objects/y.md", "Story inside git", 6)
    record("folder/.hidden/z.md", "Story inside git", 7)
    hidden += ["example.com/5", "example.com/6", "example.com/7"]
    opened.clear()
    report = build_into(seeds, out, cache=cache)
    assert (report.files_read, report.files_ignored, report.parsed) == (2, 0, 1)
    assert (report.records, report.accepted, report.problems) == (2, 2, ())
    assert opened == ["second.md"]
    assert b"Second story" in published()["all.rss.xml"]


@pytest.mark.parametrize(
    "domain",
    [
        "example\u200b.com",
        "exa mple.com",
        "moc.elpmaxe\u202e",
        "exa\u00a0mple.com",
        "a|b.com",
        "1.2.3.256",
        "xn--zz.com",
    ],
)
def test_a_domain_with_invisible_characters_or_spaces_is_ignored_with_a_warning(
    tmp_path: Path, domain: str
) -> None:
    """A provider's domain is its identity, and its name and link when it has no other: one
    that looks like another (a zero-width space), or that no browser can read (a space, a bidi
    override), is dropped with a warning, and the provider is known by its name."""
    (tmp_path / "a.md").write_text(
        f"---\n{RECORD}provider: {{name: Example, domain: {json.dumps(domain)}}}\n---\n",
        encoding="utf-8",
    )
    checked = check(Config(seeds=tmp_path))
    (problem,) = checked.report.problems
    assert str(problem) == (
        f"a.md:5: warning: provider.domain: must be a domain name like example.com, "
        f"not {domain!r}; ignored"
    )
    (article,) = checked.articles
    assert article.provider is not None
    assert (article.provider.name, article.provider.domain) == ("Example", None)


def test_controls_xml_advises_against_are_removed_with_a_warning(tmp_path: Path) -> None:
    """DEL, the C1 controls and noncharacters are legal XML, but readers take U+0080 to U+009F
    for Windows-1252 (U+0080 came back as a euro sign) and validators warn: none reaches a feed."""
    write_record(tmp_path / "seeds", "a.md", RECORD.replace(
        "title: T", 'title: "C1 \\x80\\x96 DEL \\x7f non \\uFDD0 \\uFFFF end"'
    ) + 'excerpt: "next\\x85line"\ntopics: ["A\\x9bI"]')  # fmt: skip
    report = build_into(tmp_path / "seeds", tmp_path / "out")
    assert [str(p) for p in report.problems] == [
        "a.md:2: warning: title: 5 control character(s) that feeds cannot carry were removed",
        "a.md:5: warning: excerpt: 1 control character(s) that feeds cannot carry were removed",
        "a.md:6: warning: topics[0]: 1 control character(s) that feeds cannot carry were removed",
    ]
    (item,) = json.loads((tmp_path / "out/all.json").read_text())["items"]
    assert (item["title"], item["summary"], item["tags"]) == ("C1 DEL non end", "nextline", ["AI"])
    for path, data in files_of(tmp_path / "out").items():
        text = data.decode("utf-8")
        assert not any("\x7f" <= c <= "\x9f" or c in "\ufdd0\uffff" for c in text), path


def test_topic_and_provider_names_are_plain_text(tmp_path: Path) -> None:
    """A name is a feed's title and an item's category or author: markup goes as in titles."""
    write_record(tmp_path, "a.md", RECORD + 'topics: ["<em>AI</em>", "R&amp;D", "<b></b>"]\n'
                 'provider: {name: "<b>Wire</b> &amp; Co"}')  # fmt: skip
    checked = check(Config(seeds=tmp_path))
    assert [str(p) for p in checked.report.problems] == [
        "a.md:6: warning: provider.name: HTML tags were removed; names are plain text",
        "a.md:5: warning: topics[0]: HTML tags were removed; names are plain text",
        "a.md:5: warning: topics[2]: HTML tags were removed; names are plain text",
        "a.md:5: warning: topics[2]: is empty; topic dropped",
    ]
    (article,) = checked.articles
    assert article.topics == ("AI", "R&D")
    assert article.provider is not None and article.provider.name == "Wire & Co"


@pytest.mark.parametrize(
    ("written", "published"),
    [
        ("2016-12-31T23:59:60Z", "2017-01-01T00:00:00+00:00"),
        ("2016-12-31T23:59:60.5Z", "2017-01-01T00:00:00.500000+00:00"),
        ("2017-01-01T00:59:60+01:00", "2017-01-01T00:00:00+00:00"),
    ],
)
def test_a_leap_second_is_the_second_after_it(tmp_path: Path, written: str, published: str) -> None:
    """RFC 3339 times may name a leap second, which Python's cannot hold: it is read as POSIX
    time reads it, and the record is kept."""
    write_record(tmp_path, "a.md", RECORD.replace("2020-01-01T00:00:00Z", written))
    checked = check(Config(seeds=tmp_path))
    assert checked.report.problems == ()
    (article,) = checked.articles
    assert article.published.isoformat() == published


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("2016-12-31T12:34:60Z", "is not a possible date: {!r} (second must be in 0..59)"),
        ("9999-12-31T23:59:60-05:00", "is not a possible date: {!r} (second must be in 0..59)"),
        ("9998-12-31T23:59:60Z", "must be a time in the years 1000 to 9998 (UTC), not {!r}"),
    ],
)
def test_a_second_60_that_is_no_leap_second_is_not_a_possible_date(
    tmp_path: Path, written: str, why: str
) -> None:
    """Only the last second of a day in UTC is ever a leap second, and the second after it
    must be within the years feeds writes: else the record is rejected, never "a bug"."""
    write_record(tmp_path, "a.md", RECORD.replace("2020-01-01T00:00:00Z", written))
    (problem,) = check(Config(seeds=tmp_path)).report.problems
    assert str(problem) == f"a.md:4: error: publishedDateTime: {why.format(written)}"


@pytest.mark.parametrize(
    "title", ["\\u200b\\u2060\\u200e ", "\\u00ad", "\\u3164\\u2800", "\\ufe0f"]
)
def test_a_title_of_invisible_characters_is_no_title(tmp_path: Path, title: str) -> None:
    write_record(tmp_path, "a.md", RECORD.replace("title: T", f'title: "{title}"'))
    (problem,) = check(Config(seeds=tmp_path)).report.problems
    assert str(problem) == "a.md:2: error: title: is missing or empty"
