from datetime import date

import pytest

from backend.errors import InvalidInput
from backend.workflow.forms import check_schema, validate_form

TODAY = date(2026, 11, 27)
SCHEMA = [
    {"key": "kind", "label": "类型", "type": "choice", "required": True, "options": ["事假", "病假"]},
    {"key": "start", "label": "开始时间", "type": "datetime", "required": True, "validation": {"not_before": "today"}},
    {"key": "end", "label": "结束时间", "type": "datetime", "required": True,
     "validation": {"not_before_field": "start"}},
    {"key": "days", "label": "天数", "type": "number", "validation": {"min": 0.5, "max": 30}},
    {"key": "reason", "label": "事由", "type": "textarea", "validation": {"max_length": 10}},
    {"key": "on", "label": "日期", "type": "date"},
    {"key": "tags", "label": "标签", "type": "multichoice", "options": ["a", "b", "c"], "validation": {"max_items": 2}},
    {"key": "file", "label": "附件", "type": "attachment"},
    {"key": "who", "label": "交接人", "type": "person"},
]
VALID = {"kind": "事假", "start": "2026-11-28 09:00", "end": "2026-11-28T17:30"}


def errors_of(data, **kw):
    with pytest.raises(InvalidInput) as caught:
        validate_form(SCHEMA, data, TODAY, **kw)
    return caught.value.details["fields"]


def test_valid_form_is_normalized():
    cleaned = validate_form(SCHEMA, {**VALID, "days": "1.5", "on": "2026/12/01", "tags": ["a", "a", "b"],
                                     "file": "证明.pdf", "who": " t2001 "}, TODAY)
    assert cleaned == {"kind": "事假", "start": "2026-11-28 09:00", "end": "2026-11-28 17:30", "days": 1.5,
                       "on": "2026-12-01", "tags": ["a", "b"], "file": "证明.pdf", "who": "t2001"}


def test_missing_required_fields_are_each_reported():
    assert set(errors_of({})) == {"kind", "start", "end"}


def test_partial_checks_only_the_given_fields():
    assert validate_form(SCHEMA, {"days": 2}, TODAY, partial=True) == {"days": 2}
    assert "days" in errors_of({"days": 99}, partial=True)


def test_choice_must_be_an_option():
    assert "请从选项中选择" in errors_of({**VALID, "kind": "旅游假"})["kind"]


def test_dates_in_the_past_are_refused():
    assert "不能早于今天" in errors_of({**VALID, "start": "2026-11-26 09:00"})["start"]


def test_end_before_start_is_refused():
    assert "不能早于前面" in errors_of({**VALID, "end": "2026-11-28 08:00"})["end"]


@pytest.mark.parametrize("field,value", [
    ("days", "两天"), ("days", 0), ("days", 31), ("days", True), ("reason", "x" * 11), ("reason", 5),
    ("on", "12月1日"), ("tags", ["d"]), ("tags", ["a", "b", "c"]), ("file", "../etc/passwd"), ("file", "noext"),
    ("start", "tomorrow"),
    ("reason", "a\x00b"), ("who", "t2001\x00"),
    ("days", "nan"), ("days", "NaN"), ("days", "inf"), ("days", "-Infinity"), ("days", "1e999"), ("days", float("nan")),
])
def test_bad_values_are_refused(field, value):
    assert field in errors_of({**VALID, field: value})


def test_unknown_fields_are_refused():
    assert "extra" in errors_of({**VALID, "extra": 1})


def test_form_must_be_an_object():
    with pytest.raises(InvalidInput):
        validate_form(SCHEMA, ["not", "a", "dict"], TODAY)


@pytest.mark.parametrize("schema,problem", [
    ([{"key": "a", "label": "A", "type": "colour"}], "unknown type"),
    ([{"key": "A b", "label": "A", "type": "text"}], "lower-case"),
    ([{"key": "a", "label": "A", "type": "choice"}], "needs options"),
    ([{"key": "a", "label": "A", "type": "text"}, {"key": "a", "label": "B", "type": "text"}], "duplicate"),
    ([{"key": "a", "label": "A", "type": "text", "validation": {"regex": "x"}}], "unknown validation"),
    ([{"key": "a", "label": "A", "type": "date", "validation": {"not_before_field": "b"}}], "earlier field"),
])
def test_malformed_schemas_are_rejected_at_import(schema, problem):
    with pytest.raises(ValueError, match=problem):
        check_schema(schema, "test")
