"""One file field of a ``multipart/form-data`` body, streamed as it arrives (python-multipart's push parser).

Starlette's form parsing spools every file of a body to a temporary file before the route runs; an upload route
that must cap sizes while the bytes arrive and write them once, into the blob store, reads the body itself:

    upload = MultipartFile(request.stream(), request.headers.get("content-type"), field="Attachment")
    async for chunk in upload.chunks(): ...      # only the bytes of that field's file, in order
    upload.filename, upload.found                # known once its part headers were read

Memory holds one body chunk at a time. Small text fields named in ``text_fields`` are kept (``upload.fields``, at
most ``TEXT_FIELD_MAX_BYTES`` each, UTF-8); other fields are skipped (at most ``MAX_PARTS`` parts); a second file
under the same field name, a repeated text field, a body that is not multipart or a malformed one is refused
(400/415). Once the stream has ended (``complete``), ``sha256`` is the digest of the file's bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Iterable
from urllib.parse import unquote

from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header

from cabinet.core.errors import InvalidInput, UnsupportedMediaType

MAX_PARTS = 16
TEXT_FIELD_MAX_BYTES = 4096
_EXTENDED_FILENAME = re.compile(rb"""filename\*\s*=\s*(?:UTF-8|utf-8)''([^;\s]+)""")


class MultipartFile:
    def __init__(
        self, body: AsyncIterator[bytes], content_type: str | None, *, field: str, text_fields: Iterable[str] = ()
    ) -> None:
        media, options = parse_options_header(content_type or "")
        if media != b"multipart/form-data":
            raise UnsupportedMediaType(f"send multipart/form-data with the file in the field {field!r}")
        boundary = options.get(b"boundary")
        if not boundary or len(boundary) > 200:
            raise InvalidInput("the multipart/form-data content type has no valid boundary")
        self._body = body
        self._boundary = boundary
        self._field = field.lower()
        self._text_fields = {name.lower(): name for name in text_fields}
        self.filename: str | None = None
        self.found = False
        self.complete = False
        self.fields: dict[str, str] = {}
        self._digest = hashlib.sha256()
        self._text_name: str | None = None
        self._text = bytearray()
        self._parts = 0
        self._headers: dict[bytes, bytes] = {}
        self._name = bytearray()
        self._value = bytearray()
        self._in_file = False
        self._out: list[bytes] = []
        self._error: str | None = None

    # --- parser callbacks ---------------------------------------------------------------------------------
    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            self._error = f"at most {MAX_PARTS} parts"
        self._headers = {}
        self._in_file = False
        self._text_name = None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._name).strip().lower()] = bytes(self._value).strip()
        self._name.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        disposition = self._headers.get(b"content-disposition", b"")
        kind, options = parse_options_header(disposition)
        name = options.get(b"name", b"").decode("latin-1").lower()
        if kind == b"form-data" and name in self._text_fields and b"filename" not in options:
            if self._text_fields[name] in self.fields:
                self._error = f"the field {self._text_fields[name]} is sent twice"
                return
            self._text_name = self._text_fields[name]
            self._text.clear()
            return
        if kind != b"form-data" or name != self._field:
            return
        if self.found:
            self._error = "only one file may be sent"
            return
        self.found = True
        self._in_file = True
        self.filename = _filename(disposition, options)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._error is not None:
            return
        if self._in_file:
            self._out.append(data[start:end])
        elif self._text_name is not None:
            self._text += data[start:end]
            if len(self._text) > TEXT_FIELD_MAX_BYTES:
                self._error = f"the field {self._text_name} is longer than {TEXT_FIELD_MAX_BYTES} bytes"

    def _part_end(self) -> None:
        self._in_file = False
        if self._text_name is not None and self._error is None:
            try:
                self.fields[self._text_name] = self._text.decode("utf-8")
            except UnicodeDecodeError:
                self._error = f"the field {self._text_name} is not UTF-8 text"
        self._text_name = None

    # --- the stream -----------------------------------------------------------------------------------------
    async def chunks(self) -> AsyncIterator[bytes]:
        parser = MultipartParser(
            self._boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
            max_header_count=16,
            max_header_size=8192,
        )
        try:
            async for body in self._body:
                parser.write(body)
                self._check()
                if self._out:
                    out, self._out = self._out, []
                    for piece in out:
                        self._digest.update(piece)
                        yield piece
            parser.finalize()
        except MultipartParseError as exc:
            raise InvalidInput(f"malformed multipart/form-data body: {exc}") from exc
        self._check()
        if self._out:
            out, self._out = self._out, []
            for piece in out:
                self._digest.update(piece)
                yield piece
        self.complete = True

    @property
    def sha256(self) -> str:
        """The SHA-256 of the file's bytes (hex), once ``complete``."""
        if not self.complete:
            raise RuntimeError("the body has not been read to its end")
        return self._digest.hexdigest()

    def _check(self) -> None:
        if self._error is not None:
            raise InvalidInput(f"multipart/form-data body refused: {self._error}")


def _filename(disposition: bytes, options: dict[bytes, bytes]) -> str | None:
    """The part's file name as sent (RFC 6266 ``filename*`` first, else ``filename`` as UTF-8); an undecodable
    one becomes a name with U+FFFD, which the caller's name rules refuse."""
    extended = _EXTENDED_FILENAME.search(disposition)
    if extended:
        return unquote(extended.group(1).decode("latin-1"), errors="replace")
    raw = options.get(b"filename")
    if raw is None:
        return None
    return raw.decode("utf-8", errors="replace")
