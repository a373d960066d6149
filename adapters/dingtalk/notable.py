"""DingTalk AI table (Notable) rows: insert (idempotent by `clientToken`) and update by record id,
mapped to SendError.

The writer rides on a DingTalkClient: the same access token, error mapping and per-API rate limit.
The Notable API acts on behalf of a user, `operatorId`, a unionId: the member who bound the table
(their staff id, as our members are known) is looked up once per process with the user-detail API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

from adapters.base import SendError, TableValue, TableWriter, stable_uuid4, table_fields
from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.events import PLATFORM

# DingTalk documents no per-call record cap for the Notable record APIs; 100 keeps each request small.
MAX_BATCH = 100


def client_token(idempotency_key: str) -> str:
    """Notable's `clientToken` for a key (its own namespace: never equal to the Bitable token)."""
    return stable_uuid4(f"dingtalk-notable\x00{idempotency_key}")


def records_path(base: str, sheet: str) -> str:
    # A sheet may be given by name (Chinese, spaces): each path segment is quoted on its own.
    return f"/v1.0/notable/bases/{quote(base, safe='')}/sheets/{quote(sheet, safe='')}/records"


class DingTalkNotable:
    """Writes rows into one AI table sheet per call; sequential use only, like every TableWriter."""

    platform = PLATFORM
    max_batch = MAX_BATCH

    def __init__(self, client: DingTalkClient) -> None:
        self._client = client
        self._union_ids: dict[str, str] = {}  # staff id -> unionId; neither changes for a person

    async def create_rows(
        self,
        base: str,
        table: str,
        rows: Sequence[Mapping[str, TableValue]],
        *,
        idempotency_key: str,
        operator: str | None = None,
    ) -> list[str]:
        params = {"operatorId": await self._operator(operator), "clientToken": client_token(idempotency_key)}
        body = await self._client.call_api(
            "POST",
            records_path(base, table),
            what="AI table insert",
            payload={"records": [{"fields": table_fields(row)} for row in rows]},
            params=params,
        )
        value = body.get("value")
        records = value if isinstance(value, list) else []
        ids = [record.get("id") for record in records if isinstance(record, dict)]
        good = [i for i in ids if isinstance(i, str) and i]
        if len(good) != len(rows) or len(ids) != len(rows):
            raise SendError(
                f"AI table insert: {len(rows)} rows sent, answer has {len(good)} record ids", retryable=False
            )
        return good

    async def update_rows(
        self,
        base: str,
        table: str,
        rows: Sequence[tuple[str, Mapping[str, TableValue]]],
        *,
        operator: str | None = None,
    ) -> None:
        await self._client.call_api(
            "PUT",
            records_path(base, table),
            what="AI table update",
            payload={"records": [{"id": record_id, "fields": table_fields(row)} for record_id, row in rows]},
            params={"operatorId": await self._operator(operator)},
        )

    async def _operator(self, staff_id: str | None) -> str:
        """The unionId the Notable API wants for `staff_id` (old API `topapi/v2/user/get`)."""
        if not staff_id:
            raise SendError(
                "AI table: no operator (bind the table again with /config aitable)", retryable=False
            )
        known = self._union_ids.get(staff_id)
        if known is not None:
            return known
        union_id = (await self._client.user_detail(staff_id)).get("unionid")
        if not isinstance(union_id, str) or not union_id:
            raise SendError("user detail: answer without unionid", retryable=False)
        self._union_ids[staff_id] = union_id
        return union_id


def build_tables(senders: Mapping[str, object]) -> dict[str, TableWriter]:
    """The AI table writer when DingTalk is enabled, sharing the DingTalk sender (and its token)."""
    dingtalk = senders.get(PLATFORM)
    return {PLATFORM: DingTalkNotable(dingtalk)} if isinstance(dingtalk, DingTalkClient) else {}
