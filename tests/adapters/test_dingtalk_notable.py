"""The DingTalk AI table (Notable) writer against a respx-mocked DingTalk (https://dingtalk-api.test,
https://dingtalk-oapi.test): the documented request shapes, idempotency and error mapping."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from adapters.base import SendError, TableWriter
from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.notable import DingTalkNotable, build_tables, client_token
from adapters.shell import ShellSender
from tests.samples import load

API = "https://dingtalk-api.test"
OAPI = "https://dingtalk-oapi.test"
TOKEN_RESPONSE = load("dingtalk", "oauth2_access_token_response.official-doc")
TOKEN = TOKEN_RESPONSE["accessToken"]
BASE, SHEET = "qnYxxx0A1b", "周报 明细"
RECORDS = f"{API}/v1.0/notable/bases/{BASE}/sheets/%E5%91%A8%E6%8A%A5%20%E6%98%8E%E7%BB%86/records"
STAFF, UNION = "manager4220", "iPjvA9Hn2DiiE"
WEEK = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # Monday 00:00 in Shanghai
ROWS: list[dict[str, Any]] = [
    {"编号": "1.1", "进度": 0.6, "截止": WEEK, "负责人": None},
    {"编号": "1.2", "进度": 1.0, "截止": None, "负责人": "Bob"},
]


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{API}/v1.0/oauth2/accessToken", name="token").respond(json=TOKEN_RESPONSE)
        router.post(f"{OAPI}/topapi/v2/user/get", name="user").respond(
            json={"errcode": 0, "errmsg": "ok", "result": {"userid": STAFF, "unionid": UNION, "name": "PM"}}
        )
        router.post(RECORDS, name="insert").respond(json={"value": [{"id": "recA"}, {"id": "recB"}]})
        router.put(RECORDS, name="update").respond(json={"value": [{"id": "recA"}]})
        yield router


@pytest.fixture
async def notable() -> AsyncIterator[DingTalkNotable]:
    client = DingTalkClient(API, "key", "secret", "robot", oapi_domain=OAPI)
    yield DingTalkNotable(client)
    await client.aclose()


def query(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(str(request.url)).query)


async def test_insert_is_the_documented_request_written_as_the_operator(
    notable: DingTalkNotable, api: respx.MockRouter
) -> None:
    ids = await notable.create_rows(BASE, SHEET, ROWS, idempotency_key="report:1:dingtalk:k", operator=STAFF)
    assert ids == ["recA", "recB"]
    # The staff id is turned into the unionId the Notable API wants, with the old API's token query.
    user = api["user"].calls[0].request
    assert query(user) == {"access_token": [TOKEN]}
    assert json.loads(user.content) == {"userid": STAFF, "language": "zh_CN"}
    request = api["insert"].calls[0].request
    assert request.headers["x-acs-dingtalk-access-token"] == TOKEN
    assert query(request) == {"operatorId": [UNION], "clientToken": [client_token("report:1:dingtalk:k")]}
    assert json.loads(request.content) == {
        "records": [
            {"fields": {"编号": "1.1", "进度": 0.6, "截止": 1795449600000}},  # epoch ms; empty cells left out
            {"fields": {"编号": "1.2", "进度": 1.0, "负责人": "Bob"}},
        ]
    }


async def test_update_puts_record_ids_and_the_operator_is_looked_up_once(
    notable: DingTalkNotable, api: respx.MockRouter
) -> None:
    await notable.create_rows(BASE, SHEET, ROWS, idempotency_key="k", operator=STAFF)
    await notable.update_rows(BASE, SHEET, [("recA", ROWS[1])], operator=STAFF)
    request = api["update"].calls[0].request
    assert request.method == "PUT" and query(request) == {"operatorId": [UNION]}
    assert json.loads(request.content) == {
        "records": [{"id": "recA", "fields": {"编号": "1.2", "进度": 1.0, "负责人": "Bob"}}]
    }
    assert api["user"].call_count == 1 and api["token"].call_count == 1


def test_the_client_token_is_a_stable_uuid4_per_key() -> None:
    token = client_token("report:1:dingtalk:2026-11-23:abc")
    assert uuid.UUID(token).version == 4 and str(uuid.UUID(token)) == token
    assert token == client_token("report:1:dingtalk:2026-11-23:abc")
    assert token != client_token("report:1:dingtalk:2026-11-23:abd")


async def test_a_retried_insert_carries_the_same_client_token(
    notable: DingTalkNotable, api: respx.MockRouter
) -> None:
    api["insert"].side_effect = [
        httpx.Response(503),
        httpx.Response(200, json={"value": [{"id": "r1"}, {"id": "r2"}]}),
    ]
    with pytest.raises(SendError) as first:
        await notable.create_rows(BASE, SHEET, ROWS, idempotency_key="same", operator=STAFF)
    assert first.value.retryable
    assert await notable.create_rows(BASE, SHEET, ROWS, idempotency_key="same", operator=STAFF) == [
        "r1",
        "r2",
    ]
    tokens = {query(call.request)["clientToken"][0] for call in api["insert"].calls}
    assert tokens == {client_token("same")}


@pytest.mark.parametrize(
    ("response", "retryable"),
    [
        (
            httpx.Response(
                403, json={"code": "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "message": "qps"}
            ),
            True,
        ),
        (httpx.Response(400, json={"code": "invalidRequest.sheet.notFound", "message": "no sheet"}), False),
        (httpx.Response(200, json={"value": [{"id": "recA"}]}), False),  # fewer ids than rows
    ],
)
async def test_insert_failures_say_whether_to_retry(
    notable: DingTalkNotable, api: respx.MockRouter, response: httpx.Response, retryable: bool
) -> None:
    api["insert"].mock(return_value=response)
    with pytest.raises(SendError) as error:
        await notable.create_rows(BASE, SHEET, ROWS, idempotency_key="k", operator=STAFF)
    assert error.value.retryable is retryable


async def test_without_an_operator_or_a_unionid_nothing_is_written(
    notable: DingTalkNotable, api: respx.MockRouter
) -> None:
    with pytest.raises(SendError) as missing:
        await notable.create_rows(BASE, SHEET, ROWS, idempotency_key="k", operator=None)
    assert not missing.value.retryable
    api["user"].respond(json={"errcode": 60011, "errmsg": "no permission to read member"})
    with pytest.raises(SendError) as denied:
        await notable.update_rows(BASE, SHEET, [("recA", ROWS[0])], operator=STAFF)
    assert not denied.value.retryable and "60011" in str(denied.value)
    assert not api["insert"].called and not api["update"].called


async def test_tables_are_built_when_dingtalk_is_enabled() -> None:
    client = DingTalkClient(API, "key", "secret", "robot")
    try:
        tables = build_tables({"dingtalk": client, "shell": ShellSender()})
        assert list(tables) == ["dingtalk"]
        assert isinstance(tables["dingtalk"], TableWriter) and tables["dingtalk"].max_batch == 100
        assert build_tables({"shell": ShellSender()}) == {}
    finally:
        await client.aclose()
