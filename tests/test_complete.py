"""Outlines made whole: an article decoded without its texts gets them back, from the cache or
from its record, keeps what the build changed in it, and is left out with the reason when its
record no longer holds it."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from feeds import codec
from feeds.cache import OutcomeReader
from feeds.complete import Completer
from feeds.ingest import ingest_file
from feeds.model import NO_TEXTS, Article
from feeds.render import ItemError
from tests.helpers import SEEDS

RECORD = "000_ea97ea1826c20505.txt"  # a shipped record with images and related coverage


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEEDS / RECORD, folder / RECORD)
    return folder


def whole_and_outline(seeds: Path) -> tuple[Article, Article]:
    outcome = ingest_file(seeds, RECORD)
    (article,) = outcome.articles
    outline, _ = codec.encode_outcome(outcome)
    (sketch,) = codec.decode_outcome(outline).articles
    return article, sketch


def test_an_outline_has_no_texts_and_gets_them_back_from_its_record(seeds: Path) -> None:
    article, sketch = whole_and_outline(seeds)
    assert article.related and article.images and article.excerpt
    assert sketch.is_outline and not sketch.images and not sketch.title and not sketch.excerpt
    assert all(r.is_outline and not r.title for r in sketch.related)
    whole = Completer(seeds, OutcomeReader(None)).wholes([sketch])[0]  # no cache: read again
    assert whole == article and not whole.is_outline
    assert all(not r.is_outline for r in whole.related)


def test_outlines_share_one_empty_texts_and_a_whole_article_has_its_own(seeds: Path) -> None:
    """A cold build holds every outline: one reference to `NO_TEXTS` each, not five fields."""
    article, sketch = whole_and_outline(seeds)
    assert sketch.texts is NO_TEXTS and all(r.texts is NO_TEXTS for r in sketch.related)
    assert Article.__slots__.count("texts") == 1 and "title" not in Article.__slots__
    assert article.amp_url and article.texts == (
        article.title, article.excerpt, article.body, article.images, article.amp_url
    )  # fmt: skip
    (again,) = codec.decode_outcome(*codec.encode_outcome(ingest_file(seeds, RECORD))).articles
    assert again == article and again.texts is not NO_TEXTS


def test_a_related_article_the_build_left_out_stays_out(seeds: Path) -> None:
    article, sketch = whole_and_outline(seeds)
    kept = replace(sketch, related=sketch.related[1:])
    whole = Completer(seeds, OutcomeReader(None)).wholes([kept])[0]
    assert whole.related == article.related[1:]
    assert whole.title == article.title


def test_an_article_its_record_no_longer_holds_is_left_out_with_the_reason(seeds: Path) -> None:
    _, sketch = whole_and_outline(seeds)
    record = seeds / RECORD
    record.write_text(
        record.read_text().replace(
            'webUrl: "https://www.cnbc.com/', 'webUrl: "https://www.cnbc.com/moved/'
        )
    )
    with pytest.raises(ItemError) as raised:
        Completer(seeds, OutcomeReader(None)).wholes([sketch])[0]
    assert raised.value.source == RECORD and raised.value.url == sketch.url
    assert not raised.value.bug
    assert raised.value.what == "its record file changed while the build ran; the next run takes it"


def test_a_build_reads_each_record_once_however_few_texts_are_kept_at_hand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first build decodes outlines and takes the texts back from the cache for the items:
    never by reading a record again, even when a batch holds more records than are kept."""
    import os

    import feeds.complete
    import feeds.ingest
    from feeds.synthetic import write_corpus
    from tests.helpers import build_into

    monkeypatch.setattr(feeds.complete, "KEPT", 10)
    monkeypatch.setattr(feeds.complete, "CHUNK", 50)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # read here, where the reads are counted
    reads: list[str] = []
    real_read = feeds.ingest.read_file
    monkeypatch.setattr(
        feeds.ingest, "read_file", lambda path, name: reads.append(name) or real_read(path, name)
    )
    write_corpus(tmp_path / "seeds", 300, seed=3)
    report = build_into(tmp_path / "seeds", tmp_path / "out", cache=tmp_path / "cache")
    assert report.parsed == 300 and report.written
    assert sorted(reads) == sorted(set(reads)) and len(reads) == 300
