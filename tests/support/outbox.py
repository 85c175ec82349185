"""Outbox rows written straight to the database, for the notifier's tests."""
from __future__ import annotations

from sqlalchemy import select

from backend.db.models import OutboxMessage, User


async def queue(database, usernames: list[str], event: str = "task_assigned") -> list[int]:
    """One ``event`` row for each username (repeats allowed), as the workflow would write them; their ids."""
    async with database.write() as session:
        users = {u.username: u for u in await session.scalars(select(User).where(User.username.in_(usernames)))}
        rows = [OutboxMessage(event=event, recipient_id=users[name].id,
                              payload={"number": f"SW20261128-{i:04d}", "opinion": "请补充附件",
                                       "node_name": "部门审核", "signers": ["王丽华", "李明"]})
                for i, name in enumerate(usernames)]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]
