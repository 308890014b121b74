"""The generic fallback for pages no known template fits: trafilatura for the body, Chinese patterns for the rest."""

from __future__ import annotations

import re
from datetime import datetime
from html import escape

import trafilatura
from lxml import html as lxml_html

from gansunews.pages import PageError
from gansunews.pages.article import ArticlePage, Fields
from gansunews.text import CHINA_TZ, date_text, labelled, labelled_authors, squash, unlabelled_source

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
    header = _info_line(page, title)
    body = lxml_html.fromstring(
        "<div>" + "".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line.strip()) + "</div>"
    )
    return Fields(
        template="generic",
        title=title or None,
        date_raw=_date_raw(page, header) or _shown(page, getattr(document, "date", None)),
        source=labelled(header, "来源", "稿源", "出处", "原创") or unlabelled_source(header),
        editor=labelled(page._page_text(), "责任编辑", "编辑"),
        body=body,
        authors=labelled_authors(header),
    )


_WECHAT_TIME = re.compile(r'var ct\s*=\s*"(?P<seconds>\d{10})"')  # a WeChat article's publish time, drawn by a script


def _date_raw(page: ArticlePage, header: str) -> str | None:
    for name in _DATE_META:
        value = page.meta(name) or page.selector.xpath(f"//meta[@property='{name}']/@content").get()
        if value:
            return value
    wechat = _WECHAT_TIME.search(" ".join(page.selector.xpath("//script/text()").getall()))
    return date_text(header) or (
        datetime.fromtimestamp(int(wechat["seconds"]), CHINA_TZ).isoformat() if wechat else None
    )


def _shown(page: ArticlePage, day: str | None) -> str | None:
    """htmldate's day (found by trafilatura) if the page shows it, in its text, its meta tags or its JSON-LD: not a
    year alone made a day (2017 → 2017-01-01), nor a date in a script's comment."""
    if not day:
        return None
    year, month, dom = (int(part) for part in day[:10].split("-"))
    shown = rf"{year}\s*[-/.年]\s*0?{month}\s*[-/.月]\s*0?{dom}(?!\d)"
    places = page.selector.xpath("//meta/@content | //script[@type='application/ld+json']/text()").getall()
    return day if re.search(shown, " ".join([page._page_text(), *places])) else None


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


def _info_line(page: ArticlePage, title: str) -> str:
    """The 300 characters after the headline, where Chinese pages print date, 来源 and 作者: after the first copy of
    the headline that a date follows (an earlier copy may be a share widget's or the breadcrumb's)."""
    text = page._page_text()
    starts = [match.end() for match in re.finditer(re.escape(title), text)] if title else []
    after = [text[start : start + 300] for start in starts]
    return next((line for line in after if date_text(line)), after[0] if after else text[:600])
