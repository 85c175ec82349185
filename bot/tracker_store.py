"""Rasa's SQL tracker store, with each conversation's tracker kept in memory between its turns.

Rasa's ``SQLTrackerStore`` rebuilds the tracker from every stored event of the session on each
turn (a query, a JSON parse and a replay per event) and, to save, counts the stored events with
a sub-query before inserting the new ones. Profiled at 50 users that was about a third of
Rasa's CPU per turn (loading ≈12 %, saving ≈20 %), on the one event loop every turn shares.

Here every save still writes the turn's new events to the database before the turn answers
(the database stays the record: a restart or another replica reads it as before), and the
tracker object is kept. The next retrieve of that conversation asks the database one cheap
question — the id of the conversation's newest event — and hands back the kept tracker only
when nothing was written since by anyone else (another replica, a prune) and the tracker was
not changed without being saved (a turn that failed half-way); otherwise it loads from the
database as Rasa does. One conversation runs one turn at a time (the lock store), so the
kept tracker is never changed by two turns at once.

Both questions — the newest id, and the turn's inserts — go through a plain connection, not an ORM
session: a session's set-up, unit of work and close cost ≈0.6 ms each time, more than the SQL.

A SQLite file keeps its connections open between turns (SQLAlchemy 1.4, Rasa's, opens and closes
one per query on a file, and closing the last connection of a write-ahead log checkpoints it:
≈14 % of a turn's CPU in the same profile).

At most ``capacity`` conversations are kept, the least recently used dropped first
(``cache_size`` in endpoints.yml): memory stays bounded whatever the number of users.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Optional, Text

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool, QueuePool
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

DEFAULT_CAPACITY = 100  # ≈1 MB each for a conversation of 20 turns (the tracker and its past states)


@dataclass
class Kept:
    tracker: DialogueStateTracker
    stored_events: int  # len(tracker.events) when it was last saved or loaded
    newest_id: Optional[int]  # the conversation's newest event id in the database then


class CachedSQLTrackerStore(SQLTrackerStore):
    """``tracker_store: type: bot.tracker_store.CachedSQLTrackerStore`` with SQLTrackerStore's
    settings (dialect, url, db …) plus ``cache_size`` (conversations kept; 0 keeps none)."""

    def __init__(self, *args: Any, cache_size: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite" and isinstance(self.engine.pool, NullPool):
            url = self.engine.url
            self.engine.dispose()
            # Rasa's store runs on its event loop's thread; the flag only lets the pool hand a
            # connection to whichever thread asks, as SQLAlchemy 2.0 does by default.
            self.engine = sa.create_engine(url, poolclass=QueuePool, connect_args={"check_same_thread": False})
            self.sessionmaker = sessionmaker(bind=self.engine)
        self.capacity = DEFAULT_CAPACITY if cache_size is None else max(0, int(cache_size))
        self.kept: "OrderedDict[Text, Kept]" = OrderedDict()
        events = self.SQLEvent.__table__
        self._newest_statement = sa.select(sa.func.max(events.c.id)).where(events.c.sender_id == sa.bindparam("sender"))
        self._insert_statement = events.insert()

    def _newest_id(self, sender_id: Text) -> Optional[int]:
        with self.engine.connect() as connection:
            return connection.execute(self._newest_statement, {"sender": sender_id}).scalar()

    def _keep(self, sender_id: Text, kept: Kept) -> None:
        if self.capacity == 0:
            return
        self.kept[sender_id] = kept
        self.kept.move_to_end(sender_id)
        while len(self.kept) > self.capacity:
            self.kept.popitem(last=False)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        # The id first: an event written between it and the load makes the next retrieve reload.
        newest = self._newest_id(sender_id)
        kept = self.kept.pop(sender_id, None)
        if kept is not None and newest == kept.newest_id and len(kept.tracker.events) == kept.stored_events:
            self.kept[sender_id] = kept  # back in, as the most recently used
            return kept.tracker
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            self._keep(sender_id, Kept(tracker, len(tracker.events), newest))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        kept = self.kept.get(tracker.sender_id)
        if kept is None or kept.tracker is not tracker or kept.stored_events > len(tracker.events):
            # Not the tracker this store handed out for the conversation (a new conversation, a
            # whole-history tracker of the HTTP API): Rasa's way, which counts what the database
            # holds. The next retrieve loads it from the database and keeps that.
            self.kept.pop(tracker.sender_id, None)
            await super().save(tracker)
            return
        await self.stream_events(tracker)
        new_events = list(tracker.events)[kept.stored_events:]
        newest = kept.newest_id
        if new_events:
            with self.engine.begin() as connection:  # one transaction: all the turn's events or none
                for event in new_events:  # one by one: each insert gives its row's id
                    inserted = connection.execute(self._insert_statement, self._row(tracker.sender_id, event))
                newest = inserted.inserted_primary_key[0]
        self._keep(tracker.sender_id, Kept(tracker, len(tracker.events), newest))

    @staticmethod
    def _row(sender_id: Text, event: Any) -> dict[str, Any]:
        """The event's row, as SQLTrackerStore.save writes it."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }
