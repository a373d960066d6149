"""Fetching a file a user sent, bounded: a deadline for the whole download (a slow trickle cannot hold
it open), no redirects followed, and a size cap checked while the body streams in (a declared length
over the cap is refused before reading any of it)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx

from adapters.base import DownloadError

TIMEOUT_SECONDS = 20.0  # the whole download, and each step of it


async def capped_get(
    http: httpx.AsyncClient, url: str, *, max_bytes: int, what: str, headers: Mapping[str, str] | None = None
) -> tuple[int, bytes]:
    """(status, body) of a GET of `url`, the body at most `max_bytes`. A redirect is answered as
    is, never followed (its status is returned): a download must come from where it was sent."""
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            return await _get(http, url, max_bytes=max_bytes, what=what, headers=headers)
    except TimeoutError as exc:
        raise DownloadError(f"{what}: over {TIMEOUT_SECONDS:.0f} seconds") from exc
    except httpx.HTTPError as exc:
        raise DownloadError(f"{what}: {exc!r}") from exc


async def _get(
    http: httpx.AsyncClient, url: str, *, max_bytes: int, what: str, headers: Mapping[str, str] | None
) -> tuple[int, bytes]:
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
