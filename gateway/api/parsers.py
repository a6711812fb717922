"""The API's JSON parser: malformed or absurdly nested JSON is a 400 ``malformed_json``, never a 500.

DRF's JSONParser hands the body to ``json.load``, which recurses once per level of nesting: a body of
100,000 ``[`` raised RecursionError, a 500. No request the gateway accepts nests deeper than a few levels
(docs/policies.md), so the nesting is measured first, without recursion, and anything deeper than
``max_depth`` is refused before it is parsed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import IO, Any

from rest_framework.exceptions import ParseError

# get_encoding (DRF 3.17+) refuses non-text codecs such as bz2_codec; the stubs do not know it yet.
from rest_framework.parsers import JSONParser, get_encoding  # type: ignore[attr-defined]
from rest_framework.utils import json

from gateway.api.codes import ApiErrorCode

__all__ = ["MAX_JSON_DEPTH", "DepthLimitedJSONParser", "json_depth_exceeds"]

MAX_JSON_DEPTH = 32
# A backslash with the character it escapes, a quote, or a bracket: all the scanner needs to see.
_TOKENS = re.compile(r'\\.|["\[\]{}]', re.DOTALL)


def json_depth_exceeds(text: str, *, limit: int) -> bool:
    """Whether arrays and objects in ``text`` nest deeper than ``limit`` (brackets in strings ignored).

    Linear, with no recursion and no backtracking. On invalid JSON the count may be off, but only after
    the first error, where ``json.loads`` stops anyway, so it never lets through a body that recurses
    deeper than the count said.
    """
    depth = 0
    in_string = False
    for match in _TOKENS.finditer(text):
        char = match.group()
        if char == '"':
            in_string = not in_string
        elif in_string or len(char) == 2:  # inside a string, or an escape (invalid outside one)
            continue
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class DepthLimitedJSONParser(JSONParser):
    """JSONParser that answers 400 ``malformed_json`` for bad JSON, and for JSON nested too deep."""

    max_depth = MAX_JSON_DEPTH

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise _malformed(f"JSON parse error - the body is not valid {encoding}") from exc
        if json_depth_exceeds(text, limit=self.max_depth):
            raise _malformed(
                f"JSON nested deeper than {self.max_depth} levels of arrays and objects is refused."
            )
        try:
            if self.strict:
                return json.loads(text)
            return json.loads(text, parse_constant=None)
        except (ValueError, RecursionError) as exc:  # RecursionError: belt and braces
            raise _malformed(f"JSON parse error - {exc}") from exc


def _malformed(message: str) -> ParseError:
    return ParseError(message, code=ApiErrorCode.MALFORMED_JSON)
