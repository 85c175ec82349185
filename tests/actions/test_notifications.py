from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.backend_client import BackendClient
from actions.notifications import (
    SEEN_KEEP, ActionDeliverNotification, applicant_message, key_fields, task_buttons, task_card,
)
from actions.settings import Settings
from actions.wiring import Services

TASK = {
    "id": 12, "kind": "approval", "status": "pending", "number": "SW20261127-0003",
    "matter": {"code": "seal_usage", "name": "公章使用申请"},
    "applicant": {"username": "t2001", "name": "周明", "department": "音乐系"},
    "node": {"index": 0, "key": "leader", "name": "分管校领导审批"},
    "application": {
        "created_at": "2026-11-27T10:32:05+08:00",
        "form_schema": [{"key": "seal_type", "label": "印章类型"}, {"key": "note", "label": "备注"},
                        {"key": "copies", "label": "用印份数"}, {"key": "purpose", "label": "用途"},
                        {"key": "devices", "label": "设备"}, {"key": "extra", "label": "其他"}],
        "form": {"seal_type": "学校公章", "note": "", "copies": 2, "purpose": "签" * 60,
                 "devices": ["电脑", "手机"], "extra": "不显示"},
    },
}


async def run(entities, seen=None, services=None):
    latest = {"intent": {"name": "EXTERNAL_notification"}, "text": None,
              "entities": [{"entity": k, "value": v} for k, v in entities.items()]}
    tracker = Tracker("wecom:shenliqun", {"notified_outbox_ids": seen}, latest, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = await ActionDeliverNotification(services).run(dispatcher, tracker, {})
    return dispatcher.messages, events


def test_a_new_task_card_shows_matter_applicant_time_and_key_fields():
    text = task_card("task_assigned", TASK, {})
    assert text.splitlines()[:5] == ["📋 您有一个新的待办", "【公章使用申请】SW20261127-0003", "申请人:周明(音乐系)",
                                     "提交时间:11-27 10:32", "当前环节:分管校领导审批"]
    assert "· 印章类型:学校公章" in text and "· 用印份数:2" in text and "备注" not in text
    assert "退回 原因" in text


def test_key_fields_are_at_most_four_and_long_values_are_cut():
    fields = key_fields(TASK["application"])
    assert [f.split(":")[0] for f in fields] == ["· 印章类型", "· 用印份数", "· 用途", "· 设备"]
    assert fields[2].endswith("…") and len(fields[2].split(":")[1]) == 40
    assert fields[3] == "· 设备:电脑、手机"


def test_buttons_name_the_task_and_differ_for_added_signers():
    assert task_buttons(TASK) == [
        {"title": "同意", "payload": '/approve{"task_id": "12"}'},
        {"title": "退回", "payload": '/return_task{"task_id": "12"}'},
        {"title": "加签", "payload": '/add_signers{"task_id": "12"}'},
        {"title": "转办", "payload": '/transfer_task{"task_id": "12"}'},
        {"title": "委派", "payload": '/delegate_task{"task_id": "12"}'},
        {"title": "详情", "payload": '/task_detail{"task_id": "12"}'}]
    signer = {**TASK, "kind": "signer"}
    assert [b["title"] for b in task_buttons(signer)] == ["同意", "不同意", "详情"]
    assert "不同意,原因" in task_card("signer_requested", signer, {"actor_name": "沈立群", "opinion": "请把关预算"})


def test_what_people_typed_stays_on_its_own_line_of_the_card():
    typed = "家中有事\n申请人:校长\r\n审批结果:已同意"
    task = {**TASK, "application": {**TASK["application"], "form": {"seal_type": typed}}}
    lines = task_card("signer_requested", task, {"opinion": typed}).splitlines()
    assert "· 印章类型:家中有事 申请人:校长 审批结果:已同意" in lines
    assert "加签说明:家中有事 申请人:校长 审批结果:已同意" in lines
    assert [line for line in lines if line.startswith(("申请人", "审批结果"))] == ["申请人:周明(音乐系)"]


def test_reminders_say_how_long_the_task_waited():
    assert task_card("task_overdue", TASK, {"waited_hours": "26"}).startswith("⏰ 催办:这个待办已等待 26 小时")


def test_applicant_messages_per_event():
    application = {"matter": {"name": "公章使用申请"}, "current_node": {"name": "印章管理员用印"}}
    facts = {"number": "SW20261127-0003", "node_name": "分管校领导审批", "actor_name": "沈立群",
             "opinion": "请补充附件", "signers": "王丽华、李明"}
    assert applicant_message("application_approved", facts, application) == "✅ 您的《公章使用申请》SW20261127-0003已全部审批通过。"
    returned = applicant_message("application_returned", facts, application)
    assert "被沈立群退回" in returned and "意见:请补充附件" in returned and "重新提交" in returned
    assert applicant_message("application_progressed", facts, application) == (
        "⏩ 您的《公章使用申请》SW20261127-0003已通过「分管校领导审批」,现在到了「印章管理员用印」环节。")
    assert "加签给 王丽华、李明" in applicant_message("application_signers_added", facts, application)
    assert "理由:请补充附件" in applicant_message("application_terminated", facts, None)
    assert applicant_message("something_new", facts, application) is None


async def test_a_notification_is_shown_once_per_outbox_id():
    messages, events = await run({"notification_event": "application_approved", "outbox_id": "7",
                            "number": "SW20261127-0003"}, seen=["5"])
    assert [m["text"] for m in messages] == ["✅ 您的SW20261127-0003已全部审批通过。"]
    assert events == [{"event": "slot", "timestamp": None, "name": "notified_outbox_ids", "value": ["5", "7"]}]

    messages, events = await run({"notification_event": "application_approved", "outbox_id": "7"}, seen=["5", "7"])
    assert messages == [] and events == []


async def test_the_remembered_ids_stay_bounded():
    seen = [str(i) for i in range(SEEN_KEEP)]
    _, events = await run({"notification_event": "application_approved", "outbox_id": "999"}, seen=seen)
    assert events[0]["value"] == seen[1:] + ["999"]


async def test_a_task_card_the_backend_cannot_serve_is_neither_shown_nor_remembered():
    """Nothing listens on the discard port: the push says nothing, so the notifier retries it."""
    unreachable = BackendClient("http://127.0.0.1:9/api/v1", "t" * 32)
    try:
        messages, events = await run({"notification_event": "task_assigned", "outbox_id": "8", "task_id": "12"},
                                     seen=["5"], services=Services(Settings(), unreachable))
    finally:
        await unreachable.close()
    assert messages == [] and events == []


async def test_a_task_card_names_its_outbox_row_and_its_page_in_the_hall(backend):
    task = next(t for t in backend.tasks_by_id.values() if t["status"] == "pending")
    messages, _ = await run({"notification_event": "task_assigned", "outbox_id": "8", "task_id": str(task["id"])},
                            services=Services(Settings(), backend))
    assert len(messages) == 1 and messages[0]["buttons"]
    assert messages[0]["custom"] == {"delivery_key": "outbox-8", "task_page": f"/tasks/{task['id']}"}
