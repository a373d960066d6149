"""Fuzzing the Feishu endpoints of the running app: a few hundred seeded requests built on the
documented samples, valid and mutated (wrong types, long strings, deep nesting, NULs, invalid UTF-8,
lone surrogates, huge numbers, missing keys), signed and encrypted or unsigned, forged, stale and
tampered. None may get a 5xx or hang, and a refused one (or one not signed) stores nothing."""

from __future__ import annotations

import asyncio
import copy
import json
import random
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import InboundEventRecord, OutboxMessage
from tests.samples import load
from tests.scenario.feishu import VERIFICATION_TOKEN, Tenant, feishu_tenant
from tests.scenario.feishu_cards import click_payload

SEED = 20261206
HANG_SECONDS = 10  # a request (or the processing it starts) still running by then has hung
_SLOT = "__fuzz__"
COMMANDS = ("/项目 新建 模糊", "/帮助", "/状态", "hello", "/任务 添加 1.1 接口 截止=12-31", "")


def _nodes(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in a JSON value, depth first."""
    found: list[tuple[Any, Any]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        found.append((value, key))
        found.extend(_nodes(child))
    return found


def _strings(value: Any) -> list[tuple[Any, Any]]:
    return [(parent, key) for parent, key in _nodes(value) if isinstance(parent[key], str)]


# Mutations of the payload; a `bytes` result replaces the slot's JSON string in the serialised body.
Mutation = Callable[[random.Random, Any], bytes | None]


def _wrong_type(rng: random.Random, payload: Any) -> None:
    parent, key = rng.choice(_nodes(payload))
    parent[key] = rng.choice([12345, -1, None, True, [], {}, 1.5, ["x"], {"a": "b"}])


def _long_string(rng: random.Random, payload: Any) -> None:
    parent, key = rng.choice(_strings(payload))
    parent[key] = rng.choice("x界\t ") * rng.choice([65, 129, 201, 2_001, 10_001, 40_000])


def _nul(rng: random.Random, payload: Any) -> None:
    parent, key = rng.choice(_strings(payload))
    at = rng.randint(0, len(parent[key]))
    parent[key] = parent[key][:at] + "\x00" + parent[key][at:]


def _missing_key(rng: random.Random, payload: Any) -> None:
    parent, key = rng.choice([(p, k) for p, k in _nodes(payload) if isinstance(p, dict)])
    del parent[key]


def _in_slot(token: Callable[[random.Random], bytes]) -> Mutation:
    def mutate(rng: random.Random, payload: Any) -> bytes:
        parent, key = rng.choice(_nodes(payload))
        parent[key] = _SLOT
        return token(rng)

    return mutate


MUTATIONS: list[Mutation | None] = [
    None,
    None,
    _wrong_type,
    _long_string,
    _nul,
    _missing_key,
    _in_slot(lambda rng: b"[" * (n := rng.choice([150, 250, 5_000, 50_000])) + b"]" * n),
    _in_slot(lambda rng: b'{"a":' * (n := rng.choice([250, 20_000])) + b"1" + b"}" * n),
    _in_slot(lambda rng: b"9" * rng.choice([17, 20, 400, 5_000])),
    _in_slot(lambda rng: rng.choice([b"1e999", b"-1e999", b"NaN", b"Infinity"])),
    _in_slot(lambda rng: rng.choice([b'"\\ud800"', b'"a\\udc80b"', b'"\\u0000"'])),
    _in_slot(lambda rng: b'"\xff\xfe' + bytes(rng.randrange(128, 256) for _ in range(4)) + b'"'),
]


def _payload(rng: random.Random, tenant: Tenant) -> tuple[str, dict[str, Any]]:
    """A valid delivery for one of the two endpoints, on the samples."""
    kind = rng.choice(["message", "message", "p2p", "added", "check", "click", "click"])
    if kind in ("message", "p2p"):
        event = tenant.message_event(
            f"ou_{rng.randrange(5)}",
            rng.choice(COMMANDS),
            chat_type="p2p" if kind == "p2p" else "group",
            mentions={"bob": "ou_bob"} if rng.random() < 0.3 else None,
        )
        return "/webhooks/feishu/events", event
    if kind == "added":
        added = copy.deepcopy(load("feishu", "im_chat_member_bot_added_v1"))
        added["header"].update(token=VERIFICATION_TOKEN, event_id=f"ev_{rng.getrandbits(64):x}")
        return "/webhooks/feishu/events", added
    if kind == "check":
        check = {**load("feishu", "url_verification_plain"), "token": VERIFICATION_TOKEN}
        return rng.choice(["/webhooks/feishu/events", "/webhooks/feishu/cards"]), check
    click = click_payload(
        f"ou_{rng.randrange(5)}",
        f"om_bot_{rng.randrange(1, 4)}",
        chat="oc_team",
        group=rng.randrange(3),
        button=rng.randrange(3),
        form_value={"g0_t0": "50%", "g0_due": "2026-12-09 +0800", "g1_s": ["a", "b"]},
    )
    return "/webhooks/feishu/cards", click


def _body(rng: random.Random, payload: dict[str, Any]) -> tuple[bytes, bool]:
    """The serialised payload, mutated or not."""
    mutation = rng.choice(MUTATIONS)
    token = mutation(rng, payload) if mutation is not None else None
    raw = json.dumps(payload, ensure_ascii=rng.random() < 0.5).encode()
    if token is not None:
        raw = raw.replace(json.dumps(_SLOT).encode(), token, 1)
    return raw, mutation is not None


def _forge(rng: random.Random, tenant: Tenant, plaintext: bytes) -> tuple[str, bytes, dict[str, str]]:
    """A delivery that is not (validly) signed."""
    how = rng.choice(["plain", "unsigned", "signature", "stale", "tampered", "incomplete"])
    raw, headers = tenant.sealed(plaintext)
    if how == "plain":
        return how, plaintext, {"content-type": "application/json"}
    if how == "unsigned":
        return how, raw, {"content-type": "application/json"}
    if how == "signature":
        headers["X-Lark-Signature"] = f"{rng.getrandbits(256):064x}"
    elif how == "stale":
        raw, headers = tenant.sealed(plaintext, timestamp=int(time.time()) - rng.choice([301, 3_600, 10**9]))
    elif how == "tampered":
        at = rng.randrange(len(raw))
        raw = raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1 :]
    else:
        del headers[rng.choice(["X-Lark-Request-Timestamp", "X-Lark-Request-Nonce", "X-Lark-Signature"])]
    return how, raw, headers


async def _stored(tenant: Tenant) -> tuple[int, ...]:
    """Claimed events, card claims among them, outbox rows."""
    counts = select(
        select(func.count()).select_from(InboundEventRecord).scalar_subquery(),
        select(func.count()).where(InboundEventRecord.message_id.like("card:%")).scalar_subquery(),
        select(func.count()).select_from(OutboxMessage).scalar_subquery(),
    )
    async with tenant.runtime.factory() as session:
        return tuple((await session.execute(counts)).one())


@pytest.mark.parametrize(("unsigned", "requests"), [(False, 150), (True, 50)])
async def test_fuzzed_deliveries_never_break_the_service(
    engine: AsyncEngine, unsigned: bool, requests: int
) -> None:
    rng = random.Random(SEED + unsigned)
    outcomes: dict[str, int] = {}
    async with feishu_tenant(engine, unsigned=unsigned) as tenant:
        stored = await _stored(tenant)
        for number in range(requests):
            path, payload = _payload(rng, tenant)
            plaintext, mutated = _body(rng, payload)
            if unsigned or rng.random() < 0.6:
                how, (raw, headers) = "signed", tenant.sealed(plaintext)
            else:
                how, raw, headers = _forge(rng, tenant, plaintext)
            response = await asyncio.wait_for(
                tenant.client.post(path, content=raw, headers=headers), HANG_SECONDS
            )
            await asyncio.wait_for(tenant.runtime.settle(), HANG_SECONDS)
            status = response.status_code
            case = f"#{number} {how} {'mutated' if mutated else 'valid'} {path}: {status} {raw[:300]!r}"
            assert status in (200, 400, 401), case
            before, stored = stored, await _stored(tenant)
            if how != "signed" or status != 200:
                assert stored == before, case
            if how == "signed" and not mutated:
                assert status == 200, case
            outcomes[f"{how} {status}"] = outcomes.get(f"{how} {status}", 0) + 1
    # The fuzz reached past authentication both ways: accepted and refused as malformed.
    assert (
        outcomes.get("signed 200", 0) > requests // 10 and outcomes.get("signed 400", 0) > requests // 10
    ), outcomes
