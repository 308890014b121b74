"""Template B (SITE.md): Baidu-style spans `#pubtime_baidu`, `#source_baidu`, `#editor_baidu`; body `#content`."""

from __future__ import annotations

import re

from lxml import html as lxml_html

from gansunews.pages.templates.base import Template
from gansunews.text import squash


class TemplateB(Template):
    name = "B"

    def applies(self) -> bool:
        return bool(self.date_raw())

    def title(self) -> str | None:
        return self.page.title_from_head()

    def date_raw(self) -> str | None:
        return self.page.text_at("//span[@id='pubtime_baidu']")

    def source(self) -> str | None:
        return _strip_label(self.page.text_at("//span[@id='source_baidu']"))

    def editor(self) -> str | None:
        return _strip_label(self.page.text_at("//span[@id='editor_baidu']"))

    def body(self) -> lxml_html.HtmlElement | None:
        return self.page.first("//div[@id='content']")


def _strip_label(value: str | None) -> str | None:
    """`来源：甘肃日报` → `甘肃日报`."""
    return squash(re.sub(r"^[^:：]{0,6}[:：]", "", value or "")) or None
