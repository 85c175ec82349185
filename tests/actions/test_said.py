"""What a request already says (issue 16 item 5): the time expressions and day counts of a whole
sentence (actions.chinese_time.mentioned) and the form answers they give (actions.said)."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from actions.chinese_time import Mentioned, mentioned
from actions.said import said_answers

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)  # a Tuesday

LEAVE = [{"key": "leave_type", "label": "请假类型", "type": "choice", "options": ["事假", "病假"]},
         {"key": "start_time", "label": "开始时间", "type": "datetime"},
         {"key": "end_time", "label": "结束时间", "type": "datetime"},
         {"key": "days", "label": "请假天数", "type": "number"},
         {"key": "reason", "label": "请假事由", "type": "textarea"}]
SEAL = [{"key": "copies", "label": "用印份数", "type": "number"},
        {"key": "use_date", "label": "用印日期", "type": "date"}]


@pytest.mark.parametrize(("sentence", "expected"), [
    ("下周想请两天假", Mentioned(date(2026, 12, 7), None, 2)),
    ("下下周请三天假", Mentioned(date(2026, 12, 14), None, 3)),
    ("明天请半天假", Mentioned(date(2026, 12, 2), None, 0.5)),
    ("12月10日起请一天半假", Mentioned(date(2026, 12, 10), None, 1.5)),
    ("下周一开始请两天假", Mentioned(date(2026, 12, 7), None, 2)),
    ("请3天假", Mentioned(None, None, 3)),
    ("周五请假", Mentioned(date(2026, 12, 4), None, None)),
    ("下周三下午用车", Mentioned(date(2026, 12, 9), datetime(2026, 12, 9, 14, 0), None)),
    ("明天下午三点用车", Mentioned(date(2026, 12, 2), datetime(2026, 12, 2, 15, 0), None)),
])
def test_a_sentence_gives_its_first_day_and_its_length_in_days(sentence, expected):
    assert mentioned(sentence, NOW) == expected


@pytest.mark.parametrize("sentence", ["要用一下学校的车", "我要请假", "这周请两天假", "上周请过假", "", "两" * 200])
def test_no_day_or_a_past_one_is_not_taken(sentence):
    assert mentioned(sentence, NOW).day is None


def test_a_week_starts_on_its_monday_whatever_today_is():
    sunday = datetime(2026, 12, 6, 20, 0, tzinfo=SHANGHAI)
    assert mentioned("下周想请两天假", sunday).day == date(2026, 12, 7)


def test_the_leave_form_gets_the_days_and_a_start_at_the_working_days_start():
    answers = said_answers(LEAVE, Mentioned(date(2026, 12, 7), None, 2))
    assert [(a.key, a.typed, a.shown) for a in answers] == [
        ("days", "2", "2 天"), ("start_time", "2026-12-07 08:30", "12月7日(周一)08:30")]


def test_a_said_time_of_day_is_kept_and_half_days_are_numbers():
    answers = said_answers(LEAVE, Mentioned(date(2026, 12, 2), datetime(2026, 12, 2, 14, 0), 0.5))
    assert [(a.key, a.typed) for a in answers] == [("days", "0.5"), ("start_time", "2026-12-02 14:00")]


def test_a_day_without_a_time_or_a_count_is_not_guessed_into_a_time_field():
    assert said_answers(LEAVE, Mentioned(date(2026, 12, 4), None, None)) == []


def test_a_date_field_takes_the_day_and_a_number_field_not_about_days_takes_no_count():
    answers = said_answers(SEAL, Mentioned(date(2026, 12, 2), None, 2))
    assert [(a.key, a.typed, a.shown) for a in answers] == [("use_date", "2026-12-02", "12月2日(周三)")]
