"""Which tasks a bare 「同意」 could mean: those looked at or notified about since the last decision."""
from rasa_sdk import Tracker

from actions.tasks import tasks_in_view, which_of


def slot(value):
    return {"event": "slot", "name": "current_task_id", "value": value}


def tracker(events, text="同意,情况属实", intent="approve"):
    latest = {"text": text, "intent": {"name": intent}, "entities": []}
    return Tracker("wecom:hansongtao", {}, latest, events, False, None, {}, "action_listen")


def test_a_card_after_a_look_puts_two_tasks_in_view_newest_first():
    events = [slot(3), {"event": "user"}, slot(None), slot(7), {"event": "user", "text": "看看第1个"}, slot(9)]
    assert tasks_in_view(tracker(events)) == [9, 7]


def test_a_decision_a_restart_or_a_new_session_ends_the_view():
    assert tasks_in_view(tracker([slot(7), slot(None)])) == []
    assert tasks_in_view(tracker([slot(7), {"event": "restart"}, slot(9)])) == [9]
    assert tasks_in_view(tracker([slot(7), {"event": "session_started"}])) == []
    assert tasks_in_view(tracker([slot(7), slot(7)])) == [7]
    assert tasks_in_view(tracker([slot(i) for i in range(1, 30)])) == [29, 28, 27, 26, 25]  # the newest few


def test_the_question_lists_both_and_its_buttons_carry_task_and_opinion():
    tasks = [{"id": 9, "number": "SW20261201-0002", "kind": "approval", "created_at": "2026-12-01T09:00:00",
              "matter": {"name": "请假申请(教职工)"}, "applicant": {"name": "冯雅琴", "department": "音乐系"}},
             {"id": 7, "number": "SW20261201-0001", "kind": "approval", "created_at": "2026-12-01T08:00:00",
              "matter": {"name": "请假申请(教职工)"}, "applicant": {"name": "张伟", "department": "音乐系"}}]
    question = which_of(tasks, tracker([]))
    assert "要同意哪一个" in str(question) and "SW20261201-0002" in str(question) and "张伟" in str(question)
    assert question.buttons == [
        {"title": "同意 SW20261201-0002", "payload": '/approve{"task_id": "9", "opinion": "情况属实"}'},
        {"title": "同意 SW20261201-0001", "payload": '/approve{"task_id": "7", "opinion": "情况属实"}'}]
    returned = which_of(tasks, tracker([], text="退回", intent="return_task"))
    assert returned.buttons[0]["payload"] == '/return_task{"task_id": "9"}' and "要退回哪一个" in str(returned)
