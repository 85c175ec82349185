"""The FAQ loop as staff read it: answer texts, and the open questions grouped.

Grouping is deliberately simple and deterministic. A question's text is normalized (NFKC,
lower case, letters and digits only) and described by its characters (without function
characters such as 怎么/如何/吗) and its character bigrams: Chinese has no spaces, and this
catches 「手机号怎么改」 ≈ 「怎么修改手机号」 without a segmenter or a model. Questions are taken
oldest first; each joins the group whose first question is most similar (Jaccard of the
feature sets ≥ ``SIMILAR``), else starts a group. The same questions always give the same
groups, and a group's id is its first question's.
"""
from __future__ import annotations

import statistics
import unicodedata
from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import select

from ..db.models import FaqAnswer, FaqQuestion, HelpdeskConversation, HelpdeskTicket, User, as_utc
from ..errors import NotFound
from .base import View

# Chosen on pairs: 「企业微信怎么绑定」/「怎么绑定企业微信」 0.86, 「如何申请会议室」/「会议室怎么申请」 0.57,
# 「怎么修改手机号」/「手机号怎么改」 0.54 are one question; 「食堂几点开门」/「图书馆几点开门」 0.41,
# 「怎么修改手机号」/「怎么修改密码」 0.33, 「怎么请假」/「怎么盖章」 0.11 are not.
SIMILAR = 0.45
FUNCTION_CHARS = frozenset("怎么如何我的了吗呢啊吧嘛是在要该办哪里什么")
KIND_LABELS = {"fallback": "没听懂", "low_confidence": "没把握", "not_helpful": "没帮助", "answered": "已回答"}
# Questions staff look at; "answered" (an answer the assistant was sure of) only counts in the weekly figures.
UNANSWERED_KINDS = ("fallback", "low_confidence", "not_helpful")
WEEKS = 8
CHANNEL_LABELS = {"web": "网页", "wecom": "企业微信", "api": "接口"}


def normalized(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum())


def features(text: str) -> frozenset[str]:
    norm = normalized(text)
    return frozenset([c for c in norm if c not in FUNCTION_CHARS] + [norm[i:i + 2] for i in range(len(norm) - 1)])


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def grouped(questions: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """``questions`` (oldest first) in groups of similar ones, each group oldest first."""
    groups: list[tuple[frozenset[str], list[dict[str, Any]]]] = []
    for question in questions:
        grams = features(question["text"])
        scores = [similarity(grams, first) for first, _ in groups]
        best = max(range(len(groups)), key=lambda i: scores[i], default=None)
        if best is not None and scores[best] >= SIMILAR:
            groups[best][1].append(question)
        else:
            groups.append((grams, [question]))
    return [members for _, members in groups]


class FaqView(View):
    def _answer(self, answer: FaqAnswer) -> dict[str, Any]:
        return {"key": answer.key, "text": answer.text, "edited": answer.updated_by is not None,
                "updated_at": self.time(answer.updated_at)}

    async def answers(self) -> list[dict[str, Any]]:
        return [self._answer(a) for a in await self.session.scalars(select(FaqAnswer).order_by(FaqAnswer.key))]

    async def answer(self, key: str) -> dict[str, Any]:
        found = await self.answer_if_held(key)
        if found is None:
            raise NotFound("faq_answer_not_found", f"没有这条常见问题回答:{key}")
        return found

    async def answer_if_held(self, key: str) -> Optional[dict[str, Any]]:
        found = await self.session.get(FaqAnswer, key)
        return None if found is None else self._answer(found)

    async def questions(self, *, answered: bool, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` open (or answered) questions, oldest first."""
        query = (select(FaqQuestion, User.name).join(User, User.id == FaqQuestion.user_id)
                 .where(FaqQuestion.answer_key.is_not(None) if answered else FaqQuestion.answer_key.is_(None))
                 .where(FaqQuestion.kind.in_(UNANSWERED_KINDS))
                 .order_by(FaqQuestion.id.desc()).limit(limit))
        rows = (await self.session.execute(query)).all()
        return [self._question(question, name) for question, name in reversed(rows)]

    def _question(self, q: FaqQuestion, asker: str) -> dict[str, Any]:
        return {"id": q.id, "text": q.text, "kind": q.kind, "kind_label": KIND_LABELS.get(q.kind, q.kind),
                "channel": q.channel, "channel_label": CHANNEL_LABELS.get(q.channel, q.channel), "asker": asker,
                "predicted_key": q.predicted_key, "confidence": q.confidence, "created_at": self.time(q.created_at),
                "answer_key": q.answer_key}

    async def groups(self, *, answered: bool = False, limit: int = 500) -> list[dict[str, Any]]:
        """Similar questions together, the largest groups first (then the oldest)."""
        found = grouped(await self.questions(answered=answered, limit=limit))
        found.sort(key=lambda members: (-len(members), members[0]["id"]))
        return [_group(members) for members in found]


def _week_start(value: datetime, tz) -> str:
    local = as_utc(value).astimezone(tz)
    return (local.date() - timedelta(days=local.weekday())).isoformat()


class WeeklyView(View):
    """Per week (Monday, in the college's time zone), the newest ``WEEKS``: how-to questions asked
    (answers given plus messages not understood), answered by the assistant without a person
    (answers given, sure or not, minus those marked 没帮助), conversations handed off, tickets
    left, and the median wait in minutes from joining the queue to a staff member taking it."""

    async def weeks(self, now: datetime) -> list[dict[str, Any]]:
        this_week = _week_start(now, self.tz)
        since = now - timedelta(days=7 * WEEKS + 7)
        starts = [(datetime.fromisoformat(this_week) - timedelta(weeks=i)).date().isoformat() for i in range(WEEKS)]
        rows = {start: {"week": start, "questions": 0, "answered_by_assistant": 0, "handed_off": 0, "tickets": 0,
                        "waits": []} for start in starts}

        def week_of(value: datetime) -> Optional[dict[str, Any]]:
            return rows.get(_week_start(value, self.tz))

        for kind, at in (await self.session.execute(
                select(FaqQuestion.kind, FaqQuestion.created_at).where(FaqQuestion.created_at >= since))).all():
            row = week_of(at)
            if row is not None:
                row["questions"] += kind in ("answered", "low_confidence", "fallback")
                row["answered_by_assistant"] += {"answered": 1, "low_confidence": 1, "not_helpful": -1}.get(kind, 0)
        for created, taken in (await self.session.execute(
                select(HelpdeskConversation.created_at, HelpdeskConversation.taken_at)
                .where(HelpdeskConversation.created_at >= since))).all():
            row = week_of(created)
            if row is not None:
                row["handed_off"] += 1
                if taken is not None:
                    row["waits"].append((as_utc(taken) - as_utc(created)).total_seconds() / 60)
        for (created,) in (await self.session.execute(
                select(HelpdeskTicket.created_at).where(HelpdeskTicket.created_at >= since))).all():
            row = week_of(created)
            if row is not None:
                row["tickets"] += 1
        for row in rows.values():
            waits = row.pop("waits")
            row["answered_by_assistant"] = max(0, row["answered_by_assistant"])
            row["median_wait_minutes"] = round(statistics.median(waits), 1) if waits else None
        return [rows[start] for start in starts]


def _group(members: list[dict[str, Any]]) -> dict[str, Any]:
    def counts(field: str) -> dict[str, int]:
        tally: dict[str, int] = {}
        for m in members:
            tally[m[field]] = tally.get(m[field], 0) + 1
        return tally

    predicted: Optional[str] = max(counts("predicted_key").items(), key=lambda kv: kv[1], default=(None, 0))[0] \
        if any(m["predicted_key"] for m in members) else None
    return {"id": members[0]["id"], "text": members[0]["text"], "count": len(members),
            "question_ids": [m["id"] for m in members], "kinds": counts("kind"), "channels": counts("channel"),
            "predicted_key": predicted, "first_at": members[0]["created_at"], "last_at": members[-1]["created_at"],
            "questions": members}
