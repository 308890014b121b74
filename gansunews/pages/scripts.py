"""The HTML an inline script writes into its page, read without running it.

A list "drawn by JavaScript" is often HTML held in the script's own string literals
(`el.innerHTML = "<li><a href=…>…</li>"`, `document.write('…')`). Reading those literals gets the same entries as
a browser would, at the cost of one regular expression instead of a Chromium page. A script that builds its HTML
from data (`items.map(i => '<a href="' + i.url + '">')`) leaves no whole link in its literals: that page still
goes to the browser."""

from __future__ import annotations

import re

WRITES_HTML = re.compile(r"\.innerHTML\s*=|document\.write(?:ln)?\(|\.insertAdjacentHTML\(|\.appendChild\(")
# Comments come first so that a quote in `// don't` opens no string; a string starting earlier swallows `//`.
_TOKEN = re.compile(
    r"//[^\n]*|/\*.*?\*/|\"((?:\\.|[^\"\\\n])*)\"|'((?:\\.|[^'\\\n])*)'|`((?:\\.|[^`\\])*)`",
    re.S,
)
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]{1,6}\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])")
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0", "\n": "", "\r\n": ""}
_TARGET = re.compile(r"getElementById\(\s*['\"]([^'\"]+)['\"]\s*\)\s*\.innerHTML\s*=")


def written_html(script: str) -> str:
    """The script's string literals, unescaped and joined in order: the HTML it writes when it writes literals
    ('' when the script writes nothing into the page)."""
    if not WRITES_HTML.search(script):
        return ""
    html = "".join(_unescape(m[m.lastindex]) for m in _TOKEN.finditer(script) if m.lastindex)
    # JavaScript strings are UTF-16: `\ud83d\ude00` is one character in two escapes; a lone half is replaced
    return html.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def target_id(script: str) -> str | None:
    """The id of the element whose innerHTML the script sets, when it names one."""
    match = _TARGET.search(script)
    return match.group(1) if match else None


def _unescape(literal: str) -> str:
    return _ESCAPE.sub(_escaped, literal) if "\\" in literal else literal


def _escaped(match: re.Match) -> str:
    code = match.group(1)
    if code in _SIMPLE:
        return _SIMPLE[code]
    if code[0] in "ux" and len(code) > 1:
        point = int(code.strip("u{}x"), 16)
        return chr(point) if point <= 0x10FFFF else "\ufffd"
    return code  # `\"`, `\'`, `\/`, `\\`: the character itself
