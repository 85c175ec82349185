"""Turn Chinese date/time expressions into normalized form-field values.

The parsing itself is done by ``jionlp.parse_time``; this module only adds a
thin layer of normalisation that a form needs:

* ``now`` must be timezone-aware, in the zone the text is meant in (the
  college's, ``settings.college_tz``): all results are naive local
  date/times in that zone.
* Plain machine formats (``2026-12-01``, ``2026-12-01 09:00``,
  ``2026-12-01T09:00``, ``12/1``, ``12.1``) are read directly, without
  loading jionlp (date-picker buttons send these).
* Future preference: an expression with no anchor (no 今/明/下/年/... word,
  no four-digit year) that lands before today is moved forward by its own
  cycle: a weekday by a week ("周三" said on a Thursday is next Wednesday),
  a month-day by a year ("11月30日" said in December is next year's), a bare
  day of month by a month. Bare clock times are not moved.
* Date-time fields: an explicit clock time wins. A date without one gives
  None, unless a part-of-day word fixes the time: 上午/早上 -> 09:00,
  中午 -> 12:00, 下午 -> 14:00, 晚上/今晚 -> 19:00.
* Spans: only range expressions (…到…, …至…) count. The end is inclusive as
  jionlp reports it: a date-only end is that day's 23:59:59. An end before
  the start moves forward by its own cycle (下周一到周三, 晚上10点到凌晨2点)
  unless it is anchored (明天下午到明天上午): then there is no range.
* Anything that is not a usable expression gives None; user text never
  raises. Text longer than 100 characters is not parsed (see _MAX_LENGTH).
* Whole sentences (「下周想请两天假」): ``mentioned`` finds the time expressions
  in them (``jionlp.ner.extract_time``) and reads each with the rules above:
  the first day named (a week is its Monday) and a length in days (两天,
  半天, 一天半). A range whose two halves each name a day (「12月8日到10日」,
  「明天上午到后天下午」) gives its first day and its last. Each half's time of
  day is its own: a clock time wins; a part of the day starts as above and
  ends at 12:00 (上午/早上), 14:00 (中午) or 23:59 (晚上); an end with no time or
  with 下午 runs to its day's end, which is the caller's to say (a form's is
  the working day's). Each phrase is read once, from the extraction's own
  parse; only an open start (「下周一开始」) is read again without 开始/起.

jionlp takes ~0.35 s to import (~0.85 s the very first time, when it unzips
its dictionaries) and ~0.23 s more for its first call, which compiles its
patterns. So it is imported lazily, once, and kept; a server can call
``warm_up()`` at start-up to pay that before the first user message.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

_LIB_FORMAT = "%Y-%m-%d %H:%M:%S"
# jionlp's matching time grows quadratically with input length (2,000 digits
# take ~2 s); no date answer is this long, so longer text is not parsed.
_MAX_LENGTH = 100
_ONE_DAY = timedelta(days=1)

# Hours used when the text names only a part of the day. Order matters:
# the first word found wins.
_PART_OF_DAY_HOURS = (
    ("中午", 12),
    ("下午", 14),
    ("上午", 9),
    ("早上", 9),
    ("早晨", 9),
    ("晚上", 19),
    ("晚", 19),  # 今晚 / 明晚 / 傍晚
)
# When a range ending in a part of the day ends (「到后天上午」), in the same order. 下午 is
# left out: an afternoon runs to the end of the day, and when a day ends is the caller's.
_PART_OF_DAY_ENDS = (
    ("中午", time(14, 0)),
    ("下午", None),
    ("上午", time(12, 0)),
    ("早上", time(12, 0)),
    ("早晨", time(12, 0)),
    ("晚上", time(23, 59)),
    ("晚", time(23, 59)),
)

# jionlp reads "下午好" as "this afternoon"; a greeting is not a time.
_GREETING = re.compile(r"(早上|上午|中午|下午|晚上|早)好")
# jionlp rejects "今早"/"明早" and reads "明早9点" as *today* 9:00, while it
# handles the spelled-out forms correctly.
_SHORT_MORNING = (("明早", "明天早上"), ("今早", "今天早上"))

# Words that tie an expression to a specific week/month/year; such
# expressions are taken literally, never moved into the future. Part-of-day
# words are removed first because 上午/下午 contain 上/下.
_PART_OF_DAY_WORDS = re.compile(r"上午|下午|中午|晚上|早上|早晨|傍晚|凌晨")
_ANCHOR = re.compile(r"[今明昨本这上下去前后来]|年|\d{4}")

_WEEKDAY = re.compile(r"(周|星期|礼拜)[一二三四五六日天末1-7]")
_MONTH = re.compile(r"月|\d{1,2}\s*[/.\-]\s*\d{1,2}")
_DAY_OF_MONTH = re.compile(r"[号日]")
_CLOCK = re.compile(r"[点时:]")
_SPAN_SEPARATOR = re.compile(r"到|至|~|～|—")
# A half of a range that names a day (明天, 10日, 12/10, 周三), not a week or a month (下周, 12月).
_NAMES_A_DAY = re.compile(r"[天日号]|(周|星期|礼拜)[一二三四五六日天1-7]|\d{1,2}\s*[/.\-]\s*\d{1,2}")

_PLAIN_DATETIME = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)
_PLAIN_MONTH_DAY = re.compile(r"(\d{1,2})[/.](\d{1,2})(?: (\d{1,2}):(\d{2}))?")

# jionlp.parse_time is one shared object that keeps per-call state on itself.
_LIB_LOCK = threading.Lock()


@dataclass(frozen=True)
class _Parsed:
    is_span: bool
    start: datetime
    end: datetime
    accurate: bool  # False for jionlp's "blur" results (下午, 下周, ...)


def parse_date(text: str, now: datetime) -> date | None:
    """The calendar day the text names, or None."""
    return _day_of(_parse(text, now))


def parse_datetime(text: str, now: datetime) -> datetime | None:
    """The moment the text names, or None when it gives no time of day."""
    parsed = _parse(text, now)
    return None if parsed is None else _moment_of(parsed, _clean(text))  # cleaned: greetings are not 下午


def _day_of(parsed: _Parsed | None) -> date | None:
    # A week or a month ("下周", "下个月") is not a day.
    if parsed is None or parsed.is_span or parsed.end - parsed.start >= _ONE_DAY:
        return None
    return parsed.start.date()


def _moment_of(parsed: _Parsed, cleaned: str) -> datetime | None:
    if _day_of(parsed) is None:
        return None
    if parsed.accurate and not _is_whole_day(parsed):
        return parsed.start  # an explicit clock time wins
    hour = _part_of_day_hour(cleaned)
    if hour is None:
        return None  # a bare date must not silently become midnight
    return datetime.combine(parsed.start.date(), time(hour))


def parse_span(text: str, now: datetime) -> tuple[datetime, datetime] | None:
    """(start, inclusive end) of a range expression, or None."""
    parsed = _parse(text, now)
    if parsed is None or not parsed.is_span:
        return None
    return parsed.start, parsed.end


def normalize_for_field(field_type: str, text: str, now: datetime) -> str | None:
    """``YYYY-MM-DD`` for "date", ``YYYY-MM-DD HH:MM`` for "datetime"."""
    if field_type == "date":
        value = parse_date(text, now)
        return None if value is None else value.strftime("%Y-%m-%d")
    if field_type == "datetime":
        moment = parse_datetime(text, now)
        return None if moment is None else moment.strftime("%Y-%m-%d %H:%M")
    # A wrong field type is a bug in the caller, not bad user input.
    raise ValueError(f"unsupported field type: {field_type!r}")


@dataclass(frozen=True)
class Mentioned:
    """What a whole sentence says about when and how long."""

    day: date | None = None  # the first day named; a week (下周) is its Monday
    moment: datetime | None = None  # that day with its time, when a time of day was said
    days: float | None = None  # a length in days: 两天 -> 2, 半天 -> 0.5, 一天半 -> 1.5
    end_day: date | None = None  # a range's last day (inclusive): 12月8日到10日 -> 12-10
    end_moment: datetime | None = None  # the range's end, when its end half says when that day ends


# 「下周一开始」「12月10日起」 name an open span; its first day is what is meant.
_OPEN_END = re.compile(r"(开始|起)$")


def mentioned(text: str, now: datetime) -> Mentioned:
    """The first day (or range of days) and the length in days a sentence mentions; a day
    before today is not taken (「这周」 said on a Thursday)."""
    base = _local_now(now)
    cleaned = _clean(text) if isinstance(text, str) else ""
    if not cleaned or len(cleaned) > _MAX_LENGTH:
        return Mentioned()
    when, days = None, None
    for item in _extract_with_library(cleaned, base):
        kind = item.get("type")
        if kind == "time_delta" and days is None:
            days = _days_of(item.get("detail"))
        elif kind in ("time_point", "time_span") and when is None:
            when = _when(item, base)
            if when is not None and when.day < base.date():
                when = None
    return Mentioned(days=days) if when is None else replace(when, days=days)


def _when(item: dict, base: datetime) -> Mentioned | None:
    """The day (or days) a phrase extract_time found names, read once: from the extraction's
    own parse, except a plain format (read as ``_parse_plain`` does) and an open start
    (「下周一开始」: jionlp's span has no end, so the phrase is read again without 开始/起)."""
    found = str(item.get("text") or "")
    phrase = _clean(_OPEN_END.sub("", found))
    if not phrase:
        return None
    parsed = _parse_plain(phrase, base)
    if parsed is None:
        parsed = (_from_library_result(item.get("detail")) if phrase == found
                  else _parse_with_library(phrase, base))
    parsed = _settled(parsed, phrase, base)
    if parsed is None:
        return None
    if parsed.is_span:
        return _range(parsed, phrase)
    day = _day_of(parsed) or _week_start(parsed)
    return None if day is None else Mentioned(day, _moment_of(parsed, phrase))


def _range(parsed: _Parsed, phrase: str) -> Mentioned | None:
    """A range whose halves each name a day: its first day and its last, each with its own
    time of day (a clock time, else a part of the day, else none)."""
    halves = _SPAN_SEPARATOR.split(phrase, maxsplit=1)
    if len(halves) != 2 or not all(_NAMES_A_DAY.search(half) for half in halves):
        return None  # 下周到下下周: weeks, not days
    first, last = halves
    moment = None
    if _CLOCK.search(first):
        moment = parsed.start
    elif (hour := _part_of_day_hour(first)) is not None:
        moment = datetime.combine(parsed.start.date(), time(hour))
    if _CLOCK.search(last):
        end = parsed.end.replace(second=0)  # jionlp ends 17:30 at 17:30:59
    else:
        end_time = next((t for word, t in _PART_OF_DAY_ENDS if word in last), None)
        end = None if end_time is None else datetime.combine(parsed.end.date(), end_time)
    return Mentioned(parsed.start.date(), moment, None, parsed.end.date(), end)


def _week_start(parsed: _Parsed) -> date | None:
    """The Monday of a week the phrase names (下周, 下下周), else None."""
    if parsed.is_span or parsed.start.weekday() != 0:
        return None
    if parsed.end - parsed.start != timedelta(weeks=1) - timedelta(seconds=1):
        return None
    return parsed.start.date()


def _days_of(detail: object) -> float | None:
    length = detail.get("time") if isinstance(detail, dict) else None
    if not isinstance(length, dict) or set(length) != {"day"}:
        return None  # hours, weeks, months: not a count of days
    try:
        value = float(length["day"])
    except (TypeError, ValueError):
        return None
    if value <= 0:
        return None
    return int(value) if value.is_integer() else value


def _extract_with_library(text: str, base: datetime) -> list[dict]:
    with _LIB_LOCK:
        try:
            found = _library_extract_time()(text, time_base=base, with_parsing=True)
        except Exception:  # as for parse_time: user text never crashes a turn
            return []
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def warm_up() -> None:
    """Load jionlp and run its one-off set-up now rather than on first use."""
    _parse_with_library("明天", datetime(2026, 1, 1))


def _parse(text: str, now: datetime) -> _Parsed | None:
    base = _local_now(now)
    if not isinstance(text, str):
        return None
    cleaned = _clean(text)
    if not cleaned or len(cleaned) > _MAX_LENGTH:
        return None
    return _settled(_parse_plain(cleaned, base) or _parse_with_library(cleaned, base), cleaned, base)


def _settled(parsed: _Parsed | None, cleaned: str, base: datetime) -> _Parsed | None:
    """What jionlp (or the plain reader) made of the text, with this module's rules applied."""
    if parsed is None:
        return None
    parsed = _fix_inverted_span(parsed, cleaned)
    if parsed is None:
        return None
    return _prefer_future(parsed, cleaned, base)


def _local_now(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        # A naive now would be read in the server's zone: refuse to guess.
        raise ValueError("now must be timezone-aware")
    return now.replace(tzinfo=None, microsecond=0)  # the wall clock of now's own zone


def _clean(text: str) -> str:
    # NFKC folds full-width digits and colons typed with a Chinese IME.
    cleaned = unicodedata.normalize("NFKC", text).strip()
    cleaned = _GREETING.sub("", cleaned)
    for short, spelled_out in _SHORT_MORNING:
        cleaned = cleaned.replace(short, spelled_out)
    return cleaned.strip()


def _parse_plain(text: str, base: datetime) -> _Parsed | None:
    match = _PLAIN_DATETIME.fullmatch(text)
    if match:
        year, month, day, hour, minute, second = match.groups()
    else:
        match = _PLAIN_MONTH_DAY.fullmatch(text)
        if not match:
            return None
        month, day, hour, minute = match.groups()
        year, second = base.year, None  # the future rule may move it on
    try:
        start = datetime(int(year), int(month), int(day))
        if hour is None:
            return _Parsed(False, start, start + _ONE_DAY - timedelta(seconds=1), True)
        start = start.replace(hour=int(hour), minute=int(minute), second=int(second or 0))
    except ValueError:
        return None  # e.g. 2026-02-30; jionlp would not do better
    return _Parsed(False, start, start, True)


def _parse_with_library(text: str, base: datetime) -> _Parsed | None:
    with _LIB_LOCK:
        try:
            result = _library_parse_time()(text, time_base=base)
        # jionlp says "no time here" with ValueError but also raises
        # TypeError and others on odd input; user text must never crash a form.
        except Exception:
            return None
    return _from_library_result(result)


@functools.cache
def _library_parse_time() -> Callable[..., dict]:
    # jionlp and jiojio print banners to stdout on import.
    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp
    return jionlp.parse_time


@functools.cache
def _library_extract_time() -> Callable[..., list]:
    _library_parse_time()  # imports jionlp quietly
    import jionlp

    return jionlp.ner.extract_time


def _from_library_result(result: object) -> _Parsed | None:
    # time_delta ("3天") and time_period ("每周一") are not dates.
    if not isinstance(result, dict) or result.get("type") not in ("time_point", "time_span"):
        return None
    bounds = result.get("time")
    if not isinstance(bounds, list) or len(bounds) != 2:
        return None
    try:
        start, end = (datetime.strptime(value, _LIB_FORMAT) for value in bounds)
    except (TypeError, ValueError):
        return None  # e.g. an open-ended span ("12月1日以后") reports "inf"
    return _Parsed(
        result["type"] == "time_span", start, end, result.get("definition") == "accurate"
    )


def _fix_inverted_span(parsed: _Parsed, text: str) -> _Parsed | None:
    # jionlp resolves the second half of a span on its own, so 下周一到周三
    # ends on *this* Wednesday and 12月30日到1月2日 on this January 2nd.
    if not parsed.is_span or parsed.end >= parsed.start:
        return parsed
    second_half = _SPAN_SEPARATOR.split(text)[-1]
    if _is_anchored(second_half):
        return None  # 明天下午到明天上午: an end tied to its day is taken as said, before the start
    end = _shift(parsed.end, _cycle(second_half) or _cycle(text))
    if end is None or end < parsed.start:
        return None
    return _Parsed(True, parsed.start, end, parsed.accurate)


def _prefer_future(parsed: _Parsed, text: str, base: datetime) -> _Parsed | None:
    if parsed.start.date() >= base.date() or _is_anchored(text):
        return parsed
    cycle = _cycle(text)
    if cycle not in ("week", "month", "year"):
        return parsed  # bare clock times stay today; rolling them is a guess
    start, end = _shift(parsed.start, cycle), _shift(parsed.end, cycle)
    if start is None or end is None:
        return None
    return _Parsed(parsed.is_span, start, end, parsed.accurate)


def _is_anchored(text: str) -> bool:
    return bool(_ANCHOR.search(_PART_OF_DAY_WORDS.sub("", text)))


def _cycle(text: str) -> str | None:
    """The period after which the expression names the same time again."""
    if _WEEKDAY.search(text):
        return "week"
    if _MONTH.search(text):
        return "year"
    if _DAY_OF_MONTH.search(text):
        return "month"
    if _CLOCK.search(text) or _PART_OF_DAY_WORDS.search(text):
        return "day"
    return None


def _shift(moment: datetime, cycle: str | None) -> datetime | None:
    try:
        if cycle == "day":
            return moment + _ONE_DAY
        if cycle == "week":
            return moment + timedelta(weeks=1)
        if cycle == "month":
            year, month = divmod(moment.month, 12)
            return moment.replace(year=moment.year + year, month=month + 1)
        if cycle == "year":
            return moment.replace(year=moment.year + 1)
    except ValueError:
        return None  # no such day in the target month/year (31st, Feb 29)
    return None


def _is_whole_day(parsed: _Parsed) -> bool:
    # jionlp gives a bare date as 00:00:00 .. 23:59:59 of that day.
    length = parsed.end - parsed.start
    return parsed.start.time() == time(0) and length == _ONE_DAY - timedelta(seconds=1)


def _part_of_day_hour(text: str) -> int | None:
    for word, hour in _PART_OF_DAY_HOURS:
        if word in text:
            return hour
    return None
