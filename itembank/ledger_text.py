"""The ledger (台帐) in words: each entry as a sentence a centre's staff read, with the people
by their display names; the filter vocabulary (actions and kinds of object) for drop-downs.

The ledger itself (``itembank.ledger``) stores codes and details as data, hash-chained; this
module only reads them. Every text is a catalog message, rendered in the reader's locale
(zh_CN by default) when shown, so one stored entry reads in Chinese to the centre's staff and
in English to the second locale. Auditors keep the raw record: :func:`raw_record` gives every
stored field unchanged.

Areas that add ledger actions register their words with :func:`register_action`; an action
nobody registered is still shown, as "who — action code — object", never dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank.domain import Level, Part, Role, VersionState
from itembank.i18n import N_, Message, Text, from_storable, render
from itembank.ledger import LedgerEntry

Details = Mapping[str, Any]
Params = Callable[[Details, "Names"], dict[str, Any]]


# --------------------------------------------------------------------------------------
# People


class Names:
    """Usernames -> display names (the account's display name, else the expert register's or
    the staff list's name); an unknown user is shown by the username."""

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        self._names = dict(names or {})

    def __call__(self, username: object) -> str:
        text = str(username or "")
        if not text:
            return "—"
        if text == "system":
            return render(Message("the system"))
        name = self._names.get(text)
        return f"{name}（{text}）" if name and name != text else text

    def many(self, usernames: Iterable[object]) -> list[str]:
        return [self(u) for u in usernames]


def display_names(session: Session, usernames: Iterable[str]) -> Names:
    """The display names of ``usernames`` in one query per register."""
    from itembank.orm_accounts import UserRecord
    from itembank.orm_lifecycle import StaffMemberRecord
    from itembank.orm_workflow import ExpertRecord

    wanted = sorted({u for u in usernames if u})
    found: dict[str, str] = {}
    for chunk in (wanted[i:i + 500] for i in range(0, len(wanted), 500)):
        for model, name_col in ((StaffMemberRecord, StaffMemberRecord.name), (ExpertRecord, ExpertRecord.name),
                                (UserRecord, UserRecord.display_name)):
            for username, name in session.execute(select(model.username, name_col).where(model.username.in_(chunk))):
                if name and username:
                    found[username] = name  # accounts last: the account's own display name wins
    return Names(found)


def names_in(entries: Iterable[LedgerEntry]) -> set[str]:
    """Every username an entry names: the actor and the people in its details."""
    out: set[str] = set()
    for e in entries:
        out.add(e.actor)
        for key in _PERSON_KEYS:
            value = e.details.get(key)
            if isinstance(value, str):
                out.add(value)
            elif isinstance(value, list):
                out.update(v for v in value if isinstance(v, str))
        if e.object_type in ("user", "expert"):
            out.add(e.object_id)
    return out


_PERSON_KEYS = ("reviewer", "writer", "members", "confirmed_by", "leader", "recorded_by", "by", "username")


# --------------------------------------------------------------------------------------
# Objects


OBJECT_TYPES: dict[str, str] = {
    "item": N_("item"), "bank": N_("bank"), "acceptance_batch": N_("acceptance batch"), "expert": N_("expert"),
    "paper": N_("paper"), "assembly_run": N_("assembly run"), "blueprint": N_("blueprint"), "user": N_("user account"),
    "minimum_rule": N_("minimum rule"), "exam_plan": N_("exam plan"), "exam_session": N_("exam session"),
    "application": N_("application"), "candidate": N_("candidate"), "staff": N_("staff member"),
    "staff_card": N_("staff card"), "certificate": N_("certificate"), "calendar_day": N_("calendar day"),
    "level": N_("level"), "calibration": N_("calibration"), "objection": N_("objection"), "plan": N_("exam plan"),
    "account": N_("staff member's login account"), "picture": N_("picture"), "ledger": N_("ledger"),
}


def object_text(entry: LedgerEntry, names: Names) -> Text:
    """The object of an entry in words: 试题 DG5-T-0001, 题库 6-31-01-03 电工 五级/初级工 ..."""
    d, t, oid = entry.details, entry.object_type, entry.object_id
    if t == "item":
        return Message("item {code}", code=d.get("code") or oid)
    if t == "bank":
        return Message("bank {bank}", bank=_bank(d)) if d.get("bank") else Message("bank no. {id}", id=oid)
    if t == "acceptance_batch":
        return Message("acceptance batch {code}", code=oid)
    if t == "expert":
        return Message("expert {name}", name=names(oid))
    if t in ("user", "account"):
        return Message("user {name}", name=names(oid))
    if t == "picture":
        return Message("picture {name}", name=d.get("name") or str(oid)[:12])
    if t == "ledger":
        return Message("the ledger")
    if t == "paper":
        return Message("paper {code}", code=oid)
    if t == "assembly_run":
        return Message("assembly run no. {id}", id=oid)
    if t == "blueprint":
        return Message("blueprint {name} version {version}", name=d.get("name", ""), version=d.get("version", "")) \
            if d.get("name") else Message("blueprint no. {id}", id=oid)
    if t in ("exam_plan", "plan"):
        return Message("exam plan {code}", code=oid)
    if t == "exam_session":
        return Message("exam session {code}", code=oid)
    if t == "application":
        return Message("application no. {id}", id=oid)
    if t == "candidate":
        return Message("candidate {name}", name=d["name"]) if d.get("name") else Message("candidate no. {id}", id=oid)
    if t == "staff":
        return Message("staff member {name}", name=d["name"]) if d.get("name") else \
            Message("staff member no. {id}", id=oid)
    if t == "staff_card":
        return Message("card {number}", number=oid)
    if t == "certificate":
        return Message("certificate {code}", code=oid)
    if t == "level":
        return _level_text(oid)
    label = OBJECT_TYPES.get(t)
    return Message("{kind} {id}", kind=Message(label), id=oid) if label else Message("{kind} {id}", kind=t, id=oid)


def _bank(d: Details) -> str:
    """The bank's label as stored (``6-31-01-03 电工 五级/初级工``, in the writer's locale) with
    its level's title in the reader's: the title is a catalog word, the rest is data."""
    label = str(d.get("bank") or "—")
    for level in Level:
        for title in (level.title_zh, level.title.english()):
            if label.endswith(" " + title):
                return label[: -len(title)] + str(level.title)
    return label


def _level_text(value: object) -> Text:
    try:
        return Message("level {level}", level=Level(int(value)))  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return str(value)


# --------------------------------------------------------------------------------------
# Actions


@dataclass(frozen=True, slots=True)
class Action:
    """How one action reads: ``label`` (a short name for the drop-down), ``group`` (the
    drop-down's section), ``sentence`` (a template with ``{actor}``, ``{object}`` and the
    fields ``params`` gives from the details)."""

    code: str
    group: str
    label: str
    sentence: str
    params: Params | None = None


ACTIONS: dict[str, Action] = {}

GROUPS = {
    "access": N_("Logins and accounts"), "items": N_("Items and reviews"), "acceptance": N_("Acceptance"),
    "bank": N_("Banks, imports and exports"), "assembly": N_("Assembly and papers"),
    "sealed": N_("Sealed papers and incidents"), "exams": N_("Registration and exams"),
    "scoring": N_("Scoring, results and certificates"), "records": N_("Records and retention"),
    "other": N_("Other"),
}


def register_action(code: str, group: str, label: str, sentence: str, params: Params | None = None) -> None:
    """Register how ``code`` reads (``label`` and ``sentence`` are msgids: mark them with ``N_``)."""
    ACTIONS[code] = Action(code, group, label, sentence, params)


def _get(key: str, default: Any = "—") -> Callable[[Details], Any]:
    return lambda d: d.get(key, default) if d.get(key) not in (None, "") else default


def _state(value: object) -> Any:
    try:
        return VersionState(str(value))
    except ValueError:
        return value


def _part(value: object) -> Any:
    try:
        return Part(str(value))
    except ValueError:
        return value


def _text(value: object) -> Text:
    """A stored text: a message kept as data, or the words someone typed."""
    value = from_storable(value)
    if isinstance(value, Message):
        return value
    if isinstance(value, list):
        return Message("{items}", items=[_text(v) for v in value])
    return "—" if value in (None, "") else str(value)


def _roles(value: object) -> list[Any]:
    out = []
    for r in value if isinstance(value, list) else []:
        role, _, occ = str(r[0] if isinstance(r, list) else r).partition(":")
        if isinstance(r, list) and len(r) > 1 and r[1]:
            occ = str(r[1])
        try:
            label: Any = Role(role)
        except ValueError:
            label = role
        out.append(Message("{role} ({occupation})", role=label, occupation=occ) if occ else label)
    return out


def _reason(d: Details) -> Text:
    return _text(d.get("reason"))


_A = register_action

# logins and accounts
_A("auth.login", "access", N_("Login"), N_("{actor} logged in"))
_A("auth.logout", "access", N_("Logout"), N_("{actor} logged out"))
_A("user.create", "access", N_("Account created"), N_("{actor} created the account {object} with the roles {roles}"),
   lambda d, n: {"roles": _roles(d.get("roles"))})
_A("user.roles", "access", N_("Roles changed"), N_("{actor} changed the roles of {object} to {roles}"),
   lambda d, n: {"roles": _roles(d.get("roles"))})
_A("user.password", "access", N_("Password changed"), N_("{actor} changed the password of {object}"))
_A("user.active", "access", N_("Account enabled or disabled"), N_("{actor} {what} the account {object}"),
   lambda d, n: {"what": Message("enabled") if d.get("active") else Message("disabled")})
_A("staff.account", "access", N_("Staff member linked to an account"),
   N_("{actor} linked the account {object} to staff member no. {staff}"), lambda d, n: {"staff": _get("staff_id")(d)})

# items and reviews
_A("item.create", "items", N_("Item written"), N_("{actor} wrote {object} (version {version}, a draft)"),
   lambda d, n: {"version": _get("version", 1)(d)})
_A("item.revise", "items", N_("Item revised"),
   N_("{actor} revised {object}: version {new} replaces version {old} ({reason})"),
   lambda d, n: {"new": _get("to_version")(d), "old": _get("from_version")(d), "reason": _reason(d)})
_A("item.state", "items", N_("Item state changed"),
   N_("{actor} moved {object} version {version} from {old} to {new}: {reason}"),
   lambda d, n: {"version": _get("version")(d), "old": _state(d.get("from")), "new": _state(d.get("to")),
                 "reason": _reason(d)})
_A("item.read", "items", N_("Item read"), N_("{actor} read {object}"))
_A("item.view", "items", N_("Versions compared"), N_("{actor} compared versions {versions} of {object}"),
   lambda d, n: {"versions": [str(v) for v in d.get("versions") or []]})
_A("items.list", "items", N_("Items listed"), N_("{actor} listed {n} items of {object}"),
   lambda d, n: {"n": len(d.get("codes") or [])})
_A("items.create", "items", N_("Items added"), N_("{actor} added {n} items ({first} … {last}) to {object}"),
   lambda d, n: {"n": _get("n_items", 0)(d), "first": _get("first_code")(d), "last": _get("last_code")(d)})
_A("items.enemies", "items", N_("Enemy pairs declared"), N_("{actor} declared {n} enemy pairs in {object}: {reason}"),
   lambda d, n: {"n": _get("n_pairs", 0)(d), "reason": _reason(d)})
_A("items.enemy_removed", "items", N_("Enemy pair removed"), N_("{actor} removed the enemy pair {pair} in {object}"),
   lambda d, n: {"pair": [str(c) for c in d.get("pair") or []]})
_A("items.compromised", "items", N_("Items marked compromised"),
   N_("{actor} marked the items {codes} of {object} compromised: {reason}"),
   lambda d, n: {"codes": [str(c) for c in d.get("codes") or []], "reason": _reason(d)})
_A("item.set_code", "items", N_("Set code changed"), N_("{actor} changed the set code of {object} from {old} to {new}"),
   lambda d, n: {"old": _get("from")(d), "new": _get("to")(d)})
_A("review.assign", "items", N_("Reviewer assigned"), N_("{actor} assigned {reviewer} to review {object}"),
   lambda d, n: {"reviewer": n(d.get("reviewer"))})
_A("review.unassign", "items", N_("Reviewer withdrawn"), N_("{actor} withdrew {reviewer} from reviewing {object}"),
   lambda d, n: {"reviewer": n(d.get("reviewer"))})
_A("review.record", "items", N_("Review recorded"),
   N_("{actor} reviewed {object} version {version}: {decision}; {comment}"),
   lambda d, n: {"version": _get("version")(d),
                 "comment": Message("comment: {text}", text=_text(d["comment"])) if d.get("comment")
                 else Message("no comment"),
                 "decision": Message("approved") if d.get("decision") == "approve" else Message("changes requested")})

# acceptance
_A("batch.create", "acceptance", N_("Acceptance batch made"),
   N_("{actor} put {n} items to {object}; the committee: {members}"),
   lambda d, n: {"n": len(d.get("items") or []), "members": n.many(d.get("members") or [])})
_A("batch.sign", "acceptance", N_("Acceptance batch signed"), N_("{actor} signed {object}: {opinion}"),
   lambda d, n: {"opinion": _text(d.get("opinion"))})
_A("batch.refuse", "acceptance", N_("Acceptance batch refused (signed)"),
   N_("{actor} signed against accepting {object}: {opinion}"), lambda d, n: {"opinion": _text(d.get("opinion"))})
_A("batch.accept", "acceptance", N_("Acceptance batch accepted"),
   N_("{object} accepted: {n} items, signed by {members}"),
   lambda d, n: {"n": _get("n_items", 0)(d), "members": n.many(d.get("members") or [])})
_A("batch.reject", "acceptance", N_("Acceptance batch not accepted"),
   N_("{actor} recorded that {object} was not accepted: {reason}; returned: {returned}"),
   lambda d, n: {"reason": _reason(d), "returned": [str(c) for c in d.get("returned") or []] or "—"})
_A("batch.read", "acceptance", N_("Acceptance batch read"), N_("{actor} read the items of {object}"))

# experts
_A("expert.register", "access", N_("Expert registered"), N_("{actor} registered {name} in the expert register"),
   lambda d, n: {"name": _get("name")(d)})
_A("expert.grant", "access", N_("Expert qualified for an occupation"),
   N_("{actor} registered {object} as {role} for occupation {occupation} ({years} years in the occupation)"),
   lambda d, n: {"role": _expert_role(d.get("role")), "occupation": _get("occupation")(d),
                 "years": _get("years")(d)})
_A("expert.revoke", "access", N_("Expert's occupation withdrawn"),
   N_("{actor} withdrew occupation {occupation} ({role}) from {object}: {reason}"),
   lambda d, n: {"role": _expert_role(d.get("role")), "occupation": _get("occupation")(d), "reason": _reason(d)})
_A("expert.suspend", "access", N_("Expert suspended"), N_("{actor} suspended {object}: {reason}"),
   lambda d, n: {"reason": _reason(d)})
_A("expert.reinstate", "access", N_("Expert reinstated"), N_("{actor} reinstated {object}: {reason}"),
   lambda d, n: {"reason": _reason(d)})

# banks, imports, exports
_A("import.items", "bank", N_("Items imported"),
   N_("{actor} imported {source} into {object}: {created} new, {revised} new versions"),
   lambda d, n: {"source": _get("source")(d), "created": _get("created", 0)(d), "revised": _get("revised", 0)(d)})
_A("import.qti", "bank", N_("QTI package imported"),
   N_("{actor} imported the QTI package {source} into {object}: {created} new, {revised} new versions"),
   lambda d, n: {"source": _get("source")(d), "created": _get("created", 0)(d), "revised": _get("revised", 0)(d)})
_A("import.elements", "bank", N_("Element table imported"), N_("{actor} imported the element table {source} into {object}"),
   lambda d, n: {"source": _get("source")(d)})
_A("item.import", "bank", N_("Item imported"), N_("{actor} imported {object} version {version} from {source}"),
   lambda d, n: {"version": _get("version")(d), "source": _get("source")(d)})
_A("export.qti", "bank", N_("Items exported (QTI)"), N_("{actor} exported {n} items of {object} as QTI"),
   lambda d, n: {"n": _get("n_items", 0)(d)})
_A("blueprint.save", "bank", N_("Blueprint saved"), N_("{actor} saved {object} for {bank} {part}"),
   lambda d, n: {"bank": _bank(d), "part": _part(d.get("part"))})
_A("minimum.set", "bank", N_("Minimum set"), N_("{actor} set the {part} minimum to {minimum} ({note})"),
   lambda d, n: {"part": _part(d.get("part")), "minimum": _get("minimum")(d), "note": _get("note")(d)})
_A("readiness.override", "bank", N_("Minimums overridden for practice"),
   N_("{actor} used {object} below its minimums for {purpose}"),
   lambda d, n: {"purpose": _text(d.get("purpose"))})

# assembly and papers
_A("assembly.request", "assembly", N_("Assembly requested"),
   N_("{actor} requested {object} for {bank} {part} with blueprint {blueprint}"),
   lambda d, n: {"bank": _bank(d), "part": _part(d.get("part")), "blueprint": _get("blueprint")(d)})
_A("assembly.finish", "assembly", N_("Assembly finished"), N_("{object} finished: {outcome}; papers {papers}"),
   lambda d, n: {"outcome": _outcome(d.get("outcome")), "papers": [str(p) for p in d.get("papers") or []] or "—"})
_A("assembly.backups", "assembly", N_("Backup papers assembled"), N_("{actor} assembled backup papers for {object}: {outcome}"),
   lambda d, n: {"outcome": _outcome(d.get("outcome"))})
_A("assembly.leak_replacement", "assembly", N_("Replacement after a leak"),
   N_("{actor} assembled a replacement for the leaked {object}: {outcome}"),
   lambda d, n: {"outcome": _outcome(d.get("outcome"))})
_A("papers.view", "assembly", N_("Papers viewed"), N_("{actor} viewed the papers of {object}"))
_A("paper.read", "assembly", N_("Paper read"), N_("{actor} read {object}"))
_A("paper.exported", "assembly", N_("Paper exported"), N_("{actor} exported the documents of {object}"))
_A("paper.status", "assembly", N_("Paper status changed"), N_("{actor} changed {object} from {old} to {new}: {reason}"),
   lambda d, n: {"old": _paper_status(d.get("from")), "new": _paper_status(d.get("to")), "reason": _reason(d)})
_A("usage.record", "assembly", N_("Item usage recorded"), N_("{actor} recorded the use of {n} items on {object}"),
   lambda d, n: {"n": _get("n_items", 0)(d)})

# sealed papers and incidents
_A("paper.seal", "sealed", N_("Paper sealed"), N_("{actor} sealed {object} for exam session {session}"),
   lambda d, n: {"session": _get("exam_session")(d)})
_A("paper.open_confirm", "sealed", N_("Opening confirmed (first person)"),
   N_("{actor} confirmed the opening of {object} (the first of two people)"))
_A("paper.open", "sealed", N_("Paper opened"), N_("{actor} opened {object} together with {others}"),
   lambda d, n: {"others": n.many(d.get("confirmed_by") or []) or "—"})
_A("paper.download", "sealed", N_("Document downloaded"), N_("{actor} downloaded {document} of {object}"),
   lambda d, n: {"document": _get("document")(d)})
_A("paper.backup_activated", "sealed", N_("Backup paper activated"), N_("{object} was activated as the backup: {reason}"),
   lambda d, n: {"reason": _reason(d)})
_A("incident.report", "sealed", N_("Incident reported"), N_("{actor} reported the incident {incident} ({kind}) on {object}"),
   lambda d, n: {"incident": _get("incident")(d), "kind": _incident(d.get("kind"))})

# registration and exams
_A("candidate.register", "exams", N_("Candidate registered"), N_("{actor} registered {object}"))
_A("application.accepted", "exams", N_("Application accepted"), N_("{actor} accepted {object}: {rule}"),
   lambda d, n: {"rule": _get("rule")(d)})
_A("application.refused", "exams", N_("Application refused"), N_("{actor} refused {object}: {reasons}"),
   lambda d, n: {"reasons": _text(d.get("reasons"))})
_A("application.withdrawn", "exams", N_("Application withdrawn"), N_("{actor} withdrew {object}: {reason}"),
   lambda d, n: {"reason": _reason(d)})
_A("application.plan", "exams", N_("Application put into an exam plan"), N_("{actor} put {object} into exam plan {plan}"),
   lambda d, n: {"plan": _get("plan")(d)})
_A("applications.import", "exams", N_("Applications imported"),
   N_("{actor} imported {n} applications: {accepted} accepted, {refused} refused"),
   lambda d, n: {"n": _get("n_rows", 0)(d), "accepted": _get("accepted", 0)(d), "refused": _get("refused", 0)(d)})
_A("eligibility.rules", "exams", N_("Eligibility rules set"), N_("{actor} set {n} eligibility rules for {object}"),
   lambda d, n: {"n": _get("n_rules", 0)(d)})
_A("plan.create", "exams", N_("Exam plan made"), N_("{actor} made {object}"))
_A("session.create", "exams", N_("Exam session made"), N_("{actor} made {object} ({part}) at {place}"),
   lambda d, n: {"part": _part(d.get("part")), "place": _get("place")(d)})
_A("room.add", "exams", N_("Room added"), N_("{actor} added room {room} ({capacity} seats) to {object}"),
   lambda d, n: {"room": _get("room")(d), "capacity": _get("capacity")(d)})
_A("seats.assign", "exams", N_("Seats assigned"), N_("{actor} seated {n} candidates in {object}"),
   lambda d, n: {"n": _get("n", 0)(d)})
_A("proctors.assign", "exams", N_("Proctors assigned"), N_("{actor} assigned the proctors of room {room} in {object}"),
   lambda d, n: {"room": _get("room")(d)})
_A("examiners.group", "exams", N_("Examiner group formed"), N_("{actor} formed the examiner group {group} of {object}"),
   lambda d, n: {"group": _get("group")(d)})
_A("tickets.issue", "exams", N_("Admission tickets issued"), N_("{actor} issued {n} admission tickets for {object}"),
   lambda d, n: {"n": _get("n", 0)(d)})
_A("tickets.download", "exams", N_("Admission tickets downloaded"), N_("{actor} downloaded {n} admission tickets of {object}"),
   lambda d, n: {"n": _get("n", 0)(d)})
_A("staff.register", "exams", N_("Staff member registered"), N_("{actor} registered {object}"))
_A("staff.training", "exams", N_("Annual training recorded"), N_("{actor} recorded the {year} training of {object}: {result}"),
   lambda d, n: {"year": str(d.get("year", "—")), "result": Message("qualified") if d.get("passed") else Message("not qualified")})
_A("card.issue", "exams", N_("Card issued"), N_("{actor} issued {object}, valid until {until}"),
   lambda d, n: {"until": _get("valid_until")(d)})
_A("card.revoke", "exams", N_("Card revoked"), N_("{actor} revoked {object}: {reason}"), lambda d, n: {"reason": _reason(d)})
_A("relation.declare", "exams", N_("Relation declared"), N_("{actor} declared a relation of {object} with candidate no. {candidate}"),
   lambda d, n: {"candidate": _get("candidate_id")(d)})

# scoring, results, certificates
_A("responses.record", "scoring", N_("Answers recorded"), N_("{actor} recorded the answers of {object} in exam session {session}"),
   lambda d, n: {"session": _get("session")(d)})
_A("score.examiner", "scoring", N_("Examiner's score"), N_("{actor} scored an item of {object}: {total} points"),
   lambda d, n: {"total": _get("total")(d)})
_A("score.settle", "scoring", N_("Scores settled by the leader"),
   N_("{actor} settled the score of an item of {object} from {old} to {new}: {reason}"),
   lambda d, n: {"old": _get("from")(d), "new": _get("to")(d), "reason": _reason(d)})
_A("result.part", "scoring", N_("Part result"), N_("{object}: {part} {score} points"),
   lambda d, n: {"part": _part(d.get("part")), "score": _get("score")(d)})
_A("result.review", "scoring", N_("Comprehensive review"), N_("{actor} recorded the comprehensive review of {object}: {result}"),
   lambda d, n: {"result": Message("qualified") if d.get("passed") else Message("not qualified")})
_A("results.publish", "scoring", N_("Results published"), N_("{actor} published the results of {object} from {start} to {end}"),
   lambda d, n: {"start": _get("starts_on")(d), "end": _get("ends_on")(d)})
_A("results.objection", "scoring", N_("Objection raised"), N_("{actor} recorded an objection to {object}: {text}"),
   lambda d, n: {"text": _text(d.get("text"))})
_A("results.objection_resolved", "scoring", N_("Objection answered"), N_("{actor} answered {object}: {resolution}"),
   lambda d, n: {"resolution": _text(d.get("resolution"))})
_A("results.release", "scoring", N_("Results released"), N_("{actor} released the results of {object}"))
for _act, _label in (("generate", N_("Certificate generated")), ("print", N_("Certificate printed")),
                     ("issue", N_("Certificate issued")), ("void", N_("Certificate voided")),
                     ("reissue", N_("Certificate reissued")), ("correct", N_("Certificate corrected")),
                     ("revoke", N_("Certificate revoked"))):
    _A(f"certificate.{_act}", "scoring", _label, N_("{actor}: {what} {object}; {reason}"),
       lambda d, n, _l=_label: {"what": Message(_l), "reason": _reason(d)})
for _kind, _label in (("warning", N_("Violation: warning")), ("paper_voided", N_("Violation: paper voided")),
                      ("score_cancelled", N_("Violation: score cancelled")),
                      ("disqualified", N_("Violation: disqualified"))):
    _A(f"violation.{_kind}", "scoring", _label, N_("{actor} recorded against {object}: {what}; {description}"),
       lambda d, n, _l=_label: {"what": Message(_l), "description": _text(d.get("description"))})

# records and retention
_A("calendar.set", "records", N_("Calendar day set"), N_("{actor} marked {object} as {kind}"),
   lambda d, n: {"kind": Message("a holiday") if d.get("kind") == "holiday" else Message("a working day")})
_A("calendar.remove", "records", N_("Calendar day removed"), N_("{actor} removed the mark of {object}"))
_A("retention.review", "records", N_("Retention review"), N_("{actor} reviewed the records of {object}: {decision}"),
   lambda d, n: {"decision": Message("destroy") if d.get("decision") == "destroy" else Message("keep")})
_A("retention.hold", "records", N_("Records held"), N_("{actor} held the records of {object}: {reason}"),
   lambda d, n: {"reason": _reason(d)})
_A("retention.hold_released", "records", N_("Hold released"), N_("{actor} released a hold on {object}"))
_A("retention.destroy", "records", N_("Records destroyed"), N_("{actor} destroyed the records of {object}"))
_A("analysis.calibrate", "records", N_("Item analysis"),
   N_("{actor} analysed {n} items of {bank} {part} ({persons} candidates)"),
   lambda d, n: {"n": _get("n_items", 0)(d), "bank": _bank(d), "part": _part(d.get("part")),
                 "persons": _get("n_persons", 0)(d)})
# the acts added beside the messages (access control, pictures, drafts, jobs, checkpoints)
_A("user.unlock", "access", N_("Failed logins cleared"),
   N_("{actor} cleared {n} failed logins of {object}"), lambda d, n: {"n": _get("cleared", 0)(d)})
_A("item.draft_saved", "items", N_("Draft saved"), N_("{actor} saved the draft version {version} of {object}"),
   lambda d, n: {"version": _get("version")(d)})
_A("item.reviews_read", "items", N_("Reviews read"), N_("{actor} read the reviews of {object}"))
_A("picture.upload", "items", N_("Picture uploaded"), N_("{actor} uploaded the picture {name} to {bank}"),
   lambda d, n: {"name": _get("name")(d), "bank": _bank(d)})
_A("picture.read", "items", N_("Picture read"), N_("{actor} viewed a picture of {items}"),
   lambda d, n: {"items": [str(x) for x in d.get("items") or []] or "—"})
_A("assembly.cancel", "assembly", N_("Assembly cancelled"), N_("{actor} cancelled {object}"))
_A("assembly_run.report", "assembly", N_("Assembly report downloaded"),
   N_("{actor} downloaded the assembly report of {object}"))
_A("assembly_run.curves", "assembly", N_("Assembly curves downloaded"),
   N_("{actor} downloaded the information curves of {object}"))
_A("run.document", "assembly", N_("Assembly document downloaded"), N_("{actor} downloaded a document of {object}"))
_A("paper.open_override", "sealed", N_("Paper opened by override"),
   N_("{actor} opened {object} by override together with {others}: {reason}"),
   lambda d, n: {"others": n.many(d.get("confirmed_by") or []) or "—", "reason": _reason(d)})
_A("paper.tamper_detected", "sealed", N_("Tampering detected"),
   N_("{actor} tried to download {document} of {object}: it failed its integrity check"),
   lambda d, n: {"document": _get("document")(d)})
_A("ledger.export", "records", N_("Ledger exported"), N_("{actor} exported {n} ledger entries"),
   lambda d, n: {"n": _get("rows", 0)(d)})
_A("similarity.report", "items", N_("Similarity report read"),
   N_("{actor} read the similarity report of {object}: {n} pairs"), lambda d, n: {"n": len(d.get("pairs") or [])})
_A("items.similar", "items", N_("Similar items shown"),
   N_("{actor} was shown the items of {object} similar to {item}: {codes}"),
   lambda d, n: {"item": _get("code", Message("a draft"))(d), "codes": [str(c) for c in d.get("shown") or []]})


def _expert_role(value: object) -> Any:
    from itembank.orm_workflow import ExpertRole

    try:
        return ExpertRole(str(value))
    except ValueError:
        return value


def _paper_status(value: object) -> Any:
    from itembank.orm_assembly import PaperStatus

    try:
        return PaperStatus(str(value))
    except ValueError:
        return value


def _incident(value: object) -> Any:
    from itembank.orm_sealing import IncidentKind

    try:
        return IncidentKind(str(value))
    except ValueError:
        return value


def _outcome(value: object) -> Text:
    from itembank.assembly_service import STATUS_WORDS

    return Message(STATUS_WORDS[str(value)]) if str(value) in STATUS_WORDS else str(value or "—")


# --------------------------------------------------------------------------------------
# Entries in words


def action_label(action: str) -> Text:
    """The short name of an action (for lists and drop-downs); an unregistered one by its code."""
    spec = ACTIONS.get(action)
    return Message(spec.label) if spec else action


def describe(entry: LedgerEntry, names: Names | None = None) -> Message:
    """The entry as one sentence, e.g. 张三（zhangsan）将试题 DG5-T-0001 第 1 版由“草稿”改为“已提交”：提交审核."""
    names = names or Names()
    spec = ACTIONS.get(entry.action)
    obj = object_text(entry, names)
    if spec is None:
        return Message("{actor}: {action} on {object}", actor=names(entry.actor), action=entry.action, object=obj)
    params = spec.params(entry.details, names) if spec.params else {}
    return Message(spec.sentence, actor=names(entry.actor), object=obj, **params)


@dataclass(frozen=True, slots=True)
class EntryText:
    """One ledger entry as a page or a report shows it."""

    id: int
    at: Any  # datetime (UTC): shown in the centre's time zone
    actor: str  # display name (username)
    action: Text  # short name
    sentence: Message
    raw: dict[str, Any]  # the stored record, unchanged (for auditors)


def describe_entries(session: Session, entries: Iterable[LedgerEntry]) -> list[EntryText]:
    """The entries in words, with the people's display names (one lookup for all)."""
    entries = list(entries)
    names = display_names(session, names_in(entries))
    return [EntryText(e.id, e.at, names(e.actor), action_label(e.action), describe(e, names), raw_record(e))
            for e in entries]


def raw_record(entry: LedgerEntry) -> dict[str, Any]:
    """Every stored field of the entry, as stored (the auditor's view: codes, details, hashes)."""
    return {"id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor, "action": entry.action,
            "object_type": entry.object_type, "object_id": entry.object_id, "details": entry.details,
            "prev_hash": entry.prev_hash, "hash": entry.hash}


def raw_json(entry: LedgerEntry) -> str:
    return json.dumps(raw_record(entry), ensure_ascii=False, indent=1, sort_keys=True)


# --------------------------------------------------------------------------------------
# Filter vocabulary (drop-downs)


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: Text


def action_choices() -> list[tuple[Text, list[Choice]]]:
    """The actions for a drop-down, in sections: ``[(section label, [Choice(code, label)])]``."""
    out: list[tuple[Text, list[Choice]]] = []
    for group, label in GROUPS.items():
        choices = [Choice(a.code, Message(a.label)) for a in ACTIONS.values() if a.group == group]
        if choices:
            out.append((Message(label), choices))
    return out


def object_type_choices() -> list[Choice]:
    """The kinds of object for a drop-down."""
    return [Choice(code, Message(label)) for code, label in OBJECT_TYPES.items()]


__all__ = [
    "ACTIONS",
    "OBJECT_TYPES",
    "Action",
    "Choice",
    "EntryText",
    "Names",
    "action_choices",
    "action_label",
    "describe",
    "describe_entries",
    "display_names",
    "names_in",
    "object_text",
    "object_type_choices",
    "raw_json",
    "raw_record",
    "register_action",
]
