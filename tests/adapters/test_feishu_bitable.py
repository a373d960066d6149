"""FeishuBitable against a respx-mocked Feishu at https://feishu.test, using the documented payloads."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx

from adapters.base import SendError, TableValue, TableWriter
from adapters.base import stable_uuid4 as client_token
from adapters.feishu.bitable import FeishuBitable, build_tables
from adapters.feishu.client import FeishuClient
from adapters.shell import ShellSender
from tests.samples import load

BASE = "https://feishu.test"
TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
TOKEN = load("feishu", "tenant_access_token_internal_response")["tenant_access_token"]
APP, TABLE = "appbcbWCzen6D8dezhoCH2RpMAh", "tblsRc9GRRXKqhvW"
RECORDS = f"/open-apis/bitable/v1/apps/{APP}/tables/{TABLE}/records"
CREATED = load("feishu", "bitable_batch_create_response")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def client() -> AsyncIterator[FeishuClient]:
    feishu = FeishuClient(BASE, "cli_app", "app-secret")
    yield feishu
    await feishu.aclose()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post(TOKEN_PATH, name="token").respond(
            json=load("feishu", "tenant_access_token_internal_response")
        )
        router.post(f"{RECORDS}/batch_create", name="create").respond(json=CREATED)
        router.post(f"{RECORDS}/batch_update", name="update").respond(
            json={"code": 0, "msg": "success", "data": {"records": []}}
        )
        yield router


def body_of(call: Any) -> dict[str, Any]:
    return json.loads(call.request.content)


ROWS: list[dict[str, TableValue]] = [
    {
        "任务名称": "维护客户关系",
        "进度": 0.25,
        "截止日期": datetime(2023, 1, 20, 17, 20, 43, tzinfo=SHANGHAI),
    },
    {"任务名称": "跟进与谈判", "负责人": None},
]


async def test_create_sends_the_documented_body_and_returns_ids_in_order(
    client: FeishuClient, api: respx.MockRouter
) -> None:
    ids = await FeishuBitable(client).create_rows(APP, TABLE, ROWS, idempotency_key="report:1:w1:abc")

    assert ids == [record["record_id"] for record in CREATED["data"]["records"]]
    request = api["create"].calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    body = json.loads(request.content)
    documented = load("feishu", "bitable_batch_create_request")
    assert body.keys() == documented.keys()
    assert [record.keys() for record in body["records"]] == [{"fields"}, {"fields"}]
    # Dates as epoch milliseconds (the documented 1674206443000 is 2023-01-20 17:20:43 in Shanghai);
    # an empty value is left out rather than sent as null.
    assert body["records"] == [
        {"fields": {"任务名称": "维护客户关系", "进度": 0.25, "截止日期": 1674206443000}},
        {"fields": {"任务名称": "跟进与谈判"}},
    ]


async def test_create_carries_a_stable_uuid4_client_token(
    client: FeishuClient, api: respx.MockRouter
) -> None:
    writer = FeishuBitable(client)
    await writer.create_rows(APP, TABLE, ROWS, idempotency_key="key-1")
    await writer.create_rows(APP, TABLE, ROWS, idempotency_key="key-1")
    await writer.create_rows(APP, TABLE, ROWS, idempotency_key="key-2")

    tokens = [call.request.url.params["client_token"] for call in api["create"].calls]
    assert tokens[0] == tokens[1] == client_token("key-1") != tokens[2] == client_token("key-2")
    assert uuid.UUID(tokens[0]).version == 4 and str(uuid.UUID(tokens[0])) == tokens[0]
    assert api["token"].call_count == 1  # the client's cached tenant token serves tables too


async def test_update_sends_record_ids_and_fields(client: FeishuClient, api: respx.MockRouter) -> None:
    await FeishuBitable(client).update_rows(APP, TABLE, [("reclAqylTN", {"数字": 100, "单选": "选项3"})])

    body = body_of(api["update"].calls.last)
    documented = load("feishu", "bitable_batch_update_request")
    assert body.keys() == documented.keys()
    assert body["records"][0].keys() == documented["records"][0].keys()
    assert body == {"records": [{"record_id": "reclAqylTN", "fields": {"数字": 100, "单选": "选项3"}}]}
    assert api["update"].calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (200, 1254291, True),  # write conflict: another write to the table at the same time
        (200, 1254290, True),  # too many requests
        (200, 1254607, True),  # data not ready
        (504, 1255040, True),  # timeout
        (200, 1254045, False),  # FieldNameNotFound: a column is missing, a person must fix it
        (400, 1254037, False),  # invalid client token
        (403, 1254302, False),  # no permission on the table
        (500, None, True),
    ],
)
async def test_errors_say_whether_to_retry(
    client: FeishuClient, api: respx.MockRouter, status: int, code: int | None, retryable: bool
) -> None:
    api["create"].respond(status, json={"code": code, "msg": "refused", "data": {}})
    with pytest.raises(SendError) as error:
        await FeishuBitable(client).create_rows(APP, TABLE, ROWS, idempotency_key="k")
    assert error.value.retryable is retryable
    assert str(code) in str(error.value)


async def test_a_gateway_page_or_a_dropped_connection_is_retryable(
    client: FeishuClient, api: respx.MockRouter
) -> None:
    writer = FeishuBitable(client)
    api["update"].respond(502, text="<html>Bad Gateway</html>")
    with pytest.raises(SendError) as error:
        await writer.update_rows(APP, TABLE, [("rec1", {"a": "b"})])
    assert error.value.retryable
    api["update"].side_effect = httpx.ConnectError("reset")
    with pytest.raises(SendError) as error:
        await writer.update_rows(APP, TABLE, [("rec1", {"a": "b"})])
    assert error.value.retryable


async def test_a_rejected_token_is_dropped_and_fetched_again(
    client: FeishuClient, api: respx.MockRouter
) -> None:
    writer = FeishuBitable(client)
    api["update"].side_effect = [
        httpx.Response(200, json={"code": 99991663, "msg": "tenant access token invalid"}),
        httpx.Response(200, json={"code": 0, "msg": "success", "data": {}}),
    ]
    with pytest.raises(SendError) as error:
        await writer.update_rows(APP, TABLE, [("rec1", {"a": "b"})])
    assert error.value.retryable
    await writer.update_rows(APP, TABLE, [("rec1", {"a": "b"})])
    assert api["token"].call_count == 2


async def test_an_answer_without_every_record_id_is_an_error(
    client: FeishuClient, api: respx.MockRouter
) -> None:
    one = {"code": 0, "msg": "success", "data": {"records": CREATED["data"]["records"][:1]}}
    api["create"].respond(json=one)
    with pytest.raises(SendError) as error:
        await FeishuBitable(client).create_rows(APP, TABLE, ROWS, idempotency_key="k")
    assert not error.value.retryable


async def test_tables_are_built_for_the_enabled_platforms(client: FeishuClient) -> None:
    tables = build_tables({"feishu": client, "shell": ShellSender()})
    assert list(tables) == ["feishu"]
    assert isinstance(tables["feishu"], TableWriter) and tables["feishu"].max_batch == 500
    assert build_tables({"shell": ShellSender()}) == {}
