import pytest

from gansunews.regions import divisions, find_in_text, lookup, short_forms


def codes(text):
    return [d.code for d in find_in_text(text)]


def test_table_has_province_prefectures_and_counties():
    levels = [d.level for d in divisions().values()]
    assert (levels.count("province"), levels.count("prefecture"), levels.count("county")) == (1, 14, 86)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("庆阳市", "621000"),
        ("庆阳", "621000"),
        ("临夏回族自治州", "622900"),
        ("临夏州", "622900"),
        ("临夏", "622900"),
        ("甘南", "623000"),
        ("甘南州", "623000"),
        ("积石山", "622927"),
        ("积石山县", "622927"),
        ("张家川", "620525"),
        ("城关", "620102"),
        ("城关区", "620102"),
        ("西峰", "621002"),
        ("合作市", "623001"),
        ("兰州新区", "620100"),
        ("华亭县", "620881"),
        ("东乡", "622926"),
        ("嘉峪关", "620200"),
        ("白银", "620400"),
    ],
)
def test_channel_names_in_every_form(name, code):
    assert lookup(name).code == code


def test_one_character_stems_have_no_short_form():
    assert short_forms("环县") == [] and short_forms("宁县") == []


# Traps: prose that contains a place name's characters but names no place of Gansu.
TRAPS = [
    "当地农民专业合作社带动群众增收",
    "双方签署合作协议",
    "合作市场持续扩大",
    "来自宁夏的客商",
    "西宁的游客",
    "城关镇各村改善人居环境",
    "生态环境持续向好",
    "发展循环县域经济",
    "形成县级示范",
    "建成县城污水厂",
    "白银价格上涨",
    "社会安定团结",
    "生活安宁",
    "清水一杯",
    "民乐演奏会",
    "高台跳水",
    "康乐活动",
    "平川大地",
    "玉门关遗址",
    "景泰蓝工艺",
    "山丹丹花开",
    "中国甘肃网讯",
    "广西和云南",
    "东西固定",
]


@pytest.mark.parametrize("text", TRAPS)
def test_traps_name_no_place(text):
    assert codes(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("西峰区大力推进双拥工作", ["621002"]),
        ("会宁县和宁县联合开展", ["620422", "621026"]),
        ("庆阳市宁县早胜镇", ["621000", "621026"]),
        ("在成县召开现场会", ["621221"]),
        ("甘南州合作市", ["623000", "623001"]),
        ("积石山县地震灾区", ["622927"]),
        ("兰州新区产业园", ["620100"]),
        ("甘肃省委", ["620000"]),
        ("环县、华池县", ["621022", "621023"]),
    ],
)
def test_places_in_prose(text, expected):
    assert codes(text) == expected
