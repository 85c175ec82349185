"""People: who is calling, the org chart as a tree, finding colleagues."""
from __future__ import annotations

from typing import Any, Optional

from ..db.models import Department, User
from ..db.org import OrgDirectory
from ..errors import NotFound
from .base import View


class PeopleView(View):
    async def me(self, user: User) -> dict[str, Any]:
        department = await self.session.get_one(Department, user.department_id)
        roles = (await OrgDirectory(self.session).roles_of([user.id]))[user.id]
        return {
            "id": user.id, **self.person(user, department), "department_code": department.code,
            "kind": user.kind, "roles": roles, "wecom_userid": user.wecom_userid,
        }

    async def departments_tree(self, college: str) -> dict[str, Any]:
        departments = list((await OrgDirectory(self.session).departments()).values())
        nodes = {d.id: {"id": d.id, "code": d.code, "name": d.name, "kind": d.kind, "children": []}
                 for d in departments}
        roots = []
        for d in departments:
            (nodes[d.parent_id]["children"] if d.parent_id else roots).append(nodes[d.id])
        return {"name": college, "children": roots}

    async def search_users(self, q: str, department_code: Optional[str], limit: int) -> list[dict[str, Any]]:
        org = OrgDirectory(self.session)
        department_id = None
        if department_code:
            department = await org.department_by_code(department_code)
            if department is None:
                raise NotFound("department_not_found", f"没有找到部门 {department_code}")
            department_id = department.id
        users = await org.search_users(q, department_id, limit)
        departments = await org.departments()
        roles = await org.roles_of(u.id for u in users)
        return [
            {**self.person(u, departments[u.department_id]),
             "department_code": departments[u.department_id].code, "roles": roles[u.id]}
            for u in users
        ]
