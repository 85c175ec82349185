"""``sync-wecom``: bring departments and people in line with the WeCom address book.

Departments match by their stored WeCom id, else by name (same parent first) — the
first sync links an org chart imported from YAML; later ones follow renames and moves.
People match by ``wecom_userid``, else by mobile. New ones are created; names,
departments, WeCom ids and mobiles are updated. Nobody is deleted or deactivated:
applications and flow records keep pointing at their rows, and people missing from
WeCom are only listed. The root department (parentid 0) is the college itself.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Protocol

import aiohttp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wecom_api import WeComClient, WeComConfig, WeComConfigError, WeComError

from ..config import ConfigError
from ..db.database import Database
from ..db.models import Department, User


class Contacts(Protocol):
    async def department_list(self, department_id: Optional[int] = None) -> list[dict[str, Any]]: ...

    async def user_list(self, department_id: int) -> list[dict[str, Any]]: ...


@dataclass
class SyncReport:
    changes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("departments_new", "departments_updated", "users_new", "users_updated", "users_not_in_wecom"), 0))

    def note(self, counter: str, line: str) -> None:
        self.counts[counter] += 1
        self.changes.append(line)


class _DryRun(Exception):
    """Raised inside the unit of work so that it rolls back."""


async def fetch_directory(contacts: Contacts) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """All departments (parents before children) and each member once."""
    departments = await contacts.department_list()
    members: dict[str, dict[str, Any]] = {}
    for department in departments:
        for member in await contacts.user_list(department["id"]):
            members.setdefault(member["userid"], member)
    by_id = {d["id"]: d for d in departments}

    def depth(item: dict[str, Any]) -> int:
        level, parent = 0, item.get("parentid")
        while parent in by_id and level < len(by_id):
            level, parent = level + 1, by_id[parent].get("parentid")
        return level

    ordered = sorted(departments, key=lambda d: (depth(d), -int(d.get("order") or 0), d["id"]))
    return ordered, list(members.values())


async def sync_org_from_env(database_url: str, *, dry_run: bool,
                            env: Mapping[str, str] = os.environ) -> SyncReport:
    try:
        config = WeComConfig.from_env(env, callbacks=False)
    except WeComConfigError as error:
        raise ConfigError(f"{error}. Org sync reads the WeCom contacts API: set WECOM_CORP_ID, WECOM_AGENT_ID "
                          "and WECOM_SECRET (and WECOM_API_BASE to use the simulator).") from error
    database = Database(database_url)
    try:
        async with aiohttp.ClientSession() as http:
            client = WeComClient(config.api_base, config.corp_id, config.secret, http, agent_id=config.agent_id)
            try:
                return await sync_org(database, client, dry_run=dry_run)
            except WeComError as error:
                raise ValueError(f"the WeCom contacts API failed ({error}); nothing was changed") from error
    finally:
        await database.dispose()


async def sync_org(database: Database, contacts: Contacts, *, dry_run: bool) -> SyncReport:
    departments, members = await fetch_directory(contacts)
    report = SyncReport()
    try:
        async with database.write() as session:
            mapped = await _sync_departments(session, departments, report)
            await _sync_users(session, members, mapped, report)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


async def _sync_departments(session: AsyncSession, items: list[dict[str, Any]],
                            report: SyncReport) -> dict[int, Optional[Department]]:
    """WeCom department id → our department (None for the college root)."""
    existing = list(await session.scalars(select(Department)))
    by_wecom = {d.wecom_id: d for d in existing if d.wecom_id is not None}
    known_ids = {item["id"] for item in items}
    mapped: dict[int, Optional[Department]] = {}
    for item in items:
        wecom_id, name = int(item["id"]), str(item["name"])
        if item.get("parentid") not in known_ids:
            mapped[wecom_id] = None  # the college itself
            continue
        parent = mapped.get(item["parentid"])
        parent_id = parent.id if parent else None
        department = by_wecom.get(wecom_id) or _by_name(existing, name, parent_id)
        if department is None:
            department = Department(code=f"wecom{wecom_id}", name=name, kind="admin", parent_id=parent_id,
                                    sort=0, wecom_id=wecom_id)
            session.add(department)
            await session.flush()
            existing.append(department)
            report.note("departments_new", f"+ 部门 {name}(WeCom {wecom_id})")
        else:
            changed = []
            if department.name != name:
                changed.append(f"名称 {department.name} → {name}")
            if department.parent_id != parent_id:
                changed.append("上级部门调整")
            if department.wecom_id != wecom_id:
                changed.append(f"关联 WeCom 部门 {wecom_id}")
            department.name, department.parent_id, department.wecom_id = name, parent_id, wecom_id
            if changed:
                report.note("departments_updated", f"~ 部门 {name}:" + ";".join(changed))
        by_wecom[wecom_id] = department
        mapped[wecom_id] = department
    await session.flush()
    return mapped


def _by_name(existing: list[Department], name: str, parent_id: Optional[int]) -> Optional[Department]:
    unlinked = [d for d in existing if d.wecom_id is None and d.name == name]
    return next((d for d in unlinked if d.parent_id == parent_id), None) or (unlinked[0] if len(unlinked) == 1 else None)


async def _sync_users(session: AsyncSession, members: list[dict[str, Any]],
                      departments: dict[int, Optional[Department]], report: SyncReport) -> None:
    users = list(await session.scalars(select(User)))
    by_userid = {u.wecom_userid.lower(): u for u in users if u.wecom_userid}
    by_mobile = {u.mobile: u for u in users if u.mobile}
    usernames = {u.username for u in users}
    department_names = {d.id: d.name for d in departments.values() if d is not None}
    seen: set[int] = set()
    for member in members:
        userid, name = str(member["userid"]), str(member.get("name") or member["userid"])
        mobile = str(member.get("mobile") or "") or None
        department = _main_department(member, departments)
        user = by_userid.get(userid.lower()) or (by_mobile.get(mobile) if mobile else None)
        if user is None:
            if department is None:
                report.changes.append(f"! 成员 {name}({userid})不在任何已同步的部门,未导入")
                continue
            username = userid if userid not in usernames else f"wecom_{userid}"
            user = User(username=username, name=name, department_id=department.id, kind="staff",
                        wecom_userid=userid, mobile=mobile if mobile not in by_mobile else None, active=True)
            session.add(user)
            usernames.add(username)
            report.note("users_new", f"+ 人员 {name}({userid},{department.name})")
        else:
            changed = []
            if user.name != name:
                changed.append(f"姓名 {user.name} → {name}")
                user.name = name
            if department is not None and user.department_id != department.id:
                changed.append(f"部门 {department_names.get(user.department_id, user.department_id)} → {department.name}")
                user.department_id = department.id
            if user.wecom_userid != userid:
                changed.append(f"企业微信账号 {user.wecom_userid or '无'} → {userid}")
                user.wecom_userid = userid
            if mobile and user.mobile != mobile and mobile not in by_mobile:
                changed.append("手机号更新")
                user.mobile = mobile
            if changed:
                report.note("users_updated", f"~ 人员 {user.name}({user.username}):" + ";".join(changed))
        by_userid[userid.lower()] = user
        if user.mobile:
            by_mobile[user.mobile] = user
        if user.id is not None:
            seen.add(user.id)
    for user in users:
        if user.wecom_userid and user.id not in seen:
            report.note("users_not_in_wecom", f"? 人员 {user.name}({user.username})不在企业微信通讯录中,保持不变")
    await session.flush()


def _main_department(member: dict[str, Any], departments: dict[int, Optional[Department]]) -> Optional[Department]:
    candidates = [member.get("main_department"), *(member.get("department") or [])]
    return next((departments[c] for c in candidates if departments.get(c) is not None), None)


def print_report(report: SyncReport, dry_run: bool, out: Callable[[str], None] = print) -> None:
    for line in report.changes:
        out(f"  {line}")
    c = report.counts
    summary = (f"departments: {c['departments_new']} new, {c['departments_updated']} updated; "
               f"users: {c['users_new']} new, {c['users_updated']} updated, "
               f"{c['users_not_in_wecom']} not in WeCom (kept)")
    out(("Dry run, nothing written. Would apply: " if dry_run else "Synced from WeCom: ") + summary)
