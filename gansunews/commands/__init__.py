"""Scrapy commands of the project (`COMMANDS_MODULE`): `crawl` checks arguments and settings first."""
