"""index.html as people see it: rendered by a real browser (Debian's headless Chromium), on a
phone-sized and a desktop-sized window."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import html

from feeds.build import check
from feeds.config import Config, load_config
from feeds.errors import ConfigError
from feeds.site import index_html, listings
from tests.helpers import BASE_URL, CORPUS, SEEDS, build_into

FLAGS = [
    *("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"),
    *("--disable-background-networking", "--disable-component-update", "--disable-sync"),
    "--hide-scrollbars",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail("chromium is not installed, and CI is set, so this test must run")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("site")
    build_into(CORPUS, output)
    return output / "index.html"


def browse(
    chromium: str, page: Path, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_the_browser_renders_every_heading_and_feed_link(
    chromium: str, page: Path, tmp_path: Path
) -> None:
    dom = html.fromstring(browse(chromium, page, tmp_path, "--dump-dom").stdout)
    assert [h.text_content() for h in dom.iter("h1", "h2")] == [
        "News feeds",
        "Everything",
        "Topics",
        "Providers",
    ]
    groups = check(Config(seeds=CORPUS)).collection.groups
    names = [cell.text_content() for cell in dom.xpath("//td[@class='name']")]
    assert names == [g.name for g in groups]
    links = [a.get("href") for a in dom.xpath("//td[@class='f']/a")]
    assert len(links) == 3 * len(groups) and all(link.startswith(BASE_URL) for link in links)
    assert not dom.xpath("//script"), "no JavaScript needed"


def seen(chromium: str, page: Path, tmp_path: Path, width: int) -> list[str]:
    """The lines of text a person sees on the page in a window `width` pixels wide: the
    browser's `innerText`, which leaves out what the page's CSS hides at that width. It is read
    by a script added to a copy of the page (the page itself has none)."""
    probe = tmp_path / "probe.html"
    script = "<script>document.body.dataset.seen = document.body.innerText</script>"
    probe.write_text(page.read_text().replace("</body>", f"{script}</body>"))
    dom = html.fromstring(
        browse(chromium, probe, tmp_path, f"--window-size={width},900", "--dump-dom").stdout
    )
    return [line.strip() for line in dom.body.get("data-seen").splitlines() if line.strip()]


def test_a_phone_shows_each_feed_with_its_count_in_words(
    chromium: str, page: Path, tmp_path: Path
) -> None:
    lines = seen(chromium, page, tmp_path, 412)
    assert "Newest item" not in " ".join(lines), "the table's header is hidden on a phone"
    groups = check(Config(seeds=CORPUS)).collection.groups
    for group in groups:
        assert group.name in lines
        count = len(group.articles)
        assert any(line.startswith(f"{count} item{'s' if count != 1 else ''}") for line in lines)


def test_a_desktop_shows_a_table_with_its_header(chromium: str, page: Path, tmp_path: Path) -> None:
    lines = seen(chromium, page, tmp_path, 1280)
    assert any("Feed" in line and "Items" in line and "Newest item" in line for line in lines)
    groups = check(Config(seeds=CORPUS)).collection.groups
    for group in groups:  # the count alone in its column: the header names it
        assert any(line.startswith(f"{group.name}\t{len(group.articles)}\t") for line in lines)


LOGO = "https://news.example.org/logo.png"
ICON = "https://news.example.org/icon.png"


def _icons(site: str, tmp_path: Path) -> list[str]:
    """The icon links of index.html built with the given `site:` section of feeds.yaml."""
    path = tmp_path / "feeds.yaml"
    path.write_text(f"site:\n{site}paths: {{seeds: {SEEDS}}}\n", encoding="utf-8")
    config = load_config(path)
    page = html.fromstring(index_html(listings(check(config).collection), config))
    return [link.get("href") for link in page.xpath("//head/link[@rel='icon']")]


@pytest.mark.parametrize(
    ("site", "icons"),
    [
        (f"  logo: {LOGO}\n  icon: {ICON}\n", [ICON]),
        (f"  logo: {LOGO}\n", [LOGO]),  # a logo is better than no icon in a browser tab
        ("  title: No images\n", []),
    ],
    ids=["icon", "logo-only", "neither"],
)
def test_the_page_links_the_site_icon(tmp_path: Path, site: str, icons: list[str]) -> None:
    assert _icons(site, tmp_path) == icons


def test_an_icon_must_be_an_absolute_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"site.icon: must be an absolute http\(s\) URL"):
        _icons("  icon: icon.png\n", tmp_path)
