"""Participation and timeliness rules (bot/domain/participation.py), on the official China calendar
around National Day 2026: Mon 09-28 to Sun 10-11 has the working days 09-28, 09-29, 09-30, 10-08,
10-09 and the make-up Saturday 10-10; 10-01 to 10-07 are holidays."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.participation import Participation, participation
from bot.domain.snapshot import DepartmentRec, MemberRec, ProgressRec, ProjectSnapshot, RaciRec, TaskRec
from bot.domain.workdays import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
SINCE, UNTIL, TODAY = date(2026, 9, 28), date(2026, 10, 11), date(2026, 10, 12)
WORKDAYS = [date(2026, 9, 28), date(2026, 9, 29), date(2026, 9, 30), date(2026, 10, 8), date(2026, 10, 9)]
MAKEUP = date(2026, 10, 10)
ASKED = [*WORKDAYS, MAKEUP]
LONG_AGO = date(2026, 9, 1)


def at(day: date, hour: int = 9, minute: int = 30) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


def member(
    member_id: int, name: str, department: int | None = None, joined: datetime | None = None
) -> MemberRec:
    return MemberRec(member_id, "feishu", f"u{member_id}", name, department, "member", joined or at(LONG_AGO))


def task(
    task_id: int, owner: int | None, due: date | None, *, progress: int = 50, created: datetime | None = None
) -> TaskRec:
    return TaskRec(
        task_id,
        f"1.{task_id}",
        None,
        f"任务{task_id}",
        owner,
        None,
        None,
        due,
        progress,
        "done" if progress >= 100 else "in_progress",
        created or at(LONG_AGO),
    )


def snapshot(
    members: Iterable[MemberRec],
    tasks: Iterable[TaskRec],
    *,
    updates: Iterable[ProgressRec] = (),
    departments: Iterable[DepartmentRec] = (),
    raci: Iterable[RaciRec] = (),
    removed: Iterable[MemberRec] = (),
) -> ProjectSnapshot:
    return ProjectSnapshot(
        project_id=1,
        end=None,
        calendar=WorkCalendar(),
        departments=tuple(departments),
        members=tuple(members),
        tasks=tuple(tasks),
        depends_on={},
        raci=tuple(raci),
        milestones=(),
        blockers=(),
        risks=(),
        actions=(),
        baseline=None,
        updates=tuple(updates),
        removed_members=tuple(removed),
    )


def compute(
    snap: ProjectSnapshot,
    replies: Mapping[tuple[int, date], datetime],
    *,
    leaves: Iterable[tuple[int, date, date]] = (),
    prompts: Mapping[date, datetime] | None = None,
    today: date = TODAY,
    closed_through: date | None = None,
) -> Participation:
    return participation(
        snap,
        prompts={day: at(day) for day in ASKED} if prompts is None else prompts,
        replies=replies,
        leaves=leaves,
        local_day=lambda moment: moment.astimezone(TZ).date(),
        since=SINCE,
        until=UNTIL,
        today=today,
        is_workday=snap.calendar,
        closed_through=closed_through,
    )


def answered(member_id: int, days: Iterable[date], minutes: int = 10) -> dict[tuple[int, date], datetime]:
    return {(member_id, day): at(day) + timedelta(minutes=minutes) for day in days}


def test_holidays_are_off_and_the_makeup_saturday_is_asked() -> None:
    snap = snapshot([member(1, "bob")], [task(1, 1, None)])
    result = compute(snap, answered(1, WORKDAYS))
    (bob,) = result.members
    assert (bob.rates.asked, bob.rates.answered) == (6, 5)
    assert result.marks[(1, date(2026, 10, 1))] == "off"
    assert result.marks[(1, date(2026, 10, 4))] == "off"
    assert result.marks[(1, MAKEUP)] == "missed"
    assert result.marks[(1, UNTIL)] == "off"  # Sunday
    assert bob.rates.response_rate == 5 / 6
    assert bob.rates.streak == 0  # the last asked day was missed
    assert len(result.days) == 14 and result.days[0] == SINCE and result.days[-1] == UNTIL


def test_leave_days_are_not_asked_and_do_not_break_the_streak() -> None:
    snap = snapshot([member(1, "bob")], [task(1, 1, None)])
    days = [date(2026, 9, 28), date(2026, 10, 8), date(2026, 10, 9), MAKEUP]
    result = compute(snap, answered(1, days), leaves=[(1, date(2026, 9, 29), date(2026, 10, 2))])
    rates = result.members[0].rates
    assert (rates.asked, rates.answered, rates.response_rate, rates.streak) == (4, 4, 1.0, 4)
    assert result.marks[(1, date(2026, 9, 29))] == "leave"
    assert result.marks[(1, date(2026, 9, 30))] == "leave"
    assert result.marks[(1, date(2026, 10, 1))] == "off"  # a holiday, leave or not


def test_streak_counts_back_from_the_last_asked_day() -> None:
    snap = snapshot([member(1, "bob")], [task(1, 1, None)])
    result = compute(snap, answered(1, [date(2026, 9, 28), date(2026, 9, 30), date(2026, 10, 8), MAKEUP]))
    # missed 09-29 and 10-09: the run since 10-09 is the make-up day alone
    assert result.members[0].rates.streak == 1
    result = compute(snap, answered(1, ASKED[2:]))
    assert result.members[0].rates.streak == 4


def test_median_reply_minutes_after_the_prompt() -> None:
    snap = snapshot([member(1, "bob")], [task(1, 1, None)])
    replies = {
        (1, date(2026, 9, 28)): at(date(2026, 9, 28), 9, 40),  # 10 minutes
        (1, date(2026, 9, 29)): at(date(2026, 9, 29), 11, 30),  # 120
        (1, date(2026, 9, 30)): at(date(2026, 9, 30), 9, 50),  # 20
        (1, date(2026, 10, 8)): at(date(2026, 10, 8), 9, 0),  # before the prompt: 0
        (1, date(2026, 10, 9)): at(date(2026, 10, 9), 18, 0),  # no prompt known that day
    }
    prompts = {day: at(day) for day in ASKED if day != date(2026, 10, 9)}
    rates = compute(snap, replies, prompts=prompts).members[0].rates
    assert rates.median_reply_minutes == 15  # of 0, 10, 20, 120
    assert rates.answered == 5  # the reply without a known prompt counts, outside the median
    assert compute(snap, {}).members[0].rates.median_reply_minutes is None


def test_no_prompt_no_standup_unless_answered() -> None:
    snap = snapshot([member(1, "bob")], [task(1, 1, None)])
    prompts = {day: at(day) for day in ASKED if day != date(2026, 9, 29)}
    result = compute(snap, {}, prompts=prompts)
    assert result.marks[(1, date(2026, 9, 29))] == "off"
    assert result.members[0].rates.asked == 5


def test_late_days_are_working_days_and_on_time_is_by_the_due_date() -> None:
    done_late = task(1, 1, date(2026, 9, 30), progress=100)  # finished 10-08: 1 working day late
    open_late = task(2, 1, date(2026, 9, 29))  # open: 09-30, 10-08, 10-09, 10-10 and today 10-12
    done_early = task(3, 1, date(2026, 10, 9), progress=100)  # finished 10-09: on time
    done_before_history = task(4, 1, date(2026, 10, 8), progress=100)  # no update in the window
    not_yet_due = task(5, 1, date(2026, 10, 20))
    reopened = task(6, 1, date(2026, 10, 11), progress=100)  # done 10-09, reopened, done again 10-12
    updates = [
        ProgressRec(1, 60, 100, at(date(2026, 10, 8), 15)),
        ProgressRec(3, 0, 100, at(date(2026, 10, 9), 23, 50)),
        ProgressRec(6, 90, 100, at(date(2026, 10, 9), 10)),
        ProgressRec(6, 100, 80, at(date(2026, 10, 10), 10)),
        ProgressRec(6, 80, 100, at(date(2026, 10, 12), 10)),
    ]
    snap = snapshot(
        [member(1, "bob")],
        [done_late, open_late, done_early, done_before_history, not_yet_due, reopened],
        updates=updates,
    )
    rates = compute(snap, {}).members[0].rates
    assert (rates.due, rates.on_time) == (5, 2)
    assert rates.on_time_rate == 2 / 5
    # 1 (task 1) + 5 (task 2) + 1 (task 6: 10-11 is a Sunday, 10-12 a working day)
    assert rates.late_days_avg == 7 / 3


def test_nothing_due_gives_no_rates() -> None:
    rates = compute(snapshot([member(1, "bob")], []), {}).members[0].rates
    assert (rates.due, rates.on_time_rate, rates.late_days_avg) == (0, None, None)
    assert (rates.asked, rates.response_rate) == (0, None)  # no open work: never asked


def test_asked_only_while_answering_for_open_work() -> None:
    started = task(1, 1, None, created=at(date(2026, 9, 30), 8))  # there for 09-30's prompt
    finished = task(2, 1, None, progress=100, created=at(date(2026, 9, 28), 10))  # after 09-28's prompt
    snap = snapshot(
        [member(1, "bob")], [started, finished], updates=[ProgressRec(2, 50, 100, at(date(2026, 9, 29), 17))]
    )
    result = compute(snap, {})
    marks = [result.marks[(1, day)] for day in ASKED]
    # 09-28: neither task yet; 09-29: the second task (finished that evening); then the first one
    assert marks == ["off", "missed", "missed", "missed", "missed", "missed"]
    only_finished = snapshot(
        [member(1, "bob")], [finished], updates=[ProgressRec(2, 50, 100, at(date(2026, 9, 29), 17))]
    )
    result = compute(only_finished, answered(1, [date(2026, 10, 8)]))
    assert [result.marks[(1, day)] for day in ASKED] == ["off", "missed", "off", "answered", "off", "off"]
    assert (result.members[0].rates.asked, result.members[0].rates.answered) == (2, 1)


def test_a_member_who_joined_mid_window_counts_from_joining() -> None:
    late_joiner = member(2, "dan", joined=at(date(2026, 10, 8), 10))  # after that day's prompt
    snap = snapshot([member(1, "bob"), late_joiner], [task(1, 1, None), task(2, 2, None)])
    result = compute(snap, answered(2, [date(2026, 10, 9), MAKEUP]))
    dan = next(m for m in result.members if m.member_id == 2)
    assert (dan.rates.asked, dan.rates.answered, dan.rates.streak) == (2, 2, 2)
    assert result.marks[(2, date(2026, 9, 28))] == "off"
    assert result.marks[(2, date(2026, 10, 8))] == "off"


def test_removed_members_are_not_listed() -> None:
    gone = member(3, "eve")
    snap = snapshot([member(1, "bob")], [task(1, 1, None), task(2, 3, None)], removed=[gone])
    result = compute(snap, answered(3, ASKED))
    assert [m.name for m in result.members] == ["bob"]
    assert not any(member_id == 3 for member_id, _ in result.marks)
    assert sum(d.rates.answered for d in result.departments) == 0


def test_today_is_not_missed_before_its_standup_is_over() -> None:
    snap = snapshot([member(1, "bob")], [task(1, 1, None)])
    today = date(2026, 10, 9)
    assert compute(snap, {}, today=today).marks[(1, today)] == "off"
    assert compute(snap, {}, today=today, closed_through=today).marks[(1, today)] == "missed"
    assert compute(snap, {}, today=today).marks[(1, MAKEUP)] == "off"  # after today


def test_departments_aggregate_their_members() -> None:
    departments = [DepartmentRec(10, "研发", None), DepartmentRec(11, "市场", None)]
    people = [member(1, "zoe", 10), member(2, "amy", 10), member(3, "kim", 11), member(4, "pm")]
    shared = task(1, None, date(2026, 9, 29))  # open past due, R: zoe and amy
    tasks = [shared, task(2, 3, None), task(3, 2, None), task(4, 1, None)]
    raci = [RaciRec(1, "R", 1), RaciRec(1, "R", 2)]
    replies = {
        **answered(1, ASKED, minutes=10),
        **answered(2, ASKED[:-1], minutes=30),
        **answered(3, ASKED, minutes=60),
    }
    result = compute(snapshot(people, tasks, departments=departments, raci=raci), replies)
    assert [(m.name, m.department) for m in result.members] == [
        ("amy", "研发"),
        ("zoe", "研发"),
        ("kim", "市场"),
        ("pm", None),
    ]
    by_name = {d.department: d.rates for d in result.departments}
    assert list(by_name) == ["研发", "市场", ""]
    research = by_name["研发"]
    assert (research.asked, research.answered) == (12, 11)
    assert research.median_reply_minutes == 10  # over 6 tens and 5 thirties
    assert (research.due, research.on_time, research.late_days_avg) == (1, 0, 5.0)  # the shared task, once
    assert research.streak == 0  # amy missed the last day
    assert by_name["市场"].streak == 6
    assert by_name[""].asked == 0
