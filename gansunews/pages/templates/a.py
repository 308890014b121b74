"""Template A (SITE.md): `div.a-header > h1`, an info line, the body in `div.a-container`."""

from __future__ import annotations

from functools import cached_property

from lxml import html as lxml_html

from gansunews.pages.templates.base import Template, has_class
from gansunews.text import date_text, labelled


class TemplateA(Template):
    name = "A"

    def applies(self) -> bool:
        return bool(self.title())

    def title(self) -> str | None:
        return self.page.text_at(f"//div[{has_class('a-header')}]/h1")

    @cached_property
    def info(self) -> str:
        return self.page.text_at(f"//div[{has_class('info')}]") or ""

    def date_raw(self) -> str | None:
        # the date in its span (SITE.md), else anywhere in the info line or the header (发布时间：…, 2- or 4-digit year)
        dated = (
            self.page.text_at(f"//span[{has_class('m-frt')}]"),
            self.info,
            self.page.text_at(f"//div[{has_class('a-header')}]"),
        )
        return next((text for text in dated if date_text(text)), self.info)

    def source(self) -> str | None:
        return labelled(self.info, "来源")

    def editor(self) -> str | None:
        return labelled(self.info, "责任编辑", "编辑")

    def body(self) -> lxml_html.HtmlElement | None:
        return self.page.first(
            f"//div[{has_class('a-container')}] | //div[{has_class('artical')}]//div[{has_class('container')}]"
        )
