from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from gansunews.extensions import LogFormatter
from gansunews.spiders.portal import InOrder


def test_in_order_holds_early_finishers():
    order = InOrder()
    for key in "abcd":
        order.register(key)
    assert order.finish("c", "C") == []
    assert order.finish("a", "A") == ["A"]
    assert order.finish("b", None) == ["C"]  # b produced nothing; c was waiting behind it
    assert order.holding is False and order.unfinished
    assert order.finish("d", "D") == ["D"]
    assert not order.unfinished


def test_in_order_drain_releases_what_is_stuck():
    order = InOrder()
    for key in "xyz":
        order.register(key)
    order.finish("z", "Z")
    assert order.holding and order.drain() == ["Z"] and not order.holding


def test_log_formatter_builds_no_debug_records_unless_debug_is_on():
    request = Request("https://gansu.gscn.com.cn/")
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    quiet = LogFormatter.from_crawler(get_crawler(settings_dict={"LOG_LEVEL": "WARNING"}))
    loud = LogFormatter.from_crawler(get_crawler(settings_dict={"LOG_LEVEL": "DEBUG"}))
    assert quiet.crawled(request, response, None) is None and quiet.scraped({}, response, None) is None
    assert loud.crawled(request, response, None)["level"] == loud.scraped({}, response, None)["level"] == 10
