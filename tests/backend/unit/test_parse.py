"""Request bodies become typed commands at the edge, or a clear error code."""
from __future__ import annotations

import pytest

from backend.errors import InvalidInput, NotFound
from backend.web import parse
from backend.workflow.commands import (
    AddSigners,
    Approve,
    Comment,
    Delegate,
    Remind,
    Resubmit,
    Return,
    Sign,
    Submit,
    Terminate,
    Transfer,
    Withdraw,
)


def refusal(make, *args) -> str:
    with pytest.raises(InvalidInput) as refused:
        make(*args)
    return refused.value.code


def test_a_submission_names_its_matter_and_may_leave_out_the_approvers():
    assert parse.submit({"matter": "seal_usage", "form": {"copies": 2}}) == Submit("seal_usage", {"copies": 2}, {})
    assert refusal(parse.submit, {"form": {}}) == "matter_required"
    assert refusal(parse.submit, {"matter": "seal_usage", "form": []}) == "form_invalid"
    assert refusal(parse.submit, {"matter": "seal_usage", "form": {}, "approvers": {"leader": 5}}) == "approvers_invalid"


def test_a_resubmission_keeps_what_it_leaves_out():
    assert parse.resubmit(7, {}) == Resubmit(7, None, None)


def test_opinions_are_trimmed_and_a_return_needs_one():
    assert parse.decision("approve", 1, {"opinion": "  同意 "}) == Approve(1, "同意")
    assert parse.decision("approve", 1, {}) == Approve(1, "")
    assert refusal(parse.decision, "return", 1, {"opinion": " "}) == "opinion_required"
    assert refusal(parse.decision, "approve", 1, {"opinion": "字" * 2001}) == "opinion_too_long"
    assert parse.decision("return", 1, {"opinion": "请补充"}) == Return(1, "请补充")
    assert refusal(parse.decision, "return", 1, {"opinion": "不行\x00"}) == "opinion_invalid"  # a page's field


def test_signers_are_named_once_each_and_ten_at_most():
    assert parse.decision("add_signers", 1, {"users": ["a", "b", "a"]}) == AddSigners(1, ("a", "b"), "")
    assert refusal(parse.decision, "add_signers", 1, {"users": "a"}) == "signers_required"
    assert refusal(parse.decision, "add_signers", 1, {"users": [f"u{i}" for i in range(11)]}) == "too_many_signers"
    assert refusal(parse.decision, "add_signers", 1, {"users": ["t1203\x00"]}) == "signers_required"


def test_a_signers_opinion_agrees_unless_it_says_otherwise():
    assert parse.decision("sign", 1, {"opinion": "好"}) == Sign(1, "好", True)
    assert refusal(parse.decision, "sign", 1, {"opinion": "好", "agree": "no"}) == "agree_required"


def test_terminate_takes_a_list_of_whole_numbers():
    assert parse.terminate({"ids": [3, 1], "reason": "不办了"}) == Terminate((3, 1), "不办了")
    for ids in (None, [], "1", [True], [1.5]):
        assert refusal(parse.terminate, {"ids": ids}) == "ids_required"
    assert refusal(parse.terminate, {"ids": list(range(101))}) == "too_many_ids"


def test_ids_no_row_can_have_are_not_found():
    for unheld in (0, -1, 2**31):
        with pytest.raises(NotFound) as refused:
            parse.terminate({"ids": [1, unheld]})
        assert refused.value.code == "application_not_found"


def test_a_task_is_handed_to_someone_named_by_username():
    assert parse.decision("transfer", 1, {"to": " t1001 ", "opinion": "请处理"}) == Transfer(1, "t1001", "请处理")
    assert parse.decision("delegate", 1, {"to": "t1001"}) == Delegate(1, "t1001", "")
    for body in ({}, {"to": ""}, {"to": 5}, {"to": ["t1001"]}, {"to": "x" * 65}):
        assert refusal(parse.decision, "transfer", 1, body) == "to_required"


def test_a_return_may_name_a_passed_node():
    assert parse.decision("return", 1, {"opinion": "再看看", "to_node": "head"}) == Return(1, "再看看", "head")
    assert parse.decision("return", 1, {"opinion": "再看看", "to_node": None}) == Return(1, "再看看")
    assert refusal(parse.decision, "return", 1, {"opinion": "再看看", "to_node": 3}) == "to_node_invalid"


def test_a_comment_needs_text_and_a_withdrawal_or_reminder_nothing():
    assert parse.comment(3, {"text": " 原件明天送到 "}) == Comment(3, "原件明天送到")
    assert refusal(parse.comment, 3, {}) == "text_required"
    assert refusal(parse.comment, 3, {"text": "  "}) == "text_required"
    assert refusal(parse.comment, 3, {"text": 7}) == "opinion_invalid"
    assert parse.withdraw(3, {}) == Withdraw(3, "") and parse.remind(3, {}) == Remind(3)


def test_cc_is_a_list_of_usernames_once_each():
    assert parse.submit({"matter": "m", "form": {}, "cc": ["a", "b", "a"]}).cc == ("a", "b")
    assert parse.decision("approve", 1, {"cc": ["a"]}) == Approve(1, "", ("a",))
    assert refusal(parse.submit, {"matter": "m", "form": {}, "cc": "a"}) == "cc_invalid"
    assert refusal(parse.decision, "approve", 1, {"cc": [""]}) == "cc_invalid"
    assert refusal(parse.decision, "approve", 1, {"cc": [f"u{i}" for i in range(21)]}) == "too_many_cc"
