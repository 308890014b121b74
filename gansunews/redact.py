"""Secrets never reach a log or a record: passwords in URIs (`mongodb://user:secret@host` → `mongodb://user:***@host`)
are masked in every log record, whoever logs it (Scrapy's own "Overridden settings" included), and in what the
crawl stores."""

from __future__ import annotations

import logging
import re

_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][\w+.-]*://[^:/@\s]*:)[^@\s/]+@")
_installed = False


def redact(text: str) -> str:
    """The text with every URI password masked."""
    return _PASSWORD.sub(r"\g<head>***@", text)


class _RedactedRecord(logging.LogRecord):
    def getMessage(self) -> str:  # noqa: N802 (logging's name)
        return redact(super().getMessage())


def install() -> None:
    """Mask passwords in every log record of this process (once; idempotent)."""
    global _installed
    if not _installed:
        logging.setLogRecordFactory(_RedactedRecord)
        _installed = True
