"""Ledger entries as words people read: the labels of actions and object types (the ledger
page's filters) and one sentence per entry (an item's history, the ledger page, its export).

This is the pages' one seam to the ledger's wording: ``describe_entry`` is the only function
the pages call to turn an entry into a sentence. When the message catalog's own rendering of
ledger entries is on main (issue 14), ``describe_entry`` calls it and the item sentences
below go.
"""

from __future__ import annotations

import re
from typing import Any

from itembank import i18n
from itembank.i18n import Message, N_
from itembank.ledger import LedgerEntry

from api.web.render import STATE_LABELS

OBJECT_LABELS = {
    "item": N_("Item"), "bank": N_("Bank"), "acceptance_batch": N_("Acceptance batch"),
    "assembly_run": N_("Assembly run"), "paper": N_("Paper"), "blueprint": N_("Blueprint"), "user": N_("User"),
    "expert": N_("Expert"), "exam_plan": N_("Exam plan"), "plan": N_("Exam plan"),
    "exam_session": N_("Exam session"), "candidate": N_("Candidate"), "application": N_("Application"),
    "certificate": N_("Certificate"), "staff": N_("Staff member"), "staff_card": N_("Staff card"),
    "calibration": N_("Calibration"), "minimum_rule": N_("Minimum rule"), "level": N_("Level"),
    "objection": N_("Objection"), "calendar_day": N_("Calendar day"), "ledger": N_("Ledger"),
    "account": N_("Account"),
}

ACTION_LABELS = {
    # items and the authoring workflow
    "item.create": N_("Item created"), "items.create": N_("Items created in bulk"),
    "item.draft_saved": N_("Draft saved"), "item.revise": N_("New version"), "item.state": N_("State changed"),
    "item.read": N_("Item read"), "item.view": N_("Versions compared"), "items.list": N_("Item list read"),
    "items.compromised": N_("Items marked leaked"), "items.enemies": N_("Enemy items set"),
    "items.enemy_removed": N_("Enemy pair removed"), "usage.record": N_("Usage recorded"),
    "review.assign": N_("Reviewer assigned"), "review.unassign": N_("Reviewer withdrawn"),
    "review.record": N_("Review recorded"),
    "batch.create": N_("Acceptance batch made"), "batch.read": N_("Acceptance batch read"),
    "batch.sign": N_("Accepted by a member (signed)"), "batch.refuse": N_("Refused by a member (signed)"),
    "batch.accept": N_("Batch accepted"), "batch.reject": N_("Batch not accepted"),
    "expert.register": N_("Expert registered"), "expert.grant": N_("Expert occupation granted"),
    "expert.revoke": N_("Expert occupation withdrawn"), "expert.suspend": N_("Expert suspended"),
    "expert.reinstate": N_("Expert reinstated"),
    "import.elements": N_("Element table imported"), "export.qti": N_("QTI export"),
    "minimum.set": N_("Minimum set"), "readiness.override": N_("Readiness overridden"),
    # assembly and papers
    "blueprint.save": N_("Blueprint saved"), "assembly.request": N_("Assembly requested"),
    "assembly.finish": N_("Assembly finished"), "assembly.backups": N_("Backup papers assembled"),
    "assembly.leak_replacement": N_("Replacement for a leaked paper"), "papers.view": N_("Papers viewed"),
    "paper.read": N_("Paper read"), "paper.exported": N_("Paper document downloaded"),
    "paper.status": N_("Paper state changed"), "paper.seal": N_("Paper sealed"),
    "paper.open": N_("Paper opened"), "paper.open_confirm": N_("Opening confirmed"),
    "paper.download": N_("Sealed document downloaded"), "paper.backup_activated": N_("Backup paper activated"),
    "incident.report": N_("Incident reported"), "analysis.calibrate": N_("Responses analysed"),
    "run.document": N_("Assembly document downloaded"), "ledger.export": N_("Ledger exported"),
    # exam office, registration, scoring, certificates
    "plan.create": N_("Exam plan made"), "session.create": N_("Exam session made"), "room.add": N_("Room added"),
    "seats.assign": N_("Seats assigned"), "proctors.assign": N_("Proctors assigned"),
    "examiners.group": N_("Examiner group formed"), "tickets.issue": N_("Admission tickets issued"),
    "tickets.download": N_("Admission tickets downloaded"), "candidate.register": N_("Candidate registered"),
    "applications.import": N_("Applications imported"), "application.plan": N_("Application placed in a plan"),
    "application.withdrawn": N_("Application withdrawn"), "eligibility.rules": N_("Eligibility rules set"),
    "relation.declare": N_("Relation declared"), "responses.record": N_("Responses recorded"),
    "score.examiner": N_("Examiner's score"), "score.settle": N_("Score settled"), "result.part": N_("Part result"),
    "result.review": N_("Result reviewed"), "results.publish": N_("Results published"),
    "results.objection": N_("Objection to results"), "results.objection_resolved": N_("Objection resolved"),
    "results.release": N_("Results released"), "card.issue": N_("Staff card issued"),
    "card.revoke": N_("Staff card revoked"), "staff.register": N_("Staff member registered"),
    "staff.training": N_("Training recorded"), "calendar.set": N_("Calendar day set"),
    "calendar.remove": N_("Calendar day removed"), "retention.review": N_("Retention reviewed"),
    "retention.hold": N_("Records held"), "retention.hold_released": N_("Hold released"),
    "retention.destroy": N_("Records destroyed"),
    # accounts
    "auth.login": N_("Logged in"), "auth.logout": N_("Logged out"), "user.create": N_("User created"),
    "user.roles": N_("Roles changed"), "user.active": N_("Account enabled or disabled"),
    "user.password": N_("Password changed"),
}


def action_label(action: str) -> str:
    return i18n.gettext(ACTION_LABELS[action]) if action in ACTION_LABELS else action


def object_label(object_type: str) -> str:
    return i18n.gettext(OBJECT_LABELS[object_type]) if object_type in OBJECT_LABELS else object_type


def _state(value: Any) -> str:
    return i18n.gettext(STATE_LABELS[value]) if value in STATE_LABELS else str(value)


# the reasons ``itembank.workflow`` writes when a committee decides
_COMMITTEE_RETURN = re.compile(r"^committee batch (\S+) not accepted: (.*)$", re.DOTALL)
_COMMITTEE_ACCEPT = re.compile(r"^accepted by committee batch (\S+)")


def _item_sentence(e: LedgerEntry) -> Message | None:
    d = e.details or {}
    who, v = e.actor, d.get("version")
    reason = str(d.get("reason") or "").strip()
    if e.action == "item.create":
        return Message("{who} created the item (v1, a draft).", who=who)
    if e.action == "item.draft_saved":
        return Message("{who} saved draft v{version}.", who=who, version=v)
    if e.action == "item.revise":
        if reason:
            return Message("{who} made version v{new} from v{old}. Note: {reason}", who=who, new=d.get("to_version"),
                           old=d.get("from_version"), reason=reason)
        return Message("{who} made version v{new} from v{old}.", who=who, new=d.get("to_version"),
                       old=d.get("from_version"))
    if e.action == "review.assign":
        return Message("{who} assigned the reviewer {reviewer}.", who=who, reviewer=d.get("reviewer"))
    if e.action == "review.unassign":
        return Message("{who} withdrew the reviewer {reviewer}.", who=who, reviewer=d.get("reviewer"))
    if e.action == "items.compromised" or (e.action == "item.state" and d.get("to") is None):
        return None
    if e.action != "item.state":
        return None
    to = d.get("to")
    if to == "submitted":
        return Message("{who} submitted v{version} for review.", who=who, version=v)
    if to == "in_review":
        return Message("{who} started reviewing v{version}.", who=who, version=v)
    if to == "approved":
        return Message("{who} approved v{version}. Comment: {reason}", who=who, version=v, reason=reason) \
            if reason and reason != "approved" else Message("{who} approved v{version}.", who=who, version=v)
    if to == "changes_requested":
        committee = _COMMITTEE_RETURN.match(reason)
        if committee:
            return Message("The acceptance committee (batch {batch}) did not accept v{version}: {reasons}",
                           batch=committee.group(1), version=v, reasons=committee.group(2))
        return Message("{who} sent v{version} back for changes: {reason}", who=who, version=v, reason=reason)
    if to == "accepted":
        batch = _COMMITTEE_ACCEPT.match(reason)
        return Message("v{version} was accepted into the bank: the members of batch {batch} voted for it.",
                       version=v, batch=batch.group(1) if batch else "—")
    if to == "superseded":
        return Message("v{version} was superseded by a newer version.", version=v)
    if to == "retired":
        return Message("{who} retired v{version}: {reason}", who=who, version=v, reason=reason)
    return Message("{who} changed v{version} from “{old}” to “{new}”.", who=who, version=v,
                   old=_state(d.get("from")), new=_state(to))


def describe_entry(entry: LedgerEntry) -> str:
    """One sentence in the reader's locale saying what the entry records."""
    sentence = _item_sentence(entry)
    if sentence is not None:
        return i18n.render(sentence)
    return i18n.render(Message("{who}: {what} ({object} {id})", who=entry.actor, what=action_label(entry.action),
                               object=object_label(entry.object_type), id=entry.object_id))
