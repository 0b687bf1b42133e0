"""The HTML a reader shows for an item: lead image, text, a link to the source, related coverage.

Pure. Values from the record are escaped where they are placed; the record's Markdown body is
rendered with markdown-it (CommonMark). Then the whole fragment goes through nh3, a maintained
sanitizer: no scripts, no event handlers, only http(s) URLs, relative URLs made absolute against
the article's own URL.
"""

from __future__ import annotations

from html import escape

import nh3
from markdown_it import MarkdownIt

from feeds.model import Article, Image

_MARKDOWN = MarkdownIt("commonmark")
URL_SCHEMES = {"http", "https"}
# The widest the lead image is shown. RSS-to-email tools lay items out in a 600 px column, and some
# readers take `width`/`height` literally: a photo's original 3915 px would overflow both.
IMAGE_MAX_WIDTH = 600


def item_html(article: Article) -> str:
    parts: list[str] = []
    if image := article.lead_image:
        alt = escape(image.title or article.title)
        parts.append(f'<p><img src="{escape(image.url)}" alt="{alt}"{_size(image)}></p>')
    parts.append(_text_html(article))
    source = escape(article.provider.name if article.provider else "the source")
    parts.append(f'<p><a href="{escape(article.url)}">Read the full story at {source}</a></p>')
    if related := article.related_coverage():
        items = "".join(
            f'<li><a href="{escape(r.url)}">{escape(r.title)}</a>'
            + (f" ({escape(r.provider.name)})" if r.provider else "")
            + "</li>"
            for r in related
        )
        parts.append(f"<p>Related coverage:</p>\n<ul>{items}</ul>")
    return sanitize("\n".join(p for p in parts if p), base_url=article.url)


def _size(image: Image) -> str:
    """The lead image's displayed size: at most `IMAGE_MAX_WIDTH` wide, in its own proportions.

    Without a known width there is none: a lone height cannot be capped, and a reader that fits
    the image to its column would keep that height and stretch the picture.
    """
    if not image.width:
        return ""
    width = min(image.width, IMAGE_MAX_WIDTH)
    if not image.height:
        return f' width="{width}"'
    height = max(1, (image.height * width + image.width // 2) // image.width)  # rounded
    return f' width="{width}" height="{height}"'


def sanitize(html: str, *, base_url: str) -> str:
    return nh3.clean(
        html,
        url_schemes=URL_SCHEMES,
        url_relative=("rewrite_with_base", base_url),
        link_rel=None,  # the links are the publisher's own story; no rel needed
    )


def _text_html(article: Article) -> str:
    """The record's Markdown body when it has one, else its excerpt as a paragraph."""
    if article.body:
        return str(_MARKDOWN.render(article.body)).strip()
    if article.excerpt:
        return f"<p>{escape(article.excerpt)}</p>"
    return ""
