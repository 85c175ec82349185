"""Uploaded attachments' rows: kept after the bytes are stored, read for a download (only
for someone who may see it), listed for an application's detail."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from datetime import datetime

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import MAX_ID, Application, ApplicationCc, Task, UploadedFile, User


async def add(session: AsyncSession, owner: User, name: str, content_type: str, size: int, sha256: str,
              storage_key: str) -> UploadedFile:
    row = UploadedFile(owner_id=owner.id, original_name=name, content_type=content_type, size=size,
                       sha256=sha256, storage_key=storage_key)
    session.add(row)
    await session.flush()
    return row


def _visible_to(viewer: User):
    """The uploader, and anyone who may see the application it is attached to: its applicant,
    whoever holds or held one of its tasks (assignees, signers, delegates, transferees), the
    people copied (抄送) — the read side's rule for an application."""
    attached = Application.id == UploadedFile.application_id
    return or_(
        UploadedFile.owner_id == viewer.id,
        exists().where(attached, Application.applicant_id == viewer.id),
        exists().where(Task.application_id == UploadedFile.application_id, Task.assignee_id == viewer.id),
        exists().where(ApplicationCc.application_id == UploadedFile.application_id, ApplicationCc.user_id == viewer.id),
    )


async def visible(session: AsyncSession, viewer: User, file_id: int) -> Optional[UploadedFile]:
    return await session.scalar(select(UploadedFile).where(UploadedFile.id == file_id, _visible_to(viewer)))


async def described(session: AsyncSession, ids: Iterable[int], owner_id: Optional[int] = None) -> dict[int, dict[str, Any]]:
    """Id → what a page or a client shows of a file (its name, type, size); ``owner_id``: only
    that person's files (a form shown back to them names no one else's)."""
    wanted = [i for i in ids if 0 < i <= MAX_ID]  # a larger one names nothing (and PostgreSQL refuses it)
    if not wanted:
        return {}
    query = select(UploadedFile).where(UploadedFile.id.in_(wanted))
    if owner_id is not None:
        query = query.where(UploadedFile.owner_id == owner_id)
    return {row.id: shown(row) for row in await session.scalars(query)}


def shown(row: UploadedFile) -> dict[str, Any]:
    return {"id": row.id, "name": row.original_name, "content_type": row.content_type, "size": row.size,
            "sha256": row.sha256, "attached": row.application_id is not None}


async def take_unattached(session: AsyncSession, before: datetime) -> list[str]:
    """Remove the rows of files uploaded before ``before`` and not attached (never, or no longer:
    detached at a resubmission); their storage keys.
    A row is removed only if still unattached (a submission attaching it meanwhile keeps it)."""
    rows = await session.execute(
        delete(UploadedFile).where(UploadedFile.application_id.is_(None), UploadedFile.created_at < before)
        .returning(UploadedFile.storage_key))
    return list(rows.scalars())
