"""A generated replica of 中国甘肃网 (gscn.com.cn), following ../shared/SITE.md, awkward parts included.

Map of the site it serves (slugs and channel codes are drawn from the seed, so only discovery finds them):

  www.gscn.com.cn/                 portal home: nav to 甘肃新闻 (gansu host), 财经 (finance host, out of scope),
                                   a quick link to one city channel, an off-site link
  gansu.gscn.com.cn/               甘肃新闻 home: nav to 要闻, 时政, 社会, 图片 and 市州播报 (linked as `/slug/`,
                                   `/slug/index.shtml` or `/slug/index.html`)
  图片                              a listing whose items a script draws from HTML in its own text
  …/<slug>/index.shtml             channel live page: breadcrumb, sub-channel nav, `#content ul li` entries,
                                   `<script src="{base}/system/count/{CH7}/{SUB12}/count_page_list_….js">`
  {base}/system/count//CH/SUB/000/001/cCHSUB_000001003.shtml   archive pages, oldest = page 1
  市州播报 → 14 city channels (link texts in full, short and 州 forms; some on www under `/news/`, GBK pages)
  庆阳 → 西峰区, 环县 · 兰州 → 城关, 兰州新区 · 临夏州 → 积石山 · 甘南 → 合作市   (county channels)
  社会: 2,000+ entries, maxpage > 1,000, so its newest pages cross the 001/000 folder boundary
  articles: templates A (utf-8), B (GBK by header), C (gb2312 by <meta> only), generic (unknown layout),
            a 3-page article (`_02`, `_03`), reposts, cross-listed articles, `?from=` tracking links
  non-articles in listings: meta refresh to live.xinhuaapp.com, a 302 to it, a soft 404 (status 200),
            a dead link (404), a `cms_udf` topic, an off-site link
  degraded: a channel whose pager script says `maxpage = abc`, one whose pager script is missing (404),
            an article with no body (dropped, not emitted), an empty 200 response, an article whose page
            shows no date (its URL's day)

Variations (`Site(variations={…})`, SITE.md's "where the real portal may differ"; `ALL_VARIATIONS` at once):
  title_site_first   home and channel <title>s in site-channel order with other separators (中国甘肃网-甘肃新闻)
  list_class         lists in a `div.newslist` table (no `#content`), an ad row, a 热点排行 sidebar of other articles
  pager_relative     the count-JS script referenced relative (`../system/count/…js?v=…`), `maxpage` quoted
  city_suffix        city channels named 天水新闻, 庆阳频道, 平凉播报, 陇东·庆阳 … in links and breadcrumbs
  crumb_root         breadcrumbs `当前位置：首页 > 甘肃新闻 > …`
  no_listing_crumbs  listing pages without a breadcrumb
  bracket_dates      list dates in `[ ]`, `【 】`, `( )`, some lists without dates
  plain_info         template A's info line as plain text (`发布时间：2024-03-05 08:44　来源：…`), no span
  short_continuation continuation pages `_2`, `_3` instead of `_02`, `_03`
  reversed_numbering archive page 1 is the newest, page `maxpage` the oldest
  list_from_data     图片's script draws its list from a data array (no whole link in its text): only a browser
                     can read it (without this, the script writes HTML held in its own text)
Broken replicas, for the survey and the verdict: `no_pager` (no count-JS script anywhere: only live pages are
reachable), `no_list` (list entries link to `show.jsp?id=…`, not to article URLs: nothing is reachable),
`repeating_pages` (every archive page number serves the live page: only live pages are reachable) and `robots_system`
(robots.txt forbids `/system/`: the archive pages and the articles of every host but www).

`Site.expected_ids(since)` is the exact set of article ids a complete crawl must emit; `Site.wrong_fields(items)`
checks every field. `ReplicaServer` (server.py) adds slow pages, injected faults and pages that never recover.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

TODAY = datetime(2024, 3, 31, 18, 0)
ALL_VARIATIONS = frozenset(
    {
        "title_site_first",
        "list_class",
        "pager_relative",
        "city_suffix",
        "crumb_root",
        "no_listing_crumbs",
        "bracket_dates",
        "plain_info",
        "short_continuation",
        "reversed_numbering",
        "list_from_data",
    }
)
BROKEN_VARIATIONS = frozenset({"no_pager", "no_list", "repeating_pages", "robots_system"})
_CITY_SUFFIXES = ("{}新闻", "{}频道", "{}播报", "陇东·{}", "{}市")
HOME_WWW = "www.gscn.com.cn"
HOME_GANSU = "gansu.gscn.com.cn"
LIVE_URL = "http://live.xinhuaapp.com/xcy/reportlist.html?liveId=123"

_WORDS = (
    "乡村振兴",
    "产业发展",
    "基础设施",
    "群众增收",
    "项目建设",
    "生态保护",
    "文化旅游",
    "特色种植",
    "民生实事",
    "营商环境",
    "招商引资",
    "数字经济",
    "就业培训",
    "医疗保障",
    "教育均衡",
    "交通网络",
    "水利工程",
    "光伏发电",
    "肉牛养殖",
    "苹果产业",
    "中药材",
    "电商平台",
    "人居环境",
    "基层治理",
    "安全生产",
    "科技创新",
    "金融服务",
    "冬春农闲",
    "劳务输转",
    "文明实践",
    "志愿服务",
    "非遗传承",
    "黄河流域",
    "防汛抗旱",
    "高标准农田",
    "设施农业",
)
_VERBS = ("持续推进", "不断完善", "扎实开展", "全面落实", "积极探索", "大力实施", "有序推动", "着力提升", "统筹推进")
_NAMES = ("张明", "李华", "王芳", "赵雪", "刘洋", "陈静", "杨帆", "马丽", "周强", "吴琼", "郑伟", "孙悦", "翟娜娜")
_SOURCES = ("甘肃日报", "陇东报", "兰州晚报", "每日甘肃网", "中国甘肃网", "天水日报", "新甘肃")
_TRAP_SENTENCES = (
    "当地农民专业合作社带动周边群众增收。",
    "来自宁夏和西宁的客商前来洽谈合作。",
    "城关镇各村持续改善人居环境。",
    "发展循环县域经济，形成县级示范。",
)


@dataclass
class Story:
    """One listed thing: an article, or a non-article that sits in listings like one."""

    cms_id: int
    host: str
    directory: str
    published: datetime
    title: str
    kind: str = "article"  # article | live_refresh | live_302 | soft_404 | dead | no_body | empty
    date_shown: bool = True  # False: the page shows no date, only its URL has one
    template: str = "A"
    encoding: str = "utf-8"
    source: str = "中国甘肃网"
    editor: str = "程建"
    authors: list[str] = field(default_factory=list)
    original_title: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    pages: int = 1
    breadcrumb: list[str] = field(default_factory=list)
    image: str | None = None

    @property
    def path(self) -> str:
        return f"/{self.directory}system/{self.published:%Y/%m/%d}/{self.cms_id:09d}.shtml"

    @property
    def url(self) -> str:
        return f"https://{self.host}{self.path}"

    @property
    def article_id(self) -> str:
        return f"{self.cms_id:09d}"


@dataclass
class ChannelSpec:
    name: str
    link_text: str
    host: str
    prefix: str  # path prefix of the whole channel, '' or 'news/'
    slug: str
    code: str
    sub: str
    region: str
    crumbs: list[str]
    page_size: int = 5
    stories: list[Story] = field(default_factory=list)  # oldest first
    children: list[ChannelSpec] = field(default_factory=list)
    date_format: str = "%Y-%m-%d"
    encoding: str = "utf-8"
    pager: str = "ok"  # ok | garbage | missing
    drawn_by_js: bool = False  # the list items exist only after the page's script runs
    link_form: str = "index.shtml"
    extra_pages: int = 0  # old padding pages below the stories (the deep channel)
    reversed: bool = False  # archive page 1 is the newest
    place: str = ""  # the place its stories are about, when its name is not one (天水新闻 → 天水)

    @property
    def folder(self) -> str:
        return f"/{self.prefix}{self.slug}/"

    @property
    def live_url(self) -> str:
        return f"https://{self.host}{self.folder}{self.link_form}"

    @property
    def base_path(self) -> str:
        return f"/{self.prefix}".rstrip("/")

    @property
    def script_path(self) -> str:
        return f"{self.base_path}/system/count/{self.code}/{self.sub}/count_page_list_{self.code}{self.sub}.js"

    def page_path(self, number: int) -> str:
        return (
            f"{self.base_path}/system/count//{self.code}/{self.sub}/{number // 1_000_000:03d}/"
            f"{number // 1000 % 1000:03d}/c{self.code}{self.sub}_{number:09d}.shtml"
        )

    @property
    def maxpage(self) -> int:
        return self.extra_pages + math.ceil(len(self.stories) / self.page_size)

    def page_stories(self, number: int) -> list[Story]:
        """Archive page N (1 = oldest, or newest when reversed), newest first on the page; padding pages hold
        only old stories."""
        if self.reversed:
            number = self.maxpage + 1 - number
        index = number - 1 - self.extra_pages
        if index < 0:
            return []
        return list(reversed(self.stories[index * self.page_size : (index + 1) * self.page_size]))


class Site:
    """The whole replica, generated deterministically from a seed."""

    def __init__(
        self, seed: int = 7, since: date = date(2024, 1, 1), scale: int = 1, variations: frozenset[str] = frozenset()
    ) -> None:
        """`scale` multiplies the ordinary channels' stories (benchmarks: scale 80 ≈ 20,000 articles)."""
        unknown = set(variations) - ALL_VARIATIONS - BROKEN_VARIATIONS
        if unknown:
            raise ValueError(f"unknown replica variations: {sorted(unknown)}")
        self.variations = frozenset(variations)
        self.rng = random.Random(seed)
        self.scale = scale
        self.since = since
        self.stories: dict[str, Story] = {}  # by path
        self.channels: list[ChannelSpec] = []
        self._next_id = 13_000_000
        self._build()

    # ---------------------------------------------------------------------------------------- build

    def _slug(self, stem: str) -> str:
        return f"{stem}{self.rng.randint(1, 99)}{self.rng.choice('abcdefghjkmnpqrstuvwxyz')}"

    def _code(self, digits: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(digits))

    def _channel(self, name: str, link_text: str, region: str, crumbs: list[str], **options) -> ChannelSpec:
        host = options.pop("host", HOME_GANSU)
        spec = ChannelSpec(
            name=name,
            link_text=link_text,
            host=host,
            prefix=options.pop("prefix", ""),
            slug=self._slug(options.pop("stem", "ch")),
            code="00" + self._code(5),
            sub=self._code(12),
            region=region,
            crumbs=crumbs,
            **options,
        )
        self.channels.append(spec)
        return spec

    def _build(self) -> None:
        news = ["中国甘肃网", "甘肃新闻"]
        forms = ["index.shtml", "", "index.html"]
        self.yaowen = self._channel("要闻", "要闻", "620000", [*news, "要闻"], stem="gsyw", date_format="%Y/%m/%d")
        self.shizheng = self._channel("时政", "时政", "620000", [*news, "时政"], stem="sz", link_form="")
        self.shehui = self._channel(
            "社会",
            "社会",
            "620000",
            [*news, "社会"],
            stem="sh",
            page_size=2,
            extra_pages=990,
            date_format="(%Y-%m-%d %H:%M)",
        )
        self.tupian = self._channel("图片", "图片", "620000", [*news, "图片"], stem="tp", drawn_by_js=True)
        self.shizhou = self._channel(
            "市州播报", "市州播报", "620000", [*news, "市州播报"], stem="szbb", link_form="index.html"
        )
        cities = [
            ("兰州", "兰州", "620100"),
            ("嘉峪关", "嘉峪关市", "620200"),
            ("金昌", "金昌", "620300"),
            ("白银", "白银市", "620400"),
            ("天水", "天水", "620500"),
            ("武威", "武威", "620600"),
            ("张掖", "张掖", "620700"),
            ("平凉", "平凉市", "620800"),
            ("酒泉", "酒泉", "620900"),
            ("庆阳", "庆阳", "621000"),
            ("定西", "定西", "621100"),
            ("陇南", "陇南市", "621200"),
            ("临夏", "临夏州", "622900"),
            ("甘南", "甘南藏族自治州", "623000"),
        ]
        by_code = {}
        for position, (name, text, code) in enumerate(cities):
            on_www = position % 4 == 1
            place = name
            if "city_suffix" in self.variations:  # the channel calls itself so too (breadcrumbs, titles)
                name = text = _CITY_SUFFIXES[position % len(_CITY_SUFFIXES)].format(name)
            city = self._channel(
                name,
                text,
                code,
                [*news, "市州播报", name],
                place=place,
                stem="sz",
                host=HOME_WWW if on_www else HOME_GANSU,
                prefix="news/" if on_www else "",
                link_form=forms[position % 3],
                date_format=("%Y-%m-%d", "%m-%d", "%Y/%m/%d")[position % 3],
                encoding="gbk" if position % 5 == 2 else "utf-8",
            )
            self.shizhou.children.append(city)
            by_code[code] = city
        counties = [
            ("621000", "西峰区", "西峰区", "621002", {}),
            ("621000", "环县", "环县", "621022", {"pager": "garbage"}),
            ("620100", "城关", "城关", "620102", {}),
            ("620100", "兰州新区", "兰州新区", "620100", {"pager": "missing"}),
            ("622900", "积石山", "积石山", "622927", {}),
            ("623000", "合作市", "合作市", "623001", {}),
        ]
        for parent_code, name, text, code, options in counties:
            parent = by_code[parent_code]
            county = self._channel(name, text, code, [*parent.crumbs, name], stem="xq", **options)
            parent.children.append(county)
        if "no_pager" in self.variations:
            for channel in self.channels:
                channel.pager = "none"
        for channel in self.channels:
            channel.reversed = "reversed_numbering" in self.variations
        self.finance = self._channel(
            "理财", "财经", "620000", ["中国甘肃网", "财经", "理财"], stem="sljj", host="finance.gscn.com.cn"
        )
        self._fill()

    def _story(self, channel: ChannelSpec, when: datetime, **fields) -> Story:
        self._next_id += self.rng.randint(3, 40)
        place = _place_word(channel)
        story = Story(
            cms_id=self._next_id,
            host=channel.host,
            directory=channel.prefix,
            published=when.replace(second=0, microsecond=0),
            title=fields.pop(
                "title", f"{place}{self.rng.choice(_VERBS)}{self.rng.choice(_WORDS)}工作（{self._next_id % 1000}）"
            ),
            breadcrumb=channel.crumbs,
            source=self.rng.choice(_SOURCES),
            editor=self.rng.choice(_NAMES),
            template=fields.pop("template", self.rng.choice("AAAB")),
            paragraphs=fields.pop("paragraphs", None) or self._paragraphs(place),
            authors=fields.pop("authors", [self.rng.choice(_NAMES)]),
            **fields,
        )
        if story.template == "B":
            story.encoding = "gbk"
        self.stories[story.path] = story
        channel.stories.append(story)
        return story

    def _paragraphs(self, place: str) -> list[str]:
        count = self.rng.randint(3, 6)
        lines = []
        for index in range(count):
            words = [
                self.rng.choice(_WORDS) + self.rng.choice(_VERBS) + self.rng.choice(_WORDS)
                for _ in range(self.rng.randint(3, 6))
            ]
            number = self.rng.randint(2, 9999)
            lead = f"近年来，{place}" if index == 0 else ""
            lines.append(f"{lead}{'，'.join(words)}，累计完成{number}项任务。")
        return lines

    def _fill(self) -> None:
        start = datetime(2023, 10, 1, 8, 0)
        span = (TODAY - start).total_seconds()
        for channel in self.channels:
            if channel is self.shehui:
                continue
            count = {"环县": 4, "兰州新区": 3}.get(channel.name, self.rng.randint(7, 16) * self.scale)
            times = sorted(start + timedelta(seconds=self.rng.uniform(0, span)) for _ in range(count))
            if channel.pager != "ok":  # only the live page is reachable: keep the old ones old
                times = [datetime(2023, 6, 1, 9) + timedelta(days=i) for i in range(count - 3)] + times[-3:]
            for when in times:
                self._story(channel, when)
        # the deep channel: 2,000+ stories, two a page, the last dozen after `since`
        deep_start = datetime(2023, 12, 26, 7, 30)
        for i in range(22):
            self._story(self.shehui, deep_start + timedelta(hours=14 * i))
        self._specials()
        self._renumber()

    def _renumber(self) -> None:
        """CMS ids rise with publication time across the whole site (SITE.md)."""
        ordered = sorted(self.stories.values(), key=lambda s: s.published)
        for position, story in enumerate(ordered):
            story.cms_id = 13_000_000 + 7 * position + (position % 3)
        self.stories = {story.path: story for story in ordered}
        for channel in self.channels:
            channel.stories.sort(key=lambda s: s.published)

    def _specials(self) -> None:
        """The awkward parts: templates, encodings, multi-page, non-articles, cross-listing, reposts, traps."""
        qingyang = self.city("621000")
        xifeng = next(c for c in self.channels if c.name == "西峰区")
        lanzhou = self.city("620100")
        when = datetime(2024, 2, 5, 8, 44)
        sample = self._story(
            xifeng,
            when,
            title="双拥花开董志塬——西峰区大力推进双拥工作纪实",
            template="A",
            original_title="双拥花开董志塬——西峰区大力推进双拥工作纪实",
            authors=["翟娜娜"],
            image="/pic/2024/02/05/qy_shuangyong.jpg",
        )
        sample.source, sample.editor = "陇东报", "程建"
        # cross-listed: county, city and 要闻
        qingyang.stories.append(sample)
        self.yaowen.stories.append(sample)
        self.cross_listed = sample
        # a 3-page article in template A, and a template C photo page in gb2312 (declared by <meta> only)
        self.multi_page = self._story(
            lanzhou,
            datetime(2024, 3, 2, 10, 5),
            template="A",
            pages=3,
            paragraphs=self._paragraphs("兰州市") * 1 + self._paragraphs("七里河区"),
        )
        photo = self._story(
            self.shizheng, datetime(2024, 3, 3, 16, 20), template="C", image="/pic/2024/03/03/photo1.jpg"
        )
        photo.encoding = "gb2312"
        self._story(self.yaowen, datetime(2024, 3, 6, 9, 0), template="generic")
        # dateline authors and traps in the lead
        dateline = self._story(self.yaowen, datetime(2024, 2, 20, 11, 30), template="A", authors=[])
        dateline.paragraphs = [
            "中国甘肃网2月20日讯(本网记者 赵雪 李明) " + _TRAP_SENTENCES[0] + _TRAP_SENTENCES[1],
            _TRAP_SENTENCES[2] + _TRAP_SENTENCES[3],
            *dateline.paragraphs,
        ]
        dateline.authors = ["赵雪", "李明"]
        self.dateline = dateline
        # reposts: an exact copy (re-spaced) and a near copy, later, under other titles and channels
        original = self._story(self.yaowen, datetime(2024, 1, 15, 9, 0), template="A")
        exact = self._story(
            self.shehui,
            datetime(2024, 1, 20, 9, 0),
            template="B",
            title="（转载）" + original.title + "引关注",
            paragraphs=list(original.paragraphs),
        )
        near = self._story(
            qingyang,
            datetime(2024, 1, 25, 15, 0),
            template="A",
            title="各地热议：" + original.title,
            paragraphs=[*original.paragraphs[:-1], original.paragraphs[-1][:-1] + "，成效明显。"],
        )
        self.reposts = (original, exact, near)
        # non-articles that sit in listings like articles, and articles that cannot be built
        for kind, channel in (
            ("live_refresh", self.yaowen),
            ("live_302", self.shizheng),
            ("soft_404", qingyang),
            ("dead", lanzhou),
            ("no_body", self.shizheng),
            ("empty", self.shehui),
        ):
            self._story(channel, datetime(2024, 3, 10, 12, 0), kind=kind, template="A")
        # an article whose page shows no date: its URL's day, at midnight
        self.undated = self._story(self.yaowen, datetime(2024, 3, 10, 0, 0), template="A", date_shown=False)
        # articles outside the 甘肃新闻 tree are never expected
        self._story(self.finance, datetime(2024, 3, 9, 9, 0))

    # ------------------------------------------------------------------------------------ answers

    def city(self, code: str) -> ChannelSpec:
        """The 市州播报 channel of a prefecture, whatever it is called."""
        return next(c for c in self.shizhou.children if c.region == code)

    def channel_of(self, story: Story) -> list[ChannelSpec]:
        return [c for c in self.channels if story in c.stories]

    def expected_ids(self, since: date | None = None) -> set[str]:
        """Articles a complete crawl must emit: listed in a 甘肃新闻 channel, buildable, not older than since."""
        since = since or self.since
        found: set[str] = set()
        if "no_list" in self.variations:  # listings name no article URL: nothing can be found
            return found
        for channel in self.channels:
            if channel is self.finance:
                continue
            for story in self.reachable(channel):
                if story.kind == "article" and story.published.date() >= since:
                    found.add(story.article_id)
        return found

    def expected_fields(self, story: Story) -> dict[str, object]:
        """The data-contract fields a correct crawl reports for a story."""
        return {
            "url": story.url,
            "title": story.title,
            "source": story.source,
            "editor": story.editor,
            "authors": story.authors,
            "original_title": story.original_title,
            "page_count": story.pages,
            "published_at": (
                story.published if story.date_shown else datetime(*story.published.timetuple()[:3])
            ).isoformat()
            + "+08:00",
            "breadcrumb": story.breadcrumb,
            "content_text": "\n".join(re.sub(r"[(（]本网记者[^)）]*[)）]\s*", "", p) for p in story.paragraphs),
        }

    def wrong_fields(self, items: list[dict]) -> list[tuple[str, str]]:
        """(article_id, field) for every field of every item that differs from the site."""
        stories = {story.article_id: story for story in self.stories.values()}
        return [
            (item["article_id"], key)
            for item in items
            for key, value in self.expected_fields(stories[item["article_id"]]).items()
            if item[key] != value
        ]

    def reachable(self, channel: ChannelSpec) -> list[Story]:
        if "repeating_pages" in self.variations:
            return channel.stories[-channel.page_size :]
        return channel.stories if channel.pager == "ok" else channel.stories[-channel.page_size :]

    def republish(self, story: Story, when: datetime) -> None:
        """Move a story to another publish time (its URL changes with the date path), as a later post would."""
        del self.stories[story.path]
        story.published = when
        self.stories[story.path] = story
        for channel in self.channel_of(story):
            channel.stories.sort(key=lambda s: s.published)

    def publish(self, channel: ChannelSpec, when: datetime) -> Story:
        """A story published after the site was built: its CMS id above every other, as the CMS numbers them."""
        self._next_id = max(story.cms_id for story in self.stories.values())
        return self._story(channel, when)

    def story_at(self, path: str) -> Story | None:
        return self.stories.get(path)


def _place_word(channel: ChannelSpec) -> str:
    if channel.region == "620000":
        return "我省"
    return {"兰州新区": "兰州新区", "积石山": "积石山县", "城关": "城关区"}.get(
        channel.name, channel.place or channel.name
    )
