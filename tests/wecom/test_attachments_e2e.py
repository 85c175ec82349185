"""Attachments in WeCom chat, end to end: the simulator plays a member sending a picture (a real
callback with its MediaId; media/get serves it); the channel fetches it, uploads it to the backend
as the member, and the seal request's 用印文件 takes it. The approver can then open the file, and
a picture sent when nothing asks for one gets a clear answer and reaches nobody."""
from __future__ import annotations

import base64
import json
import urllib.request
from typing import Any

from tests.support.wecom import content_of, last_id, say, user_turns, wait_for_sends

PICTURE = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
           b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def send_picture(stack, userid: str, name: str = "IMG_0001.png") -> list[dict[str, Any]]:
    after = last_id(stack, userid)
    status, sent = stack.sim("POST", "media", {"userid": userid, "kind": "image", "filename": name,
                                               "content_type": "image/png",
                                               "content_base64": base64.b64encode(PICTURE).decode()})
    assert status == 200 and sent["statuses"] == [200], sent
    return wait_for_sends(stack, userid, after)


def download(stack, username: str, file_id: int) -> tuple[int, bytes]:
    stack.api(username, "GET", "/me")  # signs in (the token is kept)
    request = urllib.request.Request(f"{stack.env['BACKEND_URL']}/files/{file_id}",
                                     headers={"Authorization": f"Bearer {stack.tokens[username]}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_a_picture_sent_while_the_form_asks_for_the_document_is_attached_and_the_approver_opens_it(wecom_stack):
    stack, userid, username = wecom_stack, "linxiaoyan", "t1302"
    assert "印章类型" in content_of(say(stack, userid, "我要盖章"))
    assert "文件名称" in content_of(say(stack, userid, "学校公章"))
    assert "份数" in content_of(say(stack, userid, "实训基地合作协议"))
    assert "用印日期" in content_of(say(stack, userid, "一份"))
    assert "用印事由" in content_of(say(stack, userid, "明天"))
    asked = content_of(say(stack, userid, "与实训基地签订合作协议"))
    assert "用印文件" in asked and "直接发送图片或文件" in asked
    taken = content_of(send_picture(stack, userid))
    assert "已收到附件「IMG_0001.png」" in taken and "审核人" in taken  # the next question follows
    assert "请确认" in content_of(say(stack, userid, "沈立群"))
    done = content_of(say(stack, userid, "确认"))
    assert "已提交" in done
    status, mine = stack.api(username, "GET", "/applications?mine=1&limit=5")
    application = next(a for a in mine["items"] if a["number"] in done)
    status, detail = stack.api(username, "GET", f"/applications/{application['id']}")
    [attached] = detail["attachments"]
    assert detail["form"]["document"] == [attached["id"]]
    assert (attached["field"], attached["name"], attached["content_type"]) == ("document", "IMG_0001.png", "image/png")
    status, tasks = stack.api("t0002", "GET", "/tasks")  # 沈立群, the leader chosen
    task = next(t for t in tasks["items"] if t["number"] == detail["number"])
    status, shown = stack.api("t0002", "GET", f"/tasks/{task['id']}")  # what the card's 详情 opens
    assert [a["id"] for a in shown["application"]["attachments"]] == [attached["id"]]
    assert download(stack, "t0002", attached["id"]) == (200, PICTURE)
    assert download(stack, "t1204", attached["id"])[0] == 404  # 李明 has nothing to do with it


def test_a_picture_sent_when_nothing_asks_for_a_file_gets_a_clear_answer(wecom_stack):
    stack, userid = wecom_stack, "luhaoran"  # a member no other test uses (test_gateway counts xuhaitao's turns)
    say(stack, userid, "你好")
    reply = content_of(send_picture(stack, userid, "随手拍.png"))
    assert "没有需要附件的问题" in reply
    assert not any("随手拍" in turn for turn in user_turns(stack, userid))  # nothing reached the bot


def test_a_picture_wecom_no_longer_has_is_asked_for_again_and_the_next_one_is_taken(wecom_stack):
    stack, userid = wecom_stack, "hujun"
    for text, asks in (("我要盖章", "印章类型"), ("学校公章", "文件名称"), ("实习协议", "份数"), ("一份", "用印日期"),
                       ("明天", "用印事由"), ("签订实习协议", "用印文件")):
        assert asks in content_of(say(stack, userid, text))
    status, _ = stack.sim("POST", "faults", {"errcode": 40007, "count": 1, "path": "media/get"})
    assert status == 200
    assert "没能从企业微信取到" in content_of(send_picture(stack, userid, "过期.png"))
    assert "已收到附件「再发.png」" in content_of(send_picture(stack, userid, "再发.png"))  # still the question
    assert "取消" in content_of(say(stack, userid, "算了"))
