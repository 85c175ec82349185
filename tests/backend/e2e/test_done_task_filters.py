"""已办 narrowed over HTTP on SQLite and PostgreSQL: by the day decided (the college's calendar
day, not UTC's), by what was decided and by matter; a bad filter is a 400 and lists nothing."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from tests.support.backend_api import pending_task
from tests.support.dates import COLLEGE_TZ, college_today
from tests.support.forms import staff_leave, submission

APPLICANT, HEAD, LI = "t2001", "t2101", "t1204"  # 张伟, 韩松涛 (音乐系负责人), 李明


async def leave(api, reason: str) -> dict:
    app = await api.post("/applications", APPLICANT, json=submission("staff_leave", staff_leave(reason=reason)),
                         expect=201)
    return await pending_task(api, HEAD, app["number"])


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """A moment on the college's clock, in UTC as the backend's clock gives it."""
    local = datetime.combine(college_today() + timedelta(days=days), time(hour, minute), tzinfo=COLLEGE_TZ)
    return local.astimezone(timezone.utc)


async def done(api, query: str = "") -> list[tuple[int, str]]:
    items = (await api.get(f"/tasks?status=done{query}", HEAD))["items"]
    return sorted((x["id"], x["decision"]) for x in items)


async def test_done_tasks_are_filtered_by_decision_day_outcome_and_matter(api, clock):
    first, second, third = [await leave(api, f"家中有事需要处理第{i}件") for i in (1, 2, 3)]
    clock.value = at(1, 23, 30)  # late on day 1 in the college
    await api.post(f"/tasks/{first['id']}/approve", HEAD, json={"opinion": "同意"})
    clock.value = at(2, 0, 10)  # just after the college's midnight: day 2 there, still day 1 in UTC
    await api.post(f"/tasks/{second['id']}/return", HEAD, json={"opinion": "请补充材料"})
    clock.value = at(3, 9)
    await api.post(f"/tasks/{third['id']}/transfer", HEAD, json={"to": LI})
    day1, day2, day3 = (str(college_today() + timedelta(days=d)) for d in (1, 2, 3))

    assert await done(api) == [(first["id"], "approve"), (second["id"], "return"), (third["id"], "transfer")]
    assert await done(api, f"&decided_from={day1}&decided_to={day1}") == [(first["id"], "approve")]
    assert await done(api, f"&decided_from={day2}&decided_to={day2}") == [(second["id"], "return")]
    assert await done(api, f"&decided_from={day2}") == [(second["id"], "return"), (third["id"], "transfer")]
    assert await done(api, f"&decided_to={day2}") == [(first["id"], "approve"), (second["id"], "return")]
    assert await done(api, "&decision=return,transfer") == [(second["id"], "return"), (third["id"], "transfer")]
    assert await done(api, "&decision=agree") == []
    assert await done(api, "&matter=staff_leave&decision=approve") == [(first["id"], "approve")]
    assert await done(api, "&matter=seal_usage") == []
    assert await done(api, "&matter=seal_usage,staff_leave&decision=approve") == [(first["id"], "approve")]  # any of them
    pending = (await api.get("/tasks?status=pending&matter=seal_usage", HEAD))["items"]
    assert pending == []


async def test_a_bad_filter_is_refused_with_a_clear_message(api):
    await leave(api, "家中有事需要处理")
    for query, word in [("status=done&decided_from=12/01", "decided_from"),
                        ("status=done&decided_to=2026-13-01", "decided_to"),
                        ("status=done&decision=approved", "decision"),
                        ("status=done&decided_from=2026-12-02&decided_to=2026-12-01", "decided_from"),
                        ("status=pending&decision=approve", "status=done"),
                        ("status=done&matter=" + "x" * 65, "matter"),
                        ("status=done&matter=" + ",".join(f"m{i}" for i in range(11)), "matter")]:
        got, answer = await api.call("GET", f"/tasks?{query}", HEAD)
        assert (got, answer["error"]["code"]) == (400, "bad_query"), (query, answer)
        assert word in answer["error"]["message"], (query, answer)
