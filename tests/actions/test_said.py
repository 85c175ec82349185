"""What a request already says (issue 16 item 5): the time expressions and day counts of a whole
sentence (actions.chinese_time.mentioned) and the form answers they give (actions.said)."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from actions import chinese_time
from actions.chinese_time import Mentioned, mentioned
from actions.said import is_working_day, said_answers

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


def test_the_leave_form_gets_the_days_a_start_at_the_working_days_start_and_an_end_at_its_end():
    answers = said_answers(LEAVE, Mentioned(date(2026, 12, 7), None, 2))
    assert [(a.key, a.typed, a.shown) for a in answers] == [
        ("days", "2", "2 天"), ("start_time", "2026-12-07 08:30", "12月7日(周一)08:30"),
        ("end_time", "2026-12-08 17:30", "12月8日(周二)17:30")]


def test_a_said_time_of_day_is_kept_and_half_days_are_numbers_without_an_end():
    answers = said_answers(LEAVE, Mentioned(date(2026, 12, 2), datetime(2026, 12, 2, 14, 0), 0.5))
    assert [(a.key, a.typed) for a in answers] == [("days", "0.5"), ("start_time", "2026-12-02 14:00")]


def test_a_day_without_a_time_or_a_count_is_not_guessed_into_a_time_field():
    assert said_answers(LEAVE, Mentioned(date(2026, 12, 4), None, None)) == []


def test_a_date_field_takes_the_day_and_a_number_field_not_about_days_takes_no_count():
    answers = said_answers(SEAL, Mentioned(date(2026, 12, 2), None, 2))
    assert [(a.key, a.typed, a.shown) for a in answers] == [("use_date", "2026-12-02", "12月2日(周三)")]


# ---- the end (结束时间): from a range, or from a start and a count of whole working days

def _filled(form, said):
    return [(a.key, a.typed, a.shown) for a in said_answers(form, said)]


@pytest.mark.parametrize(("sentence", "start", "end"), [
    ("12月8日到10日请假", ("2026-12-08 08:30", "12月8日(周二)08:30"), ("2026-12-10 17:30", "12月10日(周四)17:30")),
    ("明天上午到后天下午请假", ("2026-12-02 09:00", "12月2日(周三)09:00"), ("2026-12-03 17:30", "12月3日(周四)17:30")),
    ("下周一至周三请假", ("2026-12-07 08:30", "12月7日(周一)08:30"), ("2026-12-09 17:30", "12月9日(周三)17:30")),
])
def test_a_range_gives_the_start_and_the_end_and_no_invented_count_of_days(sentence, start, end):
    assert _filled(LEAVE, mentioned(sentence, NOW)) == [("start_time", *start), ("end_time", *end)]


@pytest.mark.parametrize(("sentence", "expected"), [
    ("12月8日到10日请假", Mentioned(date(2026, 12, 8), None, None, date(2026, 12, 10), None)),
    ("明天上午到后天下午请假", Mentioned(date(2026, 12, 2), datetime(2026, 12, 2, 9), None, date(2026, 12, 3), None)),
    ("下周一至周三请假", Mentioned(date(2026, 12, 7), None, None, date(2026, 12, 9), None)),
    ("明天上午到后天上午请假", Mentioned(date(2026, 12, 2), datetime(2026, 12, 2, 9), None,
                                   date(2026, 12, 3), datetime(2026, 12, 3, 12))),
    ("12月8日9点到10日下午5点半请假", Mentioned(date(2026, 12, 8), datetime(2026, 12, 8, 9), None,
                                        date(2026, 12, 10), datetime(2026, 12, 10, 17, 30))),
    ("12月30日到1月2日请假", Mentioned(date(2026, 12, 30), None, None, date(2027, 1, 2), None)),
    ("下周一到周三请两天假", Mentioned(date(2026, 12, 7), None, 2, date(2026, 12, 9), None)),
])
def test_a_range_in_a_sentence_gives_its_first_and_last_day_each_with_its_own_time(sentence, expected):
    assert mentioned(sentence, NOW) == expected


@pytest.mark.parametrize("sentence", [
    "下周到下下周请假",  # weeks, not days
    "上周一到周三请过假",  # over
    "明天下午3点到明天上午10点请假",  # ends before it starts: no range
])
def test_a_range_of_weeks_a_past_one_or_a_backwards_one_gives_no_day(sentence):
    assert mentioned(sentence, NOW) == Mentioned()


def test_a_said_range_end_wins_over_a_count():
    said = Mentioned(date(2026, 12, 7), None, 2, date(2026, 12, 9), None)
    assert _filled(LEAVE, said)[-1] == ("end_time", "2026-12-09 17:30", "12月9日(周三)17:30")


def test_two_days_from_a_friday_end_on_monday_at_the_working_days_end():
    assert _filled(LEAVE, mentioned("周五请两天假", NOW)) == [
        ("days", "2", "2 天"), ("start_time", "2026-12-04 08:30", "12月4日(周五)08:30"),
        ("end_time", "2026-12-07 17:30", "12月7日(周一)17:30")]


def test_working_days_skip_national_day_and_count_its_make_up_saturday():
    # 2026 国庆: 10月1日-7日 off, 10月10日 (a Saturday) worked (chinesecalendar 1.11.0).
    assert _filled(LEAVE, Mentioned(date(2026, 9, 30), None, 2))[-1] == (
        "end_time", "2026-10-08 17:30", "10月8日(周四)17:30")
    assert _filled(LEAVE, Mentioned(date(2026, 10, 9), None, 2))[-1] == (
        "end_time", "2026-10-10 17:30", "10月10日(周六)17:30")


def test_a_year_the_calendar_does_not_know_counts_monday_to_friday():
    with pytest.raises(NotImplementedError):  # when chinesecalendar is bumped, pick a later year here
        chinese_calendar.is_workday(date(2027, 1, 1))
    assert [is_working_day(date(2027, 1, d)) for d in (1, 2, 3, 4)] == [True, False, False, True]
    assert _filled(LEAVE, Mentioned(date(2027, 1, 1), None, 2))[-1] == (
        "end_time", "2027-01-04 17:30", "1月4日(周一)17:30")


@pytest.mark.parametrize("said", [
    Mentioned(date(2026, 12, 7), None, 0.5),  # 半天
    Mentioned(date(2026, 12, 7), None, 1.5),  # 一天半
    Mentioned(date(2026, 12, 7), datetime(2026, 12, 7, 14), 2),  # 下午起两天: where it ends is the person's
])
def test_a_half_day_or_a_count_from_a_said_time_leaves_the_end_to_the_person(said):
    assert [key for key, _, _ in _filled(LEAVE, said)] == ["days", "start_time"]


def test_a_half_day_sentence_fills_no_end():
    assert [key for key, _, _ in _filled(LEAVE, mentioned("明天请半天假", NOW))] == ["days", "start_time"]


def test_a_form_without_an_end_field_gets_only_the_start():
    no_end = [f for f in LEAVE if f["key"] != "end_time"]
    assert [key for key, _, _ in _filled(no_end, mentioned("12月8日到10日请假", NOW))] == ["start_time"]
    only_end = [{"key": "end_date", "label": "结束日期", "type": "date"}]  # not taken for a start
    assert _filled(only_end, Mentioned(date(2026, 12, 7), None, None)) == []


def test_date_fields_take_the_first_and_the_last_day():
    form = [{"key": "from", "label": "开始日期", "type": "date"}, {"key": "to", "label": "结束日期", "type": "date"}]
    assert _filled(form, mentioned("12月8日到10日请假", NOW)) == [
        ("from", "2026-12-08", "12月8日(周二)"), ("to", "2026-12-10", "12月10日(周四)")]


@pytest.mark.parametrize("said", [
    Mentioned(date(2026, 12, 2), datetime(2026, 12, 2, 18), None, date(2026, 12, 2), None),  # 17:30 < 18:00
    Mentioned(date(2026, 12, 2), datetime(2026, 12, 2, 15), None, date(2026, 12, 2), datetime(2026, 12, 2, 15)),
])
def test_an_end_not_after_the_start_is_not_filled(said):
    assert [key for key, _, _ in _filled(LEAVE, said)] == ["start_time"]


def test_each_phrase_is_read_once_by_the_extraction(monkeypatch):
    mentioned("12月8日到10日请假", NOW)  # jionlp loaded
    again = []
    read = chinese_time._parse_with_library
    monkeypatch.setattr(chinese_time, "_parse_with_library", lambda *a: again.append(a[0]) or read(*a))
    assert mentioned("下周想请两天假", NOW).day == date(2026, 12, 7)
    assert mentioned("明天上午到后天下午请假", NOW).end_day == date(2026, 12, 3)
    assert again == []
    assert mentioned("下周一开始请两天假", NOW).day == date(2026, 12, 7)
    assert again == ["下周一"]  # an open start is read again without 开始
