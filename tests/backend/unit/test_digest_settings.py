"""DIGEST_TIME / DIGEST_DAYS: read into the notifier's digest schedule, clear errors for bad values."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backend.config import ConfigError, NotifierSettings, digest_schedule
from backend.notify.digest import due_day

BASE = {"RASA_URL": "http://127.0.0.1:5005", "RASA_JWT_SECRET": "x" * 32}


def test_the_default_is_08_30_on_chinas_working_days_in_the_colleges_time_zone():
    schedule = NotifierSettings.from_env(BASE).digest
    assert (schedule.minute, schedule.workdays, schedule.timezone.key) == (8 * 60 + 30, True, "Asia/Shanghai")
    assert not NotifierSettings.from_env({**BASE, "DIGEST_DAYS": "mon-fri"}).digest.workdays


def at_0830_shanghai(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T00:30:00+00:00")


@pytest.mark.parametrize("day, due", [
    ("2026-10-01", False),  # 国庆, a Thursday
    ("2026-10-07", False),  # 国庆 still, a Wednesday
    ("2026-10-10", True),   # a Saturday made a working day (调休)
    ("2026-10-11", False),  # an ordinary Sunday
    ("2026-12-01", True),   # an ordinary Tuesday
])
def test_workdays_follow_chinas_official_schedule(day, due):
    schedule = digest_schedule("08:30", "workdays", NotifierSettings.from_env(BASE).timezone)
    assert (due_day(schedule, at_0830_shanghai(day)) is not None) is due
    weekdays = digest_schedule("08:30", "mon-fri", NotifierSettings.from_env(BASE).timezone)
    assert (due_day(weekdays, at_0830_shanghai(day)) is not None) is (datetime.fromisoformat(day).weekday() < 5)


def test_a_year_the_calendar_does_not_know_counts_monday_to_friday_and_says_so(caplog):
    schedule = digest_schedule("08:30", "workdays", NotifierSettings.from_env(BASE).timezone)
    assert due_day(schedule, at_0830_shanghai("2099-03-02")) is not None  # a Monday
    assert due_day(schedule, at_0830_shanghai("2099-03-07")) is None  # a Saturday
    assert "no holidays for 2099" in caplog.text and caplog.text.count("no holidays for 2099") == 1


def test_a_time_days_and_off_are_read():
    schedule = NotifierSettings.from_env({**BASE, "DIGEST_TIME": "7:45", "DIGEST_DAYS": "mon-wed, sat",
                                          "COLLEGE_TZ": "Europe/Berlin"}).digest
    assert (schedule.minute, schedule.days, schedule.timezone.key) == (7 * 60 + 45, frozenset({0, 1, 2, 5}),
                                                                       "Europe/Berlin")
    assert NotifierSettings.from_env({**BASE, "DIGEST_TIME": "OFF"}).digest.minute is None


@pytest.mark.parametrize("time, days, message", [
    ("8.30", "mon-fri", "DIGEST_TIME"), ("24:00", "mon-fri", "DIGEST_TIME"), ("soon", "mon-fri", "DIGEST_TIME"),
    ("08:30", "weekdays", "DIGEST_DAYS"), ("08:30", "fri-mon", "runs backwards"), ("08:30", ",", "empty"),
])
def test_bad_values_are_refused_with_the_settings_name(time, days, message):
    with pytest.raises(ConfigError, match=message):
        NotifierSettings.from_env({**BASE, "DIGEST_TIME": time, "DIGEST_DAYS": days})


def test_the_day_is_the_local_one():
    schedule = digest_schedule("08:30", "mon-fri", NotifierSettings.from_env(BASE).timezone)
    # Friday 23:30 UTC is Saturday 07:30 in Shanghai: a day off
    assert due_day(schedule, datetime(2026, 12, 4, 23, 30, tzinfo=timezone.utc)) is None
    # Monday 00:30 UTC is Monday 08:30 in Shanghai
    assert str(due_day(schedule, datetime(2026, 12, 7, 0, 30, tzinfo=timezone.utc))) == "2026-12-07"


def test_the_notifier_says_when_the_digest_goes_out():
    assert NotifierSettings.from_env(BASE).digest.describe() == \
        "morning digest at 08:30 on China's working days (Asia/Shanghai)"
    assert NotifierSettings.from_env({**BASE, "DIGEST_DAYS": "mon-fri"}).digest.describe() == \
        "morning digest at 08:30 mon,tue,wed,thu,fri (Asia/Shanghai)"
    assert NotifierSettings.from_env({**BASE, "DIGEST_TIME": "off"}).digest.describe() == "no morning digest"
