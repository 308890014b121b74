"""ArticlePage: an article page read by its template (`gansunews.pages.templates`: A, B and C of the Enorth CMS,
metadata tags, and a generic fallback for template drift), its body cleaned into lines, HTML and images."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import cached_property

import nh3
from lxml import html as lxml_html

from gansunews.items import RawArticle
from gansunews.pages import HtmlPage, PageError
from gansunews.pages.templates import TEMPLATES, Fields, Generic
from gansunews.text import (
    DateError,
    body_lines,
    date_text,
    is_tail_marker,
    parse_cn_datetime,
    split_lead,
    squash,
)
from gansunews.urls import article_id, article_match, is_site_url, strip_query

NOT_ARTICLE_LIVE = "live_redirect"
NOT_ARTICLE_SOFT_404 = "soft_404"
NOT_ARTICLE_REDIRECT = "meta_refresh"

_BLOCK_TAGS = {
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "td",
    "tr",
    "blockquote",
    "center",
    "figure",
    "figcaption",
    "section",
    "article",
    "table",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "pre",
}
_DROP_TAGS = ("script", "style", "iframe", "noscript", "form", "object", "embed", "input", "button", "select")
_FURNITURE = re.compile(
    r"(?:^|[\s_-])(?:share|bdshare|bshare|ad|ads|advert|gg|pager|news_more_page_div_id)"
    r"(?:$|[\s_-])",
    re.I,
)


_SOFT_404 = ("页面没有找到", "页面不存在", "404 Not Found")
_SANITIZE_TAGS = {
    "p",
    "br",
    "img",
    "a",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
    "blockquote",
    "figure",
    "figcaption",
    "span",
    "div",
    "center",
    "sub",
    "sup",
}
_SANITIZE_ATTRS = {"img": {"src", "alt", "title"}, "a": {"href", "title"}, "td": {"colspan", "rowspan"}}


class ArticlePage(HtmlPage):
    """An article page (or a continuation page `_NN`), or a page that only looks like one."""

    def not_article_reason(self) -> str | None:
        """Why this page is not an article (live-stream redirect, soft 404, bare refresh), or None."""
        return self._not_article_reason

    @cached_property
    def _not_article_reason(self) -> str | None:  # asked by the reader, then again by `article()`
        if any(marker in self.title for marker in _SOFT_404):
            return NOT_ARTICLE_SOFT_404
        target = self.refresh_target()
        if target:
            return NOT_ARTICLE_REDIRECT if is_site_url(target) else NOT_ARTICLE_LIVE
        return None

    def refresh_target(self) -> str | None:
        content = self.selector.xpath("//meta[translate(@http-equiv,'REFSH','refsh')='refresh']/@content").get() or ""
        match = re.search(r"url\s*=\s*['\"]?([^'\"\s>]+)", content, re.I)
        return self.absolute(match.group(1)) if match else None

    def next_page_url(self) -> str | None:
        """The `下一页` link to the next continuation page of this same article."""
        hrefs = self.selector.xpath(
            "//*[@id='news_more_page_div_id']//a[contains(normalize-space(),'下一页')]/@href"
            " | //a[normalize-space()='下一页' or normalize-space()='下一页>>' or normalize-space()='下一页>']/@href"
        ).getall()
        own_id = article_id(self.url)
        for href in hrefs:
            url = self.absolute(href)
            if url and own_id and article_id(url) == own_id and strip_query(url) != strip_query(self.url):
                return strip_query(url)
        return None

    # ------------------------------------------------------------------------------ templates

    @cached_property
    def _tree(self) -> lxml_html.HtmlElement:
        return self.selector.root

    def first(self, xpath: str) -> lxml_html.HtmlElement | None:
        """The first element `xpath` selects, or None."""
        found = self._tree.xpath(xpath)
        return found[0] if found else None

    def text_at(self, xpath: str) -> str | None:
        """The squashed text of the first node `xpath` selects, or None."""
        return squash(self.selector.xpath(f"normalize-space({xpath})").get()) or None

    def meta(self, name: str) -> str | None:
        """A `<meta>` tag's content by its name or property, whatever their case."""
        lower = "translate(@{},'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz')"
        named = f"{lower.format('name')}='{name.lower()}' or {lower.format('property')}='{name.lower()}'"
        value = self.selector.xpath(f"//meta[{named}]/@content").get()
        return squash(value) or None

    def title_from_head(self) -> str | None:
        """`标题_频道_中国甘肃网` → `标题`."""
        return squash(re.split(r"[_|]|--", self.title)[0]) or None

    def page_text(self) -> str:
        """The body's text (no scripts, no styles), squashed into one line."""
        return self._page_text

    @cached_property
    def _page_text(self) -> str:
        return squash(
            " ".join(self.selector.xpath("//body//text()[not(ancestor::script or ancestor::style)]").getall())
        )

    def largest_text_block(self) -> lxml_html.HtmlElement | None:
        best, best_len = None, 0
        for div in self._tree.xpath("//div[p]|//td[p]|//article"):
            size = sum(len(squash(p.text_content())) for p in div.xpath("./p"))
            if size > best_len:
                best, best_len = div, size
        return best

    def fields(self) -> Fields | None:
        """The first template that applies and finds a body; None when none does."""
        for template in (kind(self) for kind in TEMPLATES):
            if template.applies():
                found = template.fields()
                if found.body is not None:
                    return found
        return None

    # ----------------------------------------------------------------------------- article

    def article(self, require_cms_id: bool = True) -> RawArticle:
        """The raw article, by a known template or the generic fallback; PageError when nothing fits.
        `require_cms_id=False` reads any news page (extract), whose id is then empty."""
        reason = self.not_article_reason()
        if reason:
            raise PageError(f"not an article ({reason}): {self.url}")
        cms_id = article_id(self.url) or ""
        if require_cms_id and not cms_id:
            raise PageError(f"not an article URL: {self.url}")
        found = self.fields()
        if found is None:
            generic = Generic(self)
            if not generic.applies():
                raise PageError(f"no article body found: {self.url}")
            found = generic.fields()
        body = self.body_content(found.body)
        return RawArticle(
            url=strip_query(self.url),
            article_id=cms_id,
            template=found.template,
            title=found.title or self.meta("ArticleTitle") or self.title_from_head(),
            **self._published(found.date_raw),
            source=found.source or self.meta("ContentSource"),
            editor=found.editor,
            original_title=body.original_title,
            authors=body.authors or found.authors,
            paragraphs=body.paragraphs,
            content_html=body.html,
            images=body.images,
            breadcrumb=self.breadcrumb(),
            column_name=self.meta("ColumnName"),
        )

    def _published(self, date_raw: str | None) -> dict[str, str | None]:
        """The article's own date: the template's date line, then metadata tags, then the URL's date path (day
        precision). A page date that cannot be a publish date (impossible, in the future) falls through too."""
        candidates = [(date_raw, "page"), *((self.meta(name), "meta") for name in _DATE_META)]
        for raw, origin in candidates:
            text = date_text(raw)
            if text and _plausible(text):
                return {"published_at_raw": text, "date_from": origin}
        match = article_match(self.url)
        if match:
            return {"published_at_raw": f"/system/{match['y']}/{match['m']}/{match['d']}/", "date_from": "url"}
        return {"published_at_raw": date_raw, "date_from": "page"}

    def continuation(self) -> Body:
        """The body of a continuation page (`_02` …), to be appended to the first page's article; read by no
        template, with the title the page shows (`Body.title_shown`)."""
        found = self.fields()
        if found is not None:
            return self.body_content(found.body, lead=False)
        body = self.body_content(self.largest_text_block(), lead=False)
        body.title_shown = self.meta("ArticleTitle") or self.title_from_head() or ""
        return body

    def body_content(self, element: lxml_html.HtmlElement | None, lead: bool = True) -> Body:
        if element is None:
            return Body()
        return Body.from_element(copy.deepcopy(element), self.url, lead)


@dataclass
class Body:
    """A body's kept lines, lead fields, sanitised HTML and images."""

    paragraphs: list[str] = field(default_factory=list)
    html: str = ""
    images: list[dict[str, str | None]] = field(default_factory=list)
    original_title: str | None = None
    authors: list[str] = field(default_factory=list)
    # A continuation page read by no template: the title it shows, which must be its article's (a busy server's
    # page, served with 200, would be read as a body all the same)
    title_shown: str | None = None

    @classmethod
    def from_element(cls, element: lxml_html.HtmlElement, url: str, lead: bool) -> Body:
        _drop_furniture(element)
        blocks = _leaf_blocks(element)
        lines = [line for _, block_lines in blocks for line in block_lines]
        # captions live in images[].caption; left out before the lead is read, so that a photo page's byline
        # after its pictures is still among the first lines
        captions = {caption for img in element.iter("img") if (caption := _caption(img))}
        kept = [line for line in body_lines(lines) if line not in captions]
        parts = split_lead(kept) if lead else None
        paragraphs = parts.paragraphs if parts else kept
        _drop_unkept_blocks(blocks, set(paragraphs) | captions)
        element.make_links_absolute(url, resolve_base_href=False)
        images = _images(element)
        html = nh3.clean(
            lxml_html.tostring(element, encoding="unicode"),
            tags=_SANITIZE_TAGS,
            attributes=_SANITIZE_ATTRS,
            url_schemes={"http", "https"},
            link_rel=None,
            strip_comments=True,
        )
        return cls(
            paragraphs,
            squash_html(html),
            images,
            parts.original_title if parts else None,
            parts.authors if parts else [],
        )


_DATE_META = ("PubDate", "publishdate", "article:published_time", "og:release_date")


def _plausible(text: str) -> bool:
    try:
        parse_cn_datetime(text)
    except DateError:
        return False
    return True


def squash_html(html: str) -> str:
    return re.sub(r"\s*\n\s*", "\n", html).strip()


def _drop_furniture(element: lxml_html.HtmlElement) -> None:
    """Scripts, styles, iframes, share widgets, ad slots and the pager leave the body before reading it."""
    for node in list(element.iter(*_DROP_TAGS)):
        node.drop_tree()
    for node in list(element.iter()):
        marker = f"{node.get('id', '')} {node.get('class', '')}"
        if node is not element and marker.strip() and _FURNITURE.search(marker):
            node.drop_tree()
    for node in element.iter():
        for attribute in [a for a in node.attrib if a.lower().startswith("on")]:
            del node.attrib[attribute]


def _leaf_blocks(element: lxml_html.HtmlElement) -> list[tuple[lxml_html.HtmlElement, list[str]]]:
    """Block elements holding text directly, each with its lines (split at <br>), in document order."""
    blocks = []
    for node in element.iter():
        if not isinstance(node.tag, str) or (node.tag not in _BLOCK_TAGS and node is not element):
            continue
        lines = _own_lines(node)
        if lines:
            blocks.append((node, lines))
    return blocks


def _own_lines(node: lxml_html.HtmlElement) -> list[str]:
    """Text of the node that is not inside a nested block element, split at <br>."""
    pieces = [node.text or ""]
    for child in node:
        if not isinstance(child.tag, str):
            pieces.append(child.tail or "")
        elif child.tag == "br" or child.tag in _BLOCK_TAGS:
            pieces.append("\n" + (child.tail or ""))
        else:
            pieces.append(child.text_content() + (child.tail or ""))
    return [line for line in (squash(part) for part in "".join(pieces).split("\n")) if line]


def _drop_unkept_blocks(blocks: list[tuple[lxml_html.HtmlElement, list[str]]], kept: set[str]) -> None:
    """Remove from the HTML every block whose lines were all dropped, and everything after a furniture marker
    that follows kept text (as `body_lines` cuts)."""
    any_kept = False
    for index, (node, lines) in enumerate(blocks):
        if is_tail_marker(lines[0]) and any_kept:
            for later, _ in blocks[index:]:
                _remove(later)
            return
        if any(line in kept or _starts_kept(line, kept) for line in lines):
            any_kept = True
        elif not node.xpath(".//img"):
            _remove(node)


def _starts_kept(line: str, kept: set[str]) -> bool:
    """A dateline whose author parenthesis was taken out still counts as kept."""
    return bool(re.search(r"讯\s*[（(]", line)) and any(k.startswith(line[:8]) for k in kept)


def _remove(node: lxml_html.HtmlElement) -> None:
    if node.getparent() is not None:
        node.drop_tree()
    else:
        node.clear()


def _images(element: lxml_html.HtmlElement) -> list[dict[str, str | None]]:
    images = []
    for img in element.iter("img"):
        src = (img.get("src") or "").strip()
        if src.startswith(("http://", "https://")) and all(i["url"] != src for i in images):
            images.append({"url": src, "caption": _caption(img)})
    return images


def _caption(img: lxml_html.HtmlElement) -> str | None:
    """The image's alt/title, else the text of its own short block, else a short centred block right after it."""
    own = squash(img.get("alt") or img.get("title"))
    if own and not re.fullmatch(r"[\w.-]+\.(?:jpe?g|png|gif)|图片|image", own, re.I):
        return own
    block = next((a for a in img.iterancestors() if a.tag in _BLOCK_TAGS), None)
    if block is None:
        return None
    text = squash(block.text_content())
    if 0 < len(text) <= 80:
        return text
    following = block.getnext()
    if following is not None and isinstance(following.tag, str):
        text = squash(following.text_content())
        centred = "center" in (following.get("style", "") + following.get("align", "") + following.get("class", ""))
        if 0 < len(text) <= 80 and (centred or text.startswith("图为")):
            return text
    return None
