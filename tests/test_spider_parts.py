from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from gansunews.extensions import LogFormatter


def test_log_formatter_builds_no_debug_records_unless_debug_is_on():
    request = Request("https://gansu.gscn.com.cn/")
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    quiet = LogFormatter.from_crawler(get_crawler(settings_dict={"LOG_LEVEL": "WARNING"}))
    loud = LogFormatter.from_crawler(get_crawler(settings_dict={"LOG_LEVEL": "DEBUG"}))
    assert quiet.crawled(request, response, None) is None and quiet.scraped({}, response, None) is None
    assert loud.crawled(request, response, None)["level"] == loud.scraped({}, response, None)["level"] == 10


def test_a_page_without_a_length_is_cut_short_when_it_ends_before_its_body_does():
    from scrapy.http import Response

    from gansunews.incomplete_responses import is_cut_short

    url = "https://gansu.gscn.com.cn/system/2024/03/01/013000001.shtml"
    page = "<html><body><p>甘肃</p></BODY >\n<script>stats()</script>".encode()

    def answer(body: bytes, flags=("partial",), cls=HtmlResponse, headers=None):
        return cls(url, body=body, flags=list(flags), headers=headers or {"Content-Type": "text/html"})

    assert not is_cut_short(answer(page)), "whole: its </body> came (what follows it is not the article)"
    assert is_cut_short(answer(page[:20]))
    assert not is_cut_short(answer(page[:20], flags=())), "with a length, Scrapy itself fails a body cut short"
    script = b"var maxpage = 12;"
    assert not is_cut_short(answer(script, cls=Response, headers={"Content-Type": "application/javascript"}))
    assert is_cut_short(answer(b"\n  <!DOCTYPE html><html><head>", cls=Response, headers={"Content-Type": "x"}))
