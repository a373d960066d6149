"""/dashboard through really signed webhooks on Feishu and DingTalk, SQLite and PostgreSQL: the
member gets a personal link privately (the group hears only that it was sent), the link opens the
project's page in the app, `/dashboard revoke` makes it refuse (audited), a PM revokes anyone's and
nobody else can; expired, forged and removed members' links get the same refusal; the page shows the
seeded plan, filters it, escapes typed text, sends strict headers and names no outside address.
The plan is tests/services/test_plan_commands.py's: 研发 (bob) has 1.2, 2.1, 2.1.1 and 2.1.2, 市场
(carol) 1.1 and 2.2; alice is PM."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.render.charts import FONT_FILE
from bot.services import calendar as calendar_service
from bot.services import reports
from storage.models import AuditEntry, Department, JobRun, Member, Project, ReportSnapshot, StandupReport
from tests.harness import Chat, chat_runtime
from tests.services.test_plan_commands import build_plan, members_by_user, said

PUBLIC_URL = "https://crosstrack.example.com"
SECRET = "dashboard-test-secret-0123456789abcdef"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
_LINK = re.compile(re.escape(PUBLIC_URL) + r"(/d/[A-Za-z0-9_-]+)")
_URL = re.compile(r"(?i)\b(?:https?:)?//[^\s\"'<>)]+")
_GANTT_ROW = re.compile(r'<g class="task[^"]*" data-code="([^"]+)"')
_NONCE = re.compile(r'nonce="[^"]+"')
REFUSED = "链接无效或已过期"


@pytest.fixture(autouse=True)
def dashboard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """As an admin switches the dashboard on: the two settings in the environment."""
    monkeypatch.setenv("CROSSTRACK_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("CROSSTRACK_DASHBOARD_SECRET", SECRET)


async def link_of(chat: Chat, user: str) -> str:
    """`user` asks in the group; the path of the link they were sent privately."""
    await chat.post(user, "/看板")
    await chat.runtime.settle()
    sent = chat.sent()
    private = [s for s in sent if s.kind == "user"]
    assert [s.text for s in sent if s.kind != "user"] == ["已私信你一个看板链接，7 天内有效。"], sent
    assert [s.target for s in private] == [user], sent
    found = _LINK.search(private[0].text)
    assert found is not None, private[0].text
    return found[1]


def gantt_codes(html: str) -> set[str]:
    return set(_GANTT_ROW.findall(html))


def table_codes(html: str) -> set[str]:
    """The rows of the task table (with its RACI matrix)."""
    return set(re.findall(r'<tr data-code="([^"]+)"', html))


def refusal(response: httpx.Response) -> str:
    """A refused link's page, the same whatever the reason (but for its nonce)."""
    assert response.status_code == 403, response.status_code
    assert REFUSED in response.text and "/看板" in response.text
    return _NONCE.sub("", response.text)


async def revocations(chat: Chat) -> list[tuple[str, str, dict[str, int] | None]]:
    async with chat.runtime.factory() as session:
        rows = await session.execute(
            select(AuditEntry.actor_user_id, AuditEntry.entity_id, AuditEntry.after)
            .where(AuditEntry.action == "dashboard.revoke")
            .order_by(AuditEntry.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_the_link_is_sent_privately_and_opens_the_page(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        path = await link_of(chat, "bob")
        page = await chat.http.get(path)
        assert page.status_code == 200, page.text
        assert "<h1>新品发布</h1>" in page.text
        # In a 1:1 chat the answer is the link itself.
        direct = await chat.one("erin", "/看板", chat="p2p-erin", chat_type="p2p")
        assert "有效至 2026-12-02 10:00" in direct
        found = _LINK.search(direct)
        assert found is not None and (await chat.http.get(found[1])).status_code == 200


async def test_revoking_ones_own_links(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        old = await link_of(chat, "bob")
        assert "已全部失效" in await chat.one("bob", "/看板 撤销")
        refusal(await chat.http.get(old))
        people = await members_by_user(chat)
        assert await revocations(chat) == [("bob", str(people["bob"].id), {"dashboard_generation": 1})]
        assert people["bob"].dashboard_generation == 1
        # A new link opens again.
        assert (await chat.http.get(await link_of(chat, "bob"))).status_code == 200


async def test_a_pm_revokes_someone_elses_links_and_nobody_else_can(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        bobs = await link_of(chat, "bob")
        erins = await link_of(chat, "erin")

        refused = await chat.one("carol", "/看板 撤销 @bob")
        assert "抱歉" in refused and "项目经理可撤销任何人的" in refused
        assert (await chat.http.get(bobs)).status_code == 200
        assert await revocations(chat) == []

        assert "@bob 之前的看板链接已全部失效" in await chat.one("alice", "/看板 撤销 @bob")
        refusal(await chat.http.get(bobs))
        assert (await chat.http.get(erins)).status_code == 200  # only bob's
        people = await members_by_user(chat)
        assert await revocations(chat) == [("alice", str(people["bob"].id), {"dashboard_generation": 1})]


async def test_expired_forged_and_removed_links_get_one_refusal(engine: AsyncEngine, platform: str) -> None:
    now = [NOW]
    async with chat_runtime(engine, platform=platform, clock=lambda: now[0]) as chat:
        await build_plan(chat)
        bobs = await link_of(chat, "bob")
        erins = await link_of(chat, "erin")
        forged = bobs[:-2] + ("AA" if not bobs.endswith("AA") else "BB")
        await said(chat, "alice", "/成员 移除 @erin", "@erin")
        answers = {
            refusal(await chat.http.get(forged)),
            refusal(await chat.http.get(erins)),
            refusal(await chat.http.get("/d/" + "A" * 500)),
            refusal(await chat.http.get("/d/not-a-token")),
        }
        assert (await chat.http.get(bobs)).status_code == 200
        now[0] = NOW + timedelta(days=7)  # valid for 7 days, to the second
        answers.add(refusal(await chat.http.get(bobs)))
        assert len(answers) == 1  # never saying which


async def test_without_a_public_url_the_command_says_so_and_changes_nothing(
    engine: AsyncEngine, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CROSSTRACK_PUBLIC_URL")
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        async with chat.runtime.factory() as session:
            before = await session.scalar(select(func.count()).select_from(Member))
        await chat.post("zed", "/看板")  # not a member yet: would join under the `auto` policy
        await chat.runtime.settle()
        [answer] = chat.sent()
        assert answer.kind != "user" and "CROSSTRACK_PUBLIC_URL" in answer.text
        assert "什么都没有改变" in answer.text
        async with chat.runtime.factory() as session:
            assert await session.scalar(select(func.count()).select_from(Member)) == before
        assert (await chat.http.get("/d/anything")).status_code == 404


async def test_the_page_shows_the_plan_filters_it_and_is_locked_down(
    engine: AsyncEngine, platform: str
) -> None:
    async with chat_runtime(engine, platform=platform) as chat:
        await build_plan(chat)
        await chat.one("alice", "/章程 背景 <script>alert(1)</script> & <b>粗体</b>")
        await chat.one("bob", "/风险 添加 高 <img onerror> 容量不足")
        path = await link_of(chat, "carol")
        async with chat.runtime.factory() as session:
            departments = {d.name: d.id for d in await session.scalars(select(Department))}
            project = await session.scalar(select(Project))
        people = await members_by_user(chat)

        page = await chat.http.get(path)
        html = page.text
        every = {"1", "1.1", "1.2", "2", "2.1", "2.1.1", "2.1.2", "2.2"}
        assert gantt_codes(html) == table_codes(html) == every
        assert "◆ 设计评审通过" in html and "<b>R1</b>" in html
        # Typed text shows as typed, never as markup.
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;粗体&lt;/b&gt;" in html
        assert "&lt;img onerror&gt; 容量不足" in html
        assert "<script>alert" not in html and "<img" not in html and "<b>粗体" not in html
        # The token is in the URL: no referrer, no cache, no framing, nothing but the page itself.
        headers = page.headers
        assert headers["referrer-policy"] == "no-referrer" and headers["cache-control"] == "no-store"
        assert headers["x-frame-options"] == "DENY"
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        nonce = re.search(r"'nonce-([^']+)'", policy)
        assert nonce is not None
        assert html.count("<script") == 1 and f'<script nonce="{nonce[1]}">' in html
        assert html.count("<style") == 1 and f'<style nonce="{nonce[1]}">' in html
        assert _URL.findall(html) == []  # no CDN, no web font service, no address at all
        # Chinese in the device's own font, else the bundled one, served by the app itself.
        assert 'url("assets/cjk.otf")' in html and "font-src 'self'" in policy
        font = await chat.http.get(path.rsplit("/", 1)[0] + "/assets/cjk.otf")
        assert font.status_code == 200 and font.headers["content-type"] == "font/otf"
        assert font.content == FONT_FILE.read_bytes()
        assert set(re.findall(r'\bhref="([^"]*)"', html)) <= {f"#{s}" for s in _SECTIONS}
        assert re.search(r"\b(?:src|action)=", html) is None and " style=" not in html

        research = await chat.http.get(path, params={"dept": departments["研发"]})
        assert gantt_codes(research.text) == {"1.2", "2.1", "2.1.1", "2.1.2"}
        assert table_codes(research.text) == {"1.2", "2.1", "2.1.1", "2.1.2"}
        assert f'<option value="{departments["研发"]}" selected>研发</option>' in research.text
        assert "容量不足" in research.text  # bob's risk: bob is in 研发
        ginas = await chat.http.get(path, params={"owner": people["gina"].id})
        assert gantt_codes(ginas.text) == table_codes(ginas.text) == {"2.2"}
        assert "容量不足" not in ginas.text
        # Not a department of this project (nor a number): the whole plan, not a guess.
        for junk in ("999999", "-1", "1e3", "研发", "9" * 40):
            unfiltered = await chat.http.get(path, params={"dept": junk})
            assert unfiltered.status_code == 200 and len(gantt_codes(unfiltered.text)) == 8
        assert project is not None and project.name in html


_SECTIONS = (
    "charter",
    "gantt",
    "raci",
    "risks",
    "milestones",
    "changes",
    "reports",
    "participation",
    "audit",
)


async def test_changes_reports_and_the_projects_language(engine: AsyncEngine, platform: str) -> None:
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await build_plan(chat)
        await said(chat, "alice", "/基线 设定 首版", "已设定基线 1")
        await chat.say("bob", "/变更 1.2 截止=12-22 原因 设计<返工>")
        await chat.say("alice", "/变更 批准 CR-1")
        async with chat.runtime.factory() as session, session.begin():
            project = await session.scalar(select(Project))
            assert project is not None
            calendar = await calendar_service.for_project(session, project.id)
            report = await reports.build(session, project, today=NOW.date(), now=NOW, calendar=calendar)
            await reports.store(session, project=project, report=report, markdown="", now=NOW)
            # A report stored by an older version, in a form this one does not read: its text shows.
            session.add(
                ReportSnapshot(
                    project_id=project.id,
                    week_start=date(2026, 11, 16),
                    generated_at=NOW,
                    content={"project_name": "新品发布", "state": "late"},
                    markdown="上周的周报 <正文>",
                )
            )
        path = await link_of(chat, "dan")
        html = (await chat.http.get(path)).text
        assert "CR-1" in html and "设计&lt;返工&gt;" in html and "已批准" in html
        # The milestone against the baseline: due 12-20 then, pushed by the approved change.
        assert re.search(r"设计评审通过</td>\s*<td class=\"code\">2026-12-20</td>", html)
        assert "2026-11-23 – 2026-11-29" in html and "2026-11-16 – 2026-11-22" in html
        assert "上周的周报 &lt;正文&gt;" in html

        await said(chat, "alice", "/设置 语言 en", "English")
        html = (await chat.http.get(path)).text
        assert '<html lang="en">' in html and "Risk register" in html and "Change requests" in html
        assert "风险登记册" not in html


async def test_the_heatmap_shows_each_members_standups_and_figures(
    engine: AsyncEngine, platform: str
) -> None:
    """bob answered Monday's standup 12 minutes after the prompt and was not asked on Tuesday (his
    work did not exist yet): his row and 研发's say so, and carol, never asked, has dashes."""
    async with chat_runtime(engine, platform=platform, now=NOW) as chat:
        await build_plan(chat)
        monday, tuesday = date(2026, 11, 23), date(2026, 11, 24)
        bob = (await members_by_user(chat))["bob"]
        async with chat.runtime.factory() as session, session.begin():
            project = await session.scalar(select(Project))
            assert project is not None
            for day in (monday, tuesday):
                prompt = datetime.combine(day, time(1, 0), tzinfo=UTC)  # 09:00 in Shanghai
                session.add(
                    JobRun(
                        job="standup-prompt",
                        project_id=project.id,
                        business_date=day,
                        status="done",
                        started_at=prompt,
                    )
                )
            replied = datetime(2026, 11, 23, 1, 12, tzinfo=UTC)
            session.add(
                StandupReport(
                    project_id=project.id,
                    member_id=bob.id,
                    business_date=monday,
                    text="昨天：设计 今天：评审",
                    parsed={},
                    created_at=replied,
                    updated_at=replied,
                )
            )
        html = (await chat.http.get(await link_of(chat, "dan"))).text

    section = html[html.index('<table class="heat">') :]
    section = section[: section.index("</table>")]
    rows = {
        row[0]: row[1:]
        for row in (
            re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)
            for row in re.findall(r"<tr>(.*?)</tr>", section, flags=re.S)
        )
    }
    bob_row = next(cells for name, cells in rows.items() if name.startswith(bob.display_name))
    assert bob_row[:5] == ["1/1 (100%)", "1", "12 分钟", "–", "–"], bob_row
    assert 'title="' + f"{bob.display_name} · 2026-11-23 · 已交站会" + '"' in section
    assert rows["研发"][:5] == ["1/1 (100%)", "1", "12 分钟", "–", "–"], rows
    carol_row = next(cells for name, cells in rows.items() if name.startswith("carol"))
    assert carol_row[:2] == ["–", "–"], carol_row
