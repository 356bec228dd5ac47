"""The app's Request (Flask's ``request_class``): request bodies read whole or refused."""

import json
import re
from itertools import accumulate
from typing import IO, Any, cast

from flask import Request, current_app
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

# A JSON string, to its closing quote or, unterminated, to the end: never backtracks.
JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)
NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_nesting_over(data: bytes, limit: int) -> bool:
    """Whether the JSON text ``data`` nests arrays and objects more than ``limit`` deep.

    Two counts decide an ordinary body; only one with more brackets than ``limit`` is
    scanned, in C-speed steps, since Python's parser would hit its recursion limit."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    try:
        text = data.decode(json.detect_encoding(data))
    except (UnicodeDecodeError, LookupError):
        return False  # the parser refuses it as invalid JSON, a 400 too
    brackets = NOT_A_BRACKET.sub("", JSON_STRING.sub("", text))
    return max(accumulate(map(BRACKET_STEP.__getitem__, brackets)), default=0) > limit


class TerminatedBodyStream(LimitedStream):
    """A body the server ends itself (chunked, no Content-Length), read to its end: one byte
    over ``max_length`` is 413, so a body is never cut at the limit and parsed as whole."""

    def __init__(self, stream: IO[bytes], max_length: int):
        super().__init__(stream, max_length + 1, is_max=True)

    def readinto(self, b: bytearray) -> int | None:  # type: ignore[override]
        size = super().readinto(b)
        if self.is_exhausted:
            raise RequestEntityTooLarge()
        return size


class StorefrontRequest(Request):
    """Flask's Request with two limits it lacks: MAX_CONTENT_LENGTH on chunked bodies too,
    and JSON_MAX_DEPTH on JSON bodies (deeper ones would raise RecursionError, a 500)."""

    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        if (
            self.shallow
            or limit is None
            or self.content_length is not None
            or "wsgi.input_terminated" not in self.environ
        ):
            return super().stream
        return cast(IO[bytes], TerminatedBodyStream(self.environ["wsgi.input"], limit))

    @cached_property
    def json_too_deep(self) -> bool:
        """Whether a JSON body nests deeper than JSON_MAX_DEPTH (the body is read once)."""
        return self.is_json and json_nesting_over(
            self.get_data(cache=True), current_app.config["JSON_MAX_DEPTH"]
        )

    def refuse_deep_json(self) -> None:
        """400 for a JSON body nested deeper than JSON_MAX_DEPTH."""
        if self.json_too_deep:
            depth = current_app.config["JSON_MAX_DEPTH"]
            raise BadRequest(f"The JSON body nests arrays and objects more than {depth} deep.")

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Flask's, with the depth limit: ``silent`` readers (e.g. while an error page is
        rendered) get None, the others 400."""
        if silent and self.json_too_deep:
            return None
        self.refuse_deep_json()
        return super().get_json(force=force, silent=silent, cache=cache)
