"""Renders the replica's pages as the Enorth CMS would: bytes, status and headers for any URL of the site."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from tests.replica.site import HOME_GANSU, HOME_WWW, LIVE_URL, ChannelSpec, Site, Story

TOPIC_URL = f"https://{HOME_GANSU}/cms_udf/2024/lianghui/index.shtml"
OFFSITE_URL = "http://www.xinhuanet.com/politics/2024-03/10/c_1130000.htm"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def _html(text: str, encoding: str = "utf-8", header_charset: bool = True, status: int = 200) -> Reply:
    content_type = f"text/html; charset={encoding}" if header_charset else "text/html"
    return Reply(status, {"Content-Type": content_type}, text.encode(encoding))


class Renderer:
    """Maps every URL of the replica to a reply; unknown URLs get a real 404."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.hidden: set[str] = set()  # article ids left out of every listing (not published yet)
        self.routes: dict[tuple[str, str], object] = {}
        for channel in site.channels:
            for name in ("", "index.shtml", "index.html"):
                self.routes[(channel.host, channel.folder + name)] = ("live", channel)
            self.routes[(channel.host, channel.script_path)] = ("script", channel)
        self.routes[(HOME_WWW, "/")] = self.routes[(HOME_WWW, "/index.shtml")] = ("home_www", None)
        self.routes[(HOME_GANSU, "/")] = self.routes[(HOME_GANSU, "/index.shtml")] = ("home_gansu", None)
        self.routes[(HOME_GANSU, urlsplit(TOPIC_URL).path)] = ("topic", None)

    def reply(self, url: str) -> Reply:
        parts = urlsplit(url)
        host, path = (parts.hostname or "").lower(), parts.path or "/"
        if path == "/robots.txt":
            disallowed = b"/system/" if "robots_system" in self.site.variations else b"/private/"
            return Reply(200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: " + disallowed + b"\n")
        route = self.routes.get((host, path))
        if route:
            kind, channel = route
            return getattr(self, f"_{kind}")(channel)
        archive = self._archive_route(host, path)
        if archive:
            return archive
        story, page = self._story_route(host, path)
        if story:
            return self._story(story, page)
        return _html("<html><head><title>404 Not Found</title></head><body>404</body></html>", status=404)

    # ------------------------------------------------------------------------------- navigation

    def _nav(self) -> str:
        site = self.site
        links = [(f"https://{HOME_WWW}/", "首页"), (f"http://{HOME_GANSU}/", "甘肃新闻")]
        links += [
            (c.live_url, c.link_text) for c in (site.yaowen, site.shizheng, site.shehui, site.tupian, site.shizhou)
        ]
        links += [(site.finance.live_url, "财经"), (f"https://{HOME_GANSU}/about/contact.shtml", "联系我们")]
        return '<div class="nav">' + " | ".join(f'<a href="{u}">{escape(t)}</a>' for u, t in links) + "</div>"

    def _crumbs(self, names: list[str]) -> str:
        if "crumb_root" in self.site.variations:
            parts = [f'<a href="https://{HOME_WWW}/">首页</a>'] + [f'<a href="#">{escape(n)}</a>' for n in names[1:]]
            return '<div class="location">当前位置：' + " > ".join(parts) + "</div>"
        parts = [f'<a href="https://{HOME_WWW}/">中国甘肃网</a>']
        parts += [f'<a href="#">{escape(name)}</a>' for name in names[1:]]
        return '<div class="crumb">您当前的位置 : ' + " &gt;&gt; ".join(parts) + "</div>"

    def _title(self, name: str) -> str:
        return f"中国甘肃网-{name}" if "title_site_first" in self.site.variations else f"{name}_中国甘肃网"

    def _home_www(self, _: None) -> Reply:
        qingyang = self.site.city("621000")
        body = (
            f'<div class="top"><a href="http://{HOME_GANSU}/">甘肃新闻</a> <a href="{self.site.finance.live_url}">'
            f'财经</a> <a href="https://theory.gscn.com.cn/">理论</a> <a href="{OFFSITE_URL}">新华网</a></div>'
            f'<div class="quick"><a href="{qingyang.folder}index.shtml?from=home">庆阳</a></div>'
            if qingyang.host == HOME_WWW
            else f'<div class="top"><a href="http://{HOME_GANSU}/">甘肃新闻</a> <a href="{self.site.finance.live_url}">'
            f'财经</a> <a href="{OFFSITE_URL}">新华网</a></div>'
            f'<div class="quick"><a href="{qingyang.live_url}?from=home">庆阳</a></div>'
        )
        return _html(f"<html><head><title>中国甘肃网</title></head><body>{body}</body></html>")

    def _home_gansu(self, _: None) -> Reply:
        return _html(
            f"<html><head><title>{self._title('甘肃新闻')}</title></head><body>{self._nav()}"
            f'<div class="focus"><a href="{TOPIC_URL}">两会专题</a></div></body></html>'
        )

    def _topic(self, _: None) -> Reply:
        return _html("<html><head><title>两会专题</title></head><body><h1>专题</h1></body></html>")

    # ---------------------------------------------------------------------------------- listings

    def _rows(self, channel: ChannelSpec, stories: list[Story], extras: bool) -> list[tuple[str, str, str]]:
        """(href, title as HTML, date as shown) of each list entry, in order."""
        variations = self.site.variations
        dates = _DATE_WRAPPERS[self.site.channels.index(channel) % 4] if "bracket_dates" in variations else "{}"
        rows = []
        for position, story in enumerate(s for s in stories if s.article_id not in self.hidden):
            if "no_list" in variations:
                href = f"/show.jsp?id={story.article_id}"  # the article's URL is nowhere in the list
            elif story.host == channel.host and position % 3 == 0:
                href = story.path  # root-relative
            elif position % 3 == 1:
                href = story.url.replace("https://", "http://") + "?from=list"
            else:
                href = story.url
            date_text = dates.format(story.published.strftime(channel.date_format)) if dates else ""
            rows.append((href, escape(story.title), date_text))
        if extras and channel is self.site.yaowen:
            rows[0:0] = [(TOPIC_URL, "两会专题", "2024-03-10"), (OFFSITE_URL, "新华网消息", "2024-03-10")]
        return rows

    def _entries(self, channel: ChannelSpec, stories: list[Story], extras: bool) -> str:
        table = "list_class" in self.site.variations
        shape = "<tr><td>{}</td><td>{}</td></tr>" if table else "<li>{}<span>{}</span></li>"
        items = [
            shape.format(f'<a href="{href}" target="_blank">{title}</a>', date_text)
            for href, title, date_text in self._rows(channel, stories, extras)
        ]
        if table:  # an ad row among the entries
            items.insert(len(items) // 2, shape.format('<a href="http://ad.example.org/x"><img src="/ad.gif"></a>', ""))
            return "<table>" + "".join(items) + "</table>"
        return "<ul>" + "".join(items) + "</ul>"

    def _drawn_list(self, channel: ChannelSpec, stories: list[Story], extras: bool) -> str:
        """A list the page's script draws: from HTML in its text, or (`list_from_data`) from a data array that
        only running the script turns into links."""
        if "list_from_data" not in self.site.variations:
            items = json.dumps(self._entries(channel, stories, extras), ensure_ascii=False)
            return f'<div id="list"></div><script>document.getElementById("list").innerHTML = {items};</script>'
        data = json.dumps(
            [
                {"u": href, "t": title, "d": date_text}
                for href, title, date_text in self._rows(channel, stories, extras)
            ],
            ensure_ascii=False,
        )
        table = "list_class" in self.site.variations
        row = (
            "'<tr><td><a href=\"' + x.u + '\">' + x.t + '</a></td><td>' + x.d + '</td></tr>'"
            if table
            else "'<li><a href=\"' + x.u + '\">' + x.t + '</a><span>' + x.d + '</span></li>'"
        )
        wrapper = ("<table>", "</table>") if table else ("<ul>", "</ul>")
        return (
            f'<div id="list"></div><script>var items = {data};\n'
            f"document.getElementById('list').innerHTML = '{wrapper[0]}' + items.map(function (x) {{ return {row}; }})"
            f".join('') + '{wrapper[1]}';</script>"
        )

    def _script_tag(self, channel: ChannelSpec) -> str:
        if "no_pager" in self.site.variations:
            return ""
        src = channel.script_path
        if "pager_relative" in self.site.variations:  # relative to the channel's folder, with a cache buster
            src = "../" + src.removeprefix(channel.base_path + "/") + "?v=20240331"
        return f'<script type="text/javascript" src="{src}"></script>'

    def _sidebar(self, channel: ChannelSpec) -> str:
        """热点排行: other channels' articles, which are not this channel's entries."""
        others = [s for s in reversed(self.site.yaowen.stories) if s.kind == "article"][:3]
        if "list_class" not in self.site.variations or channel is self.site.yaowen:
            return ""
        links = "".join(f'<li><a href="{s.url}">{escape(s.title)}</a></li>' for s in others)
        return f'<div class="hot"><h3>热点排行</h3><ul>{links}</ul></div>'

    def _listing(self, channel: ChannelSpec, stories: list[Story], extras: bool) -> Reply:
        subnav = "".join(f'<a href="{c.live_url}">{escape(c.link_text)}</a> ' for c in channel.children)
        script = self._script_tag(channel)
        meta = (
            f'<meta http-equiv="Content-Type" content="text/html; charset={channel.encoding}">'
            if channel.encoding != "utf-8"
            else '<meta charset="utf-8">'
        )
        if channel.drawn_by_js:  # the items exist only once the page's script has run
            entries = self._drawn_list(channel, stories, extras)
        else:
            entries = self._entries(channel, stories, extras)
        container = (
            f'<div class="newslist">{entries}{script}</div>'
            if "list_class" in self.site.variations
            else f'<div class="list" id="content">{entries}{script}</div>'
        )
        crumbs = "" if "no_listing_crumbs" in self.site.variations else self._crumbs(channel.crumbs)
        page = (
            f"<html><head>{meta}<title>{escape(self._title(channel.name))}</title></head><body>{self._nav()}"
            f'{crumbs}<div class="subnav">{subnav}</div>{self._sidebar(channel)}{container}'
            f'<div class="pages" id="pages"></div><!--enorth cms block end--></body></html>'
        )
        return _html(page, channel.encoding, header_charset=channel.encoding == "utf-8")

    def _live(self, channel: ChannelSpec) -> Reply:
        stories = list(reversed(self.site.reachable(channel)))[: channel.page_size]
        return self._listing(channel, stories, extras=True)

    def _script(self, channel: ChannelSpec) -> Reply:
        if channel.pager in ("missing", "none"):
            return _html("<html><head><title>404</title></head></html>", status=404)
        maxpage = "abc" if channel.pager == "garbage" else str(channel.maxpage)
        if "pager_relative" in self.site.variations:
            maxpage = f'"{maxpage}"'  # quoted
        text = (
            f"var maxpage = {maxpage};\nvar pagename = 'c{channel.code}{channel.sub}';\n"
            "document.write(createPageHTML(maxpage));\n"
        )
        return Reply(200, {"Content-Type": "application/javascript"}, text.encode())

    def _archive_route(self, host: str, path: str) -> Reply | None:
        for channel in self.site.channels:
            if channel.host == host and path.startswith(f"{channel.base_path}/system/count//{channel.code}/"):
                number = int(path.rsplit("_", 1)[-1].split(".")[0])
                if channel.pager != "ok" or not 1 <= number <= channel.maxpage or path != channel.page_path(number):
                    return _html("<html><head><title>404</title></head></html>", status=404)
                if "repeating_pages" in self.site.variations:  # one page for every number
                    return self._listing(channel, list(reversed(channel.stories))[: channel.page_size], extras=False)
                return self._listing(channel, channel.page_stories(number), extras=False)
        return None

    # ---------------------------------------------------------------------------------- articles

    def _story_route(self, host: str, path: str) -> tuple[Story | None, int]:
        page = 1
        continuation = re.search(r"_(\d{1,2})\.shtml$", path)
        if continuation:
            page, path = int(continuation[1]), path[: continuation.start()] + ".shtml"
        story = self.site.story_at(path)
        if story is None or story.host != host or page > story.pages:
            return None, 0
        return story, page

    def _story(self, story: Story, page: int) -> Reply:
        if story.kind == "dead":
            return _html("<html><head><title>404 Not Found</title></head><body>Not Found</body></html>", status=404)
        if story.kind == "empty":
            return Reply(200, {"Content-Type": "text/html"}, b"")
        if story.kind == "live_302":
            return Reply(302, {"Location": LIVE_URL, "Content-Type": "text/html"}, b"")
        if story.kind == "live_refresh":
            return _html(
                f'<html><head><meta http-equiv="refresh" content="0;url={LIVE_URL}"></head><body></body></html>'
            )
        if story.kind == "soft_404":
            return _html(
                "<html><head><title>页面没有找到 - 中国甘肃网</title></head><body>对不起，页面没有找到</body></html>"
            )
        render = {"A": article_a, "B": article_b, "C": article_c, "generic": article_generic}[story.template]
        html = render(story, page, self._nav(), self._crumbs(story.breadcrumb), self.site.variations)
        if story.encoding == "gb2312":
            return _html(html, "gb2312", header_charset=False)
        return _html(html, story.encoding, header_charset=story.template != "generic")


# ----------------------------------------------------------------------------------- templates

_DATE_WRAPPERS = ("[{}]", "【{}】", "({})", "")  # bracket_dates: one form per channel; "" shows no date
_FURNITURE = (
    '<div class="bottom">版权声明:凡注有稿件来源为“中国甘肃网”的稿件,均为中国甘肃网版权稿件。</div>'
    '<div class="tuijian">精彩推荐<ul><li><a href="#">兰州安宁仁寿山公园开街</a></li></ul></div>'
    '<div class="follow">关注我们 中国甘肃网微博 中国甘肃网微信</div>'
    '<div class="jishi">即时播报<ol><li>1 兰州安宁仁寿山公园“古堡遗珍</li><li>2 西峰区启动实施</li></ol></div>'
)


def _lead(story: Story) -> list[str]:
    lines = []
    if story.original_title:
        lines.append(f"原标题:{story.original_title}")
    if story.authors and not story.paragraphs[0].startswith("中国甘肃网"):
        role = ("通讯员", "本网记者", "记者")[story.cms_id % 3]
        lines.append(f"{role} {' '.join(story.authors)}")
    return lines


def _body_lines(story: Story, page: int) -> list[str]:
    """The story's lines on continuation page `page` (lead lines on the first page only)."""
    if story.kind == "no_body":
        return []
    per_page = -(-len(story.paragraphs) // story.pages)
    lines = story.paragraphs[(page - 1) * per_page : page * per_page]
    return (_lead(story) if page == 1 else []) + lines


def _paragraph_html(story: Story, page: int) -> str:
    parts = [
        f"<p>\u3000\u3000{escape(line)}</p>" if i % 2 else f"<p>&nbsp;&nbsp;{escape(line)}</p>"
        for i, line in enumerate(_body_lines(story, page))
    ]
    if story.image and page == 1:
        caption = f"图为{story.title[:10]}现场"
        parts.insert(
            min(2, len(parts)),
            f'<p style="text-align:center"><img src="{story.image}" alt=""></p>'
            f'<p style="text-align:center">{escape(caption)}</p>',
        )
    return "".join(parts)


def _pager(story: Story, page: int, variations: frozenset[str]) -> str:
    if story.pages == 1:
        return ""
    stem = story.path[:-6]
    suffix = "_{}" if "short_continuation" in variations else "_{:02d}"
    links = [f'<a href="{stem}{"" if n == 1 else suffix.format(n)}.shtml">{n}</a>' for n in range(1, story.pages + 1)]
    if page < story.pages:
        links.append(f'<a href="{stem}{suffix.format(page + 1)}.shtml">下一页</a>')
    return f'<div id="news_more_page_div_id">上一页 {" ".join(links)}</div>'


def article_a(story: Story, page: int, nav: str, crumbs: str, variations: frozenset[str]) -> str:
    when = story.published.strftime("%y-%m-%d %H:%M") if story.date_shown else ""
    source = f'<a href="https://www.gscn.com.cn/">{escape(story.source)}</a>'
    info = f'<span class="m-frt">{when}</span> 来源:{source} 编辑:{escape(story.editor)}'
    if "plain_info" in variations:  # no span: the date is text in the line, with a 4-digit year and a label
        shown = f"发布时间：{story.published:%Y-%m-%d %H:%M}\u3000" if story.date_shown else ""
        info = f"{shown}来源：{source}\u3000责任编辑：{escape(story.editor)}"
    return (
        f'<html><head><meta charset="utf-8"><title>{escape(story.title)}_中国甘肃网</title></head><body>{nav}{crumbs}'
        f'<div class="artical"><div class="a-header"><h1>{escape(story.title)}</h1><div class="info">{info}</div></div>'
        f'<div class="share-substr">{escape(story.title)}</div>'
        f'<div class="a-container">{_paragraph_html(story, page)}<script>var ad = "ad slot";</script>'
        f'<div class="bdshare">分享到：</div>{_pager(story, page, variations)}</div>{_FURNITURE}</div></body></html>'
    )


def article_b(story: Story, page: int, nav: str, crumbs: str, variations: frozenset[str]) -> str:
    when = story.published.strftime("%Y-%m-%d %H:%M:%S")
    return (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">'
        f"<title>{escape(story.title)}_{escape(story.breadcrumb[-1])}_中国甘肃网</title></head><body>{nav}{crumbs}"
        f'<div class="main"><div class="title">{escape(story.title)}</div>'
        f'<div class="line"><span id="pubtime_baidu">{when}</span> <span id="source_baidu">来源：'
        f'<a href="#">{escape(story.source)}</a></span> <span id="editor_baidu">责任编辑：{escape(story.editor)}</span></div>'
        f'<div id="content">{_paragraph_html(story, page)}{_pager(story, page, variations)}</div>{_FURNITURE}</div></body></html>'
    )


def article_c(story: Story, page: int, nav: str, crumbs: str, variations: frozenset[str]) -> str:
    when = f"{story.published.year}年{story.published.month:02d}月{story.published.day:02d}日 {story.published:%H:%M}"
    return (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
        f"<title>{escape(story.title)}</title></head><body>{nav}{crumbs}"
        f'<div id="info"><h1>{escape(story.title)}</h1><span class="source">{when} 来源：<a href="#">'
        f'{escape(story.source)}</a></span></div><div class="picbox"><div id="pic_mainbox"></div>'
        f'{_paragraph_html(story, page)}</div><div class="edit">责任编辑：{escape(story.editor)}</div>'
        f"{_FURNITURE}</body></html>"
    )


def article_generic(story: Story, page: int, nav: str, crumbs: str, variations: frozenset[str]) -> str:
    when = story.published.strftime("%Y-%m-%d %H:%M")
    return (
        f"<html><head><title>{escape(story.title)} - 甘肃频道</title></head><body>{nav}{crumbs}"
        f'<div class="wrap"><div class="news-title"><h1>{escape(story.title)}</h1></div>'
        f'<div class="meta">发布时间：{when}　来源：{escape(story.source)}</div>'
        f'<div class="text-body">{_paragraph_html(story, page)}</div>'
        f'<div class="editor">责任编辑：{escape(story.editor)}</div></div>{_FURNITURE}</body></html>'
    )
