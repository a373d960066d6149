"""User text placed in our replies (bot/render/safe.py) and which ids can be people (adapters/models.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.models import plausible_user_id
from bot.render.safe import inert


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("[点我](https://evil.example)", "［点我］(https://evil.example)"),
        ("![x](img_v2_1)", "!［x］(img_v2_1)"),
        ("[a][ref] and [ref]: https://evil.example", "［a］［ref］ and ［ref］: https://evil.example"),
        ('<at user_id="all"></at>', '＜at user_id="all">＜/at>'),
        ("<at id=all></at> <font color=red>x</font>", "＜at id=all>＜/at> ＜font color=red>x＜/font>"),
        ("<https://evil.example>", "＜https://evil.example>"),
        ("<at:all> <at:ou_bob>", "＜at:all> <at:ou_bob>"),
        ("# 标题\n  ## 二级", "＃ 标题\n  ＃# 二级"),
        # Ordinary text is left as typed.
        ("[紧急] 1 < 2, a > b, #1, 50%*2, 里程碑 #3", "[紧急] 1 < 2, a > b, #1, 50%*2, 里程碑 #3"),
        ("<名称> 等 @所有人", "<名称> 等 @所有人"),
    ],
)
def test_typed_markup_is_shown_as_text(typed: str, shown: str) -> None:
    assert inert(typed) == shown


@given(st.text())
def test_inert_is_idempotent(text: str) -> None:
    assert inert(inert(text)) == inert(text)


@pytest.mark.parametrize(
    "user_id", ["ou_7d8a6e6df7621556ce0d21922b676706ccs", "manager4921", "alice", "张三"]
)
def test_person_ids(user_id: str) -> None:
    assert plausible_user_id(user_id)


@pytest.mark.parametrize(
    "user_id", ["all", "ALL", "@all", "everyone", "here", "所有人", "", 'a"b', "a b", "<x>", "a@b", "x" * 200]
)
def test_ids_that_are_not_people(user_id: str) -> None:
    assert not plausible_user_id(user_id)
