"""Feishu Bitable rows: batch create (idempotent by `client_token`) and batch update, mapped to SendError.

The writer rides on a FeishuClient: the same lark-oapi client, tenant-token cache and error mapping,
so the token is fetched once for messages and tables alike.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx
import lark_oapi as lark
from lark_oapi.api.bitable.v1 import (
    AppTableRecord,
    BatchCreateAppTableRecordRequest,
    BatchCreateAppTableRecordRequestBody,
    BatchUpdateAppTableRecordRequest,
    BatchUpdateAppTableRecordRequestBody,
)

from adapters.base import SendError, TableValue, TableWriter, stable_uuid4, table_fields
from adapters.feishu.client import FeishuClient

# Feishu allows 1000 records per batch call; 500 keeps each request well inside its size and time limits.
MAX_BATCH = 500
# Codes worth trying again later: too many requests, write conflict (concurrent writes to one table),
# data not ready, the same client_token still being processed, a generic failure Feishu says to
# retry when occasional, internal errors and a gateway timeout.
RETRYABLE_CODES = frozenset({1254290, 1254291, 1254607, 1254608, 1254002, 1255001, 1255002, 1255040})


class FeishuBitable:
    """Writes rows into one Bitable table per call; sequential use only (Feishu error 1254291)."""

    platform = "feishu"
    max_batch = MAX_BATCH

    def __init__(self, client: FeishuClient) -> None:
        self._client = client

    async def create_rows(
        self,
        base: str,
        table: str,
        rows: Sequence[Mapping[str, TableValue]],
        *,
        idempotency_key: str,
        operator: str | None = None,  # Bitable rows are written as the app
    ) -> list[str]:
        request = (
            BatchCreateAppTableRecordRequest.builder()
            .app_token(base)
            .table_id(table)
            .client_token(stable_uuid4(idempotency_key))
            .request_body(
                BatchCreateAppTableRecordRequestBody.builder()
                .records([AppTableRecord.builder().fields(table_fields(row)).build() for row in rows])
                .build()
            )
            .build()
        )
        body = await self._call(
            "bitable batch create",
            lambda option: self._client._lark.bitable.v1.app_table_record.abatch_create(request, option),
        )
        records = (body.get("data") or {}).get("records")
        ids = [r.get("record_id") for r in records] if isinstance(records, list) else []
        if len(ids) != len(rows) or not all(isinstance(i, str) and i for i in ids):
            raise SendError(
                f"bitable batch create: {len(rows)} rows sent, answer has {len(ids)} record ids",
                retryable=False,
            )
        return ids

    async def update_rows(
        self,
        base: str,
        table: str,
        rows: Sequence[tuple[str, Mapping[str, TableValue]]],
        *,
        operator: str | None = None,
    ) -> None:
        request = (
            BatchUpdateAppTableRecordRequest.builder()
            .app_token(base)
            .table_id(table)
            .request_body(
                BatchUpdateAppTableRecordRequestBody.builder()
                .records(
                    [
                        AppTableRecord.builder().record_id(record_id).fields(table_fields(row)).build()
                        for record_id, row in rows
                    ]
                )
                .build()
            )
            .build()
        )
        await self._call(
            "bitable batch update",
            lambda option: self._client._lark.bitable.v1.app_table_record.abatch_update(request, option),
        )

    async def _call(self, what: str, call: Callable[[lark.RequestOption], Awaitable[Any]]) -> dict[str, Any]:
        # The client's private helpers are shared on purpose: one token cache and one error mapping
        # for everything this package sends to Feishu.
        token = await self._client._tenant_token()
        option = lark.RequestOption.builder().tenant_access_token(token).build()
        try:
            raw = (await call(option)).raw
        except httpx.TransportError as exc:
            raise SendError(f"{what}: {exc!r}", retryable=True) from exc
        except ValueError as exc:  # lark-oapi parses every body as JSON; a gateway error page is not
            raise SendError(f"{what}: non-JSON response", retryable=True) from exc
        code, msg = _code_and_msg(raw.content)
        if code in RETRYABLE_CODES:
            raise SendError(f"{what}: HTTP {raw.status_code}, code {code}: {msg}", retryable=True)
        return self._client._check(what, raw.status_code, raw.headers, raw.content, token)


def _code_and_msg(content: bytes) -> tuple[object, object]:
    try:
        body = json.loads(content)
    except ValueError:
        return None, None
    return (body.get("code"), body.get("msg")) if isinstance(body, dict) else (None, None)


def build_tables(senders: Mapping[str, object]) -> dict[str, TableWriter]:
    """The table writers for the enabled platforms, sharing each platform's sender (and its token)."""
    feishu = senders.get("feishu")
    return {"feishu": FeishuBitable(feishu)} if isinstance(feishu, FeishuClient) else {}
