"""DingTalk messages that @-mention other people: placing each visible "@Name" by the names the
contacts API gives (adapters/dingtalk/directory.py), on the documented HTTP group message."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from adapters.dingtalk.client import DingTalkClient, Directory
from adapters.dingtalk.directory import read_message
from adapters.dingtalk.events import names_to_look_up, parse_message
from adapters.models import UserRef
from tests.samples import load

NOW = datetime(2026, 5, 6, 9, 30, tzinfo=UTC)
API = "https://dingtalk-api.test"
OAPI = "https://dingtalk-oapi.test"
USER_GET = f"{OAPI}/topapi/v2/user/get"
TOKEN = "dt-token"
BOT = "$:LWCP_v1:$Cxxxxx"  # chatbotUserId of the HTTP group sample
BOB = {"dingtalkId": "$:LWCP_v1:$bob", "staffId": "bob01"}
AMY = {"dingtalkId": "$:LWCP_v1:$amy", "staffId": "amy02"}
TOM = {"dingtalkId": "$:LWCP_v1:$tom", "staffId": "tom03"}
GUEST = {"dingtalkId": "$:LWCP_v1:$guest"}  # another organisation's user: no staffId
NAMES = {"bob01": "鲍勃", "amy02": "Amy Li", "tom03": "Tom"}


def group(content: str, *at_users: dict[str, str]) -> dict[str, Any]:
    payload: dict[str, Any] = copy.deepcopy(load("dingtalk", "http_group_message_at_bot.receive-message-doc"))
    payload["text"]["content"] = content
    payload["atUsers"] = [{"dingtalkId": BOT}, *at_users]
    return payload


def text(payload: dict[str, Any], names: dict[str, str] | None = None) -> str:
    message, _ = parse_message(payload, robot_code=None, now=NOW, names=names)
    return message.text


def test_several_mentions_are_placed_by_their_names() -> None:
    payload = group(" /raci 1.1 R=@鲍勃 A=@Amy Li C=@Tom、@鲍勃", BOB, AMY, TOM)
    assert names_to_look_up(payload) == ("bob01", "amy02", "tom03")
    message, _ = parse_message(payload, robot_code=None, now=NOW, names=NAMES)
    assert message.text == "/raci 1.1 R=<at:bob01> A=<at:amy02> C=<at:tom03>、<at:bob01>"
    assert message.mentions == (
        UserRef("dingtalk", "bob01", "鲍勃"),
        UserRef("dingtalk", "amy02", "Amy Li"),
        UserRef("dingtalk", "tom03", "Tom"),
    )


def test_without_names_several_mentions_stay_as_written() -> None:
    payload = group(" /raci 1.1 R=@鲍勃 A=@Amy", BOB, AMY)
    assert text(payload) == "/raci 1.1 R=@鲍勃 A=@Amy"


def test_one_name_missing_the_one_mention_left_is_still_placed() -> None:
    assert text(group(" R=@鲍勃 A=@Amy", BOB, AMY), {"bob01": "鲍勃"}) == "R=<at:bob01> A=<at:amy02>"


@pytest.mark.parametrize(
    ("content", "at_users", "names", "expected"),
    [
        # Two people with one name: which is which is unknown.
        (" R=@Tom A=@Tom", [BOB, TOM], {"bob01": "Tom", "tom03": "Tom"}, "R=@Tom A=@Tom"),
        # The guest has no staffId, so cannot be a member: their name stays text.
        (" R=@鲍勃 A=@Guest", [BOB, GUEST], {"bob01": "鲍勃"}, "R=<at:bob01> A=@Guest"),
        # Amy was mentioned but her name is not shown; an address is no mention.
        (" mail bob@example.com @鲍勃", [BOB, AMY], NAMES, "mail bob@example.com <at:bob01>"),
    ],
)
def test_what_stays_ambiguous_is_left_as_written(
    content: str, at_users: list[dict[str, str]], names: dict[str, str], expected: str
) -> None:
    assert text(group(content, *at_users), names) == expected


def test_a_single_mention_after_an_equals_sign_or_a_cjk_word_is_placed_without_names() -> None:
    payload = group(" /risk add high vendor owner=@Amy mitigation=second", AMY)
    assert names_to_look_up(payload) == ()  # one person: no lookup needed
    assert text(payload) == "/risk add high vendor owner=<at:amy02> mitigation=second"
    assert text(group(" 通知@鲍勃 看一下", BOB)) == "通知<at:bob01> 看一下"
    # An address is no mention: Bob's name is not shown, so his mention is appended.
    assert text(group(" mail bob@example.com", BOB)) == "mail bob@example.com <at:bob01>"


@pytest.fixture
def contacts() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{API}/v1.0/oauth2/accessToken", name="token").respond(
            json={**load("dingtalk", "oauth2_access_token_response.official-doc"), "accessToken": TOKEN}
        )

        def user(request: httpx.Request) -> httpx.Response:
            assert request.url.params["access_token"] == TOKEN
            staff_id = json.loads(request.content)["userid"]
            if staff_id not in NAMES:
                return httpx.Response(200, json={"errcode": 60121, "errmsg": "找不到该用户"})
            return httpx.Response(
                200, json={"errcode": 0, "result": {"userid": staff_id, "name": NAMES[staff_id]}}
            )

        router.post(USER_GET, name="user").mock(side_effect=user)
        yield router


def directory_of(clock: Callable[[], float] = time.monotonic) -> Directory:
    """Names looked up through the app's DingTalk client, as the webhook and Stream mode do."""
    return Directory(DingTalkClient(API, "key", "secret", "robot", oapi_domain=OAPI), clock=clock)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_names_are_looked_up_once_and_kept_for_an_hour(contacts: respx.MockRouter) -> None:
    clock = Clock()
    directory = directory_of(clock)
    assert await directory.names(["bob01", "amy02", "ghost"]) == {"bob01": "鲍勃", "amy02": "Amy Li"}
    assert await directory.names(["amy02", "bob01"]) == {"bob01": "鲍勃", "amy02": "Amy Li"}
    assert contacts["user"].call_count == 3 and contacts["token"].call_count == 1
    clock.now += 3601
    assert await directory.names(["bob01"]) == {"bob01": "鲍勃"}
    assert contacts["user"].call_count == 4 and contacts["token"].call_count == 1


async def test_a_failed_lookup_leaves_the_mentions_as_written(contacts: respx.MockRouter) -> None:
    contacts["user"].side_effect = httpx.ConnectError("contacts down")
    directory = directory_of()
    payload = group(" /raci 1.1 R=@鲍勃 A=@Amy Li", BOB, AMY)
    message, _ = await read_message(payload, directory=directory, robot_code=None, now=NOW, oapi_domain=OAPI)
    assert message.text == "/raci 1.1 R=@鲍勃 A=@Amy Li"
    assert [user.user_id for user in message.mentions] == ["bob01", "amy02"]


async def test_read_message_looks_up_only_when_several_people_are_mentioned(
    contacts: respx.MockRouter,
) -> None:
    directory = directory_of()

    async def read(payload: dict[str, Any]) -> str:
        message, _ = await read_message(
            payload, directory=directory, robot_code=None, now=NOW, oapi_domain=OAPI
        )
        return message.text

    assert await read(group(" /owner 1.1 @鲍勃", BOB)) == "/owner 1.1 <at:bob01>"
    assert not contacts["user"].called
    assert await read(group(" R=@鲍勃 A=@Amy Li", BOB, AMY)) == "R=<at:bob01> A=<at:amy02>"
    assert contacts["user"].call_count == 2


def test_mentions_dropped_from_the_text_are_appended_in_at_users_order() -> None:
    # The shape reported from live callbacks: every linked "@Name" removed from text.content.
    assert text(group(" /member add  研发", BOB)) == "/member add 研发 <at:bob01>"
    assert text(group(" 通知 Bob", BOB)) == "通知 Bob <at:bob01>"
    assert text(group(" /project pm ", BOB, AMY)) == "/project pm <at:bob01> <at:amy02>"
    assert text(group(" /status", GUEST)) == "/status"  # no staffId: nothing to append
