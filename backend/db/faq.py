"""The FAQ loop's storage: answer texts by key, and the questions the assistant could not
answer well (open until staff point them at an answer)."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Optional

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import Conflict, NotFound
from .models import FaqAnswer, FaqQuestion


async def write_answer(session: AsyncSession, key: str, text: str, user_id: int, now: datetime,
                       *, must_exist: bool) -> None:
    """Replace the text of ``key`` (written by ``user_id``); a new key only when not ``must_exist``."""
    found = await session.get(FaqAnswer, key, with_for_update=True)
    if found is None:
        if must_exist:
            raise NotFound("faq_answer_not_found", f"没有这条常见问题回答:{key}")
        found = FaqAnswer(key=key, created_at=now)
        session.add(found)
    found.text, found.updated_at, found.updated_by = text, now, user_id
    await session.flush()


# Imports on several machines at once (each start of the deploy target) may race: a key another
# one added first is kept as it is, not an error.
INSERT_NEW = {dialect: insert_(FaqAnswer).on_conflict_do_nothing(index_elements=["key"])
              for dialect, insert_ in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}


async def import_answers(session: AsyncSession, texts: dict[str, str], now: datetime) -> tuple[int, int]:
    """Add the keys not stored yet; a stored text (perhaps edited by staff) is kept. (added, kept)."""
    insert = INSERT_NEW[session.get_bind().dialect.name]
    added = 0
    for key, text in texts.items():
        result = await session.execute(insert.values(key=key, text=text, created_at=now, updated_at=now))
        added += result.rowcount or 0
    return added, len(texts) - added


async def record_question(session: AsyncSession, *, text: str, kind: str, channel: str, user_id: int,
                          predicted_key: Optional[str], confidence: Optional[float], now: datetime) -> int:
    question = FaqQuestion(text=text, kind=kind, channel=channel, user_id=user_id, predicted_key=predicted_key,
                           confidence=confidence, created_at=now)
    session.add(question)
    await session.flush()
    return question.id


async def answer_questions(session: AsyncSession, ids: Iterable[int], key: str, user_id: int, now: datetime) -> int:
    """Point the open questions ``ids`` at the answer ``key`` (which exists); all or nothing."""
    wanted = sorted(set(ids))
    found = {q.id: q for q in await session.scalars(
        select(FaqQuestion).where(FaqQuestion.id.in_(wanted)).with_for_update())}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound("faq_question_not_found", f"没有这些问题:{', '.join(map(str, missing))}")
    done = [i for i in wanted if found[i].answer_key is not None]
    if done:
        raise Conflict("faq_question_answered", f"这些问题已经答复过:{', '.join(map(str, done))}")
    await session.execute(update(FaqQuestion).where(FaqQuestion.id.in_(wanted))
                          .values(answer_key=key, answered_at=now, answered_by=user_id))
    return len(wanted)


async def learned(session: AsyncSession) -> tuple[dict[str, str], dict[str, list[str]]]:
    """What the next training should learn: the answers staff wrote or edited (key → text), and
    the answered questions' texts by the key they were answered with."""
    edited = {a.key: a.text for a in await session.scalars(
        select(FaqAnswer).where(FaqAnswer.updated_by.is_not(None)).order_by(FaqAnswer.key))}
    examples: dict[str, list[str]] = {}
    for key, text in (await session.execute(
            select(FaqQuestion.answer_key, FaqQuestion.text).where(FaqQuestion.answer_key.is_not(None))
            .order_by(FaqQuestion.answer_key, FaqQuestion.id))).all():
        examples.setdefault(key, []).append(text)
    return edited, examples
