"""Pending tasks and decisions on recorded trackers against the fake backend (conftest.py):
沈立群 (wecom:shenliqun) has the two seal requests of 张伟 to approve."""
from actions.backend_client import BackendError
from actions.tasks import ActionDecideTask, ActionListTasks


async def test_the_task_list_numbers_the_tasks_and_remembers_their_order(run, recorded):
    result = await run(ActionListTasks, recorded("list_tasks"))
    [message] = result.messages
    lines = message["text"].splitlines()
    assert lines[0] == "您有 2 个待办:"
    assert lines[1].startswith("1. 【公章使用申请】张伟(音乐系)") and lines[1].endswith("SW20261201-0002")
    assert lines[2].endswith("SW20261201-0001")
    assert message["buttons"] == [{"title": "看第1个", "payload": '/task_detail{"task_id": "2"}'},
                                  {"title": "看第2个", "payload": '/task_detail{"task_id": "1"}'}]
    assert result.slots == {"task_ids": [2, 1]}


async def test_no_tasks_is_said_and_forgets_the_last_list(run, recorded, backend):
    backend.tasks_by_id.clear()
    result = await run(ActionListTasks, recorded("list_tasks"))
    assert result.texts == ["您目前没有待办任务 👍"] and result.slots == {"task_ids": []}


async def test_approving_the_second_listed_sends_its_opinion_and_states_the_outcome(run, recorded, backend):
    result = await run(ActionDecideTask, recorded("approve_second_listed"))
    assert backend.commands == [("decide", "wecom:shenliqun", 1, "approve", {"opinion": "情况属实"})]
    [message] = result.messages
    assert message["text"] == "已同意《公章使用申请》SW20261201-0001,意见:情况属实。已流转到「印章管理员用印」。"
    assert message["custom"] == {"decision_outcome": "已同意"}  # WeCom shows it on the clicked card
    assert result.slots == {"current_task_id": None, "task_ids": None}


async def test_a_return_without_a_reason_asks_for_one_and_decides_nothing(run, recorded, backend):
    result = await run(ActionDecideTask, recorded("return_without_reason"))
    assert result.texts == ["退回需要填写原因,例如「退回 SW20261201-0001 材料不全」。"]
    assert backend.commands == [] and result.events == []


async def test_a_task_decided_meanwhile_says_so_and_points_to_the_list(run, recorded, backend):
    backend.fail["decide"] = BackendError(409, "task_not_pending", "已被处理")
    result = await run(ActionDecideTask, recorded("approve_second_listed"))
    assert result.texts == ["SW20261201-0001 已被处理。说「我的待办」查看最新待办。"] and result.events == []


async def test_an_unbound_identity_gets_the_help_desk_of_the_settings_and_no_data(run, recorded, services):
    result = await run(ActionListTasks, recorded("list_tasks", sender_id="default"))
    [text] = result.texts
    assert "没有绑定" in text and services.settings.helpdesk_phone in text and "SW" not in text
    assert result.events == []
