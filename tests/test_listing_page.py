from datetime import date

import pytest

from gansunews.pages import PageError
from gansunews.pages.listing import ListingPage, parse_maxpage
from gansunews.pages.scripts import written_html
from tests.fixtures import load


def page(name):
    return ListingPage.from_bytes(*load(name))


def test_live_page_entries_resolve_relative_links():
    entries = page("listing/live_utf8").entries()
    assert all(e.url.startswith(("http://", "https://")) for e in entries)
    assert any(e.url.startswith("https://gansu.gscn.com.cn/system/") for e in entries)


def test_live_page_dates_slash_format():
    entries = [e for e in page("listing/live_utf8").entries() if "/system/" in e.url]
    assert all(e.date is not None for e in entries)
    assert entries[0].date.date() >= entries[-1].date.date()


def test_live_page_keeps_non_articles_for_the_spider_to_count():
    urls = [e.url for e in page("listing/live_utf8").entries()]
    assert any("/cms_udf/" in u for u in urls) and any("xinhuanet" in u for u in urls)


def test_gbk_page_declared_by_meta_only():
    listing = page("listing/city_gbk")
    assert listing.encoding == "gb18030"
    assert listing.breadcrumb() == ["中国甘肃网", "甘肃新闻", "市州播报", "金昌"]
    assert all("金昌" in e.title for e in listing.entries())


def test_month_day_dates_take_year_from_url():
    entries = page("listing/city_prefix_mmdd").entries()
    assert entries and all(e.date and e.date.year == int(e.url.split("/system/")[1][:4]) for e in entries)


def test_pager_with_path_prefix():
    pager = page("listing/city_prefix_mmdd").pager()
    assert pager.base == "https://www.gscn.com.cn/news"
    assert len(pager.channel_code) == 7 and len(pager.sub_code) == 12
    assert pager.maxpage is None  # read from the script itself


def test_deep_archive_page_dates_in_parentheses_with_time():
    entries = page("listing/archive_deep").entries()
    assert len(entries) == 2 and all(e.date and e.date.hour for e in entries)


def test_js_drawn_list_needs_a_browser():
    listing = page("listing/js_drawn")
    assert listing.entries() == [] and listing.needs_browser
    assert listing.pager().channel_code == "0012003"


def test_listing_without_pager():
    listing = page("listing/no_pager")
    assert listing.pager() is None
    entries = listing.entries()
    assert [e.url.rsplit("/", 1)[1] for e in entries] == ["013001111.shtml", "013001112.shtml", "013001113.shtml"]
    assert entries[1].date.date() == date(2024, 2, 2) and entries[2].date is None


def test_navigation_links_exclude_articles_and_topics():
    links = page("listing/live_utf8").links()
    assert links and not any("/system/20" in link.url or "/cms_udf/" in link.url for link in links)
    assert {"要闻", "市州播报", "财经"} <= {link.text for link in links}


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("var maxpage = 1003;", 1003),
        ("var maxpage='12';", 12),
        ("var maxpage = abc;", None),
        ("var maxpage = 0;", None),
        ("var maxpage = 1", None),  # cut short mid-number, maybe (of `12;`)
        ("", None),
        ("document.write(1);", None),
    ],
)
def test_maxpage_script(script, expected):
    assert parse_maxpage(script) == expected


def test_empty_page_is_a_page_error():
    with pytest.raises(PageError):
        ListingPage.from_bytes("https://gansu.gscn.com.cn/x/", b"  ", {})


def test_truncated_listing_still_yields_what_it_has():
    url, body, headers = load("listing/live_utf8")
    fourth_entry_end = [i for i in range(len(body)) if body.startswith(b"</li>", i)][3]
    cut = body[:fourth_entry_end]
    listing = ListingPage.from_bytes(url, cut, headers)
    assert 0 < len(listing.entries()) < len(page("listing/live_utf8").entries())


def test_drifted_list_found_by_its_article_links_not_the_sidebar():
    """A table in `div.newslist` (no #content), bracketed dates, an ad row, a 热点排行 sidebar of other articles,
    a relative pager script with a query and no breadcrumb."""
    listing = page("listing/drift_table_sidebar")
    entries = listing.entries()
    assert listing.found_by == "pager_script" and len(entries) == 5  # the ad row is no entry
    assert all("/system/" in e.url and e.date is not None and e.date_raw.startswith("(") for e in entries)
    sidebar = listing.selector.xpath("//div[@class='hot']//a/@href").getall()
    assert sidebar and not {e.url for e in entries} & set(sidebar)
    pager = listing.pager()
    assert pager.reference == "relative" and pager.script_url.endswith("?v=20240331")
    assert pager.base == "https://www.gscn.com.cn/news"


def test_without_a_pager_the_dated_list_wins_over_a_bigger_undated_sidebar():
    hot = "".join(f'<li><a href="/system/2024/03/0{n}/01300010{n}.shtml">热点{n}</a></li>' for n in range(1, 8))
    listed = "".join(
        f'<li><a href="/system/2024/02/1{n}/01300020{n}.shtml">消息{n}</a><span>[2024-02-1{n}]</span></li>'
        for n in range(1, 4)
    )
    body = f'<html><body><div class="hot"><ul>{hot}</ul></div><div class="main"><ul>{listed}</ul></div></body></html>'
    listing = ListingPage.from_bytes("https://gansu.gscn.com.cn/sz1/", body.encode(), {})
    assert listing.found_by == "most_links"
    assert [e.title for e in listing.entries()] == ["消息1", "消息2", "消息3"]


# --- lists a script draws from HTML held in its own text ---------------------------------------------------------

LIST_URL = "https://gansu.gscn.com.cn/tupian/index.shtml"
PAGER = '<script src="/system/count/0012003/000000000000/count_page_list_0012003000000000000.js"></script>'


def inline_page(script: str) -> ListingPage:
    html = f'<html><body><div id="content"><ul id="list"></ul><script>{script}</script>{PAGER}</div></body></html>'
    return ListingPage.from_bytes(LIST_URL, html.encode(), {"Content-Type": "text/html; charset=utf-8"})


def test_written_html_joins_a_scripts_literals_unescaped():
    script = (
        "// don't draw twice\n"
        "var base = 'http://x/'; /* \"quoted\" */\n"
        'document.getElementById("list").innerHTML = "<li><a href=\\"/system/2024/03/05/013001001.shtml\\">"\n'
        "  + '\\u56fe\\u7247<\\/a><span>2024-03-05</span></li>' + `<li>\\x41</li>`;"
    )
    assert written_html(script) == (
        'http://x/list<li><a href="/system/2024/03/05/013001001.shtml">图片</a><span>2024-03-05</span></li><li>A</li>'
    )
    assert written_html("var items = ['<li>a</li>'];") == ""  # writes nothing into the page
    assert written_html('document.write("\\ud83d\\ude00 \\ud800");') == "😀 \ufffd"  # UTF-16 pairs, a lone half


def test_a_list_written_by_its_script_is_read_without_a_browser():
    items = '<li><a href="/system/2024/03/05/013001001.shtml">图片一</a><span>2024-03-05</span></li>'
    listing = inline_page(f"document.getElementById('list').innerHTML = '{items}';")
    assert listing.drawn_by_script and not listing.needs_browser
    [entry] = listing.entries()
    assert entry.url == "https://gansu.gscn.com.cn/system/2024/03/05/013001001.shtml" and entry.title == "图片一"
    assert entry.date.date() == date(2024, 3, 5)
    assert listing.found_by == "content_id" and listing.pager().channel_code == "0012003"


def test_document_write_puts_the_list_where_the_script_is():
    listing = inline_page("document.write('<li><a href=\"/system/2024/03/05/013001002.shtml\">二</a> 03-05</li>');")
    assert listing.drawn_by_script and [e.title for e in listing.entries()] == ["二"]


def test_a_list_built_from_data_still_needs_a_browser():
    listing = inline_page(
        'var items = [{"u": "/system/2024/03/05/013001003.shtml", "t": "三"}];\n'
        "document.getElementById('list').innerHTML = items.map(x => '<li><a href=\"' + x.u + '\">' + x.t + '</a>');"
    )
    assert not listing.drawn_by_script and listing.entries() == [] and listing.needs_browser


def test_a_list_in_the_served_page_is_not_changed_by_what_a_script_writes():
    served = '<li><a href="/system/2024/03/05/013001004.shtml">四</a> 2024-03-05</li>'
    hot = '<li><a href="/system/2024/03/01/013001005.shtml">热</a></li>'
    html = (
        f"<html><body><div id=\"content\"><ul>{served}</ul><script>document.write('<ul>{hot}</ul>');</script>"
        f"{PAGER}</div></body></html>"
    )
    listing = ListingPage.from_bytes(LIST_URL, html.encode(), {"Content-Type": "text/html; charset=utf-8"})
    assert not listing.drawn_by_script and [e.title for e in listing.entries()] == ["四"]


def test_an_empty_list_with_no_script_but_the_pager_is_empty_not_drawn():
    """Nothing on the page could draw a list: a browser would show it as served."""
    html = f'<html><body><div id="content"><ul></ul>{PAGER}</div></body></html>'
    listing = ListingPage.from_bytes(LIST_URL, html.encode(), {"Content-Type": "text/html; charset=utf-8"})
    assert listing.entries() == [] and not listing.needs_browser
    onload = html.replace("<body>", '<body onload="draw()">')
    assert ListingPage.from_bytes(LIST_URL, onload.encode(), {}).needs_browser
    loader = html.replace("<ul></ul>", '<ul></ul><script src="/js/list.js"></script>')
    assert ListingPage.from_bytes(LIST_URL, loader.encode(), {}).needs_browser
