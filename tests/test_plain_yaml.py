"""The line-by-line YAML reader (`plain_yaml.py`) reads what libyaml reads, or declines.

Whatever it reads must be exactly what the record loader builds through libyaml (the values,
and no error there); whatever it is not sure of it declines, and libyaml reads that. Tried on
YAML dumped every way PyYAML writes it, the same with pieces of YAML syntax dropped in at
random places, the test corpora, and the benchmark's records (which it must read itself: that
is what makes reading faster)."""

from __future__ import annotations

import random
import string
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds import synthetic
from feeds.plain_yaml import block_document
from feeds.records import _plain_text, _RecordLoader, read_file

ROOT = Path(__file__).resolve().parent.parent


def _libyaml(text: str) -> tuple[str, Any]:
    """What the record loader makes of `text` through libyaml, the general way."""
    try:
        loader = _RecordLoader(text)  # refuses some text already (a lone surrogate)
    except Exception as e:
        return ("error", type(e).__name__)
    try:
        return ("data", loader.get_single_data())
    except Exception as e:  # PyYAML raises more than YAMLError
        return ("error", type(e).__name__)
    finally:
        loader.dispose()


def _same_or_declined(text: str) -> Any:
    found = block_document(text, _plain_text)
    if found is not None:
        assert _libyaml(text) == ("data", found), text
    return found


# Text as records hold it (words, URLs, times), and text with YAML's special characters.
record_text = st.text(alphabet=string.ascii_letters + string.digits + " .,/-'é€", max_size=40)
odd_text = st.text(
    alphabet=string.ascii_letters + " .,:#-'\"[]{}!&*|>%@`?~\\é😀\u00a0", max_size=20
)
record_keys = st.sampled_from(["title", "webUrl", "images", "url", "a.b", "x-y", "_k"])
keys = st.one_of(
    record_keys, st.sampled_from(["on", "null", "yes", "true", "1", "<<", "a b", "-a"]), odd_text
)
odd_values = st.sampled_from(["", "~", "null", "Null", "yes", "no", "on", "0x1F", "012", "1_000",
                              "1.5", ".inf", "2024-01-01", "- x", "? x", ": x", "a: b", "a #b",
                              "a#b", "[]", "{}", "#", "'q'", '"q"', "-5", ":x", "?x", "x:"])  # fmt: skip
record_leaves = st.one_of(record_text, st.none(), st.booleans(), st.integers(-(10**20), 10**20))
# Documents like records (most of them the line reader reads), and documents of anything.
record_like = st.recursive(
    record_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(record_keys, inner, max_size=5),
    max_leaves=20,
)
anything = st.recursive(
    st.one_of(record_leaves, odd_text, odd_values, st.floats(allow_nan=False)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=20,
)


@st.composite
def dumped(draw: st.DrawFn) -> str:
    """A document as PyYAML writes it, in one of its block styles (long values folded over
    lines at `width`), with or without pieces of YAML syntax dropped in."""
    text = yaml.safe_dump(
        draw(
            st.dictionaries(record_keys, record_like, min_size=1, max_size=6)
            | st.dictionaries(keys, anything, min_size=1, max_size=6)
        ),
        allow_unicode=draw(st.booleans()),
        width=draw(st.integers(min_value=10, max_value=120)),
        indent=draw(st.integers(min_value=2, max_value=4)),
        sort_keys=draw(st.booleans()),
        default_flow_style=False,
    )
    pieces = ["#", " #", ": ", "- ", "-", "'", '"', "\\", " ", "  ", "\n", "\n  ", "\n\n", "[",
              "]", "[]", "{}", "&a ", "*a", "!!str ", "|", ">", "? ", "%", "@", "`", "~", "on",
              "yes", "0x1", "012", "1.5", "\t", "\u2028", "\x85", "\ufeff", "\r", "\x01", "\x7f", "\x9f", "\ufffe",
              "\ud800", "é", "---",
              "...", "x: ", "  y: 1\n", "- z\n"]  # fmt: skip
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        at = draw(st.integers(min_value=0, max_value=len(text)))
        text = text[:at] + draw(st.sampled_from(pieces)) + text[at:]
    return text


@settings(max_examples=1500, deadline=None)
@given(dumped())
def test_what_the_line_reader_reads_libyaml_reads_the_same(text: str) -> None:
    _same_or_declined(text)


# Lines of every shape the reader handles or declines, at a few indentations.
LINES = ["a:", "a: b", " b:", "  c: d", "    c: e", "- ", "- e", "  - f", "-", "'g'", '"h"',
         "i: 'j'", 'i: "j k"', "i: 'it''s'", "k: []", "l: {}", " m", "   n o", "", " ", "p: q # r",
         "#s", "  #s", "t:  u  ", "v: -1", "w: 0o7", "x: ~", "y: on", "on: 1", "null: 2",
         "yes: 3", "- z: 1", "  z2: 2", "- - 3", "? k", "...", "---", "  - g", "  [x]", "  'y'",
         "  &a", "  !t", "  |", "k: #x", "- #x", "k:\tv", "k: v\t", "\tk: v", "  x:", "u: v:", "u: a:b"]  # fmt: skip


def test_lines_of_any_shape_are_read_as_libyaml_reads_them_or_declined() -> None:
    """Every document of one, two or three of these lines."""
    read = 0
    for first in LINES:
        for second in ["", *LINES]:
            for third in ["", *LINES] if second else [""]:
                text = "\n".join(line for line in (first, second, third) if line)
                read += _same_or_declined(text) is not None
    assert read > 4_000  # thousands of them this reader reads itself


def _front_matter(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")
    end = next(i for i in range(1, len(lines)) if lines[i].rstrip() == "---")
    return "\n".join(lines[1:end])


def test_the_benchmarks_records_are_all_read_line_by_line() -> None:
    """The synthetic corpus (the benchmark's, a curator's export in shape): every record is
    read here, none left to libyaml, and read as libyaml reads it."""
    for n in range(300):
        record = synthetic.record(n, random.Random(f"1:{n}"))
        text = yaml.dump(record, Dumper=synthetic._DUMPER, allow_unicode=True, sort_keys=False)
        assert _same_or_declined(text) == record


def test_the_test_corpora_are_read_as_libyaml_reads_them() -> None:
    files = [
        p
        for folder in ("seeds", "tests/corpus", "tests/bad_records")
        for p in sorted((ROOT / folder).rglob("*"))
        if p.suffix in {".md", ".txt", ".markdown"} and p.is_file()
    ]
    assert len(files) > 20
    read = 0
    for path in files:
        try:
            text = _front_matter(path)
        except (StopIteration, UnicodeDecodeError, IndexError):
            continue  # not a record with front matter: the reader's other tests cover it
        read += _same_or_declined(text) is not None
    assert read >= 10  # most are records like any other


def test_a_record_file_reads_the_same_whichever_reader_reads_it(tmp_path: Path) -> None:
    """Through `read_file`: a record the line reader reads, and one it declines (a comment),
    give the same record."""
    body = "title: Hello\nwebUrl: https://example.com/a\ntopics:\n- AI\n- Space\n"
    plain, commented = tmp_path / "a.md", tmp_path / "b.md"
    plain.write_text(f"---\n{body}---\n")
    commented.write_text(f"---\n# a comment\n{body}---\n")
    assert block_document(body, _plain_text) is not None
    assert block_document("# a comment\n" + body, _plain_text) is None
    (a,) = read_file(plain, plain.name).records
    (b,) = read_file(commented, commented.name).records
    assert a.data == b.data == yaml.safe_load(body)


def test_what_libyaml_cannot_read_is_declined() -> None:
    """A key longer than libyaml looks for its `:`, characters YAML refuses, nesting deeper
    than Python recurses: libyaml's to read (or refuse)."""
    long_key = "k" * 1025
    for text in (f"{long_key}: v", f"a:\n  {long_key}: v", f"- {long_key}: v"):
        assert _libyaml(text)[0] == "error"
        assert block_document(text, _plain_text) is None
    assert _same_or_declined("k" * 1024 + ": v") == {"k" * 1024: "v"}
    for char in "\x00\x01\x0b\x0c\x7f\x9f\ud800\ufffe\uffff":
        assert block_document(f"a: b{char}", _plain_text) is None
    deep = "- " * 2000 + "x"
    assert block_document(deep, _plain_text) is None


def test_a_record_with_a_key_libyaml_cannot_read_is_refused_as_before(tmp_path: Path) -> None:
    """A key longer than 1,024 characters is a syntax error to libyaml: the file is refused with
    its line, as before the line reader (which would have read it)."""
    path = tmp_path / "long.md"
    path.write_text("---\ntitle: Hello\n" + "k" * 1025 + ": v\n---\n")
    result = read_file(path, path.name)
    assert result.problem is not None and not result.records
    assert "YAML syntax error" in result.problem.message
    assert result.problem.line == 3
