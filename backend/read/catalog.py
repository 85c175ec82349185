"""The catalogue: service centres with their matters, finding a matter, one matter's form and nodes."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from ..db.models import Matter, ServiceCenter, User
from ..db.org import OrgDirectory
from ..errors import NotFound
from ..workflow.approvers import candidates_for, is_applicant_choice
from .base import View


class CatalogView(View):
    @staticmethod
    def matter_summary(matter: Matter) -> dict[str, Any]:
        return {"code": matter.code, "name": matter.name, "description": matter.description}

    async def centers(self) -> list[dict[str, Any]]:
        centers = list(await self.session.scalars(select(ServiceCenter).order_by(ServiceCenter.sort)))
        matters = list(
            await self.session.scalars(select(Matter).where(Matter.active.is_(True)).order_by(Matter.sort))
        )
        return [
            {"code": c.code, "name": c.name, "description": c.description,
             "matters": [self.matter_summary(m) for m in matters if m.center_id == c.id]}
            for c in centers
        ]

    async def search_matters(self, q: str) -> list[dict[str, Any]]:
        """Rank matters for a query that may be a whole Chinese sentence without spaces
        (「我想借音乐厅排练」): a matter's name, keywords and choice options found inside
        the query count, and so do query words found inside the matter's text."""
        matters = list(
            await self.session.scalars(select(Matter).where(Matter.active.is_(True)).order_by(Matter.id))
        )
        words = [w for w in re.split(r"[\s,,。、;;!!??]+", q) if w]
        ranked = []
        for m in matters:
            text = " ".join([m.name, m.description, *m.keywords])
            options = [o for f in m.form_schema if f["type"] in ("choice", "multichoice") for o in f["options"]]
            score = (
                (5 if m.name in q else 0)
                + sum(3 for k in m.keywords if k and k in q)
                + sum(1 for o in options if len(o) >= 2 and o in q)
                + sum((3 if w in m.name else 0) + (2 if w in m.keywords else 0) + (1 if w in text else 0)
                      for w in words)
            )
            if score > 0 or not words:
                ranked.append((score, m))
        ranked.sort(key=lambda pair: -pair[0])
        return [{**self.matter_summary(m), "score": score} for score, m in ranked]

    async def matter(self, code: str, viewer: User) -> dict[str, Any]:
        matter = await self.session.scalar(select(Matter).where(Matter.code == code, Matter.active.is_(True)))
        if matter is None:
            raise NotFound("matter_not_found", f"没有找到事项 {code}")
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
