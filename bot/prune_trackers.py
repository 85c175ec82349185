"""Delete stored conversations nobody has touched for N days.

  .venv/rasa/bin/python -m bot.prune_trackers --older-than-days 90 [--endpoints bot/endpoints.yml] [--dry-run]

Rasa's SQL tracker store keeps every event for ever: session expiry (bot/domain's
session_config) only limits what Rasa loads, not what the database holds. This removes
every event of each conversation whose latest event is older than the cut-off; a
conversation still in use keeps all of its history. The store is the one the endpoints
file configures (SQLite in development, PostgreSQL in production), reached with Rasa's
own settings and table. Run it daily (cron or a systemd timer).
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import Optional

DEFAULT_ENDPOINTS = "bot/endpoints.yml"
SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class Pruned:
    conversations: int
    events: int


class NoSqlTrackerStore(Exception):
    """The endpoints file names no SQL tracker store (or cannot be read)."""


def whole_days(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of days ≥ 1, not {value!r}")
    return int(value)


# Rasa's own, and ours on top of it (bot/tracker_store.py: the same tables).
SQL_STORE_TYPES = ("sql", "bot.tracker_store.cachedsqltrackerstore")


def tracker_store_engine(endpoints_file: str):  # -> sqlalchemy.engine.Engine (1.4, Rasa's venv)
    """An engine on the database of the endpoints file's SQL tracker store, as Rasa connects to it."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
    from rasa.shared.exceptions import RasaException
    from rasa.utils.endpoints import read_endpoint_config

    try:
        config = read_endpoint_config(endpoints_file, "tracker_store")
    except RasaException as error:  # e.g. a ${VAR} that is not set
        raise NoSqlTrackerStore(f"cannot read {endpoints_file}: {error}") from error
    if config is None or (config.type or "").lower() not in SQL_STORE_TYPES:
        raise NoSqlTrackerStore(f"{endpoints_file} configures no SQL tracker store (tracker_store: type: SQL)")
    options = dict(config.kwargs)
    if "host" in options:  # Rasa itself fails to start on it (SQLTrackerStore gets `host` twice)
        raise NoSqlTrackerStore(f"{endpoints_file}: tracker_store names its host as `host:`; Rasa's SQL tracker "
                                "store reads it from `url:`")
    url = SQLTrackerStore.get_db_url(options.get("dialect", "sqlite"), config.url, options.get("port"),
                                     options.get("db", "rasa.db"), options.get("username"), options.get("password"),
                                     query=options.get("query"))
    return sa.create_engine(url, **create_engine_kwargs(url))


def prune(engine, older_than_days: int, now: Optional[float] = None, dry_run: bool = False) -> Pruned:
    """Delete (or with ``dry_run`` only count) the events of conversations idle longer than the cut-off."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    events = SQLTrackerStore.SQLEvent.__table__
    cutoff = (time.time() if now is None else now) - older_than_days * SECONDS_PER_DAY
    idle = (sa.select(events.c.sender_id).group_by(events.c.sender_id)
            .having(sa.func.max(events.c.timestamp) < cutoff))
    with engine.begin() as connection:  # counted and deleted in one transaction
        if not sa.inspect(connection).has_table(events.name):
            return Pruned(0, 0)  # Rasa has not stored anything yet
        counted = connection.execute(
            sa.select(sa.func.count(sa.distinct(events.c.sender_id)), sa.func.count())
            .where(events.c.sender_id.in_(idle))).one()
        if not dry_run and counted[1]:
            connection.execute(events.delete().where(events.c.sender_id.in_(idle)))
    return Pruned(conversations=counted[0], events=counted[1])


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.prune_trackers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--older-than-days", type=whole_days, required=True,
                        help="delete conversations whose latest event is older than this many days")
    parser.add_argument("--endpoints", default=DEFAULT_ENDPOINTS, help=f"Rasa's endpoints file ({DEFAULT_ENDPOINTS})")
    parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    args = parser.parse_args(argv)
    try:
        engine = tracker_store_engine(args.endpoints)
    except NoSqlTrackerStore as error:
        print(f"prune_trackers: {error}", file=sys.stderr)
        return 2
    try:
        pruned = prune(engine, args.older_than_days, dry_run=args.dry_run)
    finally:
        engine.dispose()
    verb = "would delete" if args.dry_run else "deleted"
    print(f"prune_trackers: {verb} {pruned.events} events of {pruned.conversations} conversations "
          f"idle for more than {args.older_than_days} days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
