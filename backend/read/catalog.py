"""The catalogue: service centres with their matters, finding a matter, one matter's form and nodes.

Each person sees only the matters they may apply to (a matter's ``applicants``)."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from ..db.models import Matter, ServiceCenter, User
from ..db.org import OrgDirectory
from ..errors import Forbidden, NotFound
from ..workflow.applicants import may_apply, refusal
from ..workflow.keywords import keyword_in
from ..workflow.approvers import candidates_for, is_applicant_choice
from .base import View


class CatalogView(View):
    @staticmethod
    def matter_summary(matter: Matter) -> dict[str, Any]:
        return {"code": matter.code, "name": matter.name, "description": matter.description}

    async def _open_to(self, viewer: User, order: Any) -> list[Matter]:
        """The active matters ``viewer`` may apply to."""
        matters = list(await self.session.scalars(select(Matter).where(Matter.active.is_(True)).order_by(order)))
        roles = await self._roles(viewer)
        return [m for m in matters if may_apply(m.applicants, viewer.kind, roles)]

    async def _roles(self, viewer: User) -> list[str]:
        return (await OrgDirectory(self.session).roles_of([viewer.id]))[viewer.id]

    async def centers(self, viewer: User) -> list[dict[str, Any]]:
        centers = list(await self.session.scalars(select(ServiceCenter).order_by(ServiceCenter.sort)))
        matters = await self._open_to(viewer, Matter.sort)
        return [
            {"code": c.code, "name": c.name, "description": c.description,
             "matters": [self.matter_summary(m) for m in matters if m.center_id == c.id]}
            for c in centers if any(m.center_id == c.id for m in matters)  # none for this person: not shown
        ]

    async def search_matters(self, q: str, viewer: User) -> list[dict[str, Any]]:
        """Rank matters for a query that may be a whole Chinese sentence without spaces
        (「我想借音乐厅排练」): a matter's name, keywords and choice options found inside
        the query count, and so do query words found inside the matter's text. A keyword
        split by 「…」 (请…假) is found with a few characters between its parts (请两天假)."""
        matters = await self._open_to(viewer, Matter.id)
        words = [w for w in re.split(r"[\s,,。、;;!!??]+", q) if w]
        ranked = []
        for m in matters:
            text = " ".join([m.name, m.description, *m.keywords])
            options = [o for f in m.form_schema if f["type"] in ("choice", "multichoice") for o in f["options"]]
            score = (
                (5 if m.name in q else 0)
                + sum(3 for k in m.keywords if k and keyword_in(k, q))
                + sum(1 for o in options if len(o) >= 2 and o in q)
                + sum((3 if w in m.name else 0) + (2 if w in m.keywords else 0) + (1 if w in text else 0)
                      for w in words)
            )
            if score > 0 or not words:
                ranked.append((score, m))
        ranked.sort(key=lambda pair: -pair[0])
        return [{**self.matter_summary(m), "score": score} for score, m in ranked]

    async def active_matter(self, code: str, viewer: User, *, to_apply: bool) -> Matter:
        """The matter; ``to_apply``: refused (403) to someone who may not apply to it."""
        matter = await self.session.scalar(select(Matter).where(Matter.code == code, Matter.active.is_(True)))
        if matter is None:
            raise NotFound("matter_not_found", f"没有找到事项 {code}")
        if to_apply and not may_apply(matter.applicants, viewer.kind, await self._roles(viewer)):
            raise Forbidden(*refusal(matter.name, matter.applicants))
        return matter

    async def matter(self, code: str, viewer: User, *, to_apply: bool = False) -> dict[str, Any]:
        """Its form and nodes; ``to_apply`` as for ``active_matter`` (an application's own matter
        is shown to its applicant even if the catalogue no longer offers it to them)."""
        matter = await self.active_matter(code, viewer, to_apply=to_apply)
        center = await self.session.get_one(ServiceCenter, matter.center_id)
        org = OrgDirectory(self.session)
        departments = await org.departments()
        nodes = []
        for index, node in enumerate(matter.process):
            shown = {"index": index, "key": node["key"], "name": node["name"], "mode": node["mode"],
                     "choose_approver": is_applicant_choice(node)}
            if is_applicant_choice(node):
                people = await candidates_for(node["approvers"], viewer, org)
                shown["candidates"] = [self.person(p, departments[p.department_id]) for p in people]
            nodes.append(shown)
        return {**self.matter_summary(matter), "center": {"code": center.code, "name": center.name},
                "keywords": matter.keywords, "form": matter.form_schema, "nodes": nodes}
