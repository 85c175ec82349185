"""What the approval moves' notifications say: 转办 / 委派 / 催办 cards, and the messages about a
withdrawal, a comment and a return to a passed node."""
from actions.notifications import applicant_message, task_buttons, task_card

TASK = {
    "id": 12, "kind": "approval", "status": "pending", "number": "SW20261127-0003",
    "matter": {"code": "staff_leave", "name": "请假申请(教职工)"},
    "applicant": {"username": "t2001", "name": "张伟", "department": "音乐系"},
    "node": {"index": 0, "key": "dept_head", "name": "部门负责人审批"},
    "application": {"created_at": "2026-11-27T10:32:05+08:00", "form_schema": [], "form": {}},
}
APPLICATION = {"matter": {"name": "请假申请(教职工)"}, "current_node": {"name": "部门负责人审批"}}


def test_a_transferred_task_names_who_handed_it_over_and_why():
    text = task_card("task_assigned", TASK, {"actor_name": "韩松涛", "opinion": "请李明办理"})
    assert text.startswith("🔀 韩松涛将一个待办转办给您") and "转办说明:请李明办理" in text
    assert task_card("task_assigned", TASK, {}).startswith("📋 您有一个新的待办")


def test_a_delegate_gets_an_opinion_card_and_the_delegator_hears_back():
    delegated = {**TASK, "kind": "delegate"}
    text = task_card("delegate_requested", delegated, {"actor_name": "韩松涛", "opinion": "请先看看"})
    assert text.startswith("🤝 韩松涛委派您先处理") and "委派说明:请先看看" in text and "不同意,原因" in text
    assert [b["title"] for b in task_buttons(delegated)] == ["同意", "不同意", "详情"]
    assert task_card("delegate_done", TASK, {}).startswith("💬 受委派人已给出意见")


def test_a_reminder_card_says_the_applicant_asks_for_it():
    assert task_card("task_reminded", TASK, {"actor_name": "张伟"}).startswith("⏰ 催办:张伟提醒您尽快处理")


def test_withdrawal_comment_and_return_to_a_node_messages():
    facts = {"number": "SW20261127-0003", "node_name": "人事处考勤备案", "actor_name": "韩松涛",
             "opinion": "原件明天送到", "to_node_name": "部门负责人审批"}
    assert "已被申请人撤回" in applicant_message("application_withdrawn", facts, APPLICATION)
    assert applicant_message("application_commented", facts, APPLICATION).endswith("添加了备注:原件明天送到")
    sent_back = applicant_message("application_sent_back", facts, APPLICATION)
    assert "退回到「部门负责人审批」重新审批" in sent_back and "被韩松涛" in sent_back


def test_cc_after_signers_and_removed_signers_are_told():
    facts = {"number": "SW20261127-0003", "actor_name": "韩松涛"}
    assert "抄送给您,仅供查阅" in applicant_message("application_cc", facts, APPLICATION)
    assert "已撤回对《请假申请(教职工)》SW20261127-0003的加签" in applicant_message("signer_removed", facts, APPLICATION)
    assert task_card("after_signer_requested", TASK, facts).startswith("✍️ 韩松涛已同意并加签给您,请您接着审批")
