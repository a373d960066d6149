"""Read a multipart/form-data upload the way a platform's file API does: the fake servers check that
a picture or a workbook arrives as the named form field, with its file name and type."""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP

import httpx

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ZIP_SIGNATURE = b"PK\x03\x04"  # an .xlsx workbook


@dataclass(frozen=True)
class FormPart:
    value: bytes
    filename: str | None
    content_type: str


def form_parts(request: httpx.Request) -> dict[str, FormPart]:
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.content)
    assert message.is_multipart(), request.headers["content-type"]
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes)
        parts[name] = FormPart(payload, part.get_filename(), part.get_content_type())
    return parts
