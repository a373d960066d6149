"""The alert rules and escalation, pure, on the real China calendar. Today is Thu 2026-12-03 unless a
case says otherwise; 12-05/06 and 11-28/29 are weekends; National Day 10-01..10-07 is off and Sat
10-10 is a make-up workday."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain import wbs
from bot.domain.alerts import (
    ActionFacts,
    BlockerFacts,
    Finding,
    MemberFacts,
    MilestoneFacts,
    Person,
    RiskFacts,
    Snapshot,
    TaskFacts,
    assess,
    recent_workdays,
    stage_for,
    workdays_unresolved,
    worth_telling,
)
from bot.domain.workdays import WorkCalendar

D = date.fromisoformat
TODAY = D("2026-12-03")
CAL = WorkCalendar()
OWNER, A, HEAD, OTHER, PM = 1, 2, 3, 4, 9


def task(
    code: str,
    *,
    start: str | None = None,
    due: str | None = None,
    progress: int = 0,
    created: str = "2026-11-20",
    responsible: tuple[int, ...] = (OWNER,),
    accountable: tuple[int, ...] = (A,),
    head: int | None = HEAD,
) -> TaskFacts:
    return TaskFacts(
        id=int(code.replace(".", "")),
        code=code,
        title=f"task {code}",
        start=D(start) if start else None,
        due=D(due) if due else None,
        progress=progress,
        status=wbs.leaf_status(progress, blocked=False),
        created=D(created),
        responsible=responsible,
        accountable=accountable,
        department_head=head,
    )


def found(snapshot: Snapshot, rule: str, today: date = TODAY, threshold: int = 20) -> dict[str, Finding]:
    return {f.subject: f for f in assess(snapshot, today, CAL, threshold=threshold) if f.rule == rule}


def only(findings: dict[str, Finding]) -> Finding | None:
    assert len(findings) <= 1, findings
    return next(iter(findings.values()), None)


# --- task overdue ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "progress", "today", "severity", "days"),
    [
        ("2026-12-02", 50, TODAY, 1, 1),
        ("2026-12-03", 50, TODAY, None, None),  # due today is not late yet
        ("2026-12-02", 100, TODAY, None, None),  # done
        ("2026-11-27", 0, D("2026-11-30"), 1, 1),  # Fri due, Mon: 1 workday late (ages are in workdays)
        ("2026-11-20", 0, TODAY, 2, 9),  # 9 workdays late: into the second working week
        (None, 0, TODAY, None, None),
    ],
)
def test_task_overdue(
    due: str | None, progress: int, today: date, severity: int | None, days: int | None
) -> None:
    finding = only(
        found(
            Snapshot((task("1.1", start="2026-11-16", due=due, progress=progress),), pms=(PM,)),
            "task_overdue",
            today,
        )
    )
    if severity is None:
        assert finding is None
        return
    assert finding is not None
    assert (finding.severity, finding.params["days"], finding.params["code"]) == (severity, days, "1.1")
    assert (finding.owners, finding.escalation, finding.pms) == ((OWNER,), (A, HEAD), (PM,))


def test_only_leaves_are_overdue_and_a_subtask_inherits_a_and_head() -> None:
    phase = task("1", due="2026-12-01", responsible=(OTHER,), accountable=(A,), head=HEAD)
    child = task("1.1", due="2026-12-02", responsible=(OWNER,), accountable=(), head=None)
    own = task("1.2", due="2026-12-02", responsible=(OWNER,), accountable=(OTHER,), head=None)
    findings = found(Snapshot((phase, child, own), pms=(PM,)), "task_overdue")
    assert set(findings) == {"task:11", "task:12"}
    assert findings["task:11"].escalation == (A, HEAD)
    assert findings["task:12"].escalation == (OTHER, HEAD)


# --- behind schedule -------------------------------------------------------------------------------

# 11-23..12-04 is 10 workdays; by the end of 12-03, 9 have passed: 90 % expected.


@pytest.mark.parametrize(
    ("progress", "threshold", "severity"),
    [
        (70, 20, 1),  # exactly 20 points behind
        (71, 20, None),
        (20, 20, 3),  # 70 behind: two more steps of 20
        (50, 30, 1),
        (65, 30, None),
    ],
)
def test_task_behind(progress: int, threshold: int, severity: int | None) -> None:
    snapshot = Snapshot((task("1.1", start="2026-11-23", due="2026-12-04", progress=progress),), pms=(PM,))
    finding = only(found(snapshot, "task_behind", threshold=threshold))
    if severity is None:
        assert finding is None
        return
    assert finding is not None
    assert finding.severity == severity
    assert finding.params["expected"] == 90 and finding.params["behind"] == 90 - progress


def test_an_overdue_task_is_not_also_behind_and_a_task_without_dates_never_is() -> None:
    snapshot = Snapshot(
        (task("1.1", start="2026-11-23", due="2026-12-02"), task("1.2", due="2026-12-20")), pms=(PM,)
    )
    assert found(snapshot, "task_behind") == {}
    assert set(found(snapshot, "task_overdue")) == {"task:11"}


# --- upstream late ---------------------------------------------------------------------------------


def chain(upstream: TaskFacts, start: str, progress: int = 0) -> Snapshot:
    downstream = task("1.2", start=start, due="2026-12-31", progress=progress, responsible=(OTHER,))
    return Snapshot((upstream, downstream), depends_on={"1.2": frozenset({"1.1"})}, pms=(PM,))


OVERDUE_UP = task("1.1", start="2026-11-23", due="2026-12-02", progress=60)  # 8 workdays, 40 % left


@pytest.mark.parametrize(
    ("upstream", "start", "progress", "severity", "finish"),
    [
        # 40 % of 8 workdays left: 4 more workdays after today, Fri, Mon, Tue, Wed
        (OVERDUE_UP, "2026-12-07", 0, 1, "2026-12-09"),
        (OVERDUE_UP, "2026-12-01", 0, 2, "2026-12-09"),  # the start has passed: worse
        (OVERDUE_UP, "2026-12-14", 0, None, None),  # beyond 5 workdays ahead (12-10): not yet
        (OVERDUE_UP, "2026-12-07", 10, None, None),  # downstream under way anyway
        (task("1.1", start="2026-11-23", due="2026-12-02", progress=100), "2026-12-07", 0, None, None),
        (task("1.1", start="2026-11-23", due="2026-12-04", progress=90), "2026-12-07", 0, None, None),
        # 25 points behind on a 15-workday task: 65 % left = 10 workdays, done 12-17
        (task("1.1", start="2026-11-23", due="2026-12-11", progress=35), "2026-12-09", 0, 1, "2026-12-17"),
        (task("1.1", start="2026-11-23", due="2026-12-11", progress=55), "2026-12-09", 0, None, None),
    ],
)
def test_upstream_late(
    upstream: TaskFacts, start: str, progress: int, severity: int | None, finish: str | None
) -> None:
    finding = only(found(chain(upstream, start, progress), "upstream_late"))
    if severity is None:
        assert finding is None
        return
    assert finding is not None and finish is not None
    assert finding.subject == "task:12" and finding.severity == severity
    assert finding.params["upstream"] == ("1.1",)
    assert finding.params["start"] == D(start) and finding.params["finish"] == D(finish)
    assert finding.audience(0) == (OTHER,)  # the downstream owner hears it


# --- blockers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opened", "today", "days", "severity"),
    [
        ("2026-12-01", TODAY, 2, 1),
        ("2026-12-02", TODAY, None, None),
        ("2026-11-27", D("2026-11-30"), None, None),  # Fri to Mon is one workday
        ("2026-11-26", D("2026-11-30"), 2, 1),
        ("2026-11-20", TODAY, 9, 2),
    ],
)
def test_blocker_open(opened: str, today: date, days: int | None, severity: int | None) -> None:
    blocked = task("1.1", start="2026-11-16", due="2026-12-31", progress=30)
    blockers = (
        BlockerFacts(11, D(opened), "waiting for the test server"),
        BlockerFacts(11, today, "a newer one"),
    )
    finding = only(found(Snapshot((blocked,), blockers=blockers, pms=(PM,)), "blocker_open", today))
    if days is None:
        assert finding is None
        return
    assert finding is not None
    assert (finding.params["days"], finding.severity) == (days, severity)
    assert finding.params["text"] == "waiting for the test server"  # the oldest one


# --- standups --------------------------------------------------------------------------------------

ALL_PROMPTS = frozenset(recent_workdays(TODAY, CAL))


@pytest.mark.parametrize(
    ("reported", "leave", "no_prompt", "streak"),
    [
        ({"2026-12-01"}, set(), set(), 2),
        ({"2026-12-03"}, set(), set(), None),
        ({"2026-12-02"}, set(), set(), None),  # missed only today
        (set(), set(), set(), 9),  # never answered since joining on 11-20
        ({"2026-12-01"}, {"2026-12-02"}, set(), None),  # on leave yesterday: one miss
        ({"2026-11-30"}, {"2026-12-02"}, set(), 2),  # leave between two misses keeps them in a row
        ({"2026-12-01"}, set(), {"2026-12-02"}, None),  # no prompt went out on 12-02
    ],
)
def test_standup_missing(
    reported: set[str], leave: set[str], no_prompt: set[str], streak: int | None
) -> None:
    member = MemberFacts(
        OWNER,
        joined=D("2026-11-20"),
        department_head=HEAD,
        reported=frozenset(map(D, reported)),
        on_leave=frozenset(map(D, leave)),
    )
    snapshot = Snapshot(
        (task("1.1", due="2026-12-31"),),
        members=(member,),
        pms=(PM,),
        standup_days=ALL_PROMPTS - set(map(D, no_prompt)),
    )
    finding = only(found(snapshot, "standup_missing"))
    if streak is None:
        assert finding is None
        return
    assert finding is not None
    assert finding.subject == f"member:{OWNER}" and finding.params == {
        "member": Person(OWNER),
        "days": streak,
    }
    assert (finding.owners, finding.escalation) == ((OWNER,), (HEAD,))


def test_the_weekend_is_not_a_missed_standup() -> None:
    monday = D("2026-11-30")
    member = MemberFacts(OWNER, joined=D("2026-11-20"), reported=frozenset({D("2026-11-26")}))
    snapshot = Snapshot(
        (task("1.1", due="2026-12-31"),),
        members=(member,),
        standup_days=frozenset(recent_workdays(monday, CAL)),
    )
    finding = only(found(snapshot, "standup_missing", monday))
    assert finding is not None and finding.params["days"] == 2  # Fri 11-27 and Mon 11-30


@pytest.mark.parametrize(
    ("joined", "created", "progress"),
    [
        ("2026-11-20", "2026-11-20", 100),  # no open work
        ("2026-12-02", "2026-11-20", 0),  # joined yesterday: only today counts
        ("2026-11-20", "2026-12-02", 0),  # their first task came yesterday
    ],
)
def test_standup_not_expected(joined: str, created: str, progress: int) -> None:
    member = MemberFacts(OWNER, joined=D(joined))
    snapshot = Snapshot(
        (task("1.1", due="2026-12-31", created=created, progress=progress),),
        members=(member,),
        standup_days=ALL_PROMPTS,
    )
    assert found(snapshot, "standup_missing") == {}


# --- risks and action items ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "status", "updated", "severity"),
    [
        ("high", "open", "2026-11-26", 1),  # 7 days
        ("high", "open", "2026-11-27", None),
        ("medium", "mitigated", "2026-11-26", 1),
        ("low", "open", "2026-11-01", None),
        ("high", "closed", "2026-11-01", None),
        ("high", "new", "2026-11-12", 3),  # 21 days: two more weeks
    ],
)
def test_risk_stale(level: str, status: str, updated: str, severity: int | None) -> None:
    risk = RiskFacts(4, 2, "capacity", level, status, OTHER, D(updated))
    members = (MemberFacts(OTHER, joined=D("2026-11-01"), department_head=HEAD),)
    finding = only(found(Snapshot(risks=(risk,), members=members, pms=(PM,)), "risk_stale"))
    if severity is None:
        assert finding is None
        return
    assert finding is not None
    assert finding.subject == "risk:4" and finding.severity == severity and finding.params["number"] == 2
    assert [finding.audience(stage) for stage in (0, 1, 2)] == [(OTHER,), (OTHER, HEAD), (OTHER, HEAD, PM)]


def test_an_ownerless_risk_goes_to_the_pms_at_once() -> None:
    risk = RiskFacts(4, 2, "capacity", "high", "open", None, D("2026-11-01"))
    finding = only(found(Snapshot(risks=(risk,), pms=(PM,)), "risk_stale"))
    assert finding is not None and finding.audience(0) == (PM,)


@pytest.mark.parametrize(
    ("due", "baseline", "status", "severity", "days"),
    [
        ("2026-12-14", "2026-12-11", "open", 1, 1),  # Fri -> Mon: one workday past the promise
        ("2026-12-21", "2026-12-11", "open", 2, 6),  # into the second working week
        ("2026-12-14", "2026-12-11", "done", None, None),
        ("2026-12-12", "2026-12-11", "open", None, None),  # a Saturday: no workday lost
        ("2026-12-10", "2026-12-11", "open", None, None),  # earlier than promised
        ("2026-12-14", None, "open", None, None),  # not in the baseline (or none set)
    ],
)
def test_milestone_slipped(
    due: str, baseline: str | None, status: str, severity: int | None, days: int | None
) -> None:
    linked = MilestoneFacts(5, 2, "launch", D(due), status, D(baseline) if baseline else None, (11,))
    loose = MilestoneFacts(6, 3, "review", D(due), status, D(baseline) if baseline else None)
    plan = (
        task("1"),
        task("1.1", responsible=(), accountable=(), head=None),
        task("1.2", responsible=(OTHER,)),
    )
    findings = found(Snapshot(plan, milestones=(linked, loose), pms=(PM,)), "milestone_slipped")
    if severity is None:
        assert findings == {}
        return
    first, second = findings["milestone:5"], findings["milestone:6"]
    assert (first.severity, first.params["days"], first.params["baseline"]) == (
        severity,
        days,
        D(baseline or ""),
    )
    # Its task's routing (1.1 inherits its phase's R, A and head); a milestone without tasks: the PMs.
    assert (first.owners, first.escalation, first.pms) == ((OWNER,), (A, HEAD), (PM,))
    assert (second.owners, second.escalation) == ((PM,), ())


@pytest.mark.parametrize(
    ("due", "status", "severity", "days"),
    [
        ("2026-12-02", "open", 1, 1),
        ("2026-12-02", "done", None, None),
        (None, "open", None, None),
        ("2026-12-03", "open", None, None),
        ("2026-11-20", "open", 2, 9),
    ],
)
def test_action_overdue(due: str | None, status: str, severity: int | None, days: int | None) -> None:
    item = ActionFacts(7, 3, "send the contract", D(due) if due else None, status, OWNER)
    finding = only(found(Snapshot(actions=(item,), pms=(PM,)), "action_overdue"))
    if severity is None:
        assert finding is None
        return
    assert finding is not None
    assert (finding.subject, finding.severity, finding.params["days"]) == ("action:7", severity, days)


def test_findings_come_in_rule_order() -> None:
    snapshot = Snapshot(
        (
            task("1.1", start="2026-11-23", due="2026-12-02"),
            task("1.2", start="2026-11-23", due="2026-12-04"),
        ),
        actions=(ActionFacts(7, 3, "x", D("2026-12-01"), "open", OWNER),),
        pms=(PM,),
    )
    assert [f.rule for f in assess(snapshot, TODAY, CAL)] == ["task_overdue", "task_behind", "action_overdue"]


# --- escalation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_seen", "today", "workdays", "stage"),
    [
        ("2026-12-03", "2026-12-03", 0, 0),
        ("2026-12-03", "2026-12-04", 1, 0),
        ("2026-12-03", "2026-12-07", 2, 1),  # over the weekend
        ("2026-12-03", "2026-12-08", 3, 1),
        ("2026-12-03", "2026-12-09", 4, 2),
        ("2026-09-30", "2026-10-09", 2, 1),  # National Day week off: 10-08, 10-09
        ("2026-09-30", "2026-10-12", 4, 2),  # Sat 10-10 is a make-up workday
        ("2026-12-05", "2026-12-07", 1, 0),  # first seen on a Saturday
    ],
)
def test_escalation_stage(first_seen: str, today: str, workdays: int, stage: int) -> None:
    unresolved = workdays_unresolved(D(first_seen), D(today), CAL)
    assert unresolved == workdays
    assert stage_for(unresolved) == stage


def test_audience_grows_by_stage_without_repeats() -> None:
    finding = Finding("task_overdue", "task:1", 1, {}, (OWNER,), (A, OWNER, HEAD), (PM, A))
    assert [finding.audience(stage) for stage in (0, 1, 2)] == [
        (OWNER,),
        (OWNER, A, HEAD),
        (OWNER, A, HEAD, PM),
    ]


@pytest.mark.parametrize(
    ("last_sent", "told", "now", "tell"),
    [
        (None, (0, 0), (1, 0), True),  # new
        ("2026-12-02", (1, 0), (1, 0), False),  # same as told
        ("2026-12-02", (2, 0), (1, 0), False),  # better
        ("2026-12-02", (1, 0), (2, 0), True),  # worse
        ("2026-12-02", (1, 0), (1, 1), True),  # escalated
    ],
)
def test_worth_telling(
    last_sent: str | None, told: tuple[int, int], now: tuple[int, int], tell: bool
) -> None:
    assert (
        worth_telling(
            last_sent=D(last_sent) if last_sent else None,
            told_severity=told[0],
            told_stage=told[1],
            severity=now[0],
            stage=now[1],
        )
        is tell
    )


def test_recent_workdays_skip_the_weekend() -> None:
    assert recent_workdays(D("2026-12-06"), CAL, 3) == [D("2026-12-04"), D("2026-12-03"), D("2026-12-02")]
    assert recent_workdays(TODAY, CAL, 2) == [TODAY, D("2026-12-02")]


def test_a_slip_on_the_critical_path_goes_to_the_pms_at_once() -> None:
    assert [stage_for(days, critical=True) for days in (0, 1, 5)] == [2, 2, 2]
    assert [stage_for(days) for days in (0, 1, 5)] == [0, 0, 2]
