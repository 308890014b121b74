"""The generic fallback for pages no known template fits: trafilatura for the body, Chinese patterns for the rest.

The info line (date, 来源, 作者) is read after the headline; dates elsewhere on the page (related lists, footers)
count only when the page shows the day htmldate (inside trafilatura) chose."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cached_property
from html import escape
from typing import Any

from lxml import html as lxml_html

from gansunews.pages.templates.base import Template
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
_WECHAT_TIME = re.compile(r'var ct\s*=\s*"(?P<seconds>\d{10})"')  # a WeChat article's publish time, drawn by a script


class Generic(Template):
    name = "generic"

    def applies(self) -> bool:
        return bool(self.text.strip())

    @cached_property
    def document(self) -> Any:
        import trafilatura  # costly to import (≈ 0.5 s): only when a page fits no template

        return trafilatura.bare_extraction(
            self.page.selector.root,
            url=self.page.url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            # With its readability and justext comparison: on zh-news-devset content F1 0.877 instead of 0.861
            # (a WeChat page 0.32 → 0.98), for 52 instead of 39 ms a page and, once, ≈ 36 MB (justext has no
            # Chinese stop-word list and builds one from every language it knows). Only pages no template fits.
            fast=False,
        )

    @cached_property
    def text(self) -> str:
        return getattr(self.document, "text", None) or ""

    def title(self) -> str | None:
        return self._title or None

    @cached_property
    def _title(self) -> str:
        """The first <h1> (or <h2>) that the <title> starts with or contains; else the first <h1>; else
        trafilatura's."""
        page = self.page
        candidates = page.selector.xpath("//h1//text()/.. | //h2").xpath("normalize-space()").getall()
        candidates = [squash(c) for c in candidates if len(squash(c)) >= 4]
        found = next((candidate for candidate in candidates if candidate[:12] in page.title), None)
        h1 = squash(page.selector.xpath("normalize-space(//h1)").get())
        return found or (h1 if len(h1) >= 4 else "") or squash(getattr(self.document, "title", None))

    @cached_property
    def info_line(self) -> str:
        """The 300 characters after the headline: after the first copy of the headline that a date follows (an
        earlier copy may be a share widget's or the breadcrumb's)."""
        text = self.page.page_text()
        title = self._title
        starts = [match.end() for match in re.finditer(re.escape(title), text)] if title else []
        after = [text[start : start + 300] for start in starts]
        return next((line for line in after if date_text(line)), after[0] if after else text[:600])

    def date_raw(self) -> str | None:
        """Metadata tags, the info line, WeChat's publish time; else htmldate's day if the page shows it."""
        for name in _DATE_META:
            value = self.page.meta(name)
            if value:
                return value
        beside_headline = date_text(self.info_line)
        if beside_headline:
            return beside_headline
        wechat = _WECHAT_TIME.search(" ".join(self.page.selector.xpath("//script/text()").getall()))
        if wechat:
            return datetime.fromtimestamp(int(wechat["seconds"]), CHINA_TZ).isoformat()
        return self._shown(getattr(self.document, "date", None))

    def _shown(self, day: str | None) -> str | None:
        """`day` if the page shows it, in its text, its meta tags or its JSON-LD: not a year alone made a day
        (© 2017 → 2017-01-01), nor a date in a script's comment."""
        if not day:
            return None
        year, month, dom = (int(part) for part in day[:10].split("-"))
        shown = rf"{year}\s*[-/.年]\s*0?{month}\s*[-/.月]\s*0?{dom}(?!\d)"
        places = self.page.selector.xpath("//meta/@content | //script[@type='application/ld+json']/text()").getall()
        return day if re.search(shown, " ".join([self.page.page_text(), *places])) else None

    def source(self) -> str | None:
        return labelled(self.info_line, "来源", "稿源", "出处", "原创") or unlabelled_source(self.info_line)

    def editor(self) -> str | None:
        return labelled(self.page.page_text(), "责任编辑", "编辑")

    def authors(self) -> list[str]:
        return labelled_authors(self.info_line)

    def body(self) -> lxml_html.HtmlElement:
        lines = "".join(f"<p>{escape(line)}</p>" for line in self.text.splitlines() if line.strip())
        return lxml_html.fromstring(f"<div>{lines}</div>")
