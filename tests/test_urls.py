from datetime import date

import pytest

from gansunews.urls import Pager, article_id, article_url_date, canonical_article_url, channel_key, is_site_url

PAGER = Pager.from_script_src(
    "https://www.gscn.com.cn/news/system/count/0018005/000000000000/count_page_list_0018005000000000000.js"
)


@pytest.mark.parametrize(
    ("number", "tail"),
    [
        (1, "/000/000/c0018005000000000000_000000001.shtml"),
        (99, "/000/000/c0018005000000000000_000000099.shtml"),
        (100, "/000/000/c0018005000000000000_000000100.shtml"),
        (999, "/000/000/c0018005000000000000_000000999.shtml"),
        (1000, "/000/001/c0018005000000000000_000001000.shtml"),
        (1001, "/000/001/c0018005000000000000_000001001.shtml"),
        (2345, "/000/002/c0018005000000000000_000002345.shtml"),
        (1_234_567, "/001/234/c0018005000000000000_001234567.shtml"),
    ],
)
def test_page_url_arithmetic(number, tail):
    assert PAGER.page_url(number) == "https://www.gscn.com.cn/news/system/count//0018005/000000000000" + tail


def test_pager_reads_codes_and_base_from_src():
    assert (PAGER.base, PAGER.channel_code, PAGER.sub_code) == (
        "https://www.gscn.com.cn/news",
        "0018005",
        "000000000000",
    )


def test_pager_rejects_other_scripts():
    assert Pager.from_script_src("https://www.gscn.com.cn/js/jquery.js") is None
    assert (
        Pager.from_script_src("https://x/system/count/0018005/000000000000/count_page_list_0099999000000000000.js")
        is None
    )


def test_page_numbers_start_at_one():
    with pytest.raises(ValueError):
        PAGER.page_url(0)


def test_article_id_and_date():
    url = "http://gansu.gscn.com.cn/system/2020/08/05/012429584_02.shtml?from=list"
    assert article_id(url) == "012429584"
    assert article_url_date(url) == date(2020, 8, 5)
    assert article_id("https://www.gscn.com.cn/culture/system/2019/01/02/012000001.shtml") == "012000001"
    assert article_id("https://gansu.gscn.com.cn/cms_udf/2024/lianghui/index.shtml") is None
    assert article_id("https://www.example.com/system/2020/08/05/012429584.shtml") is None


def test_canonical_url_drops_query_suffix_and_scheme():
    assert (
        canonical_article_url("http://Gansu.gscn.com.cn/system/2020/08/05/012429584_03.shtml?from=timeline#top")
        == "https://gansu.gscn.com.cn/system/2020/08/05/012429584.shtml"
    )


def test_channel_key_ignores_live_page_name():
    keys = {
        channel_key(u)
        for u in (
            "https://gansu.gscn.com.cn/gsyw/",
            "https://gansu.gscn.com.cn/gsyw/index.shtml",
            "http://gansu.gscn.com.cn/gsyw/index.html",
            "https://gansu.gscn.com.cn/gsyw",
        )
    }
    assert keys == {"gansu.gscn.com.cn/gsyw/"}


def test_site_urls():
    assert is_site_url("https://finance.gscn.com.cn/x")
    assert not is_site_url("http://live.xinhuaapp.com/x")
    assert not is_site_url("https://gscn.com.cn.evil.example/x")
