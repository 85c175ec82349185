"""What the actions use from outside: the settings and the backend client, wired once.

rasa_sdk makes each action itself (``Action()``, no arguments), so the action server sets
the process's services before it starts (``configure``, in actions/server.py) and every
action made without services of its own uses those. A test gives an action its own:
``ActionMyApplications(Services(settings, fake_backend))``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .backend_client import BackendClient
from .settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    backend: BackendClient  # or anything with its methods (the tests' fake backend)


_process: Optional[Services] = None


class NotConfigured(RuntimeError):
    """An action ran in a process that did not set its services (start it with actions/server.py)."""


def configure(services: Services) -> None:
    global _process
    _process = services


def process_services() -> Services:
    if _process is None:
        raise NotConfigured("the action server's settings and backend client are not set: "
                            "start it with `python -m actions.server`, which reads them from the environment")
    return _process


class UsesServices:
    """Mixed into every action: its own services if it was given some, else the process's."""

    def __init__(self, services: Optional[Services] = None) -> None:
        self._services = services

    @property
    def services(self) -> Services:
        return self._services or process_services()

    @property
    def api(self) -> BackendClient:
        return self.services.backend

    @property
    def settings(self) -> Settings:
        return self.services.settings
