"""What every template page object shares: the fields it returns and the class it extends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import html as lxml_html

if TYPE_CHECKING:
    from gansunews.pages.article import ArticlePage


@dataclass(frozen=True)
class Fields:
    """What one template found: the raw strings and the body element."""

    template: str
    title: str | None
    date_raw: str | None
    source: str | None
    editor: str | None
    body: lxml_html.HtmlElement | None
    authors: list[str] = field(default_factory=list)  # from an info line; the body's lead lines come first


def has_class(name: str) -> str:
    """XPath predicate: the element's class list contains `name` as a whole word (not `data-name`)."""
    return f"contains(concat(' ',normalize-space(@class),' '),' {name} ')"


class Template:
    """A page object for one article template: `applies()` says whether the page is one, a method per field
    reads it. A field the template does not print is None (or no authors)."""

    name = ""

    def __init__(self, page: ArticlePage) -> None:
        self.page = page

    def applies(self) -> bool:
        raise NotImplementedError

    def title(self) -> str | None:
        return None

    def date_raw(self) -> str | None:
        return None

    def source(self) -> str | None:
        return None

    def editor(self) -> str | None:
        return None

    def body(self) -> lxml_html.HtmlElement | None:
        return None

    def authors(self) -> list[str]:
        return []

    def fields(self) -> Fields:
        return Fields(
            self.name, self.title(), self.date_raw(), self.source(), self.editor(), self.body(), self.authors()
        )
