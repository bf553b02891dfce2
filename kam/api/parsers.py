"""The API's JSON parser (DRF's DEFAULT_PARSER_CLASSES, with DRF's form and multipart parsers after it).

Python's json module decodes nested arrays and objects recursively: 3 KB of "[[[[..." exhausts the recursion
limit and the request dies with a RecursionError (a 500) before a view, or even authentication with its CSRF
check, has looked at it. No KAM payload nests deeper than a few levels, so bodies nested deeper than
MAX_DEPTH are refused with a 400 before they are decoded; the depth is counted without recursion."""

import json
import re

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

MAX_DEPTH = 32
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)  # JSON strings, whose brackets do not nest
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def nesting_depth(text: str, *, stop_after: int = MAX_DEPTH) -> int:
    """How deep arrays and objects nest in the JSON `text` (counting stops past `stop_after`)."""
    depth = deepest = 0
    for char in _NOT_BRACKETS.sub("", _STRINGS.sub("", text)):
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_after:
                    break
        else:
            depth -= 1
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding) if stream is not None else ""
        except UnicodeDecodeError as exc:
            raise ParseError(_("The body is not valid %(encoding)s text.") % {"encoding": encoding}) from exc
        if nesting_depth(text) > MAX_DEPTH:
            raise ParseError(_("The JSON is nested too deeply (at most %(max)d levels).") % {"max": MAX_DEPTH})
        try:
            return json.loads(text, parse_constant=strict_constant if self.strict else None)
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from exc
