"""Playing WeChat Work: the simulator (devtools/wecom_simulator) on its own, and what a WeCom user
does and receives on the whole stack in WeCom mode (say, click, the messages sent to them)."""
from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional
from urllib.parse import parse_qs, urlencode, urlsplit

from devtools.stack import BACKEND_PYTHON, ROOT, Stack, free_port, http, wait_for


class Simulator:
    """``python -m devtools.wecom_simulator`` on a free port, with a development corp of its own."""

    def __init__(self, tmp: Path, token_ttl: int = 7200, callback_url: Optional[str] = None):
        from devtools.wecom_simulator.config import dev_credentials

        self.credentials = dev_credentials()
        self.port = free_port()
        self.api_base = f"http://127.0.0.1:{self.port}/cgi-bin/"
        args = [str(BACKEND_PYTHON), "-m", "devtools.wecom_simulator", "--port", str(self.port),
                "--token-ttl", str(token_ttl)] + (["--callback-url", callback_url] if callback_url else [])
        self.log_path = tmp / f"simulator-{self.port}.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(args, cwd=ROOT, env={"PATH": "/usr/bin:/bin", **self.credentials},
                                        stdout=self._log, stderr=subprocess.STDOUT)
        wait_for(f"http://127.0.0.1:{self.port}/_sim/stats", self.process, self.log_path, seconds=60)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = http(method, f"http://127.0.0.1:{self.port}/_sim/{path}", body)
        assert status == 200, answer
        return answer

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self._log.close()


def sent_to(stack: Stack, userid: str, after: int = 0) -> list[dict[str, Any]]:
    status, answer = stack.sim("GET", f"messages?touser={userid}&after={after}")
    assert status == 200, answer
    return answer["messages"]


def last_id(stack: Stack, userid: str) -> int:
    messages = sent_to(stack, userid)
    return messages[-1]["id"] if messages else 0


def wait_for_sends(stack: Stack, userid: str, after: int, count: int = 1, seconds: float = 60,
                   settle: float = 1.0) -> list[dict[str, Any]]:
    """The messages sent to ``userid`` after message id ``after``, once at least ``count`` arrived
    and no more came for ``settle`` seconds (a turn's sends are merged, but may be several)."""
    deadline = time.monotonic() + seconds
    seen: list[dict[str, Any]] = []
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        current = sent_to(stack, userid, after)
        if len(current) != len(seen):
            seen, quiet_since = current, time.monotonic()
        elif len(seen) >= count and time.monotonic() - quiet_since >= settle:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"expected {count} message(s) to {userid}, got {seen}")


def content_of(messages: list[dict[str, Any]]) -> str:
    """All visible text of the sends: text content, card titles, fields and button texts."""
    parts = []
    for message in messages:
        body = message["body"]
        if message["msgtype"] == "text":
            parts.append(body["content"])
        elif message["msgtype"] == "template_card":
            parts.append(body.get("main_title", {}).get("title", ""))
            parts.append(body.get("sub_title_text", ""))
            parts += [f"{f['keyname']}:{f['value']}" for f in body.get("horizontal_content_list", [])]
            parts += [b["text"] for b in body.get("button_list", [])]
    return "\n".join(parts)


def say(stack: Stack, userid: str, text: str, count: int = 1) -> list[dict[str, Any]]:
    """The user types ``text`` in WeCom; the messages the bot sent back."""
    after = last_id(stack, userid)
    status, delivery = stack.sim("POST", "say", {"userid": userid, "text": text})
    assert status == 200 and delivery["statuses"] == [200], delivery
    return wait_for_sends(stack, userid, after, count)


def sent_before_a_greeting(stack: Stack, userid: str, after: int, seconds: float = 60) -> list[dict[str, Any]]:
    """What reached ``userid`` after message id ``after``, known to be all of it: the user then says
    你好 and the greeting arrives. One conversation's turns are answered in order, so an answer to
    anything that reached the bot before (a retry, a callback let through) came before it."""
    status, delivery = stack.sim("POST", "say", {"userid": userid, "text": "你好"})
    assert status == 200 and delivery["statuses"] == [200], delivery
    deadline = time.monotonic() + seconds
    while True:
        sent = sent_to(stack, userid, after)
        greetings = [i for i, message in enumerate(sent) if "校务助手" in content_of([message])]
        if greetings:
            return sent[:greetings[0]]
        assert time.monotonic() < deadline, f"no greeting to {userid} after {seconds} s: {sent}"
        time.sleep(0.2)


def click(stack: Stack, userid: str, card: dict[str, Any], title: str, count: int = 1) -> list[dict[str, Any]]:
    """The user taps the button ``title`` on a card message; the messages the bot sent back."""
    key = next(b["key"] for b in card["body"]["button_list"] if b["text"] == title)
    after = last_id(stack, userid)
    status, delivery = stack.sim("POST", "click", {"userid": userid, "task_id": card["body"]["task_id"], "key": key})
    assert status == 200 and delivery["statuses"] == [200], delivery
    return wait_for_sends(stack, userid, after, count)


def deliver(stack: Stack, **body: Any) -> dict[str, Any]:
    status, delivery = stack.sim("POST", "deliver", {"tries": 1, **body})
    assert status == 200, delivery
    return delivery


def text_message(stack: Stack, userid: str, content: str, msgid: int) -> str:
    return (f"<xml><ToUserName><![CDATA[{stack.env['WECOM_CORP_ID']}]]></ToUserName>"
            f"<FromUserName><![CDATA[{userid}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msgid}</MsgId><AgentID>1000002</AgentID></xml>")


def user_turns(stack: Stack, userid: str) -> list[str]:
    """The texts Rasa's tracker holds as said by ``wecom:<userid>``."""
    status, tracker = stack.rasa_api("GET", f"/conversations/wecom:{userid}/tracker")
    assert status == 200, tracker
    return [e.get("text") for e in tracker["events"] if e["event"] == "user"]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def open_without_redirect(url: str, headers: Optional[dict[str, str]] = None) -> tuple[int, dict[str, str], str]:
    """GET ``url`` as a browser's first hop: status, headers and body, a redirect not followed."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def authorize_url(simulator: Simulator, redirect_uri: str, state: str = "s1", **extra: str) -> str:
    """WeCom's OAuth2 authorize URL on the simulator, as an app builds it (its fragment dropped)."""
    c = simulator.credentials
    query = {"appid": c["WECOM_CORP_ID"], "redirect_uri": redirect_uri, "response_type": "code",
             "scope": "snsapi_base", "state": state, "agentid": c["WECOM_AGENT_ID"], **extra}
    return f"http://127.0.0.1:{simulator.port}/connect/oauth2/authorize?{urlencode(query)}"


def signed_in_by_wecom(url: str, userid: str) -> dict[str, str]:
    """The member ``userid`` opens WeCom's authorize ``url`` in the WeCom client: the query WeCom
    redirects back with (code, state)."""
    url = url.split("#", 1)[0] + "&" + urlencode({"_sim_userid": userid})
    status, headers, body = open_without_redirect(url)
    assert status == 302, (status, body)
    return {k: v[0] for k, v in parse_qs(urlsplit(headers["Location"]).query).items()}
