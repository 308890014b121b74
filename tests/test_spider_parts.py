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
