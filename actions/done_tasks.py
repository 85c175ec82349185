"""已办 in chat (issue 16, 3): what the user decided — 同意 / 退回 / 转办 / an added signer's
opinion — newest first, narrowed by what the sentence says: a period (今天, 本周, 上个月, 最近7天,
11月30日), a matter (请假) and an outcome (退回的).

「看看我的已办」「我已经处理过哪些」「本周我审批了什么」 reach us through whichever listing intent NLU
picks (我的待办 / 我的申请): ``asks_for_done`` tells them apart by their words, so no intent of
its own competes with those two.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Optional

from . import chinese_time
from . import text as parse
from .matters import mentioned_matters
from .render import done_task_line

# 已办, or a deciding verb in the past: 处理过 / 审批了 / 处理的 (「上个月处理的请假」).
DONE_WORDS = re.compile(r"已办|已处理|已审批|(?:处理|审批|审核|批复|经手|办理)(?:过|了|的)|(?:同意|退回|驳回|批准|转办)过")
OUTCOMES = (  # the first that matches wins: 不同意 before 同意
    (re.compile(r"不同意|反对"), ("disagree",), "不同意"),
    (re.compile(r"退回|驳回|打回"), ("return",), "退回"),
    (re.compile(r"转办|转给|转出"), ("transfer",), "转办"),
    (re.compile(r"同意|通过|批准"), ("approve", "agree"), "同意"),
)
NUMBER = r"([0-9]+|[一二三四五六七八九十两]+)"
RECENT_DAYS = re.compile(rf"(?:最近|近){NUMBER}(天|日|周|个星期|星期|个月|月)")
A_DAY = re.compile(r"[0-9一二三四五六七八九十]{1,3}月[0-9一二三四五六七八九十]{1,3}[日号]|[0-9]{1,2}[/.][0-9]{1,2}")
LIMIT = 20


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str


def asks_for_done(text: str) -> bool:
    return bool(DONE_WORDS.search(text or ""))


def _month(today: date, back: int) -> tuple[date, date]:
    year, month = divmod(today.year * 12 + today.month - 1 - back, 12)
    month += 1
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def period(text: str, now: datetime) -> Optional[Period]:
    """The days a sentence about the past names, inclusive, in the college's calendar."""
    today = now.date()
    monday = today - timedelta(days=today.weekday())
    fixed = [
        (("今天", "今日"), today, today),
        (("昨天", "昨日"), today - timedelta(days=1), today - timedelta(days=1)),
        (("前天",), today - timedelta(days=2), today - timedelta(days=2)),
        (("上周", "上星期", "上个星期", "上礼拜"), monday - timedelta(days=7), monday - timedelta(days=1)),
        (("本周", "这周", "这星期", "这个星期", "这礼拜", "本星期"), monday, today),
        (("上个月", "上月"), *_month(today, 1)),
        (("本月", "这个月", "这月"), today.replace(day=1), today),
        (("今年", "本年"), date(today.year, 1, 1), today),
    ]
    for words, start, end in fixed:
        word = next((w for w in words if w in text), None)
        if word:
            return Period(start, end, word)
    recent = RECENT_DAYS.search(text)
    if recent:
        count, unit = int(parse.number(recent.group(1)) or 1), recent.group(2)
        days = count * (7 if "周" in unit or "星期" in unit else 30 if "月" in unit else 1)
        return Period(today - timedelta(days=days - 1), today, recent.group(0))
    named = A_DAY.search(text)
    if named:
        day = chinese_time.parse_date(named.group(0), now)
        if day is not None and day > today:  # said of the past: 「11月30日」 in December is this year's
            day = day.replace(year=day.year - 1)
        if day is not None:
            return Period(day, day, named.group(0))
    return None


def outcome(text: str) -> tuple[tuple[str, ...], str]:
    """(decisions for the API, label) of an outcome the sentence asks for, or ((), "")."""
    for pattern, decisions, label in OUTCOMES:
        if pattern.search(text or ""):
            return decisions, label
    return (), ""


async def show_done(api, dispatcher, tracker, who: str, now: datetime) -> list[dict[str, Any]]:
    """Tell the user what they decided, as the sentence narrows it."""
    text = tracker.latest_message.get("text", "") or ""
    days, (decisions, decided) = period(text, now), outcome(text)
    codes, words = await mentioned_matters(api, who, tracker)
    filters = {"decision": ",".join(decisions), "matter": ",".join(codes)}
    if days:
        filters.update(decided_from=days.start.isoformat(), decided_to=days.end.isoformat())
    tasks = sorted(await api.tasks(who, "done", limit=LIMIT, **filters),  # newest decision first
                   key=lambda t: (t.get("decided_at") or "", t["id"]), reverse=True)
    narrowed = "、".join(filter(None, [days.label if days else "", "、".join(words), f"{decided}的" if decided else ""]))
    scope = f"({narrowed})" if narrowed else ""
    if not tasks:
        dispatcher.utter_message(text=f"没有找到您办理过的任务{scope}。说「我的待办」可以查看待处理的任务。")
        return []
    lines = [f"您办理过的任务{scope},共 {len(tasks)} 件" + (",最近的在前:" if len(tasks) > 1 else ":")]
    lines += [done_task_line(i + 1, t) for i, t in enumerate(tasks)]
    lines.append("说「SW… 的进度」可查看某一件的最新进度。")
    dispatcher.utter_message(text="\n".join(lines))
    return []
