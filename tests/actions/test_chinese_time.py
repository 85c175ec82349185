"""Tests for actions.chinese_time (Chinese date/time -> form-field values)."""

import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from actions.chinese_time import (
    normalize_for_field,
    parse_date,
    parse_datetime,
    parse_span,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Friday 2026-11-27, 10:00 in Shanghai.
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天", date(2026, 11, 28)),
        ("后天", date(2026, 11, 29)),
        ("大后天", date(2026, 11, 30)),
        ("今天", date(2026, 11, 27)),
        ("下周一", date(2026, 11, 30)),
        ("11月30日", date(2026, 11, 30)),
        ("12月1号", date(2026, 12, 1)),
        ("2026-12-01", date(2026, 12, 1)),
        ("2026年12月1日", date(2026, 12, 1)),
        ("12/3", date(2026, 12, 3)),
        ("12.1", date(2026, 12, 1)),
        ("三天后", date(2026, 11, 30)),
        ("下个月5号", date(2026, 12, 5)),
        ("周日", date(2026, 11, 29)),
        ("周五", date(2026, 11, 27)),  # today is still the future
        ("明天下午三点", date(2026, 11, 28)),  # a date field takes the day
        ("１２月１日", date(2026, 12, 1)),  # full-width digits from an IME
        ("我想明天请假", date(2026, 11, 28)),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天下午三点", datetime(2026, 11, 28, 15, 0)),
        ("明天下午3点半", datetime(2026, 11, 28, 15, 30)),
        ("后天上午9:30", datetime(2026, 11, 29, 9, 30)),
        ("今晚8点", datetime(2026, 11, 27, 20, 0)),
        ("2026-12-01 09:00", datetime(2026, 12, 1, 9, 0)),
        ("2026-12-01T09:00", datetime(2026, 12, 1, 9, 0)),
        ("明天 15：00", datetime(2026, 11, 28, 15, 0)),
        ("明天0点", datetime(2026, 11, 28, 0, 0)),  # explicit midnight is a time
        ("下周三下午两点", datetime(2026, 12, 2, 14, 0)),
    ],
)
def test_parse_datetime_explicit_time(text, expected):
    assert parse_datetime(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天上午", datetime(2026, 11, 28, 9, 0)),
        ("明天中午", datetime(2026, 11, 28, 12, 0)),
        ("明天下午", datetime(2026, 11, 28, 14, 0)),
        ("明天晚上", datetime(2026, 11, 28, 19, 0)),
        ("今晚", datetime(2026, 11, 27, 19, 0)),
        ("12月1日上午", datetime(2026, 12, 1, 9, 0)),
    ],
)
def test_parse_datetime_part_of_day_default(text, expected):
    assert parse_datetime(text, NOW) == expected


@pytest.mark.parametrize("text", ["明天", "下周一", "2026-12-01", "12月1号", "周日"])
def test_parse_datetime_needs_a_time_of_day(text):
    assert parse_datetime(text, NOW) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("下周一到周三", (datetime(2026, 11, 30), datetime(2026, 12, 2, 23, 59, 59))),
        (
            "明天下午三点到五点",
            (datetime(2026, 11, 28, 15, 0), datetime(2026, 11, 28, 17, 0)),
        ),
        ("12月1日至12月3日", (datetime(2026, 12, 1), datetime(2026, 12, 3, 23, 59, 59))),
        # Said on a Friday: this week's Monday-Wednesday is over.
        ("周一到周三", (datetime(2026, 11, 30), datetime(2026, 12, 2, 23, 59, 59))),
        ("12月30日到1月2日", (datetime(2026, 12, 30), datetime(2027, 1, 2, 23, 59, 59))),
        ("晚上10点到凌晨2点", (datetime(2026, 11, 27, 22, 0), datetime(2026, 11, 28, 2, 0))),
    ],
)
def test_parse_span(text, expected):
    assert parse_span(text, NOW) == expected


@pytest.mark.parametrize("text", ["明天", "明天下午三点", "12月1日以后"])
def test_parse_span_needs_a_closed_range(text):
    assert parse_span(text, NOW) is None


def test_a_backwards_range_moves_its_end_on_unless_the_end_is_tied_to_a_day():
    assert parse_span("晚上10点到凌晨2点", NOW)[1] == datetime(2026, 11, 28, 2, 0)
    assert parse_span("明天下午3点到明天上午10点", NOW) is None
    assert parse_span("明天下午到明天上午", NOW) is None


@pytest.mark.parametrize("text", ["下周一到周三", "明天下午三点到五点"])
def test_a_range_is_not_a_single_date(text):
    assert parse_date(text, NOW) is None
    assert parse_datetime(text, NOW) is None


def test_weekday_already_past_this_week_means_next_week():
    thursday = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
    assert parse_date("周三", thursday) == date(2026, 12, 2)
    assert parse_date("周三", NOW) == date(2026, 12, 2)


def test_month_day_already_past_this_year_means_next_year():
    december = datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI)
    assert parse_date("11月30日", december) == date(2027, 11, 30)
    assert parse_date("12/1", december) == date(2027, 12, 1)
    assert parse_date("12月6日", december) == date(2026, 12, 6)
    assert parse_datetime("12月1日下午3点", december) == datetime(2027, 12, 1, 15, 0)


def test_day_of_month_already_past_means_next_month():
    assert parse_date("3号", NOW) == date(2026, 12, 3)


def test_explicit_past_is_kept():
    assert parse_date("昨天", NOW) == date(2026, 11, 26)
    assert parse_date("2026年11月1日", NOW) == date(2026, 11, 1)


def test_short_morning_words():
    # jionlp alone rejects 明早 and reads 明早8点 as today.
    assert parse_datetime("明早8点", NOW) == datetime(2026, 11, 28, 8, 0)
    assert parse_datetime("明早", NOW) == datetime(2026, 11, 28, 9, 0)


def test_greeting_is_not_a_time():
    assert parse_date("下午好", NOW) is None
    # The greeting must not lend its part of day to the real date either.
    assert parse_datetime("下午好，明天", NOW) is None
    assert parse_date("下午好，明天", NOW) == date(2026, 11, 28)


def test_now_is_read_in_its_own_zone_the_colleges():
    # 20:00 UTC on the 27th is 04:00 on the 28th in Shanghai: the caller's zone decides
    # (the form passes now in settings.college_tz).
    utc_evening = datetime(2026, 11, 27, 20, 0, tzinfo=timezone.utc)
    assert parse_date("明天", utc_evening) == date(2026, 11, 28)
    assert parse_date("明天", utc_evening.astimezone(SHANGHAI)) == date(2026, 11, 29)


def test_naive_now_is_rejected():
    with pytest.raises(ValueError):
        parse_date("明天", datetime(2026, 11, 27, 10, 0))


@pytest.mark.parametrize(
    ("field_type", "text", "expected"),
    [
        ("date", "明天", "2026-11-28"),
        ("date", "后天上午9:30", "2026-11-29"),
        ("datetime", "明天下午3点半", "2026-11-28 15:30"),
        ("datetime", "今晚8点", "2026-11-27 20:00"),
        ("datetime", "明天下午", "2026-11-28 14:00"),
        ("datetime", "明天", None),
        ("date", "下周一到周三", None),
    ],
)
def test_normalize_for_field(field_type, text, expected):
    assert normalize_for_field(field_type, text, NOW) == expected


def test_normalize_for_field_rejects_unknown_field_type():
    with pytest.raises(ValueError):
        normalize_for_field("time", "明天", NOW)


NOT_TIMES = [
    "合作协议.pdf",
    "事假",
    "好的",
    "",
    "   ",
    "3天",  # a duration
    "每周一",  # a recurrence
    "下周",  # a week, not a day
    "2026-02-30",
    "13/45",
    "@#$%^&*",
    "asdf",
    "\x00\x01\ufffd",
    "😀😀😀",
    "到",
    "1" * 5000,  # jionlp is quadratic in length; must stay fast
    "明天" * 100,
]


@pytest.mark.parametrize("text", NOT_TIMES)
def test_text_without_a_usable_expression_gives_none(text):
    assert parse_date(text, NOW) is None
    assert parse_datetime(text, NOW) is None
    assert parse_span(text, NOW) is None
    assert normalize_for_field("date", text, NOW) is None
    assert normalize_for_field("datetime", text, NOW) is None


@pytest.mark.parametrize("value", [None, 20261201, b"2026-12-01"])
def test_non_string_input_gives_none(value):
    assert parse_date(value, NOW) is None


def test_jionlp_is_imported_lazily_and_silently():
    # A fresh interpreter: importing the module or reading a plain ISO date
    # must not load jionlp; warm_up() loads it; its banners stay off stdout.
    script = "\n".join(
        [
            "import sys",
            "from datetime import datetime",
            "from zoneinfo import ZoneInfo",
            "from actions.chinese_time import parse_date, warm_up",
            "now = datetime(2026, 11, 27, 10, tzinfo=ZoneInfo('Asia/Shanghai'))",
            "print('jionlp' in sys.modules)",
            "print(parse_date('2026-12-01', now), 'jionlp' in sys.modules)",
            "warm_up()",
            "print('jionlp' in sys.modules)",
            "print(parse_date('明天', now))",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.splitlines() == [
        "False",
        "2026-12-01 False",
        "True",
        "2026-11-28",
    ]
