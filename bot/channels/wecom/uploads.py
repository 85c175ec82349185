"""A picture or file a member sends while a form asks for an attachment: fetched from WeCom
(media/get, MediaId) and uploaded to the backend as that member (POST /files with the service
token on their behalf), so the form can take the file's id. No Rasa here (a contract).

The question is known from the last turn's messages: an action asking for an attachment field
marks its message with ``custom.attachment_question`` (channel-neutral data); the channel keeps
that mark per member for a while, like a numbered menu (delivery.py).
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any, Optional

import aiohttp

from wecom_api import Media

logger = logging.getLogger(__name__)

UPLOAD_TIMEOUT = aiohttp.ClientTimeout(total=120, connect=3)
NOT_ASKED = ("现在没有需要附件的问题,这个文件我先不收。填写表单问到附件(如「证明材料」「用印文件」)时,"
             "直接发送图片或文件即可;其他事情请发文字告诉我 🙂")
NO_UPLOADS = "抱歉,这里暂时收不了文件,请在网页表单上传附件,或发送文件名。"


class UploadRefused(Exception):
    """The file could not be taken (WeCom no longer has it, the backend refused it): why, for the member."""


@dataclass(frozen=True)
class BackendFiles:
    """The backend's file upload, as the member (service token + X-On-Behalf-Of)."""

    base_url: str   # BACKEND_URL, e.g. http://127.0.0.1:8080/api/v1
    service_token: str
    session: aiohttp.ClientSession

    async def upload(self, sender_id: str, media: Media, fallback_name: str) -> dict[str, Any]:
        form = aiohttp.FormData()  # a file field: multipart
        name = media.filename if media.filename and media.filename != "media" else fallback_name
        form.add_field("files", io.BytesIO(media.data), filename=name, content_type=media.content_type)
        headers = {"Authorization": f"Bearer {self.service_token}", "X-On-Behalf-Of": sender_id}
        try:
            async with self.session.post(f"{self.base_url.rstrip('/')}/files", data=form, headers=headers,
                                         timeout=UPLOAD_TIMEOUT) as response:
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            logger.error("uploading a WeCom file for %s failed: %s", sender_id, error)
            raise UploadRefused("暂时无法保存文件,请稍后再发一次") from None
        if response.status != 201:
            message = (answer.get("error") or {}).get("message") if isinstance(answer, dict) else None
            raise UploadRefused(message or "文件没有保存成功,请换一个文件再发")
        return answer["items"][0]
