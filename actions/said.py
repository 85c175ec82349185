"""What a request already says, as answers to its matter's form.

「下周想请两天假」 names a start (next Monday) and a length (2 days): the leave form's 开始时间,
结束时间 (the end of the second working day) and 请假天数 are filled from it and shown to the
person, who can change them like any answer. 「12月8日到10日请假」 names a start and an end: no
count of days is made from a range (weekends and holidays make that a judgement; the person
says it). Pure: the sentence is read by ``chinese_time.mentioned`` and each answer is then
converted and checked by the form like a typed one (``matter_form.Answer``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Optional

import chinese_calendar

from .chinese_time import Mentioned

# A matter taken in days (请两天假, 12月8日到10日) starts at the start of the working day and
# ends at its end when no time is said.
WORKDAY_START = time(8, 30)
WORKDAY_END = time(17, 30)
WEEKDAYS = "一二三四五六日"
# A longer count (「请500天假」) is not turned into an end; the person fills it.
_MOST_DAYS_COUNTED = 366


@dataclass(frozen=True)
class SaidAnswer:
    key: str
    label: str
    typed: str  # as if typed in answer to the field's question
    shown: str  # as the person reads it back


def said_answers(form: list[dict[str, Any]], said: Mentioned) -> list[SaidAnswer]:
    """The answers the sentence gives: a count of days for a number field about days (请假天数),
    the day for the start field (开始时间/…日期) and for the end field (结束时间). A date-and-time
    field takes a day without a time only when the sentence counts days or gives a range (then
    the start is at ``WORKDAY_START``, the end at ``WORKDAY_END``). The end is a range's end, or
    the last of a whole count of working days from a start said without a time; it is given only
    when it comes after the start."""
    answers = []
    days_field = _first(form, ("number",), "天")
    if said.days is not None and days_field:
        answers.append(SaidAnswer(days_field["key"], days_field["label"], _number(said.days),
                                  f"{_number(said.days)} 天"))
    end_field = _first(form, ("date", "datetime"), "结束")
    start_field = _first(form, ("date", "datetime"), "开始") or next(
        (f for f in form if f["type"] in ("date", "datetime") and f is not end_field), None)
    if said.day is None:
        return answers
    start = said.moment
    if start is None and (said.days is not None or said.end_day is not None):
        start = datetime.combine(said.day, WORKDAY_START)
    if start_field:
        answers.extend(_day_answer(start_field, said.day, start))
    end_day, end = _end(said)
    if end_field and end_day is not None and start is not None and end > start:
        answers.extend(_day_answer(end_field, end_day, end))
    return answers


def is_working_day(day: date) -> bool:
    """China's official working day (the State Council's yearly schedule, via chinesecalendar: no
    国庆 or 春节, a 调休 Saturday is one). A year the installed calendar does not know yet (it is
    announced each November; bump chinesecalendar in requirements/rasa.txt) counts Monday to Friday."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def day_shown(day: date) -> str:
    """12月7日(周一)."""
    return f"{day.month}月{day.day}日(周{WEEKDAYS[day.weekday()]})"


def _end(said: Mentioned) -> tuple[Optional[date], Optional[datetime]]:
    """The last day the sentence gives and when it ends: a range's, else the last of a whole
    count of working days from a start said without a time (两天 from a Friday: Monday)."""
    if said.end_day is not None:
        return said.end_day, said.end_moment or datetime.combine(said.end_day, WORKDAY_END)
    days = said.days
    if said.moment is not None or days is None or not float(days).is_integer() or not 1 <= days <= _MOST_DAYS_COUNTED:
        return None, None  # 半天, 一天半, 明天下午起两天: where it ends is the person's to say
    last = _last_working_day(said.day, int(days))
    return last, datetime.combine(last, WORKDAY_END)


def _last_working_day(first: date, count: int) -> date:
    """The last of ``count`` working days from ``first`` on (``first`` counts if it is one)."""
    day = first
    while True:
        if is_working_day(day):
            count -= 1
            if count == 0:
                return day
        day += timedelta(days=1)


def _day_answer(field: dict[str, Any], day: date, moment: Optional[datetime]) -> list[SaidAnswer]:
    if field["type"] == "date":
        return [SaidAnswer(field["key"], field["label"], day.isoformat(), day_shown(day))]
    if moment is None:
        return []
    return [SaidAnswer(field["key"], field["label"], moment.strftime("%Y-%m-%d %H:%M"),
                       f"{day_shown(moment.date())}{moment:%H:%M}")]


def _first(form: list[dict[str, Any]], types: tuple[str, ...], word: str) -> Optional[dict[str, Any]]:
    return next((f for f in form if f["type"] in types and word in f["label"]), None)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
