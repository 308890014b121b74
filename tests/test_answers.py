"""Answers that are not the page asked for (gansunews/spiders/answers.py): a busy server's page, served with 200, is
told apart from every kind of page the site serves, from what the page objects read."""

import pytest

from gansunews.pages.article import ArticlePage
from gansunews.pages.listing import ListingPage
from gansunews.spiders.answers import (
    is_bare,
    is_not_a_listing,
    is_not_a_script,
    is_not_the_article,
    is_not_the_continuation,
)
from tests.fixtures import load
from tests.replica.server import BUSY_PAGE
from tests.test_listing_page import LIST_URL, PAGER

HTML = {"Content-Type": "text/html; charset=utf-8"}
ARTICLE_URL = "https://gansu.gscn.com.cn/system/2024/03/02/013001864.shtml"


def test_a_busy_server_s_page_is_neither_a_channel_page_nor_an_archive_page():
    busy = ListingPage.from_bytes(LIST_URL, BUSY_PAGE, HTML)
    assert is_bare(busy) and is_not_a_listing(busy)


@pytest.mark.parametrize("name", ["live_utf8", "archive_deep", "js_drawn", "no_pager", "drift_table_sidebar"])
def test_the_site_s_listing_pages_are_what_they_were_asked_for(name):
    page = ListingPage.from_bytes(*load(f"listing/{name}"))
    assert not is_bare(page) and not is_not_a_listing(page)


def test_an_empty_archive_page_past_the_oldest_entries_is_a_listing():
    html = f'<html><body><div id="content"><ul></ul>{PAGER}</div></body></html>'
    empty = ListingPage.from_bytes(LIST_URL, html.encode(), HTML)
    assert empty.entries() == [] and not is_not_a_listing(empty)


def test_a_pager_script_that_is_an_html_page():
    assert is_not_a_script(b"\n <!DOCTYPE html><html>") and is_not_a_script(BUSY_PAGE)
    assert not is_not_a_script(b"var maxpage = 12;") and not is_not_a_script(b"maxpage = abc")


def test_an_article_page_no_template_knows_is_not_the_article_when_it_shows_neither_its_date_nor_its_title():
    busy = ArticlePage.from_bytes(ARTICLE_URL, BUSY_PAGE, HTML).article()
    assert busy.template == "generic" and busy.date_from == "url"
    assert is_not_the_article(busy, "兰州新区推进重点项目建设")
    assert not is_not_the_article(busy, None), "no listing title (an article retried from its failure record)"
    generic = ArticlePage.from_bytes(*load("article/generic_layout")).article()
    assert generic.template == "generic" and not is_not_the_article(generic, generic.title + "（组图）")
    assert not is_not_the_article(ArticlePage.from_bytes(*load("article/template_a_sample")).article(), "别的标题")


def test_a_continuation_page_no_template_knows_must_show_its_article_s_title():
    busy = ArticlePage.from_bytes(ARTICLE_URL.replace(".shtml", "_2.shtml"), BUSY_PAGE, HTML).continuation()
    assert busy.title_shown == "系统繁忙" and is_not_the_continuation(busy, "兰州新区推进重点项目建设")
    page = ArticlePage.from_bytes(*load("article/multipage_3"))
    assert page.continuation().title_shown is None and not is_not_the_continuation(page.continuation(), "别的标题")
