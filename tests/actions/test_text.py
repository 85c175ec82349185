import pytest

from actions import text


@pytest.mark.parametrize("said,expected", [
    ("同意第2个,情况属实", 2), ("看看第三个", 3), ("第 10 条", 10), ("退回第两个", 2), ("最后一个同意", -1),
    ("同意", None), ("同意 SW20261127-0001", None),
])
def test_ordinals(said, expected):
    assert text.ordinal(said) == expected


def test_application_numbers_are_found_in_any_case():
    assert text.application_number("退回 sw20261127-0003 请补充附件") == "SW20261127-0003"
    assert text.application_number("退回第1个") is None


@pytest.mark.parametrize("said,expected", [
    ("同意第2个,情况属实", "情况属实"),
    ("退回 SW20261127-0003 请补充附件", "请补充附件"),
    ("退回,材料不全", "材料不全"),
    ("同意", ""),
    ("我同意这个申请,经费已落实。", "经费已落实"),
    ("不同意,经费预算偏高", "经费预算偏高"),
    ('/approve{"task_id": "12"}', ""),  # a card or button click
])
def test_opinions_are_the_text_after_the_command_and_target(said, expected):
    assert text.opinion(said) == expected


@pytest.mark.parametrize("said,clicked", [
    ("/list_tasks", True), ('  /approve{"task_id": "12"}', True), ("帮助手册印刷", False), ("1/2份", False), ("", False),
])
def test_button_payloads_are_told_from_typed_text(said, clicked):
    assert text.is_button_payload(said) is clicked


@pytest.mark.parametrize("said,expected", [("3", 3), ("两份", 2), ("三个人", 3), ("1.5天", 1.5), ("半天", 0.5),
                                           ("十二", 12), ("没有", None)])
def test_numbers(said, expected):
    assert text.number(said) == expected


@pytest.mark.parametrize("said,expected", [
    ("把时间改成后天", ("时间", "后天")), ("份数改为3份", ("份数", "3份")),
    ("把刚才的开始时间换成明天上午九点", ("开始时间", "明天上午九点")), ("你好", None),
])
def test_corrections(said, expected):
    assert text.correction(said) == expected


def test_person_mentions_prefer_full_names_then_titles():
    assert text.person_mentions("加签给王丽华和李明", ["王丽华", "李明", "张伟"]) == ["王丽华", "李明"]
    assert text.person_mentions("加签给教务处的王老师和李老师", []) == ["王", "李"]
