"""The server signs a ledger checkpoint every ``Settings.ledger_checkpoint_minutes`` when the
ledger grew since the last one (``itembank.ledger.make_checkpoint``), commits it, and appends
it to the witness file beside the ledger key. This keeps the stretch of newest entries whose
deletion at the end verification cannot find short, without anyone remembering a hash.

Several server processes may each do this; a checkpoint more is harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank import ledger
from itembank.orm import LedgerEntryRecord

log = logging.getLogger(__name__)


def checkpoint_if_grown(maker: Callable[[], Session], *, actor: str = "system",
                        lock: threading.Lock | None = None) -> ledger.Checkpoint | None:
    """One round: a new checkpoint when the ledger's head moved since the newest one."""
    if lock is not None and not lock.acquire(timeout=30):
        return None
    try:
        with maker() as s:
            head = s.scalar(select(LedgerEntryRecord.id).order_by(LedgerEntryRecord.id.desc()).limit(1))
            last = ledger.latest_checkpoint(s)
            if head is None or (last is not None and last.entry_id >= head) or ledger.ledger_key(s) is None:
                s.rollback()
                return None
            cp = ledger.make_checkpoint(s, actor=actor)
            s.commit()
            ledger.write_witness(s, cp)
            return cp
    finally:
        if lock is not None:
            lock.release()


class Checkpointer:
    """A daemon thread running :func:`checkpoint_if_grown` every ``minutes`` (0: never)."""

    def __init__(self, maker: Callable[[], Session], *, minutes: float,
                 lock: threading.Lock | None = None) -> None:
        self._maker = maker
        self._interval = minutes * 60.0
        self._lock = lock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._interval <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ledger-checkpointer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                cp = checkpoint_if_grown(self._maker, lock=self._lock)
                if cp is not None:
                    log.info("ledger checkpoint #%s at entry %s", cp.id, cp.entry_id)
            except Exception:  # noqa: BLE001 - a failed round is logged; the next one tries again
                log.exception("the ledger checkpoint failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None


__all__ = ["Checkpointer", "checkpoint_if_grown"]
