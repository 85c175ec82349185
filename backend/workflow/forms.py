"""Form schemas: checking a matter's definition and validating what an applicant typed.

Pure functions, no I/O. ``validate_form`` returns normalized values (dates as
``YYYY-MM-DD``, datetimes as ``YYYY-MM-DD HH:MM``, numbers as int/float) or raises
``InvalidInput`` with one Chinese message per bad field in ``details["fields"]``.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any, Iterable, Optional

from ..errors import InvalidInput

FIELD_TYPES = (
    "text", "textarea", "number", "date", "datetime", "choice", "multichoice", "person", "attachment",
)
VALIDATION_KEYS = {
    "max_length", "min_length", "min", "max", "not_before", "not_before_field", "max_items",
}
DEFAULT_MAX_LENGTH = {"text": 200, "textarea": 2000, "attachment": 255, "person": 64}

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日")
_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d %H:%M",
)
_ATTACHMENT_NAME = re.compile(r"^[^/\\\x00-\x1f]+\.[A-Za-z0-9]{1,8}$")
_FILE_IDS = re.compile(r"^\s*\d{1,18}(\s*[,,]\s*\d{1,18})*\s*$")
MAX_ATTACHMENTS = 10
MAX_FILE_ID = 2**63 - 1


# ---------------------------------------------------------------- definitions


def check_schema(fields: Any, where: str) -> None:
    """Reject a malformed matter definition at import time, not at submission."""
    if not isinstance(fields, list):
        raise ValueError(f"{where}: form must be a list of fields")
    seen: set[str] = set()
    for field in fields:
        key = field.get("key") if isinstance(field, dict) else None
        if not key or not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise ValueError(f"{where}: field key {key!r} must be lower-case ASCII")
        if key in seen:
            raise ValueError(f"{where}: duplicate field key {key!r}")
        seen.add(key)
        if field.get("type") not in FIELD_TYPES:
            raise ValueError(f"{where}.{key}: unknown type {field.get('type')!r}")
        if not field.get("label"):
            raise ValueError(f"{where}.{key}: label is required")
        if field["type"] in ("choice", "multichoice") and not field.get("options"):
            raise ValueError(f"{where}.{key}: a {field['type']} field needs options")
        unknown = set(field.get("validation") or {}) - VALIDATION_KEYS
        if unknown:
            raise ValueError(f"{where}.{key}: unknown validation {sorted(unknown)}")
        other = (field.get("validation") or {}).get("not_before_field")
        if other and other not in seen:
            raise ValueError(f"{where}.{key}: not_before_field {other!r} must be an earlier field")


# ---------------------------------------------------------------- values


def parse_date(value: Any) -> Optional[date]:
    if not isinstance(value, str):
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    return None


def parse_datetime(value: Any) -> Optional[datetime]:
    if not isinstance(value, str):
        return None
    text = value.strip()
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _number(value: Any) -> Optional[float]:
    """An int or a finite float; None for anything else ("nan", "inf", "1e999" included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        return int(number) if number.is_integer() else number
    return None


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list)) and len(value) == 0) or (
        isinstance(value, str) and not value.strip()
    )


class _Checker:
    """Validates one field; returns (normalized value, error message or None)."""

    def __init__(self, today: date, values: dict[str, Any]):
        self.today = today
        self.values = values  # normalized values of earlier fields

    def check(self, field: dict[str, Any], raw: Any) -> tuple[Any, Optional[str]]:
        kind = field["type"]
        rules = field.get("validation") or {}
        method = getattr(self, f"_{kind}")
        value, error = method(field, raw, rules)
        return value, error

    def _string(self, field, raw, rules):
        if not isinstance(raw, str):
            return None, "请填写文字"
        if "\x00" in raw:  # no database keeps it (the hall's form fields are not checked as JSON is)
            return None, "含有无法识别的字符"
        value = raw.strip()
        limit = rules.get("max_length", DEFAULT_MAX_LENGTH.get(field["type"], 200))
        if len(value) > limit:
            return None, f"不能超过 {limit} 个字"
        if len(value) < rules.get("min_length", 0):
            return None, f"至少需要 {rules['min_length']} 个字"
        return value, None

    _text = _textarea = _person = _string

    def _attachment(self, field, raw, rules):
        """Uploaded files: a list of their ids (the API, the hall's form: ``"12,13"``), which
        the engine checks exist and are the applicant's. A typed file name (``材料.pdf``) is
        still taken from clients that cannot upload (text chat), as before."""
        ids = file_ids(raw)
        if ids is not None:
            limit = rules.get("max_items", MAX_ATTACHMENTS)
            if not ids:
                return None, "请上传附件"
            if len(ids) > limit:
                return None, f"最多上传 {limit} 个附件"
            return ids, None
        value, error = self._string(field, raw, rules)
        if error:
            return value, error
        if not _ATTACHMENT_NAME.match(value):
            return None, "请上传附件(或填写附件的文件名,如 材料.pdf)"
        return value, None

    def _number(self, field, raw, rules):
        value = _number(raw)
        if value is None:
            return None, "请填写数字"
        if "min" in rules and value < rules["min"]:
            return None, f"不能小于 {rules['min']}"
        if "max" in rules and value > rules["max"]:
            return None, f"不能大于 {rules['max']}"
        return value, None

    def _when(self, rules, moment: date, shown: str):
        if rules.get("not_before") == "today" and moment < self.today:
            return "不能早于今天"
        other_key = rules.get("not_before_field")
        other = self.values.get(other_key) if other_key else None
        if other is not None and shown < other:
            return "不能早于前面填写的开始时间"
        return None

    def _date(self, field, raw, rules):
        parsed = parse_date(raw)
        if parsed is None:
            return None, "日期格式应为 YYYY-MM-DD"
        shown = parsed.isoformat()
        return shown, self._when(rules, parsed, shown)

    def _datetime(self, field, raw, rules):
        parsed = parse_datetime(raw)
        if parsed is None:
            return None, "时间格式应为 YYYY-MM-DD HH:MM"
        shown = parsed.strftime("%Y-%m-%d %H:%M")
        return shown, self._when(rules, parsed.date(), shown)

    def _choice(self, field, raw, rules):
        if raw not in field["options"]:
            return None, "请从选项中选择:" + "、".join(field["options"])
        return raw, None

    def _multichoice(self, field, raw, rules):
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            return None, "请至少选择一项"
        bad = [item for item in raw if item not in field["options"]]
        if bad:
            return None, f"「{bad[0]}」不是可选项,可选:" + "、".join(field["options"])
        unique = list(dict.fromkeys(raw))
        if "max_items" in rules and len(unique) > rules["max_items"]:
            return None, f"最多选择 {rules['max_items']} 项"
        return unique, None


def validate_form(
    fields: list[dict[str, Any]],
    data: Any,
    today: date,
    *,
    partial: bool = False,
) -> dict[str, Any]:
    """Validate ``data`` against ``fields``.

    ``partial=True`` checks only the fields present (the bot validates answers one by
    one); missing required fields are then not an error.
    """
    if not isinstance(data, dict):
        raise InvalidInput("form_invalid", "表单数据应为对象", {"fields": {}})
    known = {field["key"] for field in fields}
    errors: dict[str, str] = {key: "表单中没有这一项" for key in data if key not in known}
    cleaned: dict[str, Any] = {}
    checker = _Checker(today, cleaned)
    for field in fields:
        key = field["key"]
        raw = data.get(key)
        if _is_empty(raw):
            if field.get("required") and not partial:
                errors[key] = f"「{field['label']}」为必填项"
            continue
        value, error = checker.check(field, raw)
        if error:
            errors[key] = f"「{field['label']}」{error}"
        else:
            cleaned[key] = value
    if errors:
        first = next(iter(errors.values()))
        raise InvalidInput("form_invalid", f"表单填写有误:{first}", {"fields": errors})
    return cleaned


def file_ids(raw: Any) -> Optional[list[int]]:
    """An attachment answer as uploaded files' ids (in order, once each), or None when it is
    not one (a typed file name). An id out of range is kept as 0, which names no file."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        raw = [raw]
    elif isinstance(raw, str) and _FILE_IDS.match(raw):
        raw = [part for part in re.split(r"[,,]", raw)]
    if not isinstance(raw, list) or not all(
            (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, str) and x.strip().isdigit()) for x in raw):
        return None
    ids = [int(x) for x in raw]
    return list(dict.fromkeys(i if 0 < i <= MAX_FILE_ID else 0 for i in ids))


def attachment_values(fields: Iterable[dict[str, Any]], cleaned: dict[str, Any]) -> dict[str, list[int]]:
    """The attachment fields answered with uploaded files: key → file ids."""
    return {f["key"]: cleaned[f["key"]] for f in fields
            if f["type"] == "attachment" and isinstance(cleaned.get(f["key"]), list)}


def person_values(fields: Iterable[dict[str, Any]], cleaned: dict[str, Any]) -> dict[str, str]:
    """The person fields' values (usernames) so the caller can check they exist."""
    return {f["key"]: cleaned[f["key"]] for f in fields if f["type"] == "person" and f["key"] in cleaned}
