"""Fuzzing with extreme values of every field: no record, however strange, stops the build.

The property: `validate` never raises; what it gives comes back the same from the cache's
encoding; and every article it accepts can be collected and rendered into every page and format,
each of which parses (RSS and Atom with feedparser, without `bozo`; JSON Feed with `json`, and
keeps the JSON Feed 1.1 rules), as do `index.html` and `feeds.opml`.
"""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import feedparser
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml import html as lxml_html

from feeds.cache import OutcomeReader
from feeds.codec import decode_outcome, encode_outcome
from feeds.collect import collect
from feeds.complete import Completer
from feeds.config import Config
from feeds.filters import CustomFeed, Filters
from feeds.model import Article, FileOutcome, Problem
from feeds.records import RawRecord
from feeds.render import plan
from feeds.safe_yaml import MAX_FILE_BYTES
from feeds.site import listings, plan_site
from feeds.validate import validate
from tests.helpers import build_into, feeds_of, write_record
from tests.test_jsonfeed import spec_problems

# Every offset a time may carry, the extremes included.
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
edge_offsets = st.sampled_from(
    [timezone(timedelta(hours=23, minutes=59)), timezone(-timedelta(hours=23, minutes=59)), UTC]
)
datetimes = st.one_of(
    st.datetimes(timezones=st.none() | offsets | edge_offsets),
    st.sampled_from([datetime.min, datetime.max]).flatmap(
        lambda edge: edge_offsets.map(lambda tz: edge.replace(tzinfo=tz))
    ),
)
in_range = st.datetimes(datetime(1001, 1, 1), datetime(9997, 12, 31), timezones=offsets)
times = st.one_of(
    in_range,
    in_range.map(datetime.isoformat),
    datetimes,
    datetimes.map(datetime.isoformat),
    st.dates(),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+05:00",
            "9999-12-31T23:00:00-05:00",
            "9999-12-31T23:59:59.999999-23:59",
            "0001-01-01T00:00:00+23:59",
            "0000-01-01T00:00:00Z",
            "10000-01-01T00:00:00Z",
            "2020-01-01T00:00:00+24:00",
            "1000-01-01T00:00:00-23:59",
            "1000-01-01T00:00:00+23:59",
            "9998-12-31T23:59:59+23:59",
            "9998-12-31T23:59:59-23:59",
            "2020-01-01T00:00:00Z",
        ]
    ),
)

huge_digits = st.integers(min_value=4290, max_value=6000).map(lambda n: "9" * n)
numbers = st.one_of(
    st.integers(),
    st.sampled_from([0, -1, 2**31, 2**63, -(2**63), 10**30, 10**4299]),
    st.integers(4300, 5000).map(lambda n: -(10**n)),  # too long to write out, as int() refuses
    st.integers().map(str),
    huge_digits,
    huge_digits.map(lambda digits: "-" + digits),
    st.floats(),  # NaN and infinities too: YAML's `.nan`, `.inf`
    st.booleans(),
)

_NASTY = (
    "\x00\x07\x1b\x7f\x85\ufeff\ufffe\uffff\u2028\u2029"
    "\u200b\u200c\u200d\u2060\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e"
    "\u2066\u2067\u2068\u2069\ud800\udfff\U0010ffff<>&\"'\\/"
)
# Long, in patterns that make naive scanners quadratic. Up to 100,000 characters: feedparser, the
# judge here, takes about 13 µs a character of markup; `test_a_megabyte_record_builds` goes to 1 MB.
long_strings = st.builds(
    lambda unit, size: unit * (size // len(unit)),
    st.sampled_from(["x", "<", "<!--", "&amp;", "a.", "a@", "\u202e", " ", "&lt;b&gt;"]),
    st.integers(min_value=1, max_value=100_000),
)
strings = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.text(alphabet=_NASTY + "ab c", max_size=40),
    st.sampled_from(
        [
            "&lt;script&gt;alert(2)&lt;/script&gt;",
            "&amp;lt;b&amp;gt;x",
            "<![CDATA[x]]>",
            "a < b",
            "<3",
            "]]>",
            "Café",
            "Cafe\u0301",
            "\u202eevil",
        ]
    ),
    long_strings,
)
good_urls = st.one_of(
    st.builds(
        lambda path: f"https://example.com/{path}",
        st.text(alphabet=string.ascii_letters + string.digits + "-_/?#%&=", max_size=20),
    ),
    st.builds(lambda s: f"https://example.com/{s}", strings),
    st.builds(lambda s: f"http://{s}/", strings),
)
urls = good_urls | strings
scalars = st.one_of(st.none(), numbers, strings, times)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(strings, inner, max_size=3),
    max_leaves=8,
)


def maybe(
    good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any] = values
) -> st.SearchStrategy[Any]:
    """Mostly the field's kind of value, extreme ones included, so that records get through and
    reach the feeds; sometimes anything at all."""
    return st.integers(0, 9).flatmap(lambda n: bad if n == 0 else good)


images = st.fixed_dictionaries(
    {"url": maybe(urls)},
    optional={"width": maybe(numbers), "height": maybe(numbers), "title": maybe(strings)},
)
image_lists = st.one_of(st.lists(maybe(images), max_size=3), values)
provider = st.fixed_dictionaries(
    {},
    optional={
        "name": maybe(strings),
        "domain": maybe(
            st.sampled_from(
                ["example.com", "WWW.Example.COM", "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com"]
            )
        ),
        "images": image_lists,
    },
)
# A visible first letter keeps the title from being blank once cleaned: the record gets through.
titles = st.builds(
    lambda first, rest: first + rest, st.sampled_from(["T", "Ü", "人", "ب"]), strings
)
fields = {
    "title": maybe(titles),
    "webUrl": maybe(good_urls),
    "publishedDateTime": maybe(maybe(in_range, times)),
}
optional_fields = {
    "updatedDateTime": maybe(times),
    "excerpt": maybe(strings),
    "provider": maybe(provider),
    "topics": st.one_of(st.lists(maybe(strings), max_size=4), values),
    "images": image_lists,
    "ampWebUrl": maybe(urls),
    "category": maybe(strings),
    "type": maybe(strings),
    "quality": maybe(numbers),
    "heat": maybe(numbers),
    "published": maybe(st.booleans()),
    "secured": values,
}
records = st.fixed_dictionaries(fields, optional=optional_fields)
records_with_related = st.builds(
    lambda record, related: {**record, "related": related},
    records,
    st.one_of(st.lists(records, max_size=2), values),
)
# Not just mappings: a record file may hold anything at all.
raw_records = maybe(records_with_related)


# Custom feeds too: sorted by heat (timestamps of every time), and counted back from the newest.
CUSTOM = (
    CustomFeed("hot", "Hot", filters=Filters(max_age_days=7, min_heat=-(10**9)), sort="heat"),
    CustomFeed("good", "Good", filters=Filters(min_quality=50, topics_any=("Café",))),
)
CONFIG = Config(base_url="https://feeds.example.org/", limit=2, custom=CUSTOM)


@settings(max_examples=150, deadline=None)
@given(batch=st.lists(raw_records, min_size=1, max_size=3), body=st.none() | strings)
def test_no_record_stops_the_build(batch: list[Any], body: str | None) -> None:
    articles: list[Article] = []
    problems: list[Problem] = []
    for i, data in enumerate(batch):
        raw = RawRecord(f"r{i}.md", data if isinstance(data, dict) else {}, body)
        checked = validate(raw)  # never raises
        assert (checked.article is None) == any(p.level == "error" for p in checked.problems)
        problems.extend(checked.problems)
        if checked.article:
            articles.append(checked.article)
    # What the cache keeps comes back the same.
    outcome = FileOutcome(
        "r.md", False, len(batch), len(batch) - len(articles), tuple(articles), tuple(problems)
    )
    outline, texts = encode_outcome(outcome)
    assert decode_outcome(outline, texts) == outcome
    # Decoded without its texts, then made whole again, each article is what it was.
    completer = Completer(Path("nowhere"), _Stored(texts))
    outlines = decode_outcome(outline).articles
    assert all(a.is_outline for a in outlines)
    assert completer.wholes(outlines) == list(articles)
    collection = collect(articles, custom=CUSTOM)
    for planned in [*plan(collection, CONFIG), *plan_site(listings(collection), CONFIG)]:
        _assert_parses(planned.path, planned.make())


class _Stored(OutcomeReader):
    """The texts of one outcome, whatever record its articles name (`r0.md`, `r1.md`)."""

    def __init__(self, texts: bytes) -> None:
        super().__init__(None)
        self.stored = texts

    def texts(self, paths: Sequence[str]) -> dict[str, bytes]:
        return dict.fromkeys(paths, self.stored)


def _assert_parses(path: str, data: bytes) -> None:
    if path.endswith(".json"):
        assert spec_problems(json.loads(data)) == [], path
    elif path.endswith(".html"):
        assert lxml_html.document_fromstring(data).find(".//title") is not None, path
    elif path.endswith(".opml"):
        etree.fromstring(data)
    else:
        parsed = feedparser.parse(data)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))


def test_a_megabyte_record_builds(tmp_path: Path) -> None:
    """A record file as large as one may be, its text in patterns that make naive scanners slow:
    it builds, and every file it makes is well-formed. (lxml judges here: feedparser would take
    minutes over this much markup.)"""
    third = MAX_FILE_BYTES // 3 - 200
    front = (
        f'title: "T {"&lt;b&gt;" * (third // 9)}"\n'
        "webUrl: https://example.com/big\n"
        "publishedDateTime: 9998-12-31T23:59:59Z\n"
        f'excerpt: "{"<" * third}"\n'
        "topics: [Big]\n"
    )
    write_record(tmp_path / "seeds", "big.md", front, "<!--" * (third // 4))
    assert (tmp_path / "seeds/big.md").stat().st_size <= MAX_FILE_BYTES
    report = build_into(tmp_path / "seeds", tmp_path / "out")
    assert (report.accepted, report.rejected) == (1, 0)
    for path in feeds_of(tmp_path / "out"):
        data = (tmp_path / "out" / path).read_bytes()
        if path.endswith(".json"):
            assert spec_problems(json.loads(data)) == [], path
        else:
            etree.fromstring(data)
