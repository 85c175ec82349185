"""What a request already says, as answers to its matter's form.

「下周想请两天假」 names a start (next Monday) and a length (2 days): the leave form's 开始时间
and 请假天数 are filled from it and shown to the person, who can change them like any answer.
Pure: the sentence is read by ``chinese_time.mentioned`` and each answer is then converted and
checked by the form like a typed one (``matter_form.Answer``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Optional

from .chinese_time import Mentioned

# A matter taken in days (请两天假) starts at the start of the working day when no time is said.
WORKDAY_START = time(8, 30)
WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class SaidAnswer:
    key: str
    label: str
    typed: str  # as if typed in answer to the field's question
    shown: str  # as the person reads it back


def said_answers(form: list[dict[str, Any]], said: Mentioned) -> list[SaidAnswer]:
    """The answers the sentence gives: a count of days for a number field about days (请假天数),
    the day for the start field (开始时间/…日期). A date-and-time field takes a day without a
    time only when the sentence counts days (then the day starts at ``WORKDAY_START``)."""
    answers = []
    days_field = _first(form, ("number",), "天")
    if said.days is not None and days_field:
        answers.append(SaidAnswer(days_field["key"], days_field["label"], _number(said.days),
                                  f"{_number(said.days)} 天"))
    start = _first(form, ("date", "datetime"), "开始") or _first(form, ("date", "datetime"), "")
    if said.day is not None and start:
        moment = said.moment
        if moment is None and said.days is not None:
            moment = datetime.combine(said.day, WORKDAY_START)
        if start["type"] == "date":
            answers.append(SaidAnswer(start["key"], start["label"], said.day.isoformat(), day_shown(said.day)))
        elif moment is not None:
            answers.append(SaidAnswer(start["key"], start["label"], moment.strftime("%Y-%m-%d %H:%M"),
                                      f"{day_shown(moment.date())}{moment:%H:%M}"))
    return answers


def day_shown(day: date) -> str:
    """12月7日(周一)."""
    return f"{day.month}月{day.day}日(周{WEEKDAYS[day.weekday()]})"


def _first(form: list[dict[str, Any]], types: tuple[str, ...], word: str) -> Optional[dict[str, Any]]:
    return next((f for f in form if f["type"] in types and word in f["label"]), None)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
