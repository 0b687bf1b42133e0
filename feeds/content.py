"""The HTML a reader shows for an item: lead image, text, a link to the source, related coverage.

Pure. Every value is escaped here and every URL was checked to be absolute http(s) by `validate.py`,
so nothing from a record can become markup or a script.
"""

from __future__ import annotations

from html import escape

from feeds.model import Article


def item_html(article: Article) -> str:
    parts: list[str] = []
    if image := article.lead_image:
        size = "".join(
            f' {name}="{value}"'
            for name, value in (("width", image.width), ("height", image.height))
            if value
        )
        alt = escape(image.title or article.title)
        parts.append(f'<p><img src="{escape(image.url)}" alt="{alt}"{size}></p>')
    parts.extend(_paragraphs(article))
    source = article.provider.name if article.provider else "the source"
    parts.append(
        f'<p><a href="{escape(article.url)}">Read the full story at {escape(source)}</a></p>'
    )
    if article.related:
        items = "".join(
            f'<li><a href="{escape(r.url)}">{escape(r.title)}</a>'
            + (f" ({escape(r.provider.name)})" if r.provider else "")
            + "</li>"
            for r in article.related_coverage()
        )
        parts.append(f"<p>Related coverage:</p><ul>{items}</ul>")
    return "\n".join(parts)


def _paragraphs(article: Article) -> list[str]:
    """The record's body when it has one (as plain paragraphs for now), else its excerpt."""
    text = article.body or article.excerpt or ""
    return [f"<p>{escape(' '.join(p.split()))}</p>" for p in text.split("\n\n") if p.strip()]
