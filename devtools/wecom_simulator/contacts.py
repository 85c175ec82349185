"""The simulated corp's address book, built from an org chart file (backend/demo_data/org.yml).

Departments get WeCom-style integer ids: 1 is the college (the root), the rest are
numbered depth-first in file order. Only users with a ``wecom_userid`` are members.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml

LEADER_ROLE = "部门负责人"


@dataclass
class Department:
    id: int
    name: str
    parentid: int
    order: int
    leaders: list[str] = field(default_factory=list)

    def as_api(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "name_en": "", "department_leader": self.leaders,
                "parentid": self.parentid, "order": self.order}


@dataclass
class Member:
    userid: str
    name: str
    department: int
    mobile: str
    position: str
    is_leader: bool

    def as_api(self) -> dict[str, Any]:
        return {"userid": self.userid, "name": self.name, "department": [self.department],
                "order": [0], "position": self.position, "mobile": self.mobile, "gender": "0",
                "email": "", "is_leader_in_dept": [1 if self.is_leader else 0], "direct_leader": [],
                "avatar": "", "thumb_avatar": "", "telephone": "", "alias": "", "status": 1,
                "main_department": self.department, "open_userid": self.userid}

    def as_simple(self) -> dict[str, Any]:
        return {"userid": self.userid, "name": self.name, "department": [self.department],
                "open_userid": self.userid}


class Directory:
    def __init__(self, departments: list[Department], members: list[Member]):
        self.departments = {d.id: d for d in departments}
        self.members = {m.userid: m for m in members}

    @classmethod
    def from_org_file(cls, path: Path) -> "Directory":
        return cls.from_org(yaml.safe_load(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def from_org(cls, org: dict[str, Any]) -> "Directory":
        departments = [Department(1, org.get("college") or "企业", 0, 100000000)]
        ids_by_code: dict[str, int] = {}

        def add(items: Iterable[dict[str, Any]], parent: int) -> None:
            for position, item in enumerate(items or []):
                dept = Department(len(departments) + 1, item["name"], parent, 100000000 - position)
                departments.append(dept)
                ids_by_code[item["code"]] = dept.id
                add(item.get("children") or [], dept.id)

        add(org.get("departments") or [], 1)
        members = []
        for user in org.get("users") or []:
            if not user.get("wecom_userid"):
                continue
            roles = user.get("roles") or []
            member = Member(userid=user["wecom_userid"], name=user.get("name", ""),
                            department=ids_by_code.get(user.get("department"), 1),
                            mobile=str(user.get("mobile") or ""), position="、".join(roles),
                            is_leader=LEADER_ROLE in roles)
            members.append(member)
            if member.is_leader:
                next(d for d in departments if d.id == member.department).leaders.append(member.userid)
        return cls(departments, members)

    def subtree(self, root: int) -> list[Department]:
        """``root`` and every department below it, parents first."""
        result = [self.departments[root]]
        for dept in result:
            result.extend(d for d in self.departments.values() if d.parentid == dept.id)
        return result

    def members_of(self, department: int, with_children: bool) -> list[Member]:
        ids = {d.id for d in self.subtree(department)} if with_children else {department}
        return [m for m in self.members.values() if m.department in ids]

    def member(self, userid: str) -> Optional[Member]:
        # WeCom userids are case-insensitive.
        return self.members.get(userid) or next(
            (m for m in self.members.values() if m.userid.lower() == userid.lower()), None)
