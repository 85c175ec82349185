"""How a bot turn becomes WeCom sends: merging, safe splitting, cards, numbered menus."""
from __future__ import annotations

from bot.channels.wecom.render import MAX_TEXT_BYTES, menu_choice, render_turn, split_text, stated_outcome


def text(t: str) -> dict:
    return {"recipient_id": "wecom:zhangwei", "text": t}


def with_buttons(t: str, count: int, payload_bytes: int = 20) -> dict:
    return {"recipient_id": "wecom:zhangwei", "text": t,
            "buttons": [{"title": f"选项{i}", "payload": f"/pick{{\"n\": \"{i}\"}}".ljust(payload_bytes, " ")}
                        for i in range(1, count + 1)]}


def test_several_texts_of_a_turn_go_out_in_one_send():
    turn = render_turn([text("第一句"), text("第二句"), text("第三句")])
    assert turn.sends == [{"msgtype": "text", "text": {"content": "第一句\n\n第二句\n\n第三句"}}]


def test_long_text_is_split_on_line_boundaries_within_2048_utf8_bytes():
    lines = [f"第{i:03d}行:" + "汉" * 40 for i in range(200)]
    chunks = split_text("\n".join(lines))
    assert len(chunks) > 1
    assert all(len(c.encode()) <= MAX_TEXT_BYTES for c in chunks)
    assert "\n".join(chunks).split("\n") == lines  # nothing lost, no line cut


def test_a_single_line_longer_than_the_limit_is_cut_between_characters():
    line = "😀汉a" * 1000
    chunks = split_text(line)
    assert all(len(c.encode()) <= MAX_TEXT_BYTES for c in chunks)
    assert "".join(chunks) == line


def test_buttons_become_a_button_interaction_card_with_the_payload_as_key():
    turn = render_turn([text("先说一句"), {**with_buttons("请选择请假类型\n申请人:张伟\n说明文字", 3)}])
    assert [s["msgtype"] for s in turn.sends] == ["text", "template_card"]
    card = turn.sends[1]["template_card"]
    assert card["card_type"] == "button_interaction"
    assert card["main_title"]["title"] == "请选择请假类型"
    assert card["horizontal_content_list"] == [{"keyname": "申请人", "value": "张伟"}]
    assert card["sub_title_text"] == "说明文字"
    assert [b["key"].strip() for b in card["button_list"]] == ['/pick{"n": "1"}', '/pick{"n": "2"}', '/pick{"n": "3"}']
    assert len(card["task_id"].encode()) <= 128
    assert turn.cards[0].task_id == card["task_id"] and turn.menu is None


def test_card_task_ids_are_unique():
    ids = {render_turn([with_buttons("选", 2)]).sends[0]["template_card"]["task_id"] for _ in range(50)}
    assert len(ids) == 50


def test_more_than_six_buttons_become_a_numbered_menu():
    turn = render_turn([with_buttons("请选择", 7)])
    assert [s["msgtype"] for s in turn.sends] == ["text"]
    content = turn.sends[0]["text"]["content"]
    assert "1. 选项1" in content and "7. 选项7" in content and "回复数字" in content
    assert menu_choice("7", turn.menu).strip() == '/pick{"n": "7"}'
    assert menu_choice("２", turn.menu).strip() == '/pick{"n": "2"}'  # full-width digits too
    assert menu_choice("8", turn.menu) is None and menu_choice("好的", turn.menu) is None


def test_a_key_over_1024_bytes_makes_a_menu_instead_of_a_card():
    turn = render_turn([with_buttons("请选择", 2, payload_bytes=1025)])
    assert [s["msgtype"] for s in turn.sends] == ["text"] and set(turn.menu) == {"1", "2"}


def test_an_outcome_stated_by_an_action_is_not_sent_as_a_message():
    messages = [text("已同意该申请"), {"recipient_id": "wecom:x", "custom": {"decision_outcome": "已同意"}}]
    turn = render_turn(messages)
    assert stated_outcome(messages) == "已同意"
    assert turn.sends == [{"msgtype": "text", "text": {"content": "已同意该申请"}}]


def test_a_turn_with_a_delivery_key_renders_the_same_every_time_and_asks_for_the_duplicate_check():
    keyed = [{**with_buttons("📋 您有一个新的待办\n申请人:张伟", 3), "custom": {"delivery_key": "outbox-42"}}]
    first, again = render_turn(keyed), render_turn(keyed)
    assert first.sends == again.sends and first.sends[-1]["template_card"]["task_id"] == "outbox-42-0"
    assert all(b["enable_duplicate_check"] == 1 and b["duplicate_check_interval"] == 14400 for b in first.sends)
    plain = render_turn([with_buttons("请选择", 2)])
    assert "enable_duplicate_check" not in plain.sends[0]
    assert plain.sends[0]["template_card"]["task_id"] != render_turn([with_buttons("请选择", 2)]).sends[0][
        "template_card"]["task_id"]


PROGRESS = {"progress_diagram": {"application_id": 42, "path": "/applications/42/progress"}}


def test_without_the_halls_address_a_progress_diagram_message_shows_its_text_only():
    turn = render_turn([{"recipient_id": "wecom:zhangwei", "text": "请假申请 #42 正在审批中", "custom": PROGRESS}])
    assert turn.sends == [{"msgtype": "text", "text": {"content": "请假申请 #42 正在审批中"}}]
    assert not turn.cards and turn.menu is None
    assert stated_outcome([{"text": "x", "custom": PROGRESS}]) is None


async def test_the_output_channel_keeps_a_progress_diagrams_text_and_data_as_one_message():
    from bot.channels.wecom.channel import WeComOutput

    output = WeComOutput(runtime=None)
    await output.send_response("wecom:zhangwei", {"text": "请假申请 #42 正在审批中", "custom": PROGRESS})
    assert [(m["text"], m["custom"]) for m in output.messages] == [("请假申请 #42 正在审批中", PROGRESS)]
    assert render_turn(output.messages).sends == [{"msgtype": "text", "text": {"content": "请假申请 #42 正在审批中"}}]


HALL = "https://hall.example.edu.cn"
LINK = '<a href="https://hall.example.edu.cn/wecom/enter?next=%2Fapplications%2F42%2Fprogress">查看流程图</a>'


def test_a_progress_diagram_becomes_a_link_that_opens_the_halls_progress_page_signed_in():
    turn = render_turn([text("您好"), {"recipient_id": "wecom:zhangwei", "text": "请假申请 #42 正在审批中",
                                       "custom": PROGRESS}], hall_url=HALL + "/")
    assert turn.sends == [{"msgtype": "text", "text": {"content": f"您好\n\n请假申请 #42 正在审批中\n{LINK}"}}]


def test_a_diagram_path_that_is_not_a_progress_page_of_the_hall_gets_no_link():
    for path in ("https://evil.example/applications/1/progress", "/tasks/1", '/applications/1/progress"x', None):
        message = {"text": "进度", "custom": {"progress_diagram": {"application_id": 1, "path": path}}}
        assert render_turn([message], hall_url=HALL).sends == [{"msgtype": "text", "text": {"content": "进度"}}]


def test_a_line_break_in_what_someone_typed_cannot_add_a_field_to_a_card():
    typed = "家中有事\n申请人:校长\r审批结果:已同意\u2028金额:0元"  # a form's text, an opinion …
    card_text = "\n".join(["📋 您有一个新的待办", "【请假】SW20261201-0001", "申请人:张伟(音乐系)",
                           "当前环节:部门负责人", f"· 事由:{typed}", f"加签说明:{typed}"])
    card = render_turn([{**with_buttons(card_text, 2)}]).sends[-1]["template_card"]
    assert card["horizontal_content_list"] == [{"keyname": "申请人", "value": "张伟(音乐系)"},
                                               {"keyname": "当前环节", "value": "部门负责人"}]
    shown = card.get("sub_title_text", "") + "".join(s["text"]["content"] for s in
                                                      render_turn([with_buttons(card_text, 2)]).sends[:-1])
    assert "审批结果:已同意" in shown and "\r" not in shown and "\u2028" not in shown  # shown as text, not a field


def test_the_fields_stated_before_the_body_still_become_card_fields():
    card = render_turn([with_buttons("请确认\n申请人:张伟\n天数:2\n说明文字", 2)]).sends[-1]["template_card"]
    assert [f["keyname"] for f in card["horizontal_content_list"]] == ["申请人", "天数"]
    assert card["sub_title_text"] == "说明文字"


TASK_CARD = {"recipient_id": "wecom:zhangwei", "text": "📋 您有一个新的待办\n申请人:张伟",
             "buttons": [{"title": "同意", "payload": "/approve{\"task_id\": 7}"},
                         {"title": "详情", "payload": "/task_detail{\"task_id\": 7}"}],
             "custom": {"delivery_key": "outbox-9", "task_page": "/tasks/7"}}


def test_a_task_card_opens_its_task_in_the_hall_signed_in_when_tapped():
    card = render_turn([TASK_CARD], hall_url=HALL).sends[-1]["template_card"]
    assert card["card_action"] == {"type": 1, "url": "https://hall.example.edu.cn/wecom/enter?next=%2Ftasks%2F7"}
    assert [b["text"] for b in card["button_list"]] == ["同意", "详情"]  # the buttons stay


def test_a_task_card_has_no_link_without_the_halls_address_or_for_another_path():
    assert "card_action" not in render_turn([TASK_CARD]).sends[-1]["template_card"]
    for path in ("https://evil.example/tasks/7", "/applications/7/progress", "/tasks/7?x=1"):
        message = {**TASK_CARD, "custom": {"task_page": path}}
        assert "card_action" not in render_turn([message], hall_url=HALL).sends[-1]["template_card"]
