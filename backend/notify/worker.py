"""The notifier loop: reminders (and the morning digest) now and then, outbox deliveries every poll.

Order per row: claim (commit) → deliver → mark (commit). A crash between delivery and
marking is the one window where a row can go out twice: it stays ``pending`` and is
delivered again when its lease ends (``NOTIFY_LEASE_SECONDS``). Every delivery carries
its ``outbox_id`` and the bot ignores an id it has already shown (see
actions/notifications.py), so the user still sees it once.
"""
from __future__ import annotations

import asyncio
import logging
import signal
from datetime import date, datetime, timedelta
from typing import Any, Callable, Optional, Protocol

import aiohttp

from ..config import NotifierSettings
from ..db.database import Database
from ..db.models import utcnow
from ..workflow.engine import Workflow
from . import digest, outbox, reminders
from .outbox import Backoff, Delivery
from .rasa import RasaTrigger

log = logging.getLogger("backend.notify")


class Deliverer(Protocol):
    async def deliver(self, delivery: Delivery) -> list[dict[str, Any]]:
        """Deliver or raise; what was said, when the worker must keep it (the web's notices)."""


class NotifyWorker:
    def __init__(self, database: Database, settings: NotifierSettings, deliverer: Deliverer,
                 now: Callable[[], datetime] = utcnow, report: Callable[[str], None] = log.info):
        self.database, self.settings, self.deliverer = database, settings, deliverer
        self.now, self.report = now, report
        self.backoff = Backoff(settings.backoff_base_seconds, settings.backoff_max_seconds, settings.max_attempts)
        self.lease = timedelta(seconds=settings.lease_seconds)
        self.overdue = timedelta(hours=settings.overdue_hours)
        self.workflow = Workflow(settings.timezone, now=now)  # the nodes' timeout rules, as the system
        self.stopping = asyncio.Event()
        self._next_scan: Optional[datetime] = None
        self._digested: Optional[date] = None  # the local day this worker has queued digests for

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        self.report(f"notifier started: polling every {self.settings.poll_seconds:g} s, "
                    f"reminders after {self.settings.overdue_hours:g} h, {self.settings.digest.describe()}")
        while not self.stopping.is_set():
            try:
                busy = await self.run_once()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
                log.exception("notifier round failed; retrying after the poll interval")
                busy = False
            if not busy:
                await self._sleep(self.settings.poll_seconds)
        self.report("notifier stopped")

    async def run_once(self) -> bool:
        """One round; True when it claimed a full batch (more may be waiting)."""
        await self._scan_reminders()
        claimed_at = self.now()
        batch, skipped = await outbox.claim(self.database, claimed_at, self.settings.batch_size, self.lease)
        if skipped:
            self.report(f"skipped {skipped} (recipient no longer active)")
        # Past this moment a delivery might outlive the lease and meet another worker's.
        last_start = claimed_at + self.lease - timedelta(seconds=self.settings.request_timeout_seconds)
        for index, delivery in enumerate(batch):
            if self.stopping.is_set() or self.now() >= last_start:
                await outbox.release(self.database, [d.id for d in batch[index:]], self.now())
                break
            await self._deliver(delivery)
        return len(batch) + skipped >= self.settings.batch_size

    async def _deliver(self, delivery: Delivery) -> None:
        try:
            said = await self.deliverer.deliver(delivery)
        except Exception as error:  # noqa: BLE001 - any failure is retried with backoff
            status = await outbox.mark_failed(self.database, delivery, str(error) or error.__class__.__name__,
                                              self.now(), self.backoff)
            self.report(f"outbox {delivery.id} {delivery.event} → {delivery.conversation_id}: {error}"
                        + ("; giving up" if status == outbox.FAILED else "; will retry"))
            return
        await outbox.mark_sent(self.database, delivery, self.now(), said)
        self.report(f"outbox {delivery.id} {delivery.event} → {delivery.conversation_id}: sent")

    async def _scan_reminders(self) -> None:
        now = self.now()
        if self._next_scan is not None and now < self._next_scan:
            return
        self._next_scan = now + timedelta(seconds=self.settings.reminder_scan_seconds)
        queued = await reminders.scan(self.database, now, self.overdue)
        acted = await reminders.apply_timeouts(self.database, self.workflow, now)
        if acted:
            self.report(f"applied the timeout rule of {acted} task(s)")
        if queued:
            self.report(f"queued {queued} reminder(s) for tasks pending over {self.settings.overdue_hours:g} h")
        # Once per day per worker: the scan groups every pending task, and the day's rows exist
        # after it (another worker or a restart finds them by their keys and adds nothing).
        day = digest.due_day(self.settings.digest, now)
        if day is not None and day != self._digested:
            digests = await digest.scan(self.database, now, self.settings.digest)
            self._digested = day
            if digests:
                self.report(f"queued {digests} morning digest(s)")

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass



def _print(message: str) -> None:
    print(f"{datetime.now().strftime('%Y-%m-%d %H:%M:%S')} notify: {message}", flush=True)


async def run_worker(database_url: str, settings: NotifierSettings) -> None:
    """``python -m backend notify``: deliver until SIGTERM / Ctrl-C, finishing the row in hand."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    database = Database(database_url)
    try:
        async with aiohttp.ClientSession() as http:
            rasa = RasaTrigger(settings.rasa_url, settings.rasa_jwt_secret, http, settings.request_timeout_seconds)
            worker = NotifyWorker(database, settings, rasa, report=_print)
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, worker.stop)
            await worker.run()
    finally:
        await database.dispose()
