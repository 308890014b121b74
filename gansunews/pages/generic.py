"""The generic fallback for pages no known template fits: trafilatura for the body, Chinese patterns for the rest."""

from __future__ import annotations

from html import escape

import trafilatura
from lxml import html as lxml_html

from gansunews.pages import PageError
from gansunews.pages.article import ArticlePage, Fields
from gansunews.text import date_text, labelled, labelled_authors, squash

_DATE_META = (
    "article:published_time",
    "PubDate",
    "publishdate",
    "pubdate",
    "og:release_date",
    "datePublished",
    "weibo: article:create_at",
    "publish_time",
)


def generic_fields(page: ArticlePage) -> Fields:
    """Title, date, source, editor and body of any news page; PageError when no body text is found."""
    document = trafilatura.bare_extraction(
        page.selector.root,
        url=page.url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        # No readability/justext comparison: justext has no Chinese stop-word list, so on these pages it builds
        # one from every language it knows (≈ 33 MB at first use) to classify text it cannot read.
        fast=True,
    )
    text = getattr(document, "text", None) or ""
    if not text.strip():
        raise PageError(f"no article body found: {page.url}")
    title = _title(page) or squash(getattr(document, "title", None))
    header = _text_after_title(page, title)
    body = lxml_html.fromstring(
        "<div>" + "".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line.strip()) + "</div>"
    )
    return Fields(
        template="generic",
        title=title or None,
        date_raw=_date_raw(page, header) or getattr(document, "date", None),
        source=labelled(header, "来源", "稿源", "出处"),
        editor=labelled(page._page_text(), "责任编辑", "编辑"),
        body=body,
        authors=labelled_authors(header),
    )


def _title(page: ArticlePage) -> str:
    """The first <h1> (or <h2>) that the <title> starts with or contains; else the first <h1>."""
    head_title = page.title
    candidates = [squash(t) for t in page.selector.xpath("//h1//text()/.. | //h2").xpath("normalize-space()").getall()]
    candidates = [c for c in candidates if len(c) >= 4]
    for candidate in candidates:
        if candidate[:12] in head_title:
            return candidate
    h1 = page.selector.xpath("normalize-space(//h1)").get()
    return squash(h1) if h1 and len(h1) >= 4 else ""


def _text_after_title(page: ArticlePage, title: str) -> str:
    """The 300 characters after the headline: where Chinese pages print date, 来源 and 作者."""
    text = page._page_text()
    start = text.find(title) if title else -1
    return text[start + len(title) : start + len(title) + 300] if start >= 0 else text[:600]


def _date_raw(page: ArticlePage, header: str) -> str | None:
    for name in _DATE_META:
        value = page.meta(name) or page.selector.xpath(f"//meta[@property='{name}']/@content").get()
        if value:
            return value
    return date_text(header)
