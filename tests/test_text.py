import time
from datetime import datetime

import pytest

from gansunews.text import (
    CHINA_TZ,
    DateError,
    body_lines,
    byline_names,
    date_text,
    is_noise,
    labelled,
    labelled_authors,
    parse_cn_datetime,
    parse_listing_date,
    same_title,
    split_lead,
    squash,
    unlabelled_source,
)

NOW = datetime(2024, 4, 1, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20-08-05 08:44", "2020-08-05T08:44:00+08:00"),
        ("2024-03-06 09:00", "2024-03-06T09:00:00+08:00"),
        ("2024-03-06 09:00:07", "2024-03-06T09:00:07+08:00"),
        ("2024/03/06", "2024-03-06T00:00:00+08:00"),
        ("2024年3月6日 09:05", "2024-03-06T09:05:00+08:00"),
        ("2024年03月06日", "2024-03-06T00:00:00+08:00"),
        ("发布时间：2024-03-06 09:00 来源：天水日报", "2024-03-06T09:00:00+08:00"),
        ("(2024-01-02 16:23)", "2024-01-02T16:23:00+08:00"),
        ("2005-5-7 21:23:57", "2005-05-07T21:23:57+08:00"),
        ("2005年04月05日 06:40", "2005-04-05T06:40:00+08:00"),
        ("2024年3月6日０９：０５", "2024-03-06T09:05:00+08:00"),  # full-width digits and colon
        # an ISO offset is honoured: late in a UTC day is the next day in China
        ("2024-03-06T20:00:00Z", "2024-03-07T04:00:00+08:00"),
        ("2024-03-06T20:00:00.000+0000", "2024-03-07T04:00:00+08:00"),
        ("2024-03-06T09:00:00+08:00", "2024-03-06T09:00:00+08:00"),
    ],
)
def test_chinese_dates(raw, expected):
    assert parse_cn_datetime(raw, NOW).isoformat() == expected


@pytest.mark.parametrize("raw", ["", "来源:陇东报", "1999-12-31 10:00", "2024-04-03 10:00", "2024-02-30 10:00"])
def test_bad_dates_are_errors(raw):
    with pytest.raises(DateError):
        parse_cn_datetime(raw, NOW)


def test_date_text_keeps_only_the_date():
    assert date_text("发布时间：2024-03-06 09:00　来源：天水日报") == "2024-03-06 09:00"


def test_listing_short_dates_take_the_year_from_the_url():
    assert parse_listing_date("03-06", 2024).date().isoformat() == "2024-03-06"
    assert parse_listing_date("03-06", None) is None
    assert parse_listing_date("", 2024) is None


@pytest.mark.parametrize(
    ("line", "source", "editor"),
    [
        ("20-08-05 08:44 来源:陇东报 编辑:程建", "陇东报", "程建"),
        ("20-08-05 08:44 来源：陇东报编辑：程建", "陇东报", "程建"),
        ("来源: 每日甘肃网 责任编辑: 张三", "每日甘肃网", "张三"),
        ("编辑:程建 来源:新甘肃", "新甘肃", "程建"),
    ],
)
def test_labelled_values_never_swallow_each_other(line, source, editor):
    assert labelled(line, "来源") == source
    assert labelled(line, "责任编辑", "编辑") == editor


def test_squash_normalises_nbsp_and_fullwidth_indent():
    assert squash("\u3000\u3000正文\u00a0内容 \n") == "正文 内容"


def test_lead_lines_become_fields():
    lead = split_lead(["原标题:双拥花开董志塬", "通讯员 翟娜娜", "正文第一段。", "正文第二段。"])
    assert lead.original_title == "双拥花开董志塬"
    assert lead.authors == ["翟娜娜"]
    assert lead.paragraphs == ["正文第一段。", "正文第二段。"]


def test_several_roles_and_names():
    assert split_lead(["本网记者 张三 李四 通讯员 王五", "正文。"]).authors == ["张三", "李四", "王五"]


def test_dateline_authors_leave_the_text():
    lead = split_lead(["中国甘肃网8月5日讯(本网记者 赵雪 李明) 今天，全省……"])
    assert lead.authors == ["赵雪", "李明"]
    assert lead.paragraphs == ["中国甘肃网8月5日讯今天，全省……"]


def test_a_body_sentence_about_a_reporter_is_not_an_author_line():
    text = "记者从省统计局获悉，今年一季度全省地区生产总值同比增长百分之六，增速高于全国平均水平。"
    assert split_lead([text]).authors == []


def test_body_lines_cut_at_furniture_and_drop_pager():
    lines = ["第一段。", "上一页 1 2 3 下一页", "第二段。", "版权声明:凡注有……", "精彩推荐", "推荐标题"]
    assert body_lines(lines) == ["第一段。", "第二段。"]


def test_a_byline_closing_the_body_is_an_author_line():
    body = ["正文第一段，内容。", "正文第二段，内容。", "正文第三段，内容。", "正文第四段，内容。", "正文第五段。"]
    lead = split_lead([*body, "（通讯员 王五）", "记者 张三 李四 摄"])
    assert lead.authors == ["王五", "张三", "李四"] and lead.paragraphs == body


def test_a_closing_sentence_that_starts_with_a_role_stays():
    assert byline_names("记者了解到，目前项目已进入收尾阶段。") == []
    assert split_lead(["正文。", "记者了解到，目前项目已进入收尾阶段。"]).authors == []
    assert split_lead(["通讯员 王五"]).paragraphs == []  # a lead line, even alone
    assert byline_names("文/图 赵六") == ["赵六"]


def test_authors_labelled_in_an_info_line():
    assert labelled_authors("2024-03-10 09:30 来源：甘肃日报 作者：张三 李四 编辑：王五") == ["张三", "李四"]
    assert labelled_authors("发布时间：2024-03-10 记者：赵雪、李明 来源：新华社") == ["赵雪", "李明"]
    assert labelled_authors("文/王小明") == ["王小明"]
    assert labelled_authors("原文/链接 来源：网络") == []  # 文/ inside a word is no label
    assert labelled_authors("来源：甘肃日报 编辑：王五") == []
    assert labelled_authors("2024年05月16日 17:02 新京报 作者：新京报 举报 缩小字体 放大字体 收藏") == ["新京报"]


@pytest.mark.parametrize(
    ("line", "source"),
    [
        ("2024年05月10日 00:26 每日经济新闻 举报 缩小字体", "每日经济新闻"),
        ("2024-05-20 14:33 · 新华社 多米尼加现任总统", "新华社"),
        ("法新社2024年5月20日週一 下午2:05", "法新社"),
        ("经济日报 2024-05-13 06:16 发布于 北京", "经济日报"),
        ("本文来源于北京商报 2024-05-20 09:47:48 打印", "北京商报"),
        ("2024-05-13 06:15 发布于：北京市", None),  # a place, not an outlet
        ("私~川流 2017-09-30 21:38:07", None),  # a person: no outlet's ending
        ("阅读 2,331", None),  # no date, no label
    ],
)
def test_an_unlabelled_source_beside_the_date(line, source):
    assert unlabelled_source(line) == source


def test_full_width_digits_are_dates():
    assert date_text("发布时间：２０２４年３月６日 ０９:００") == "2024年3月6日 09:00"
    assert parse_cn_datetime("２０２４-０３-０６").date().isoformat() == "2024-03-06"


def test_a_long_run_of_digits_is_no_pager_and_quick():
    start = time.perf_counter()
    assert not is_noise("1" * 60 + "x")
    assert time.perf_counter() - start < 0.5
    assert is_noise("上一页 1 2 3 下一页") and is_noise("[1] [2] 12下一页")


def test_a_share_bar_above_the_body_does_not_end_it():
    assert body_lines(["分享到：", "正文第一段。", "相关新闻", "别的文章"]) == ["正文第一段。"]


def test_a_page_title_is_the_listing_s_when_it_shares_half_its_character_pairs():
    assert same_title("省委常委会召开会议…", "省委常委会召开会议 传达学习全国两会精神")  # shortened by the listing
    assert same_title("甘肃：2024年春耕生产有序推进", "2024年甘肃春耕生产有序推进")  # reworded a little
    assert not same_title("兰州新区推进重点项目建设（123）", "系统繁忙")
    assert not same_title("兰州新区推进重点项目建设", None)
    assert same_title(None, "系统繁忙") and same_title("兰", "系统繁忙"), "too little to tell"
