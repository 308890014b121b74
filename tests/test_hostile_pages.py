"""Hostile and broken HTML, property-based: page objects raise nothing but PageError, and content_html is always
sanitised, whatever the markup, scripts, event attributes or bytes."""

from __future__ import annotations

import re
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gansunews.pages import PageError
from gansunews.pages.article import ArticlePage
from gansunews.pages.listing import ListingPage

URL = "https://gansu.gscn.com.cn/system/2024/03/01/013000001.shtml"
UNSAFE = re.compile(r"<\s*(script|style|iframe|object|embed)|\son\w+\s*=|javascript:", re.I)

TAGS = ["p", "div", "span", "a", "img", "script", "style", "iframe", "table", "td", "br", "h1", "font", "center"]
ATTRIBUTES = [
    'onclick="x()"',
    'onerror="steal()"',
    'href="javascript:alert(1)"',
    'src="/pic/a.jpg"',
    'class="bdshare"',
    'id="news_more_page_div_id"',
    'style="color:red"',
    "",
    'src="javascript:x"',
]
TEXT = st.text(
    alphabet=st.sampled_from(list("甘肃新闻记者通讯员原标题来源编辑：:<>&;\"' \n\t0123456789-/年月日")), max_size=40
)


@st.composite
def fragments(draw, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 3 and draw(st.booleans()):
            tag, attribute = draw(st.sampled_from(TAGS)), draw(st.sampled_from(ATTRIBUTES))
            inner = draw(fragments(depth + 1))
            closing = "" if draw(st.integers(0, 5)) == 0 else f"</{tag}>"  # unclosed tags too
            parts.append(f"<{tag} {attribute}>{inner}{closing}")
        else:
            parts.append(draw(TEXT))
    return "".join(parts)


def article_page(body: str, info: str = "24-03-01 10:00 来源:甘肃日报") -> bytes:
    return (
        f'<html><head><meta charset="utf-8"></head><body><div class="artical"><div class="a-header">'
        f'<h1>测试标题</h1><div class="info"><span class="m-frt">{info}</span></div></div>'
        f'<div class="a-container">{body}</div></div></body></html>'
    ).encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fragments(), TEXT)
def test_any_markup_in_a_template_page(body, info):
    try:
        article = ArticlePage.from_bytes(URL, article_page(body, info), {}).article()
    except PageError:
        return
    assert not UNSAFE.search(article.content_html)
    assert all("\n" not in p and p == p.strip() for p in article.paragraphs)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from(["", "text/html; charset=gbk", "text/html; charset=bogus-8"]))
def test_any_bytes_as_an_article(body, content_type):
    try:
        page = ArticlePage.from_bytes(URL, body, {"Content-Type": content_type})
        article = page.article()
    except PageError:
        return
    assert not UNSAFE.search(article.content_html)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_as_a_listing(body):
    try:
        page = ListingPage.from_bytes("https://gansu.gscn.com.cn/x/index.shtml", body, {})
    except PageError:
        return
    page.entries(), page.pager(), page.links(), page.breadcrumb()


@settings(max_examples=100, deadline=None)
@given(fragments())
def test_any_markup_as_a_listing(body):
    html = f'<html><body><div id="content"><ul><li>{body}</li></ul>{body}</div></body></html>'.encode()
    page = ListingPage.from_bytes("https://gansu.gscn.com.cn/x/index.shtml", html, {})
    for entry in page.entries():
        assert entry.url.startswith(("http://", "https://"))


def test_huge_page_parses_in_bounded_time():
    body = "".join(f"<p>第{i}段：甘肃省各地持续推进乡村振兴，群众增收渠道不断拓宽。</p>" for i in range(40_000))
    start = time.perf_counter()
    article = ArticlePage.from_bytes(URL, article_page(body), {}).article()
    assert len(article.paragraphs) == 40_000 and time.perf_counter() - start < 30
