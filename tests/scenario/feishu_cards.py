"""Card clicks on a fake Feishu tenant: `card.action.trigger` callbacks built on the documented
samples, signed and encrypted like every delivery, posted to /webhooks/feishu/cards; and a view of
what the bot sent that keeps each message's id (the id a click names)."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.card_clicks import CardClicks
from bot.main import create_app
from tests.samples import load
from tests.scenario.feishu import VERIFICATION_TOKEN, Tenant, feishu_api, feishu_settings


@dataclass(frozen=True)
class Sent:
    """One message the bot sent: its Feishu id, where it went and its content."""

    message_id: str
    target: str
    msg_type: str
    content: dict[str, Any]

    @property
    def text(self) -> str:
        if self.msg_type == "text":
            return str(self.content["text"])
        return (
            self.content["header"]["title"]["content"] + "\n" + self.content["body"]["elements"][0]["content"]
        )


class Clicker:
    """Drives a tenant without ever clearing its record of sent messages, so that the fake API's
    message ids (`om_bot_<n>`) stay unique."""

    def __init__(self, tenant: Tenant, app: FastAPI) -> None:
        self.tenant = tenant
        self.clicks: CardClicks = app.state.card_clicks
        self.seen = len(tenant.api.sent)

    def sent(self) -> list[Sent]:
        """Every message sent since the last call."""
        found = [
            Sent(f"om_bot_{index + 1}", body["_target"], body["msg_type"], json.loads(body["content"]))
            for index, body in enumerate(self.tenant.api.sent)
        ][self.seen :]
        self.seen = len(self.tenant.api.sent)
        return found

    async def say(self, sender: str, text: str, **options: Any) -> list[Sent]:
        response = await self.tenant.deliver(self.tenant.message_event(sender, text, **options))
        assert response.status_code == 200, response.text
        await self.tenant.runtime.settle()
        return self.sent()

    async def click(
        self,
        operator: str,
        card: Sent,
        *,
        chat: str,
        group: int,
        button: int,
        form_value: dict[str, Any] | None = None,
        event_id: str | None = None,
        **sign: Any,
    ) -> httpx.Response:
        payload = click_payload(
            operator,
            card.message_id,
            chat=chat,
            group=group,
            button=button,
            form_value=form_value,
            event_id=event_id,
        )
        return await self.post(payload, **sign)

    async def post(self, payload: dict[str, Any], **sign: Any) -> httpx.Response:
        raw, headers = self.tenant.signed(payload, **sign)
        return await self.tenant.client.post("/webhooks/feishu/cards", content=raw, headers=headers)


@asynccontextmanager
async def card_tenant(engine: AsyncEngine) -> AsyncIterator[Clicker]:
    """The whole app (lifespan included) wired to a fake Feishu, as `feishu_tenant`, with its clicks."""
    async with feishu_api() as api:
        app = create_app(feishu_settings(engine))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://crosstrack.test") as client:
                yield Clicker(Tenant(client, app.state.runtime, api), app)


def click_payload(
    operator: str,
    message_id: str,
    *,
    chat: str,
    group: int,
    button: int,
    form_value: dict[str, Any] | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A click on button `button` of group `group` (see adapters/feishu/cards.py), built on the cli's
    plain button click with the form values of the documented callback's shape."""
    payload = copy.deepcopy(load("feishu", "card_action_trigger_button_larksuite_cli_test"))
    payload["header"].update(
        event_id=event_id or uuid.uuid4().hex,
        token=VERIFICATION_TOKEN,
        create_time=str(int(time.time() * 1000)),
    )
    event = payload["event"]
    event["operator"] = {"open_id": operator}
    event["action"].update(
        value={"g": group, "b": button}, name=f"b{group}_{button}", form_value=form_value or {}
    )
    event["context"] = {"open_message_id": message_id, "open_chat_id": chat}
    return payload


def elements(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every element of a card, containers' children included, depth first."""
    found: list[dict[str, Any]] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            found.append(item)
            walk(item.get("elements", []))
            for column in item.get("columns", []):
                walk([column])

    walk(card["body"]["elements"])
    return found


def tags(card: dict[str, Any]) -> list[str]:
    return [element["tag"] for element in elements(card)]
