"""WeCom (企业微信) settings, read from the environment with the names operators rely on.

WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET call the API; WECOM_TOKEN and WECOM_AES_KEY
verify and decrypt callbacks; WECOM_API_BASE points the API elsewhere (a simulator, a
proxy); WECOM_REDIS_URL makes the callback dedupe store shared between instances.
"""
from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Mapping, Optional

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com/cgi-bin/"
# Where a page opened inside WeCom sends the browser to learn who it is (OAuth2 网页授权).
DEFAULT_AUTHORIZE_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
API_NAMES = ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET")
CALLBACK_NAMES = ("WECOM_TOKEN", "WECOM_AES_KEY")
CALLBACK_ONLY_NAMES = ("WECOM_CORP_ID",)  # callbacks name the corp they are for


class WeComConfigError(RuntimeError):
    """The environment does not configure WeCom (or configures it wrongly)."""


@dataclass(frozen=True)
class WeComConfig:
    corp_id: str
    agent_id: int
    secret: str
    token: str = ""
    aes_key: str = ""
    api_base: str = DEFAULT_API_BASE
    redis_url: Optional[str] = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, callbacks: bool = True, api: bool = True) -> "WeComConfig":
        """All settings; ``callbacks=False`` for processes that only call the API (sync-wecom),
        ``api=False`` for those that only receive callbacks (the gateway: it needs no app secret)."""
        required = (API_NAMES if api else CALLBACK_ONLY_NAMES) + (CALLBACK_NAMES if callbacks else ())
        missing = [name for name in required if not env.get(name, "").strip()]
        if missing:
            raise WeComConfigError(f"WeCom is not configured: {', '.join(missing)} not set")
        agent_id = env.get("WECOM_AGENT_ID", "").strip() or ("0" if not api else "")
        if not agent_id.lstrip("-").isdigit():
            raise WeComConfigError(f"WECOM_AGENT_ID must be an integer, got {agent_id!r}")
        aes_key = env.get("WECOM_AES_KEY", "").strip()
        if callbacks and not is_aes_key(aes_key):
            raise WeComConfigError("WECOM_AES_KEY must be 43 base64 characters (a 32-byte key)")
        api_base = env.get("WECOM_API_BASE", "").strip() or DEFAULT_API_BASE
        return cls(
            corp_id=env["WECOM_CORP_ID"].strip(),
            agent_id=int(agent_id),
            secret=env.get("WECOM_SECRET", "").strip(),
            token=env.get("WECOM_TOKEN", "").strip(),
            aes_key=aes_key,
            api_base=api_base if api_base.endswith("/") else api_base + "/",
            redis_url=env.get("WECOM_REDIS_URL", "").strip() or None,
        )


def is_aes_key(aes_key: str) -> bool:
    """An EncodingAESKey is 43 base64 characters that decode (with '=') to 32 bytes."""
    try:
        return len(aes_key) == 43 and len(base64.b64decode(aes_key + "=", validate=True)) == 32
    except ValueError:  # binascii.Error is one
        return False
