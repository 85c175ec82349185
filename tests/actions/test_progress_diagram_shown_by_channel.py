"""The progress diagram an action names as data (custom ``progress_diagram``) and how the web
chat shows it: a 「查看流程图」 line with the hall's path, which the panel makes a link."""
import pytest

from actions.applications import progress_diagram
from bot.channels.webchat import WebChatOutput, rendered

PROGRESS = "【公章使用申请】SW20261201-0001:审批中\n⏳ 分管校领导审批(沈立群办理中)"


async def shown_in_web(message: dict) -> list[dict]:
    output = WebChatOutput()
    await output.send_response("web:t2001", message)
    return output.messages


def test_the_action_names_the_halls_progress_page_of_the_application():
    assert progress_diagram(7) == {"progress_diagram": {"application_id": 7, "path": "/applications/7/progress"}}


async def test_the_web_chat_shows_the_diagram_as_a_line_the_panel_links():
    shown = await shown_in_web({"text": PROGRESS, "custom": progress_diagram(1)})
    assert shown[0]["text"] == PROGRESS + "\n查看流程图:/applications/1/progress"
    assert [m.get("custom") for m in shown] == [None, progress_diagram(1)]  # passed on; the panel draws no data


@pytest.mark.parametrize("custom", [
    {"progress_diagram": {"application_id": 1, "path": "https://evil.example/applications/1/progress"}},
    {"progress_diagram": {"application_id": 1, "path": "/tasks/1"}},
    {"progress_diagram": "/applications/1/progress"},
    {"decision_outcome": "已同意"},
])
def test_only_a_hall_progress_path_is_shown(custom):
    assert rendered({"text": "进度", "custom": custom}) == {"text": "进度", "custom": custom}


async def test_a_message_without_custom_data_is_shown_as_it_is():
    assert await shown_in_web({"text": "您好"}) == [{"recipient_id": "web:t2001", "text": "您好"}]
