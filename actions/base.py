"""What every custom action shares: identity, and failures that stay polite.

A backend that is down or slow, an unbound account, or any bug in an action ends in a
short Chinese message with the help-desk contact — never a stack trace — and the
conversation carries on.
"""
from __future__ import annotations

import logging
from abc import ABCMeta, abstractmethod
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from .backend_client import BackendError, BackendUnavailable
from .identity import identity_of
from .wiring import UsesServices

log = logging.getLogger(__name__)
# Filled with the help desk's number (settings.helpdesk_phone).
UNAVAILABLE = "抱歉,校务系统暂时无法访问,请稍后再试。如着急办理,请致电技术咨询 {helpdesk}。"
NOT_BOUND = ("您的账号还没有绑定校务服务系统,暂时无法查询或办理。请先在企业微信完成身份认证"
             "(学校统一身份认证账号密码 + 手机号确认),或通过网页登录使用。如有疑问请致电 {helpdesk}。")
BROKEN = "抱歉,处理时出了点问题,请稍后再试或致电技术咨询 {helpdesk}。"


class UserFacingError(Exception):
    """Stop the action and tell the user this message (with buttons to answer it, if any)."""

    def __init__(self, text: str, buttons: Optional[list[dict[str, str]]] = None):
        super().__init__(text)
        self.buttons = buttons


class NamedAction(UsesServices, Action, metaclass=ABCMeta):
    """An action is a class that sets ``action_name``. Until one does, the class is abstract, so
    the action server (which registers every concrete Action subclass) skips shared bases.
    ``self.api`` is the backend, ``self.settings`` the settings (see actions/wiring.py)."""

    @property
    @abstractmethod
    def action_name(self) -> str:
        """The name the domain declares."""

    def name(self) -> str:
        return self.action_name

    def say_response(self, dispatcher: CollectingDispatcher, response: str) -> None:
        """A domain response, its ``{helpdesk_phone}`` filled from the settings (HELPDESK_PHONE)."""
        dispatcher.utter_message(response=response, helpdesk_phone=self.settings.helpdesk_phone)


class BaseAction(NamedAction):
    """Runs ``act`` for the person the conversation belongs to; failures become a message."""

    # A reply tells the user what went wrong. A push (a notification nobody asked for) says
    # nothing instead: its failure is not remembered, and whoever pushed it tries again.
    tell_failures = True

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        who = identity_of(tracker)
        if who is None:
            self._tell(dispatcher, self._helpdesk(NOT_BOUND))
            return []
        try:
            return await self.act(dispatcher, tracker, domain, who)
        except UserFacingError as error:
            self._tell(dispatcher, str(error), error.buttons)
        except BackendUnavailable as error:
            log.warning("backend unavailable in %s: %s", self.name(), error)
            self._tell(dispatcher, self._helpdesk(UNAVAILABLE))
        except BackendError as error:
            self._tell(dispatcher, self._helpdesk(NOT_BOUND) if error.code == "identity_not_bound" else error.message)
        except Exception:  # noqa: BLE001 - the user gets a message, the log the traceback
            log.exception("action %s failed", self.name())
            self._tell(dispatcher, self._helpdesk(BROKEN))
        return self.on_failure(tracker)

    def _helpdesk(self, message: str) -> str:
        return message.format(helpdesk=self.settings.helpdesk_phone)

    def _tell(self, dispatcher: CollectingDispatcher, text: str,
              buttons: Optional[list[dict[str, str]]] = None) -> None:
        if self.tell_failures:
            dispatcher.utter_message(text=text, buttons=buttons or None)
        else:
            log.warning("%s failed without a word to the user: %s", self.name(), text)

    @abstractmethod
    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
                  who: str) -> list[dict]:
        """The action's work for the identified user ``who``."""

    def on_failure(self, tracker: Tracker) -> list[dict]:
        return []
