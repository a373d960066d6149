"""Fetching a file a user sent, bounded: a timeout, no redirects followed, and a size cap checked
while the body streams in (a declared length over the cap is refused before reading any of it)."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from adapters.base import DownloadError

TIMEOUT_SECONDS = 20.0


async def capped_get(
    http: httpx.AsyncClient, url: str, *, max_bytes: int, what: str, headers: Mapping[str, str] | None = None
) -> tuple[int, bytes]:
    """(status, body) of a GET of `url`, the body at most `max_bytes`. A redirect is answered as
    is, never followed (its status is returned): a download must come from where it was sent."""
    try:
        async with http.stream(
            "GET", url, headers=headers, follow_redirects=False, timeout=TIMEOUT_SECONDS
        ) as response:
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise DownloadError(f"{what}: {declared} bytes, over {max_bytes}", too_large=True)
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise DownloadError(f"{what}: over {max_bytes} bytes", too_large=True)
            return response.status_code, bytes(body)
    except httpx.HTTPError as exc:
        raise DownloadError(f"{what}: {exc!r}") from exc
