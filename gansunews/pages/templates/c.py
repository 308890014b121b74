"""Template C (SITE.md), photo pages: `#info h1`, `span.source`, the pictures in `#pic_mainbox` and the body
around them."""

from __future__ import annotations

from functools import cached_property

from lxml import html as lxml_html

from gansunews.pages.templates.base import Template, has_class
from gansunews.text import labelled


class TemplateC(Template):
    name = "C"

    def applies(self) -> bool:
        return bool(self.title())

    def title(self) -> str | None:
        return self.page.text_at("//div[@id='info']//h1")

    @cached_property
    def line(self) -> str:
        return self.page.text_at(f"//span[{has_class('source')}]") or ""

    def date_raw(self) -> str | None:
        return self.line

    def source(self) -> str | None:
        return self.page.text_at(f"//span[{has_class('source')}]//a") or labelled(self.line, "来源")

    def editor(self) -> str | None:
        return labelled(self.line, "责任编辑", "编辑") or labelled(self.page.page_text(), "责任编辑", "编辑")

    def body(self) -> lxml_html.HtmlElement | None:
        return self.page.first("//div[@id='pic_mainbox']/..")
