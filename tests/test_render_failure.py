"""One record never stops a build, even when making its item fails (a bug in feeds): the record
is rejected with a message that says so, and every feed is what it would be without it."""

from __future__ import annotations

from pathlib import Path

import pytest

import feeds.items
from feeds.model import Article
from feeds.synthetic import write_corpus
from tests.helpers import RECORD_AND_ITS_MENTION, SEEDS, build_into, files_of, write_record


def visible(folder: Path) -> dict[str, bytes]:
    return {p: d for p, d in files_of(folder).items() if not p.startswith(".")}


CURSED_REJECTED = (
    "cursed.md: error: could not be written into a feed: RecursionError: a bug met on this "
    "record (a bug in feeds; please report it)"
)


def _items_break_on_cursed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Making the item of an article whose URL says "cursed" fails, as a bug would."""
    real = feeds.items.item_html

    def breaks_on_one(article: Article) -> str:
        if "cursed" in article.url:
            raise RecursionError("a bug met on this record")
        return real(article)

    monkeypatch.setattr(feeds.items, "item_html", breaks_on_one)  # workers are forked: they too


def _write_cursed(seeds: Path) -> None:
    write_record(
        seeds,
        "cursed.md",
        "title: A cursed story\nwebUrl: https://example.com/cursed\n"
        "publishedDateTime: 2024-01-01T09:00:00Z\ntopics: [AI]",
    )


def test_an_item_that_cannot_be_made_rejects_its_record_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 80, seed=6)
    _items_break_on_cursed(monkeypatch)
    build_into(seeds, tmp_path / "without", cache=tmp_path / "c1", limit=10)
    _write_cursed(seeds)
    report = build_into(seeds, tmp_path / "with", cache=tmp_path / "c2", limit=10)
    assert (report.rejected, report.accepted) == (1, 80)
    assert [str(p) for p in report.rejections] == [CURSED_REJECTED]
    assert visible(tmp_path / "with") == visible(tmp_path / "without")


def test_a_related_article_that_cannot_be_made_is_dropped_and_its_record_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = feeds.items.item_html

    def breaks_on_cnet(article: Article) -> str:
        if "cnet.com" in article.url:
            raise ValueError("a bug met on a related article")
        return real(article)

    monkeypatch.setattr(feeds.items, "item_html", breaks_on_cnet)
    report = build_into(SEEDS, tmp_path / "out")
    assert (report.accepted, report.rejected) == (1, 0)
    assert [str(p) for p in report.warnings if p.field == "related"] == [
        "000_ea97ea1826c20505.txt: warning: related: could not be written into a feed: "
        "ValueError: a bug met on a related article (a bug in feeds; please report it)"
    ]
    assert not (tmp_path / "out" / "providers" / "cnet-com.rss.xml").exists()
    assert (tmp_path / "out" / "providers" / "cnbc-com.rss.xml").exists()


def test_the_run_after_a_build_that_left_an_article_out_still_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index of a build is kept only when no article was left out: it would describe the
    record's outcome (an accepted article), not what the build did with it. The next run after
    another change still rejects the record, says why, and writes what a cold build writes."""
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 80, seed=6)
    _items_break_on_cursed(monkeypatch)
    _write_cursed(seeds)
    first = build_into(seeds, tmp_path / "out", cache=tmp_path / "cache", limit=10)
    assert (first.rejected, first.accepted) == (1, 80)
    edited = sorted(seeds.rglob("*.md"))[3]
    edited.write_text(edited.read_text().replace("title: ", "title: Edited ", 1))
    again = build_into(seeds, tmp_path / "out", cache=tmp_path / "cache", limit=10)
    assert again.parsed == 1
    assert (again.rejected, again.accepted) == (1, 80)
    assert [str(p) for p in again.rejections] == [CURSED_REJECTED]
    cold = build_into(seeds, tmp_path / "cold", cache=tmp_path / "cold-cache", limit=10)
    assert visible(tmp_path / "out") == visible(tmp_path / "cold")
    assert any("Edited" in text.decode() for text in visible(tmp_path / "out").values())
    assert cold.rejected == 1


def test_a_mention_that_cannot_be_made_leaves_the_record_of_its_url_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An item that fails names which of its file's articles it is: the mention is dropped
    (with a warning), not the record of the same URL in the same file, which the filters left
    out and which stays accepted."""
    from feeds.filters import Filters

    real = feeds.items.item_html

    def breaks_on_the_mention(article: Article) -> str:
        if article.title == "Mention of two":
            raise ValueError("a bug met on a mention")
        return real(article)

    monkeypatch.setattr(feeds.items, "item_html", breaks_on_the_mention)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "both.yaml").write_text(RECORD_AND_ITS_MENTION, encoding="utf-8")
    report = build_into(
        seeds, tmp_path / "out", cache=tmp_path / "cache", filters=Filters(min_quality=10)
    )
    assert (report.accepted, report.rejected) == (2, 0)
    assert [str(p) for p in report.warnings if p.field == "related"] == [
        "both.yaml: warning: related: could not be written into a feed: "
        "ValueError: a bug met on a mention (a bug in feeds; please report it)"
    ]
    feed = (tmp_path / "out" / "providers" / "alpha-example.rss.xml").read_text()
    assert "Record one" in feed and "two" not in feed
