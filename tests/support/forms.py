"""Valid answers for demo matters, so tests state only what they vary."""
from __future__ import annotations

from typing import Any

from .dates import day


def seal_usage(**override: Any) -> dict[str, Any]:
    form = {"seal_type": "学校公章", "document_name": "2026年合作协议", "copies": 2, "use_date": day(1),
            "purpose": "与杭州剧院签订演出合作协议", "document": "合作协议.pdf"}
    return {**form, **override}


def staff_leave(**override: Any) -> dict[str, Any]:
    form = {"leave_type": "事假", "start_time": f"{day(1)} 08:30", "end_time": f"{day(2)} 17:00",
            "days": 2, "reason": "家中有事需要处理两天"}
    return {**form, **override}


def network_account(**override: Any) -> dict[str, Any]:
    form = {"account_type": "教职工", "account_holder": "t2001", "devices": 2, "start_date": day(1)}
    return {**form, **override}


def submission(matter: str, form: dict[str, Any], approvers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"matter": matter, "form": form, "approvers": approvers or {}}


SEAL = lambda **kw: submission("seal_usage", seal_usage(**kw), {"leader": "t0002"})  # noqa: E731
