"""Load a college's org chart and matter catalogue from YAML into the database.

Imports are upserts keyed by code/username, so re-running an import updates what
changed and never deletes history (applications keep pointing at their rows).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

import yaml
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Department, Matter, ServiceCenter, User, UserRole
from ..workflow.applicants import check_applicants
from ..workflow.approvers import check_node
from ..workflow.forms import check_schema

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo_data"

Progress = Callable[[str], None]


def read_yaml(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def process_of(matter: dict[str, Any]) -> list[dict[str, Any]]:
    """The matter's nodes as applications keep them: 或签 unless said, and the matter's
    ``admin`` (who gets a node nobody can approve, by its ``if_no_approver: admin``) in each."""
    admin = {"admin": matter["admin"]} if matter.get("admin") else {}
    return [{"mode": "any", **admin, **node} if isinstance(node, dict) else node for node in matter.get("process") or []]


def check_catalog(data: dict[str, Any]) -> None:
    """Every matter's form and process must be well-formed before anything is written."""
    codes: set[str] = set()
    for center in data.get("centers") or []:
        for matter in center.get("matters") or []:
            where = f"matter {matter.get('code')!r}"
            if not matter.get("code") or matter["code"] in codes:
                raise ValueError(f"{where}: missing or duplicate code")
            codes.add(matter["code"])
            check_schema(matter.get("form"), where)
            check_applicants(matter.get("applicants"), where)
            process = matter.get("process")
            if not process:
                raise ValueError(f"{where}: process needs at least one node")
            keys = [node.get("key") for node in process]
            if len(set(keys)) != len(keys):
                raise ValueError(f"{where}: duplicate node keys")
            for node in process_of(matter):
                check_node(node, f"{where}.{node.get('key')}")


async def import_org(
    session: AsyncSession, data: dict[str, Any], hash_password: Optional[Callable[[str], str]] = None,
    password: Optional[str] = None, progress: Progress = lambda _: None, *, must_change_password: bool = False,
) -> dict[str, int]:
    """Upsert departments and users. ``password`` (hashed) is set only on new users;
    ``must_change_password``: a shared initial password they must replace at first login
    (import-org), not the demo's published one (seed-demo keeps the demo usable)."""
    existing = {d.code: d for d in await session.scalars(select(Department))}
    count = 0

    async def walk(items: list[dict[str, Any]], parent: Optional[Department]) -> None:
        nonlocal count
        for sort, item in enumerate(items or []):
            department = existing.get(item["code"]) or Department(code=item["code"])
            department.name = item["name"]
            department.kind = item.get("kind", "admin")
            department.parent_id = parent.id if parent else None
            department.sort = sort
            session.add(department)
            await session.flush()
            existing[department.code] = department
            count += 1
            await walk(item.get("children") or [], department)

    await walk(data.get("departments") or [], None)
    progress(f"departments: {count}")

    users = {u.username: u for u in await session.scalars(select(User))}
    created = 0
    for item in data.get("users") or []:
        department = existing.get(item["department"])
        if department is None:
            raise ValueError(f"user {item['username']}: unknown department {item['department']!r}")
        user = users.get(item["username"])
        if user is None:
            # Each user gets their own salted hash, even when the initial password is shared.
            user = User(
                username=item["username"],
                password_hash=hash_password(password) if (hash_password and password) else None,
                must_change_password=bool(must_change_password and hash_password and password),
            )
            created += 1
        user.name = item["name"]
        user.department_id = department.id
        user.kind = item.get("kind", "staff")
        user.wecom_userid = item.get("wecom_userid")
        user.mobile = str(item["mobile"]) if item.get("mobile") else None
        user.active = True
        session.add(user)
        await session.flush()
        await session.execute(delete(UserRole).where(UserRole.user_id == user.id))
        for role in item.get("roles") or []:
            session.add(UserRole(user_id=user.id, role=role))
    await session.flush()
    progress(f"users: {len(data.get('users') or [])} ({created} new)")
    return {"departments": count, "users": len(data.get("users") or []), "new_users": created}


async def import_catalog(session: AsyncSession, data: dict[str, Any], progress: Progress = lambda _: None) -> dict[str, int]:
    check_catalog(data)
    centers = {c.code: c for c in await session.scalars(select(ServiceCenter))}
    matters = {m.code: m for m in await session.scalars(select(Matter))}
    matter_count = 0
    for sort, item in enumerate(data.get("centers") or []):
        center = centers.get(item["code"]) or ServiceCenter(code=item["code"])
        center.name = item["name"]
        center.description = item.get("description", "")
        center.sort = sort
        session.add(center)
        await session.flush()
        for matter_sort, entry in enumerate(item.get("matters") or []):
            matter = matters.get(entry["code"]) or Matter(code=entry["code"])
            matter.center_id = center.id
            matter.name = entry["name"]
            matter.description = entry.get("description", "")
            matter.keywords = list(entry.get("keywords") or [])
            matter.form_schema = entry["form"]
            matter.process = process_of(entry)
            matter.applicants = check_applicants(entry.get("applicants"), f"matter {entry['code']!r}")
            matter.active = entry.get("active", True)
            matter.sort = matter_sort
            session.add(matter)
            matter_count += 1
    await session.flush()
    progress(f"service centres: {len(data.get('centers') or [])}, matters: {matter_count}")
    return {"centers": len(data.get("centers") or []), "matters": matter_count}
