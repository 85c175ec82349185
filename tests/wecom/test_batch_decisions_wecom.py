"""「全部同意」 in WeCom (the simulator speaks the real protocol to the whole stack): the list and the
question arrive as one card with 确认 / 取消; tapping 确认 approves each task in the backend."""
from __future__ import annotations

from tests.support.approver import clear_pending, tasks
from tests.support.chat import submit_leave
from tests.support.wecom import click, content_of, say

HEAD = "t2101"


def test_a_batch_approval_is_confirmed_on_its_card(wecom_stack):
    stack, userid = wecom_stack, "hansongtao"  # 韩松涛, who approves 张伟's leave
    clear_pending(stack, HEAD)
    numbers = [submit_leave(stack, "t2001")["number"] for _ in range(2)]
    replies = say(stack, userid, "全部同意,情况属实")  # a long list goes as text before its card
    card = replies[-1]
    assert card["msgtype"] == "template_card"
    assert [b["text"] for b in card["body"]["button_list"]] == ["确认", "取消"]
    shown = content_of(replies)
    assert "将同意以下 2 件待办" in shown and all(n in shown for n in numbers)
    assert {t["number"] for t in tasks(stack, HEAD)} >= set(numbers)  # nothing decided before the tap
    said = content_of(click(stack, userid, card, "确认"))
    assert "已同意 2 件" in said
    decided = {t["number"]: t for t in tasks(stack, HEAD, "done")}
    assert all((decided[n]["decision"], decided[n]["opinion"]) == ("approve", "情况属实") for n in numbers)
