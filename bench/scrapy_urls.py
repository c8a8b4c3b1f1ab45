"""Scrapy baseline for bench_harvest.py: download a fixed URL list at a given concurrency.

Run with the Scrapy venv's python (bench_harvest.py creates it): `python scrapy_urls.py URLS.jsonl N`.
List pages paged by POST are replayed with their form and headers (Referer-gated endpoints).
Hosts are rewritten to 127.0.0.1 (the sample portal's names resolve only through our registry) with
the original Host header; the server routes by port. Each HTML response has its links extracted and
its body hashed, as a minimal spider would; nothing is stored. Prints one JSON line of results.
"""

import hashlib
import json
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import scrapy
from scrapy.crawler import CrawlerProcess


class UrlListSpider(scrapy.Spider):
    name = "urls"

    def __init__(self, entries, **kwargs):
        super().__init__(**kwargs)
        self.entries = entries
        self.responses = 0
        self.started = None

    async def start(self):
        self.started = time.monotonic()
        for entry in self.entries:
            parts = urlsplit(entry["url"])
            local = urlunsplit((parts.scheme, f"127.0.0.1:{parts.port}", parts.path, parts.query, ""))
            headers = {"Host": parts.netloc, **dict(entry.get("headers") or ())}
            if entry["method"] == "POST":
                yield scrapy.FormRequest(local, formdata=dict(entry["form"]), headers=headers,
                                         callback=self.parse, dont_filter=True)
            else:
                yield scrapy.Request(local, method=entry["method"], headers=headers, callback=self.parse,
                                     dont_filter=True)

    def parse(self, response):
        self.responses += 1
        if response.request.method == "GET" and isinstance(response, scrapy.http.TextResponse):
            response.css("a::attr(href)").getall()
            hashlib.sha256(response.body).hexdigest()


def main() -> None:
    entries = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
    concurrency = int(sys.argv[2])
    process = CrawlerProcess(settings={
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": False,
        "COOKIES_ENABLED": False,
        "RETRY_ENABLED": False,
        "LOG_LEVEL": "ERROR",
        "TELNETCONSOLE_ENABLED": False,
        "HTTPERROR_ALLOW_ALL": True,
    })
    crawler = process.create_crawler(UrlListSpider)
    process.crawl(crawler, entries=entries)
    process.start()
    spider = crawler.spider
    print(json.dumps({"responses": spider.responses, "elapsed": time.monotonic() - spider.started,
                      "concurrency": concurrency, "urls": len(entries)}))


if __name__ == "__main__":
    main()
