"""Names spelled as they are typed without a Chinese input method (the person picker's search)."""
from __future__ import annotations

import pytest

from backend.db.models import User
from backend.db.spelling import spelling, typed_as_pinyin


@pytest.mark.parametrize("name, ways", [
    ("李明", {"liming", "lm"}),
    ("曾小贤", {"zengxiaoxian", "zxx", "cengxiaoxian"}),  # every reading of the surname
    ("单 田芳", {"shantianfang", "stf"}),
])
def test_a_name_is_spelled_whole_and_by_initials(name, ways):
    assert ways <= set(spelling(name).split())


def test_the_spelling_follows_the_name():
    person = User(username="t9999", name="李明", department_id=1)
    assert person.name_spelling == "liming lm"
    person.name = "王丽华"
    assert "wanglihua" in person.name_spelling.split() and "liming" not in person.name_spelling


def test_only_letters_are_taken_as_pinyin():
    assert typed_as_pinyin("lm") and typed_as_pinyin("LiMing")
    assert not typed_as_pinyin("t1001") and not typed_as_pinyin("李明") and not typed_as_pinyin("")
