"""Banks below their minimums, told to the bank manager on the home page and the bank page:
for each part short of its minimum, how many usable items there are against the minimum and,
when a leak incident's compromised items are what took the part below it, which incident
(附件11 第7条: a bank below its minimums issues no official paper; 附件16: leaked items are
never used again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from itembank import readiness
from itembank.domain import BankRef, Part
from itembank.i18n import Message, render
from itembank.readiness import BankReadiness
from lifecycle import sealing
from lifecycle import sessions as exam_sessions


@dataclass(frozen=True)
class LeakIncident:
    code: str
    at: datetime
    paper_code: str
    session_code: str
    part: Part
    compromised: int


@dataclass(frozen=True)
class BankAlert:
    bank: BankRef
    part: Part
    usable: int
    minimum: int
    incident: LeakIncident | None

    @property
    def text(self) -> str:
        if self.incident is not None:
            i = self.incident
            return render(Message(
                "{part}: {usable} usable items, below the minimum of {minimum}, since incident {code} on {at} "
                "(paper {paper}, session {session}) marked {n} items as leaked. No official paper can be issued "
                "until accepted items make up the shortfall of {short}.",
                part=self.part, usable=self.usable, minimum=self.minimum, code=i.code, at=i.at, paper=i.paper_code,
                session=i.session_code, n=i.compromised, short=self.minimum - self.usable))
        return render(Message(
            "{part}: {usable} usable items, below the minimum of {minimum} (short by {short}). No official paper "
            "can be issued until accepted items make up the shortfall.",
            part=self.part, usable=self.usable, minimum=self.minimum, short=self.minimum - self.usable))


def leak_incidents(session: Session, bank_ids: set[int]) -> dict[int, list[LeakIncident]]:
    """The leak incidents that marked items of these banks compromised, newest first."""
    out: dict[int, list[LeakIncident]] = {}
    found = [i for i in sealing.list_incidents(session) if (i.actions or {}).get("compromised_items")]
    for inc in reversed(found):
        s = exam_sessions.get_exam_session(session, code=inc.exam_session_code)
        if s.bank_id in bank_ids:
            out.setdefault(s.bank_id, []).append(LeakIncident(
                inc.code, inc.reported_at, inc.paper_code, inc.exam_session_code, s.part,
                int(inc.actions["compromised_items"])))
    return out


def bank_alerts(session: Session, reports: list[BankReadiness]) -> list[BankAlert]:
    """One alert per part below its minimum, with the incident that took it there if any."""
    incidents = leak_incidents(session, {r.bank.id or 0 for r in reports if not r.ready})
    alerts = []
    for report in reports:
        for p in report.parts:
            if p.usable >= p.minimum:
                continue
            cause = next((i for i in incidents.get(report.bank.id or 0, [])
                          if i.part is p.part and p.usable + i.compromised >= p.minimum), None)
            alerts.append(BankAlert(report.bank, p.part, p.usable, p.minimum, cause))
    return alerts


def alerts_for(session: Session, banks: list[BankRef]) -> list[BankAlert]:
    rules = readiness.list_minimum_rules(session)
    return bank_alerts(session, [readiness.bank_readiness(session, bank=b, rules=rules) for b in banks])
