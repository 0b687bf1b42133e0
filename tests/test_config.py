"""The configuration file and custom feeds: the README's example, filters
checked against a plain Python filter, and every kind of mistake named with its key and line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from feeds.build import check
from feeds.cli import main
from feeds.config import Config, load_config
from feeds.errors import ConfigError
from feeds.model import Article
from feeds.synthetic import write_corpus
from tests.helpers import ROOT, SEEDS, files_of


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"### Configuration.*?```yaml\n(.*?)```", readme, re.DOTALL)
    assert found, "the README shows an example feeds.yaml"
    return found.group(1)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the README's feeds.yaml and a synthetic corpus in its seeds/."""
    folder = tmp_path_factory.mktemp("site")
    (folder / "feeds.yaml").write_text(readme_example(), encoding="utf-8")
    write_corpus(folder / "seeds", 600, seed=5)
    return folder


def topics(article: Article) -> set[str]:
    return {t.casefold() for t in article.topics}


def domain(article: Article) -> str | None:
    return article.provider.domain if article.provider else None


def test_readme_example_loads_with_every_section(site: Path) -> None:
    config = load_config(site / "feeds.yaml")
    assert config.title == "Example News" and config.author == "Example News Desk"
    assert config.base_url == "https://news.example.org/feeds/"
    assert (config.limit, config.formats, config.archives, config.ttl) == (
        50,
        ("rss", "atom", "json"),
        True,
        15,
    )
    assert config.seeds == site / "seeds" and config.output == site / "output"
    assert [c.slug for c in config.custom] == [
        "vision-big-outlets",
        "published-and-good",
        "this-week-s-hottest",
        "robotics-but-not-from-the-wires",
    ]


def test_custom_feeds_hold_exactly_what_their_filters_select(site: Path) -> None:
    config = load_config(site / "feeds.yaml")
    checked = check(config)
    assert not checked.collection.warnings, "every name in the example exists in the corpus"
    corpus = [a for a in checked.articles if (a.quality or 0) >= 10]  # the global filter
    newest = max(a.published for a in checked.articles)

    def newest_first(articles: list[Article]) -> list[str]:
        return [
            a.url
            for a in sorted(
                sorted(articles, key=lambda a: a.url), key=lambda a: a.published, reverse=True
            )
        ]

    expected = {
        "vision-big-outlets": newest_first(
            [
                a
                for a in corpus
                if "computer vision" in topics(a)
                and domain(a) in {"cnbc.com", "reuters.com", "cnet.com"}
            ]
        ),
        "published-and-good": newest_first(
            [a for a in corpus if a.is_published and (a.quality or 0) >= 80]
        ),
        "this-week-s-hottest": [
            a.url
            for a in sorted(
                (
                    a
                    for a in corpus
                    if a.published >= newest - timedelta(days=7) and (a.heat or 0) >= 100
                ),
                key=lambda a: (-(a.heat or 0), -a.published.timestamp(), a.url),
            )
        ],
        "robotics-but-not-from-the-wires": newest_first(
            [
                a
                for a in corpus
                if topics(a) & {"robotics", "robotik"}
                and "ai" not in topics(a)
                and domain(a) != "reuters.com"
                and a.category == "news"
                and a.type == "article"
            ]
        ),
    }
    custom = {
        g.slug: [a.url for a in g.articles] for g in checked.collection.groups if g.kind == "custom"
    }
    assert custom == expected
    assert all(len(urls) >= 2 for urls in custom.values()), "each filter selects something"
    all_urls = {a.url for a in checked.collection.groups[0].articles}
    assert all_urls == {a.url for a in corpus}


def test_readme_example_builds_custom_feeds_in_every_format_with_index_and_opml(site: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "feeds", "build", "-q"],
        cwd=site,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    produced = files_of(site / "output")
    for slug in ("vision-big-outlets", "published-and-good", "this-week-s-hottest"):
        for suffix in (".rss.xml", ".atom.xml", ".json"):
            assert f"custom/{slug}{suffix}" in produced
        url = f"https://news.example.org/feeds/custom/{slug}.rss.xml"
        assert url.encode() in produced["feeds.opml"] and url.encode() in produced["index.html"]
    assert b"<ttl>15</ttl>" in produced["custom/vision-big-outlets.rss.xml"]
    assert b"<h2>Custom feeds</h2>" in produced["index.html"]
    listing = subprocess.run(
        [sys.executable, "-m", "feeds", "list", "--json"],
        cwd=site,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = {row["slug"]: row for row in json.loads(listing.stdout) if row["kind"] == "custom"}
    assert rows["vision-big-outlets"]["urls"]["atom"].endswith(
        "/custom/vision-big-outlets.atom.xml"
    )


def test_built_in_groups_can_be_turned_off(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(
        f"groups: {{providers: false}}\npaths: {{seeds: {SEEDS}}}\n"
    )
    kinds = {g.kind.value for g in check(load_config(tmp_path / "feeds.yaml")).collection.groups}
    assert kinds == {"all", "topics"}


ALIAS_BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True)
    )
    + "custom:\n  - title: x\n    topics: {any: *g}\n"
)  # 335 bytes, 9**7 names once expanded

MISTAKES = [
    (ALIAS_BOMB, " YAML aliases expand to more values than the file holds (alias bomb?)"),
    ("a: " + "[" * 1000 + "]" * 1000 + "\n", " YAML is nested more than 64 levels deep"),
    (
        "titel: x\n",
        "1: titel: unknown key (known here: site, defaults, groups, filters, custom, websub, paths)",
    ),
    (
        "site:\n  title: A\n  colour: red\n",
        "3: site.colour: unknown key (known here: title, base_url, url, description, language, logo, icon, author)",
    ),
    ("defaults:\n  limit: many\n", "2: defaults.limit: must be a whole number ≥ 1, not 'many'"),
    ("defaults:\n  limit: 0\n", "2: defaults.limit: must be a whole number ≥ 1, not 0"),
    (
        "defaults:\n  split_months_over: 0\n",
        "2: defaults.split_months_over: must be a whole number ≥ 1, not 0",
    ),
    (
        "defaults:\n  formats: [rss, pdf]\n",
        "2: defaults.formats: must be a list drawn from rss, atom, json",
    ),
    ("defaults:\n  formats: [rss, rss]\n", "2: defaults.formats: names rss twice"),
    (
        "defaults:\n  archives: sometimes\n",
        "2: defaults.archives: must be true or false, not 'sometimes'",
    ),
    (
        "site:\n  base_url: ftp://example.org/\n",
        "2: site.base_url: must be an absolute http(s) URL, not 'ftp://example.org/'",
    ),
    (
        "site:\n  base_url: 'https://[example.org/'\n",
        "2: site.base_url: must be an absolute http(s) URL, not 'https://[example.org/'",
    ),
    (
        "site:\n  base_url: 'https://news.example/feeds/?x=1'\n",
        "2: site.base_url: must not have a query or a fragment (feed URLs follow it), "
        "not 'https://news.example/feeds/?x=1'",
    ),
    (
        "site:\n  base_url: 'https://news.example/#top'\n",
        "2: site.base_url: must not have a query or a fragment (feed URLs follow it), "
        "not 'https://news.example/#top'",
    ),
    (
        "site:\n  base_url: 'https://news.example/our feeds/'\n",
        "2: site.base_url: must be an absolute http(s) URL, not 'https://news.example/our feeds/'",
    ),
    (
        "site:\n  base_url: 'https://news.example:99999/'\n",
        "2: site.base_url: must be an absolute http(s) URL, not 'https://news.example:99999/'",
    ),
    ("groups:\n  tags: true\n", "2: groups.tags: unknown group (known: all, topics, providers)"),
    (
        "custom:\n  - title: A\n    min_quality: 120\n",
        "3: custom[0].min_quality: must be a whole number from 0 to 100, not 120",
    ),
    (
        "custom:\n  - title: A\n    sort: oldest\n",
        "3: custom[0].sort: must be 'newest' or 'heat' (hottest, then newest), not 'oldest'",
    ),
    ("custom:\n  - slug: a\n", "2: custom[0]: needs a title"),
    (
        "custom:\n  - title: A\n    slug: Big Feed\n",
        "3: custom[0].slug: must be lowercase words joined by '-', like 'big-feed'",
    ),
    (
        "custom:\n  - title: Same\n  - title: Same\n",
        "3: custom[1].slug: 'same' is already the slug of custom[0]",
    ),
    (
        "custom:\n  - title: A\n    topics: {some: [AI]}\n",
        "3: custom[0].topics.some: unknown key (known here: any, all, none)",
    ),
    ("custom: {title: A}\n", "1: custom: must be a list of feeds"),
    ("filters:\n  topics: {any: 3}\n", "2: filters.topics.any: must be a list of names, not 3"),
    ("site: [\n", "2: YAML error: expected the node content, but found '<stream end>'"),
    # A tag its value does not fit, or one that builds objects: PyYAML raised what no caller
    # expected (exit 70, "a bug in feeds").
    (
        "defaults:\n  archives: !!bool maybe\n",
        "2: defaults.archives: !!bool 'maybe' cannot be made; write a plain value",
    ),
    (
        "defaults:\n  limit: !!int abc\n",
        "2: defaults.limit: !!int 'abc' cannot be made; write a plain value",
    ),
    (
        "defaults:\n  limit: !!int ''\n",
        "2: defaults.limit: !!int '' cannot be made; write a plain value",
    ),
    (
        "site:\n  title: !custom x\n",
        "2: site.title: !custom 'x' cannot be made; write a plain value",
    ),
    (
        "custom:\n  - title: !!python/object/apply:os.system [ls]\n",
        "2: custom[0].title: !!python/object/apply:os.system cannot be made; write a plain value",
    ),
    # YAML keeps the last of two keys: a second `custom:` hid the first's feeds.
    (
        "custom:\n  - title: A\ndefaults:\n  limit: 5\ncustom:\n  - title: B\n",
        "5: custom: is given twice (also on line 1); give it once",
    ),
    (
        "defaults:\n  limit: 5\n  limit: 6\n",
        "3: defaults.limit: is given twice (also on line 2); give it once",
    ),
    ("site:\n  title: a\x00b\n", "2: holds a control character YAML does not allow ('\\x00')"),
]


@pytest.mark.parametrize(
    ("text", "message"),
    MISTAKES,
    ids=[(m[1].split(":")[1] if m[1][0].isdigit() else m[1][:40]).strip() for m in MISTAKES],
)
def test_each_mistake_is_one_line_with_key_and_line_and_nothing_is_written(
    tmp_path: Path,
    text: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}:{message}"
    monkeypatch.chdir(tmp_path)  # where `output/` would go
    assert main(["build", "--config", str(path), "--seeds", str(SEEDS)]) == 2
    assert capsys.readouterr() == ("", f"feeds: {path}:{message}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feeds.yaml"], "nothing written"


def test_a_mistake_exits_2_from_the_command_line_too(tmp_path: Path) -> None:
    """The one test of the process boundary for mistakes: the others call `main` in-process."""
    path = tmp_path / "feeds.yaml"
    path.write_text("titel: x\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "feeds", "build", "--config", str(path), "--seeds", str(SEEDS)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"feeds: {path}:1: titel: unknown key")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feeds.yaml"], "nothing written"


def test_a_configuration_that_is_no_text_file_is_refused(tmp_path: Path) -> None:
    fifo, latin, huge = tmp_path / "fifo.yaml", tmp_path / "latin.yaml", tmp_path / "huge.yaml"
    marked = tmp_path / "marked.yaml"  # the byte named is the one at fault, after the BOM too
    marked.write_bytes(b"\xef\xbb\xbf# one\n# caf\xe9\n")
    os.mkfifo(fifo)  # opening it for reading would wait for a writer: it must not be opened so
    latin.write_bytes("site:\n  title: Caf\xe9\n".encode("latin-1"))
    huge.write_text("# padding\n" * 200_000)
    expected = {
        fifo: f"{fifo}: is not a regular file",
        latin: f"{latin}:2: is not UTF-8 text (byte 0xe9 cannot be decoded)",
        huge: f"{huge}: is larger than 1024 KB",
        marked: f"{marked}:2: is not UTF-8 text (byte 0xe9 cannot be decoded)",
    }
    for path, message in expected.items():
        with pytest.raises(ConfigError) as caught:
            load_config(path)
        assert str(caught.value) == message


def test_a_filter_naming_nothing_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        f"paths: {{seeds: {SEEDS}}}\ncustom:\n  - title: Typos\n    topics: {{any: [Computr Vision]}}\n"
    )
    report = check(load_config(path)).report
    (warning,) = report.warnings
    assert str(warning) == (
        f"{path}:3: warning: custom[0].topics.any: no article has the topic 'Computr Vision'"
    )


def test_flags_override_the_file(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(
        f"site: {{title: Example News, base_url: 'https://news.example/'}}\npaths: {{seeds: {SEEDS}}}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "feeds", "build", "-q", "--base-url", "https://other.example/"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "output/all.rss.xml").read_text()
    assert "<title>Example News</title>" in text
    assert "https://other.example/all.rss.xml" in text and "news.example/" not in text


def test_no_file_means_the_documented_defaults_and_feeds_yaml_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    defaults = load_config(None)
    assert (defaults.seeds, defaults.output, defaults.base_url) == (
        Path("seeds"),
        Path("output"),
        "http://localhost:8000/",
    )
    assert (defaults.limit, defaults.formats, defaults.archives) == (
        50,
        ("rss", "atom", "json"),
        True,
    )
    (tmp_path / "feeds.yaml").write_text("defaults: {limit: 7}\n")
    assert load_config(None).limit == 7, "feeds.yaml in the working folder is read without --config"


def test_a_comment_or_an_order_changes_nothing_and_one_feed_s_filter_remakes_that_feed(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only what a change of the configuration affects is made again."""
    import feeds.render
    from feeds import build

    made: list[str] = []
    real = feeds.render._Renderer.page_bytes

    def counting(self: object, page: Any, fmt: str, batch: object) -> bytes:
        made.append(page.path(fmt))
        return real(self, page, fmt, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(feeds.render._Renderer, "page_bytes", counting)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # made here, where they are counted
    config_file = tmp_path / "feeds.yaml"
    text = readme_example().replace("  # cache: .feeds-cache", "  cache: cache  #")
    config_file.write_text(text)
    (tmp_path / "seeds").symlink_to(site / "seeds")
    build(load_config(config_file))
    made.clear()

    shuffled = text.replace("custom:", "# our own feeds\ncustom:", 1)
    blocks = shuffled.split("\n  - title: ")
    shuffled = "\n  - title: ".join([blocks[0], *reversed(blocks[1:-1]), blocks[-1]])
    config_file.write_text(shuffled)
    assert build(load_config(config_file)).written == ()
    assert made == [], "a comment and another order of the custom feeds remake nothing"

    config_file.write_text(shuffled.replace("min_quality: 80", "min_quality: 90"))
    report = build(load_config(config_file))
    assert made and all(p.startswith("custom/published-and-good") for p in made), made
    assert all(p.startswith(("custom/published-and-good", "index.html")) for p in report.written)


def test_a_comment_costs_what_no_change_costs_and_a_warning_follows_its_line(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A comment changes no feed, so the run decodes no record; but a warning about a filter
    names the filter's line, so a comment line above a filter with a warning is a change: the
    report and `.feeds-report.json` name the new line, as a first build would (and still no
    record is decoded: the index knows which names articles give)."""
    from feeds import build

    pipeline = sys.modules["feeds.build"]  # the module: `feeds.build` is its function
    checks: list[object] = []
    real_check = pipeline._check
    monkeypatch.setattr(pipeline, "_check", lambda *a: checks.append(a) or real_check(*a))
    config_file = tmp_path / "feeds.yaml"
    text = (
        "site: {base_url: 'https://news.example/'}\n"
        f"paths: {{seeds: {site / 'seeds'}, output: out, cache: cache}}\n"
        "custom:\n"
        "  - title: Typo\n"
        "    topics: {any: [Computer Vision, Computer Vison]}\n"
        "  - title: Fine\n"
        "    topics: {any: [Computer Vision]}\n"
    )
    config_file.write_text(text)
    warning = "warning: custom[0].topics.any: no article has the topic 'Computer Vison'"
    assert [str(w) for w in build(load_config(config_file)).warnings] == [
        f"{config_file}:4: {warning}"
    ]

    checks.clear()
    config_file.write_text(text.replace("  - title: Fine", "  # this one is fine\n  - title: Fine"))
    again = build(load_config(config_file))
    assert checks == [], "a comment that moves no filter with a warning decodes nothing"
    assert [str(w) for w in again.warnings] == [f"{config_file}:4: {warning}"]

    config_file.write_text("# our feeds\n" + text)
    report = build(load_config(config_file))
    assert checks == [] and report.written == (".feeds-report.json",)
    assert [str(w) for w in report.warnings] == [f"{config_file}:5: {warning}"]
    stored = json.loads((tmp_path / "out" / ".feeds-report.json").read_text())
    assert [w["path"] for w in stored["warnings"]] == [f"{config_file}:5"], stored


def test_the_same_mistakes_given_in_python_or_on_the_command_line(tmp_path: Path) -> None:
    """`Config` checks what any caller gives it: a format named twice would make two files of
    one name; a base URL with a query or fragment would make every feed's URL the same page."""
    with pytest.raises(ConfigError, match=r"defaults\.formats: names a format twice"):
        Config(formats=("rss", "rss"))
    with pytest.raises(ConfigError, match=r"site\.base_url: must not have a query or a fragment"):
        Config(base_url="https://news.example/?x=1")
    code = main(["build", "--seeds", str(SEEDS), "--output", str(tmp_path / "out"),
                 "--base-url", "https://news.example/#top"])  # fmt: skip
    assert code == 2 and not (tmp_path / "out").exists()
