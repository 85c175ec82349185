"""Issue 16 item 5 in WeCom (the simulator speaks the real protocol to the whole stack): a request's
said answers are read back, and the offer to switch matters mid-form is a card whose 切换 tap
starts the other matter."""
from __future__ import annotations

from tests.support.wecom import click, content_of, say


def test_the_offer_to_switch_is_a_card_and_its_tap_starts_the_other_matter(wecom_stack):
    stack, userid = wecom_stack, "maxiuying"  # 马秀英, staff
    say(stack, userid, "算了")  # no form left over from an earlier conversation
    reply = content_of(say(stack, userid, "下周想请两天假"))
    assert "《请假申请(教职工)》" in reply and "请假天数 2 天" in reply and "请假类型" in reply, reply
    reply = say(stack, userid, "算了,我要申请盖章")
    card = next(m for m in reply if m["msgtype"] == "template_card")
    assert [b["text"] for b in card["body"]["button_list"]] == ["切换", "继续填写《请假申请(教职工)》"]
    assert "要改为办理《公章使用申请》吗" in content_of(reply) and "已填的《请假申请(教职工)》信息会先保留" in content_of(reply)
    switched = content_of(click(stack, userid, card, "切换"))
    assert "改为办理《公章使用申请》" in switched and "印章类型" in switched, switched
    assert "已取消" in content_of(say(stack, userid, "算了"))
