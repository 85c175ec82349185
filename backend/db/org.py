"""Queries over the org chart: who holds which role where, who heads a department.

The lookups the workflow makes on every decision (who approves the next node) return
``Member`` rows — id, username, name, department id — from prebuilt Core statements,
not ORM users: nothing here is changed through them.
"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

from sqlalchemy import ColumnElement, Row, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from .database import Database
from .models import Department, User, UserRole
from .spelling import typed_as_pinyin

users, user_roles, departments = User.__table__, UserRole.__table__, Department.__table__
Member = Row  # id, username, name, department_id
_ACTIVE_MEMBERS = select(users.c.id, users.c.username, users.c.name, users.c.department_id).where(
    users.c.active.is_(True))
_BY_USERNAME = _ACTIVE_MEMBERS.where(users.c.username.in_(bindparam("usernames", expanding=True)))
_WITH_ROLE = (
    _ACTIVE_MEMBERS.join_from(users, user_roles, user_roles.c.user_id == users.c.id)
    .where(user_roles.c.role == bindparam("role"))
    .order_by(users.c.id)
)
_WITH_ROLE_IN = _WITH_ROLE.where(users.c.department_id == bindparam("department_id"))
_WITH_ROLE_AT = _WITH_ROLE.where(users.c.department_id == (
    select(departments.c.id).where(departments.c.code == bindparam("code")).scalar_subquery()))


async def active_user(database: Database, condition: ColumnElement[bool]) -> Optional[User]:
    """The active user matching ``condition``: the lookup behind every API request. One
    statement outside a transaction, and the ``User`` made from its row as a detached
    instance, as if loaded by a session that has closed (the ORM load costs more than the SQL)."""
    async with database.read_one() as connection:
        row = (await connection.execute(select(users).where(condition, users.c.active.is_(True)))).first()
    if row is None:
        return None
    user = User(**row._mapping)
    make_transient_to_detached(user)
    return user


class OrgDirectory:
    def __init__(self, session: AsyncSession):
        self.session = session
        self._departments: Optional[dict[int, Department]] = None

    async def departments(self) -> dict[int, Department]:
        if self._departments is None:
            rows = await self.session.scalars(select(Department).order_by(Department.sort, Department.id))
            self._departments = {d.id: d for d in rows}
        return self._departments

    async def department_by_code(self, code: str) -> Optional[Department]:
        if self._departments is not None:
            return next((d for d in self._departments.values() if d.code == code), None)
        return await self.session.scalar(select(Department).where(Department.code == code))

    async def users_by_username(self, usernames: Iterable[str]) -> dict[str, Member]:
        names = list(dict.fromkeys(usernames))
        if not names:
            return {}
        rows = await self.session.execute(_BY_USERNAME, {"usernames": names})
        return {u.username: u for u in rows}

    async def users_by_id(self, ids: Iterable[int]) -> dict[int, User]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = await self.session.scalars(select(User).where(User.id.in_(wanted)))
        return {u.id: u for u in rows}

    async def users_with_role(self, role: str, department_id: int) -> list[Member]:
        return list(await self.session.execute(_WITH_ROLE_IN, {"role": role, "department_id": department_id}))

    async def users_with_role_at(self, role: str, department_code: str) -> list[Member]:
        """Holders of ``role`` in the department with this code (none if there is no such department)."""
        return list(await self.session.execute(_WITH_ROLE_AT, {"role": role, "code": department_code}))

    async def department_head(self, department_id: int, exclude_user_id: int) -> list[Member]:
        """The 部门负责人 of the department, or of the nearest parent that has one."""
        current: Optional[int] = department_id
        while current is not None:
            heads = [u for u in await self.users_with_role(HEAD_ROLE, current) if u.id != exclude_user_id]
            if heads:
                return heads
            current = (await self.departments())[current].parent_id  # walk up only when needed
        return []

    async def search_users(
        self, q: str = "", department_id: Optional[int] = None, limit: int = 20
    ) -> Sequence[User]:
        stmt = select(User).where(User.active.is_(True))
        if q:
            like = f"%{q}%"
            matches = [User.name.like(like), User.username == q]
            if typed_as_pinyin(q):  # 「lm」「liming」 for 李明
                matches.append(User.name_spelling.like(f"%{q.lower()}%"))
            stmt = stmt.where(or_(*matches))
        if department_id is not None:
            stmt = stmt.where(User.department_id.in_(await self.subtree_ids(department_id)))
        return list(await self.session.scalars(stmt.order_by(User.department_id, User.id).limit(limit)))

    async def subtree_ids(self, department_id: int) -> list[int]:
        departments = await self.departments()
        ids, frontier = [department_id], [department_id]
        while frontier:
            frontier = [d.id for d in departments.values() if d.parent_id in frontier]
            ids.extend(frontier)
        return ids

    async def roles_of(self, user_ids: Iterable[int]) -> dict[int, list[str]]:
        wanted = list(set(user_ids))
        result: dict[int, list[str]] = {uid: [] for uid in wanted}
        if wanted:
            rows = await self.session.execute(
                select(UserRole.user_id, UserRole.role).where(UserRole.user_id.in_(wanted))
            )
            for user_id, role in rows:
                result[user_id].append(role)
        return result


HEAD_ROLE = "部门负责人"
