"""Pages described by GB/T 42147-2022 metadata tags (`ArticleTitle`, `PubDate`, `ContentSource`), whatever their
layout: the body is the largest block of paragraphs."""

from __future__ import annotations

from lxml import html as lxml_html

from gansunews.pages.templates.base import Template


class MetaTags(Template):
    name = "meta"

    def applies(self) -> bool:
        return bool(self.title() and self.date_raw())

    def title(self) -> str | None:
        return self.page.meta("ArticleTitle")

    def date_raw(self) -> str | None:
        return self.page.meta("PubDate")

    def source(self) -> str | None:
        return self.page.meta("ContentSource")

    def body(self) -> lxml_html.HtmlElement | None:
        return self.page.largest_text_block()
