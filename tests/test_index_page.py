"""index.html as people see it: rendered by a real browser (Debian's headless Chromium), on a
phone-sized and a desktop-sized window."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from lxml import html

from feeds.build import check
from feeds.config import Config, ConfigError, load_config
from feeds.site import index_html
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


@pytest.mark.parametrize(("width", "height"), [(412, 915), (1280, 900)], ids=["phone", "desktop"])
def test_screenshots_show_a_page(
    chromium: str, page: Path, tmp_path: Path, width: int, height: int
) -> None:
    shot = tmp_path / "page.png"
    browse(chromium, page, tmp_path, f"--window-size={width},{height}", f"--screenshot={shot}")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (width, height)
    assert len(data) > 20_000, "text and tables, not a blank page"


LOGO = "https://news.example.org/logo.png"
ICON = "https://news.example.org/icon.png"


def _icons(site: str, tmp_path: Path) -> list[str]:
    """The icon links of index.html built with the given `site:` section of feeds.yaml."""
    path = tmp_path / "feeds.yaml"
    path.write_text(f"site:\n{site}paths: {{seeds: {SEEDS}}}\n", encoding="utf-8")
    config = load_config(path)
    page = html.fromstring(index_html(check(config).collection, config))
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
