"""The system of record: typed SQLAlchemy 2 tables.

Only this package speaks SQLAlchemy. Relationships are ``lazy="raise_on_sql"`` so
nothing is loaded behind our back inside async code.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from .spelling import spelling


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """A stored time, aware: SQLite hands back naive datetimes, and every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


MAX_ID = 2**31 - 1  # ids are INTEGER columns (PostgreSQL's int4): a larger one names nothing


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


# ---------------------------------------------------------------- org chart


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32), default="admin")
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("departments.id"))
    sort: Mapped[int] = mapped_column(Integer, default=0)
    # The WeCom contacts department id, set by ``sync-wecom``.
    wecom_id: Mapped[Optional[int]] = mapped_column(Integer, unique=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    # The name's pinyin ("liming lm"), kept with the name (below): the person picker's search.
    name_spelling: Mapped[str] = mapped_column(String(255), default="", server_default="")
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="staff")  # staff | student
    password_hash: Mapped[Optional[str]] = mapped_column(String(255))
    wecom_userid: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    mobile: Mapped[Optional[str]] = mapped_column(String(32), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    # An imported initial password or an administrator's reset: the person must choose their
    # own before anything else (the web session shows only the change page, the API answers 403).
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Bumped on every password change: tokens carry it, older ones stop working.
    credentials_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    department: Mapped[Department] = relationship(lazy="raise_on_sql")
    roles: Mapped[list["UserRole"]] = relationship(
        lazy="raise_on_sql", cascade="all, delete-orphan"
    )

    @validates("name")
    def _spell_name(self, _key: str, name: str) -> str:
        self.name_spelling = spelling(name or "")
        return name


class UserRole(Base):
    """A position held by a user in their department (部门负责人, 辅导员 …)."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


# ---------------------------------------------------------------- catalog


class ServiceCenter(Base):
    __tablename__ = "service_centers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    sort: Mapped[int] = mapped_column(Integer, default=0)


class Matter(Base):
    """A 事项: its form schema and its process definition, both kept as JSON data."""

    __tablename__ = "matters"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("service_centers.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    form_schema: Mapped[list[Any]] = mapped_column(default=list)
    process: Mapped[list[Any]] = mapped_column(default=list)
    # Who may apply ({kinds, roles}; None: everyone), see workflow/applicants.py.
    applicants: Mapped[Optional[dict[str, Any]]] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


# ---------------------------------------------------------------- runtime


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_applicant_created", "applicant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    form: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The process is copied at submission so later edits of the matter do not
    # change the path of applications already under way.
    process: Mapped[list[Any]] = mapped_column(default=list)
    chosen_approvers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), index=True)
    current_node: Mapped[Optional[int]] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    matter: Mapped[Matter] = relationship(lazy="raise_on_sql")
    applicant: Mapped[User] = relationship(lazy="raise_on_sql")

    __mapper_args__ = {"version_id_col": version}


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_assignee_status_created", "assignee_id", "status", "created_at"),
        Index("ix_tasks_application", "application_id", "round", "node_index"),
        Index("ix_tasks_parent", "parent_task_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    round: Mapped[int] = mapped_column(Integer, default=1)
    node_index: Mapped[int] = mapped_column(Integer)
    node_key: Mapped[str] = mapped_column(String(64))
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # approval | signer
    # For a signer task: the approver's task that asked for the opinion.
    parent_task_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tasks.id"))
    status: Mapped[str] = mapped_column(String(16))
    decision: Mapped[Optional[str]] = mapped_column(String(16))
    opinion: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    application: Mapped[Application] = relationship(lazy="raise_on_sql")
    assignee: Mapped[User] = relationship(lazy="raise_on_sql")

    __mapper_args__ = {"version_id_col": version}


class FlowRecord(Base):
    """流转记录: append-only; one row per transition, written with it."""

    __tablename__ = "flow_records"
    __table_args__ = (Index("ix_flow_records_application", "application_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    task_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tasks.id"))
    round: Mapped[int] = mapped_column(Integer, default=1)
    node_key: Mapped[Optional[str]] = mapped_column(String(64))
    node_name: Mapped[str] = mapped_column(String(128))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    opinion: Mapped[Optional[str]] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    actor: Mapped[User] = relationship(lazy="raise_on_sql")


class OutboxMessage(Base):
    """A notification to deliver after the transaction that caused it commits."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(48))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    application_id: Mapped[Optional[int]] = mapped_column(ForeignKey("applications.id"))
    task_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tasks.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    # Rows that must exist at most once (a reminder per task per day) carry a key.
    dedupe_key: Mapped[Optional[str]] = mapped_column(String(96), unique=True)


class DailyCounter(Base):
    """Per-day sequence behind application numbers (SW20261127-0001)."""

    __tablename__ = "daily_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class IdempotencyRecord(Base):
    """The stored result of a POST made with an ``Idempotency-Key`` header."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(128))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebSession(Base):
    """A logged-in browser of the web hall. Only a hash of the cookie value is stored,
    so a leaked table does not log anyone in."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # How the person proved who they are: password | cas | wecom. A forced password change
    # (must_change_password) stops only password sessions.
    method: Mapped[str] = mapped_column(String(16), default="password", server_default="password")


class CasTicket(Base):
    """The CAS service ticket a web session was started with (hashed), so the CAS server's
    single-logout request, which names the ticket, ends that session; a ticket seen once is
    never accepted again. Goes with its session (ON DELETE CASCADE)."""

    __tablename__ = "cas_tickets"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_hash: Mapped[str] = mapped_column(ForeignKey("web_sessions.id_hash", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebNotice(Base):
    """A notification for someone without WeCom: what the assistant said about one outbox
    row, shown in the web chat panel (live while it is open, else when it opens next)."""

    __tablename__ = "web_notices"
    __table_args__ = (Index("ix_web_notices_user_unread", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # One notice per outbox row, whatever happens to the notifier between its tries.
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), unique=True)
    messages: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """Who logged in (or failed to), who changed a password, who read what is not theirs:
    one row each, inserted on its own (never inside a workflow transaction).

    The failed logins here are also what the login throttle counts when Redis is not configured."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_event_username_at", "event", "username", "at"),
        Index("ix_audit_events_event_address_at", "event", "address", "at"),
        Index("ix_audit_events_user_at", "user_id", "at"),
        Index("ix_audit_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # login_succeeded | login_failed | login_throttled | password_changed | password_set | read
    event: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))  # web | api | service | cli | cas
    # The account concerned (None for an unknown username) and the name as typed.
    user_id: Mapped[Optional[int]] = mapped_column(Integer)
    username: Mapped[Optional[str]] = mapped_column(String(64))
    address: Mapped[Optional[str]] = mapped_column(String(64))
    user_agent: Mapped[Optional[str]] = mapped_column(String(256))
    target: Mapped[Optional[str]] = mapped_column(String(128))  # application:12, task:5, users?q=王 …


# ---------------------------------------------------------------- help desk: the FAQ loop (issue 14)


class FaqAnswer(Base):
    """An answer text of the assistant's FAQ, keyed by its retrieval intent (``faq/open_site``).
    Imported from bot/domain/faq.yml (``import-faq``), then edited by 服务台 staff without
    retraining: the assistant fetches the text by key at every answer."""

    __tablename__ = "faq_answers"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Who last wrote it in the console; None while it is the imported text (export-faq skips those).
    updated_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))


class FaqQuestion(Base):
    """A message the assistant could not answer well: a fallback, a low-confidence FAQ answer
    or one the person marked 没帮助. Open until staff point it at an answer."""

    __tablename__ = "faq_questions"
    __table_args__ = (Index("ix_faq_questions_open", "answer_key", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # fallback | low_confidence | not_helpful
    channel: Mapped[str] = mapped_column(String(16))  # web | wecom | api
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    predicted_key: Mapped[Optional[str]] = mapped_column(String(64))
    confidence: Mapped[Optional[float]]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    answer_key: Mapped[Optional[str]] = mapped_column(ForeignKey("faq_answers.key"))
    answered_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    answered_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))


# ---------------------------------------------------------------- help desk: handoff and tickets (issue 14)


class HelpdeskConversation(Base):
    """A chat handed to a person: waiting in the queue, then taken by one 服务台 staff member
    (a guarded UPDATE: of two racing, one wins), then closed (back to the assistant)."""

    __tablename__ = "helpdesk_conversations"
    __table_args__ = (Index("ix_helpdesk_conversations_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(160))  # the conversation as Rasa knows it: web:<username>, wecom:<userid>
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # web | wecom
    reason: Mapped[str] = mapped_column(String(16))  # request | misunderstood | unsure
    status: Mapped[str] = mapped_column(String(16))  # waiting | active | closed
    # The user's id while the conversation is open, NULL once closed: unique, so a person has at
    # most one open handoff however two requests race.
    open_for: Mapped[Optional[int]] = mapped_column(Integer, unique=True)
    taken_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    taken_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))


class HelpdeskMessage(Base):
    """What was said while a person handled the conversation (user, staff, or a system note)."""

    __tablename__ = "helpdesk_messages"
    __table_args__ = (Index("ix_helpdesk_messages_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("helpdesk_conversations.id"))
    author: Mapped[str] = mapped_column(String(16))  # user | staff | system
    staff_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HelpdeskTicket(Base):
    """A message left for the help desk (outside service hours, or by choice), answered later."""

    __tablename__ = "helpdesk_tickets"
    __table_args__ = (Index("ix_helpdesk_tickets_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # web | wecom
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # open | answered | closed
    answer: Mapped[Optional[str]] = mapped_column(Text)
    answered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answered_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))


# ---------------------------------------------------------------- approval moves: 抄送 (issue 15)


class ApplicationCc(Base):
    """抄送: someone told of an application who may read it (抄送我的) but not act on it. Written
    with the command that copies them (the matter's node config when the node completes, the
    applicant at submit, an approver when approving); once per person and application."""

    __tablename__ = "application_cc"
    __table_args__ = (UniqueConstraint("application_id", "user_id"),
                      Index("ix_application_cc_user", "user_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # who copied them (the applicant, an approver)
    node_key: Mapped[Optional[str]] = mapped_column(String(64))  # the node whose config or approver copied them
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# ---------------------------------------------------------------- attachments (issue 16)


class UploadedFile(Base):
    """An uploaded attachment: who uploaded it, what they called it, what it is, and where its
    bytes are (``storage_key`` in the file store, random: never the person's file name).
    ``application_id`` is NULL until a submission attaches it; a file is attached to one
    application at a time, and a resubmission whose form no longer names it sets it back to NULL."""

    __tablename__ = "uploaded_files"
    __table_args__ = (Index("ix_uploaded_files_owner", "owner_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    application_id: Mapped[Optional[int]] = mapped_column(ForeignKey("applications.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
