"""ArticlePage on saved pages: one test per field and template, plus non-articles and degraded pages."""

from pathlib import Path

import pytest

from gansunews.pages import PageError
from gansunews.pages.article import NOT_ARTICLE_LIVE, NOT_ARTICLE_SOFT_404, ArticlePage
from gansunews.pipelines.clean import clean_article
from tests.fixtures import ROOT, load

URL_A = "https://gansu.gscn.com.cn/system/2020/08/05/012429584.shtml"


def page(name):
    return ArticlePage.from_bytes(*load(name))


@pytest.fixture(scope="module")
def sample():
    return page("article/template_a_sample").article()


# --- template A, the real sample page (gb2312 declared by <meta> only) ---------------------------------------


def test_a_template(sample):
    assert sample.template == "A"


def test_a_id_and_url(sample):
    assert sample.article_id == "012429584"
    assert sample.url == "http://gansu.gscn.com.cn/system/2020/08/05/012429584.shtml"


def test_a_title(sample):
    assert sample.title == "双拥花开董志塬——西峰区大力推进双拥工作纪实"


def test_a_date_raw(sample):
    assert sample.published_at_raw == "20-08-05 08:44"


def test_a_source(sample):
    assert sample.source == "陇东报"


def test_a_editor(sample):
    assert sample.editor == "程建"


def test_a_original_title(sample):
    assert sample.original_title == "双拥花开董志塬——西峰区大力推进双拥工作纪实"


def test_a_authors(sample):
    assert sample.authors == ["翟娜娜"]


def test_a_body_is_exactly_the_paragraphs(sample):
    expected = (ROOT / "article/template_a_sample/expected_paragraphs.txt").read_text(encoding="utf-8").split("\n")
    assert sample.paragraphs == [line for line in expected if line]


@pytest.mark.parametrize(
    "furniture", ["版权声明", "精彩推荐", "关注我们", "即时播报", "分享到", "广告", "原标题", "通讯员"]
)
def test_a_body_has_no_furniture(sample, furniture):
    assert furniture not in "\n".join(sample.paragraphs)
    assert furniture not in sample.content_html


def test_a_html_is_sanitised(sample):
    html = sample.content_html.lower()
    assert "<script" not in html and "onclick" not in html and "<iframe" not in html and "<style" not in html


def test_a_image_absolute_with_caption(sample):
    assert sample.images == [
        {"url": "http://gansu.gscn.com.cn/pic/2020/08/05/shuangyong.jpg", "caption": "图为西峰区军民联欢会现场"}
    ]
    assert "图为西峰区军民联欢会现场" not in sample.paragraphs


def test_a_breadcrumb(sample):
    assert sample.breadcrumb == ["中国甘肃网", "甘肃新闻", "市州播报", "庆阳"]


# --- templates B, C, metadata tags, generic ----------------------------------------------------------------


def test_b_gbk_by_header():
    article = page("article/template_b_gbk").article()
    assert (article.template, article.title, article.source, article.editor) == (
        "B",
        "环县大力实施就业培训工作（186）",
        "新甘肃",
        "赵雪",
    )
    assert article.published_at_raw == "2023-06-01 09:00:00"
    assert article.authors == ["刘洋"] and article.paragraphs[0].startswith("近年来，环县")


def test_c_photo_page_gb2312_by_meta():
    article = page("article/template_c_gb2312").article()
    assert (article.template, article.title, article.source, article.editor) == (
        "C",
        "我省着力提升营商环境工作（66）",
        "每日甘肃网",
        "孙悦",
    )
    assert article.published_at_raw == "2024年03月03日 16:20"
    assert article.images and article.images[0]["caption"] == "图为我省着力提升营商环境现场"


def test_metadata_tags():
    article = page("article/meta_tags").article()
    assert (article.template, article.title, article.source, article.column_name) == (
        "meta",
        "定西市马铃薯产业带动群众增收",
        "定西日报",
        "定西",
    )
    assert article.published_at_raw == "2023-11-02 10:30"
    assert article.authors == ["马丽"] and len(article.paragraphs) == 2


def test_generic_fallback_for_unknown_layout():
    article = page("article/generic_layout").article()
    assert article.template == "generic"
    assert (article.title, article.source, article.editor) == ("我省扎实开展招商引资工作（101）", "天水日报", "杨帆")
    assert article.published_at_raw == "2024-03-06 09:00"
    assert article.authors == ["孙悦"]
    assert article.paragraphs and not any("版权声明" in p or "精彩推荐" in p for p in article.paragraphs)


def test_dateline_authors_and_traps_stay_text():
    article = page("article/dateline_traps").article()
    assert article.authors == ["赵雪", "李明"]
    assert article.paragraphs[0].startswith("中国甘肃网2月20日讯当地农民专业合作社")


# --- multi-page --------------------------------------------------------------------------------------------


def test_first_page_links_to_the_next():
    first = page("article/multipage_1")
    assert first.next_page_url().endswith("013001772_02.shtml")
    assert not any("下一页" in p for p in first.article().paragraphs)


def test_last_page_has_no_next_and_yields_its_part():
    last = page("article/multipage_3")
    assert last.next_page_url() is None
    assert last.continuation().paragraphs


# --- non-articles and degraded pages ----------------------------------------------------------------------


def test_live_stream_refresh_is_not_an_article():
    live = page("article/live_refresh")
    assert live.not_article_reason() == NOT_ARTICLE_LIVE
    with pytest.raises(PageError):
        live.article()


def test_soft_404_is_not_an_article():
    assert page("article/soft_404").not_article_reason() == NOT_ARTICLE_SOFT_404


def test_page_without_a_date_takes_the_urls_day():
    article = page("article/no_date").article()
    assert article.title and article.paragraphs
    assert (article.published_at_raw, article.date_from) == ("/system/2024/03/10/", "url")
    assert clean_article(article).published_at == "2024-03-10T00:00:00+08:00"


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ("发布时间：2020-08-05 08:44 来源:陇东报 编辑:程建", "2020-08-05T08:44:00+08:00"),
        ("来源：陇东报　时间：20-08-05 08:44", "2020-08-05T08:44:00+08:00"),
        ("日期:2020年8月5日 8:44 编辑:程建", "2020-08-05T08:44:00+08:00"),
        ("来源:陇东报 <span>2020/08/05</span>", "2020-08-05T00:00:00+08:00"),
    ],
)
def test_template_a_date_anywhere_in_the_info_line(info, expected):
    html = (
        f'<html><body><div class="artical"><div class="a-header"><h1>标题</h1><div class="info">{info}</div></div>'
        '<div class="a-container"><p>正文第一段。</p></div></div></body></html>'
    )
    article = ArticlePage.from_bytes(URL_A, html.encode(), {}).article()
    assert (clean_article(article).published_at, article.date_from) == (expected, "page")


def test_metadata_date_before_the_urls():
    html = (
        '<html><head><meta name="PubDate" content="2020-08-05 09:10"></head><body><div class="artical">'
        '<div class="a-header"><h1>标题</h1><div class="info">来源:陇东报</div></div>'
        '<div class="a-container"><p>正文第一段。</p></div></div></body></html>'
    )
    article = ArticlePage.from_bytes(URL_A, html.encode(), {}).article()
    assert (article.published_at_raw, article.date_from) == ("2020-08-05 09:10", "meta")


def test_page_without_body_has_no_paragraphs():
    assert page("article/no_body").article().paragraphs == []


def test_truncated_page_yields_title_date_and_partial_body(sample):
    article = page("article/template_a_truncated").article()
    assert article.title == sample.title and article.published_at_raw == sample.published_at_raw
    assert 0 < len(article.paragraphs) < len(sample.paragraphs)


def test_empty_page_is_a_page_error():
    with pytest.raises(PageError):
        page("article/empty")


def test_hostile_markup_never_survives():
    url = "https://gansu.gscn.com.cn/system/2024/03/01/013000002.shtml"
    body = (
        '<html><head><meta charset="utf-8"></head><body>'
        '<div class="artical"><div class="a-header"><h1>标题测试文章</h1>'
        '<div class="info"><span class="m-frt">24-03-01 10:00</span></div></div><div class="a-container">'
        '<p onmouseover="x()">正文<a href="javascript:alert(1)">链接</a></p><style>p{}</style><iframe src="x"></iframe>'
        '<p><img src="/pic/a.jpg" onerror="steal()"></p></div></div></body></html>'
    ).encode()
    article = ArticlePage.from_bytes(url, body, {}).article()
    html = article.content_html.lower()
    assert "onmouseover" not in html and "javascript:" not in html and "onerror" not in html and "iframe" not in html
    assert article.images[0]["url"] == "https://gansu.gscn.com.cn/pic/a.jpg"


def test_fixtures_are_raw_bytes():
    assert all(path.read_bytes() is not None for path in Path(ROOT).rglob("body.html"))


def test_drifted_plain_info_line():
    article = page("article/drift_plain_info").article()
    assert (article.template, article.date_from) == ("A", "page")
    assert article.published_at_raw == "2023-10-24 02:37" and article.source and article.editor


def test_short_continuation_suffix_is_followed():
    article_page = page("article/drift_short_continuation")
    assert article_page.next_page_url().endswith("013001772_2.shtml")


def test_photo_page_byline_after_the_pictures_is_an_author():
    """Template C: captioned pictures first, then the byline (it stayed in the body while captions counted as lead
    lines)."""
    pictures = "".join(
        f'<p style="text-align:center"><img src="https://img.gscn.com.cn/{n}.jpg"></p>'
        f'<p style="text-align:center">图为现场第{n}张照片</p>'
        for n in range(1, 4)
    )
    html = (
        '<html><head><meta charset="utf-8"></head><body><div id="info"><h1>标题</h1>'
        '<span class="source">2024年03月10日 09:30 来源：<a href="#">中国甘肃网</a></span></div>'
        f'<div class="picbox"><div id="pic_mainbox"></div>{pictures}<p>通讯员 王五</p>'
        "<p>3月9日，活动在庆阳举行，群众踊跃参加。</p></div></body></html>"
    )
    raw = ArticlePage.from_bytes(URL_A, html.encode("utf-8"), {"Content-Type": "text/html"}).article()
    assert raw.template == "C" and raw.authors == ["王五"]
    assert raw.paragraphs == ["3月9日，活动在庆阳举行，群众踊跃参加。"]
    assert [image["caption"] for image in raw.images] == [f"图为现场第{n}张照片" for n in range(1, 4)]


def test_generic_page_authors_from_its_info_line():
    """No template fits and the body names nobody: the people labelled under the headline are the authors."""
    html = (
        '<html><head><meta charset="utf-8"><title>全省春耕生产有序推进_新闻中心</title></head><body>'
        '<div class="art"><h1>全省春耕生产有序推进</h1>'
        '<div class="info">2024-03-10 09:30 来源：甘肃日报 作者：张三 李四 编辑：王五</div><div class="txt">'
        + "".join(
            f"<p>春耕生产第{n}段，各地抢抓农时，田间地头一派繁忙景象，农技人员深入一线指导。</p>" for n in range(6)
        )
        + "</div></div></body></html>"
    )
    raw = ArticlePage.from_bytes(URL_A, html.encode("utf-8"), {"Content-Type": "text/html"}).article()
    assert raw.template == "generic" and raw.authors == ["张三", "李四"] and raw.source == "甘肃日报"


def generic_page(info: str, body: str = "", scripts: str = "") -> ArticlePage:
    html = (
        '<html><head><meta charset="utf-8"><title>全省春耕生产有序推进_新闻中心</title>' + scripts + "</head><body>"
        '<div class="share">全省春耕生产有序推进 分享到：微信 微博</div>'  # an earlier copy of the headline
        f'<div class="art"><h1>全省春耕生产有序推进</h1><div class="info">{info}</div><div class="txt">'
        + (
            body
            or "".join(
                f"<p>春耕生产第{n}段，各地抢抓农时，田间地头一派繁忙景象，农技人员深入一线指导。</p>" for n in range(6)
            )
        )
        + "</div></div></body></html>"
    )
    return ArticlePage.from_bytes("https://news.example.cn/a/4711.html", html.encode("utf-8"), {})


def test_generic_info_line_is_the_headline_copy_a_date_follows():
    """A share widget repeats the headline first: the info line is the one under the copy that a date follows."""
    raw = generic_page("2024-03-10 09:30 每日经济新闻 举报").article(require_cms_id=False)
    assert (raw.template, raw.published_at_raw[:10], raw.source) == ("generic", "2024-03-10", "每日经济新闻")


def test_generic_date_never_a_year_alone_nor_a_script_comment():
    """No date beside the headline: a day found elsewhere counts only if the page shows it (htmldate would make
    `© 2017` 2017-01-01, and a script's `@date 2022-02-21` a publish day). A WeChat page's time is its `ct`."""
    assert generic_page("版权所有 © 2017").article(require_cms_id=False).published_at_raw is None
    comment = "<script>/* @date 2022-02-21 */</script>"
    assert generic_page("发表于", scripts=comment).article(require_cms_id=False).published_at_raw is None
    wechat = generic_page("发表于", scripts=comment + '<script>var ct = "1659274471";</script>').article(
        require_cms_id=False
    )
    assert wechat.published_at_raw.startswith("2022-07-31T21:34:31")
