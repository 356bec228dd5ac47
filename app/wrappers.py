"""The app's Request (Flask's ``request_class``): request bodies read whole or refused."""

import io
import json
import re
from itertools import accumulate
from typing import IO, Any, cast

from flask import Request, current_app
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.http import parse_set_header
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

# A JSON string, to its closing quote or, unterminated, to the end: never backtracks.
JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
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
        self.body = stream
        self.max_length = max_length

    def readinto(self, b: bytearray) -> int | None:  # type: ignore[override]
        size = super().readinto(b)
        if self.is_exhausted:
            self.on_exhausted()
        return size

    def on_exhausted(self) -> None:
        """413, once up to ``max_length`` more bytes are read and dropped: a client still
        sending then reads the answer instead of a reset connection (as uwsgi's limit-post,
        twice the limit, answers a Content-Length body); past that, the connection closes."""
        left = self.max_length
        try:
            while left > 0 and (data := self.body.read(min(left, 65536))):
                left -= len(data)
        except (OSError, ValueError):
            pass  # the client is gone: no one reads the answer anyway
        raise RequestEntityTooLarge()


class UwsgiChunkedBody(io.RawIOBase):
    """A chunked body as uwsgi's ``chunked_read`` hands it over, chunk by chunk, to its end."""

    def __init__(self, uwsgi_module: Any):
        self.uwsgi = uwsgi_module
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if not self.pending:
            # b"" at the end; OSError past chunked-input-timeout or -limit (uwsgi.ini)
            self.pending = self.uwsgi.chunked_read()
        size = min(len(b), len(self.pending))
        b[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


class UwsgiChunkedInput:
    """WSGI middleware for uwsgi's http-socket, which passes a chunked body on as an empty
    wsgi.input: the body de-chunked, and ``wsgi.input_terminated`` set as werkzeug's server
    sets it, so StorefrontRequest reads it to its end under MAX_CONTENT_LENGTH."""

    def __init__(self, wsgi_app):
        import uwsgi  # only importable inside a uwsgi worker

        self.wsgi_app = wsgi_app
        self.uwsgi = uwsgi

    def __call__(self, environ, start_response):
        chunked = "chunked" in parse_set_header(environ.get("HTTP_TRANSFER_ENCODING"))
        if chunked and "wsgi.input_terminated" not in environ:
            environ["wsgi.input"] = UwsgiChunkedBody(self.uwsgi)
            environ["wsgi.input_terminated"] = True
        return self.wsgi_app(environ, start_response)


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
