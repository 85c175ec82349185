"""My applications, their progress, and terminating one (asked first), on recorded trackers
against the fake backend (tests/actions/conftest.py)."""
from actions.applications import (
    ActionApplicationProgress, ActionConfirmTerminate, ActionMyApplications, ActionTerminateApplication,
)
from actions.backend_client import BackendUnavailable


async def test_my_applications_are_listed_newest_first_with_where_they_are(run, recorded):
    result = await run(ActionMyApplications, recorded("my_applications"))
    [text] = result.texts
    lines = text.splitlines()
    assert lines[0] == "您最近的申请:"
    assert lines[1].startswith("1. 【公章使用申请】SW20261201-0002 · 审批中 · 当前:分管校领导审批(沈立群)")
    assert lines[2].startswith("2. 【公章使用申请】SW20261201-0001")
    assert "SW… 的进度" in lines[-1] and result.slots == {"application_ids": [2, 1]}  # for 「把第1个和第2个都终止」


async def test_without_applications_the_user_is_told_how_to_start_one(run, recorded, backend):
    backend.applications_by_id.clear()
    result = await run(ActionMyApplications, recorded("my_applications"))
    assert result.texts == ["您还没有提交过申请。想办什么事项?比如「我要请假」。"]


async def test_progress_shows_the_nodes_and_the_records_and_names_its_diagram_as_data(run, recorded):
    result = await run(ActionApplicationProgress, recorded("progress_by_number"))
    [message] = result.messages
    assert message["text"].splitlines()[:3] == ["【公章使用申请】SW20261201-0001:审批中",
                                                "⏳ 分管校领导审批(沈立群办理中)", "○ 印章管理员用印"]
    assert "张伟 提交申请" in message["text"]
    # Where the hall draws it is data; each channel decides whether and how to show it.
    assert message["custom"] == {"progress_diagram": {"application_id": 1, "path": "/applications/1/progress"}}
    assert "流程图" not in message["text"] and result.events == []


async def test_progress_says_the_same_on_every_channel(run, recorded):
    web = await run(ActionApplicationProgress, recorded("progress_by_number"))
    wecom = await run(ActionApplicationProgress, recorded("progress_by_number", sender_id="wecom:zhangwei"))
    assert wecom.messages == web.messages


async def test_progress_of_a_number_not_among_mine_is_not_found(run, recorded):
    result = await run(ActionApplicationProgress, recorded("progress_of_someone_elses"))
    assert result.texts == ["没有找到您的申请 SW20261130-0009。"] and result.events == []


async def test_terminating_asks_first_and_terminates_nothing_yet(run, recorded, backend):
    result = await run(ActionTerminateApplication, recorded("terminate_asked"))
    [message] = result.messages
    assert message["text"] == "确定要终止《公章使用申请》SW20261201-0002 吗?终止后不能恢复。"
    assert message["buttons"] == [{"title": "确定终止", "payload": "/affirm"}, {"title": "不终止", "payload": "/deny"}]
    assert result.slots == {"confirm_terminate": [2], "pending_confirmation": "terminate"}
    assert backend.commands == []


async def test_the_confirmation_terminates_the_application_asked_about(run, recorded, backend):
    result = await run(ActionConfirmTerminate, recorded("terminate_affirmed"))
    assert backend.commands == [("terminate", "web:t2001", [2], "申请人通过校务助手终止")]
    assert result.texts == ["已终止 SW20261201-0002,相关待办已撤回。"]
    assert result.slots == {"confirm_terminate": None, "pending_confirmation": None}


async def test_a_terminated_application_cannot_be_terminated_again(run, recorded):
    await run(ActionConfirmTerminate, recorded("terminate_affirmed"))
    result = await run(ActionTerminateApplication, recorded("terminate_asked"))
    assert result.texts == ["SW20261201-0002 当前为「已终止」,不能终止。"] and result.events == []


async def test_a_confirmation_the_backend_cannot_take_points_to_the_help_desk_and_closes(run, recorded, backend,
                                                                                         services):
    backend.fail["terminate"] = BackendUnavailable("backend answered 503")
    result = await run(ActionConfirmTerminate, recorded("terminate_affirmed"))
    [text] = result.texts
    assert "暂时无法访问" in text and services.settings.helpdesk_phone in text
    assert result.slots == {"confirm_terminate": None, "pending_confirmation": None}
