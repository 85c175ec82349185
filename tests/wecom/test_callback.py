"""Callback checks with real WeCom crypto (wechatpy): signature, corp, replay window, XML shape."""
from __future__ import annotations

import base64
import secrets
import time

import pytest
import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.channels.wecom.callback import REPLAY_WINDOW_SECONDS, CallbackCrypto, Rejected, classify, parse_xml

TOKEN, CORP = "tok" + secrets.token_hex(4), "wwtest" + secrets.token_hex(4)
AES_KEY = base64.b64encode(secrets.token_bytes(32)).decode()[:43]


def sealed(plaintext: str, corp: str = CORP, when: int = 0) -> tuple[dict, bytes]:
    """What WeCom would POST: query parameters and the encrypted envelope."""
    nonce, timestamp = secrets.token_hex(5), str(when or int(time.time()))
    envelope = xmltodict.parse(WeChatCrypto(TOKEN, AES_KEY, corp).encrypt_message(plaintext, nonce, timestamp))["xml"]
    query = {"msg_signature": envelope["MsgSignature"], "timestamp": timestamp, "nonce": nonce}
    body = f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt>" \
           f"<AgentID><![CDATA[1000002]]></AgentID></xml>"
    return query, body.encode()


def text_xml(content: str, msgid: str = "7001", user: str = "zhangwei") -> str:
    return (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msgid}</MsgId><AgentID>1000002</AgentID></xml>")


crypto = CallbackCrypto(TOKEN, AES_KEY, CORP)


def rejected_status(query: dict, body: bytes) -> int:
    with pytest.raises(Rejected) as caught:
        crypto.open(query, body)
    return caught.value.status


def test_a_text_message_is_opened_with_its_sender_and_msgid():
    inbound = crypto.open(*sealed(text_xml("我要请假")))
    assert (inbound.kind, inbound.sender_id, inbound.text, inbound.dedupe_key) == \
        ("text", "wecom:zhangwei", "我要请假", "msg:7001")


def test_a_card_click_carries_the_button_key_task_and_response_code():
    xml = (f"<xml><ToUserName>{CORP}</ToUserName><FromUserName>hansongtao</FromUserName>"
           f"<CreateTime>1700000000</CreateTime><MsgType>event</MsgType><Event>template_card_event</Event>"
           f"<EventKey><![CDATA[/approve{{\"task_id\": \"12\"}}]]></EventKey><TaskId>card-1</TaskId>"
           f"<CardType>button_interaction</CardType><ResponseCode>rc-1</ResponseCode><AgentID>1000002</AgentID></xml>")
    inbound = crypto.open(*sealed(xml))
    assert (inbound.kind, inbound.text, inbound.card_task_id, inbound.response_code) == \
        ("click", '/approve{"task_id": "12"}', "card-1", "rc-1")
    assert inbound.dedupe_key == 'evt:hansongtao:1700000000:template_card_event:/approve{"task_id": "12"}'


def test_url_verification_answers_the_decrypted_echostr():
    query, body = sealed("echo-4711")
    echostr = xmltodict.parse(body)["xml"]["Encrypt"]
    assert crypto.verify_url({**query, "echostr": echostr}) == "echo-4711"


def test_a_forged_signature_is_403():
    query, body = sealed(text_xml("你好"))
    assert rejected_status({**query, "msg_signature": "0" * 40}, body) == 403
    assert rejected_status({k: v for k, v in query.items() if k != "msg_signature"}, body) == 403


def test_a_payload_for_another_corp_is_403():
    assert rejected_status(*sealed(text_xml("你好"), corp="wwsomeoneelse")) == 403


def test_an_old_callback_cannot_be_replayed():
    assert rejected_status(*sealed(text_xml("你好"), when=int(time.time()) - REPLAY_WINDOW_SECONDS - 60)) == 403


@pytest.mark.parametrize("body", [b"not xml", b"<xml><Encrypt>", b"<other/>", b"<xml></xml>",
                                  b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>'])
def test_malformed_envelopes_are_400(body):
    query, _ = sealed(text_xml("你好"))
    assert rejected_status(query, body) == 400


@pytest.mark.parametrize("plaintext", ["<xml><oops>", "<xml><MsgType>text</MsgType></xml>",
                                       text_xml("hi", user="bad user!"), text_xml("hi", msgid="")])
def test_a_signed_but_malformed_message_is_400(plaintext):
    assert rejected_status(*sealed(plaintext)) == 400


def test_a_picture_or_file_carries_its_media_id_and_file_name():
    image = ("<xml><ToUserName>x</ToUserName><FromUserName>zhangwei</FromUserName><CreateTime>1</CreateTime>"
             "<MsgType>image</MsgType><PicUrl>http://p/1.jpg</PicUrl><MediaId>m-1</MediaId><MsgId>9</MsgId></xml>")
    inbound = classify(parse_xml(image.encode()))
    assert (inbound.kind, inbound.media_type, inbound.media_id, inbound.dedupe_key) == ("media", "image", "m-1", "msg:9")
    file = image.replace("<MsgType>image</MsgType><PicUrl>http://p/1.jpg</PicUrl>", "<MsgType>file</MsgType>").replace(
        "</MediaId>", "</MediaId><FileName>证明.pdf</FileName>")
    inbound = classify(parse_xml(file.encode()))
    assert (inbound.media_type, inbound.media_id, inbound.file_name) == ("file", "m-1", "证明.pdf")
    voice = image.replace("<MsgType>image</MsgType>", "<MsgType>voice</MsgType>")
    assert classify(parse_xml(voice.encode())).media_type == "voice"
