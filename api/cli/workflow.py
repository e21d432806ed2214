"""``itembank experts ...`` (专家信息库) and ``itembank workflow ...`` (authoring, review,
committee acceptance, retirement, diff, history).

``--actor`` names the person; the command gives them the role the act needs (the command
line is an administrator's tool, see api/cli/io.py). The services still check the expert
register, authorship, assignments, committee membership and states.
"""

from __future__ import annotations

import sys

import click

from api.cli.common import actor_option, cli_bank, fail, open_engine, with_bank
from api.cli.localized import Choice, argument, group, option
from itembank.config import Settings
from itembank.domain import Actor, Role
from itembank.i18n import _, format_datetime
from itembank.orm_workflow import ExpertRole, ReviewDecision, TitleRank


def _as(name: str, *roles: Role) -> Actor:
    return Actor(name, frozenset(roles))


def _run(settings: Settings, fn):  # type: ignore[no-untyped-def]
    """Run ``fn(session)`` in one transaction; domain errors exit 2 with their message."""
    from itembank.db import transaction
    from itembank.errors import ItemBankError

    try:
        with transaction(open_engine(settings)) as session:
            return fn(session)
    except (ItemBankError, ValueError) as e:
        fail(e)
    return None


# --------------------------------------------------------------------------------------
# experts


@group()
def experts() -> None:
    """The expert register (专家信息库, 附件11 第10条, 第19条)."""


@experts.command("register")
@argument("username")
@argument("name")
@option("--organisation", default="")
@option("--title-rank", type=Choice(TitleRank),
        default="none", show_default=True, help="Professional title rank (专业技术职务).")
@option("--title-name", default="", help="e.g. 高级工程师")
@actor_option
@click.pass_obj
def experts_register(settings: Settings, username: str, name: str, organisation: str, title_rank: str,
                     title_name: str, actor: str) -> None:
    from itembank.experts import register_expert

    e = _run(settings, lambda s: register_expert(s, actor=_as(actor, Role.BANK_MANAGER), username=username,
                                                 name=name, organisation=organisation, title_rank=title_rank,
                                                 title_name=title_name))
    click.echo(_("registered the expert {name} ({username})", name=e.name, username=e.username))


@experts.command("grant")
@argument("username")
@option("--occupation", "occupation_code", required=True)
@option("--role", type=Choice(ExpertRole), required=True)
@option("--years", type=int, required=True, help="Years in the occupation.")
@option("--certificate-level", default=None, help="Level of the certificate held: 5..1 (技师 = 2).")
@option("--certificate-no", default="")
@actor_option
@click.pass_obj
def experts_grant(settings: Settings, username: str, occupation_code: str, role: str, years: int,
                  certificate_level: str | None, certificate_no: str, actor: str) -> None:
    """Let an expert write or review for an occupation (checks 附件11 第10条)."""
    from itembank.experts import grant_scope

    _run(settings, lambda s: grant_scope(s, actor=_as(actor, Role.BANK_MANAGER), username=username,
                                         occupation_code=occupation_code, role=role, years_in_occupation=years,
                                         certificate_level=certificate_level, certificate_no=certificate_no))
    from itembank.orm_workflow import ExpertRole

    click.echo(_("{username} may now act as {role} for occupation {occupation}", username=username,
                 role=ExpertRole(role), occupation=occupation_code))


@experts.command("suspend")
@argument("username")
@option("--reason", required=True)
@actor_option
@click.pass_obj
def experts_suspend(settings: Settings, username: str, reason: str, actor: str) -> None:
    from itembank.experts import suspend_expert

    _run(settings, lambda s: suspend_expert(s, actor=_as(actor, Role.BANK_MANAGER), username=username,
                                            reason=reason))
    click.echo(_("expert {username} suspended", username=username))


@experts.command("list")
@option("--occupation", "occupation_code", default=None)
@option("--role", type=Choice(ExpertRole), default=None)
@click.pass_obj
def experts_list(settings: Settings, occupation_code: str | None, role: str | None) -> None:
    from itembank.experts import list_experts

    for e in _run(settings, lambda s: list_experts(s, occupation_code=occupation_code, role=role)):
        scopes = [_("{role} for {occupation}, {years} years in the occupation, certificate {certificate}",
                    role=x.role, occupation=x.occupation_code, years=x.years_in_occupation,
                    certificate=x.certificate_level if x.certificate_level else "—") for x in e.scopes]
        flag = ("  " + _("suspended: {reason}", reason=e.suspended_reason)) if e.suspended else ""
        click.echo(_("{username}  {name}  title {title}  {scopes}", username=e.username, name=e.name,
                     title=e.title_rank, scopes=scopes or "—") + flag)


# --------------------------------------------------------------------------------------
# workflow


@group()
def workflow() -> None:
    """Authoring workflow: submit, assign, review, committee batches, retire, diff, history."""


@workflow.command("submit")
@argument("code")
@with_bank
@option("--comment", default="")
@actor_option
@click.pass_obj
def wf_submit(settings: Settings, code: str, occupation_code: str, level: str, work_type: str | None,
              comment: str, actor: str) -> None:
    """The writer submits the latest version of CODE for review."""
    from itembank.workflow import submit

    it = _run(settings, lambda s: submit(s, actor=_as(actor, Role.ITEM_WRITER),
                                         bank=cli_bank(s, occupation_code, level, work_type), code=code, comment=comment))
    click.echo(_("{item}: {state}", item=it.ref, state=it.state))


@workflow.command("assign")
@argument("code")
@with_bank
@option("--reviewer", required=True)
@actor_option
@click.pass_obj
def wf_assign(settings: Settings, code: str, occupation_code: str, level: str, work_type: str | None,
              reviewer: str, actor: str) -> None:
    from itembank.workflow import assign_reviewer

    new = _run(settings, lambda s: assign_reviewer(s, actor=_as(actor, Role.BANK_MANAGER),
                                                   bank=cli_bank(s, occupation_code, level, work_type), code=code,
                                                   reviewer=reviewer))
    click.echo(_("{reviewer} assigned to review {code}", reviewer=reviewer, code=code) if new
               else _("{reviewer} was already assigned to review {code}", reviewer=reviewer, code=code))


@workflow.command("review")
@argument("code")
@with_bank
@option("--decision", type=Choice(ReviewDecision), required=True)
@option("--comment", default="")
@actor_option
@click.pass_obj
def wf_review(settings: Settings, code: str, occupation_code: str, level: str, work_type: str | None,
              decision: str, comment: str, actor: str) -> None:
    """An assigned reviewer decides on CODE (starting the review if it was only submitted)."""
    from itembank.domain import VersionState
    from itembank.items import get_item
    from itembank.workflow import record_review, start_review

    def act(s):  # type: ignore[no-untyped-def]
        bank = cli_bank(s, occupation_code, level, work_type)
        who = _as(actor, Role.REVIEWER)
        if get_item(s, bank=bank, code=code).state is VersionState.SUBMITTED:
            start_review(s, actor=who, bank=bank, code=code)
        record_review(s, actor=who, bank=bank, code=code, decision=decision, comment=comment)
        return get_item(s, bank=bank, code=code)

    it = _run(settings, act)
    click.echo(_("{item}: {state}", item=it.ref, state=it.state))


@workflow.group("batch")
def batch() -> None:
    """Committee acceptance batches (附件11 第17条)."""


@batch.command("create")
@with_bank
@option("--code", "codes", multiple=True, required=True, help="Item code (repeat).")
@option("--member", "members", multiple=True, required=True, help="Committee member (repeat, >= 5).")
@option("--meeting", default="", help="When and where the acceptance meeting is held.")
@actor_option
@click.pass_obj
def batch_create(settings: Settings, occupation_code: str, level: str, work_type: str | None,
                 codes: tuple[str, ...], members: tuple[str, ...], meeting: str, actor: str) -> None:
    from itembank.workflow import create_acceptance_batch

    b = _run(settings, lambda s: create_acceptance_batch(
        s, actor=_as(actor, Role.BANK_MANAGER), bank=cli_bank(s, occupation_code, level, work_type),
        codes=list(codes), members=list(members), meeting=meeting))
    click.echo(_("acceptance batch {batch}: {n} items, committee {members}; manifest hash {hash}", batch=b.code,
                 n=len(b.items), members=list(b.members), hash=b.manifest_hash))


@batch.command("sign")
@argument("batch_code")
@option("--opinion", default="")
@actor_option
@click.pass_obj
def batch_sign(settings: Settings, batch_code: str, opinion: str, actor: str) -> None:
    from itembank.workflow import sign_batch

    b = _run(settings, lambda s: sign_batch(s, actor=_as(actor, Role.COMMITTEE_MEMBER), batch_code=batch_code,
                                            opinion=opinion))
    click.echo(_("acceptance batch {batch}: {state}; every member signed", batch=b.code, state=b.state)
               if b.all_signed else _("acceptance batch {batch}: {state}; waiting for {members}", batch=b.code,
                                      state=b.state, members=list(b.unsigned)))


@batch.command("reject")
@argument("batch_code")
@option("--reason", required=True)
@option("--return", "returned", multiple=True, help="Item codes to send back (default: all).")
@actor_option
@click.pass_obj
def batch_reject(settings: Settings, batch_code: str, reason: str, returned: tuple[str, ...], actor: str) -> None:
    from itembank.workflow import reject_batch

    b = _run(settings, lambda s: reject_batch(s, actor=_as(actor, Role.COMMITTEE_MEMBER, Role.BANK_MANAGER),
                                              batch_code=batch_code, reason=reason,
                                              return_codes=list(returned) or None))
    click.echo(_("acceptance batch {batch}: not accepted; returned {codes}", batch=b.code,
                 codes=list(b.returned) or _("none")))


@batch.command("show")
@argument("batch_code")
@click.pass_obj
def batch_show(settings: Settings, batch_code: str) -> None:
    from itembank.workflow import get_batch

    b = _run(settings, lambda s: get_batch(s, batch_code=batch_code))
    from itembank.orm_workflow import BatchKind

    kind = _("accepted by the committee here") if b.kind is BatchKind.COMMITTEE else _("accepted elsewhere")
    click.echo(_("acceptance batch {batch} ({kind}): {state}; manifest hash {hash}", batch=b.code, kind=kind,
                 state=b.state, hash=b.manifest_hash))
    if b.external_ref:
        click.echo("  " + _("reference: {ref}", ref=b.external_ref))
    click.echo("  " + _("items: {items}", items=[_("{code} version {version}", code=c, version=n)
                                                  for c, n in b.items]))
    for m in b.members:
        sig = next((x for x in b.signatures if x.member == m), None)
        click.echo(f"  {m:<12} " + (_("signed {at}, signature {signature}…; opinion: {opinion}",
                                      at=sig.signed_at, signature=sig.signature[:16], opinion=sig.opinion or "—")
                                    if sig else _("not signed")))


@workflow.command("retire")
@argument("code")
@with_bank
@option("--reason", required=True)
@actor_option
@click.pass_obj
def wf_retire(settings: Settings, code: str, occupation_code: str, level: str, work_type: str | None,
              reason: str, actor: str) -> None:
    from itembank.workflow import retire_item

    it = _run(settings, lambda s: retire_item(s, actor=_as(actor, Role.BANK_MANAGER),
                                              bank=cli_bank(s, occupation_code, level, work_type), code=code,
                                              reason=reason))
    click.echo(_("{item}: {state}", item=it.ref, state=it.state))


@workflow.command("diff")
@argument("code")
@with_bank
@option("--old", type=int, default=None)
@option("--new", type=int, default=None)
@option("--all-fields", is_flag=True, help="Show unchanged fields too.")
@actor_option
@click.pass_obj
def wf_diff(settings: Settings, code: str, occupation_code: str, level: str, work_type: str | None,
            old: int | None, new: int | None, all_fields: bool, actor: str) -> None:
    """Old vs new version of CODE, field by field (附件11 第14条). Ledgered as a read."""
    from itembank.workflow import compare_versions

    d = _run(settings, lambda s: compare_versions(s, actor=_as(actor, Role.BANK_MANAGER),
                                                  bank=cli_bank(s, occupation_code, level, work_type), code=code,
                                                  old=old, new=new))
    click.echo(_("{code}: version {old} compared with version {new}", code=d.code, old=d.old_version,
                 new=d.new_version))
    for f in d.fields:
        if f.changed:
            click.echo(f"  * {f.label}:\n      " + _("old: {value}", value=repr(f.old)) + "\n      "
                       + _("new: {value}", value=repr(f.new)))
        elif all_fields:
            click.echo("    " + _("{field}: unchanged", field=f.label))
    if not d.changed_fields:
        click.echo("  " + _("(no differences)"))
    sys.exit(0)


@workflow.command("history")
@argument("code")
@with_bank
@click.pass_obj
def wf_history(settings: Settings, code: str, occupation_code: str, level: str, work_type: str | None) -> None:
    """Who did what to CODE, when and why (the item's ledger entries)."""
    from itembank.ledger_text import describe_entries
    from itembank.workflow import item_history

    for e in _run(settings, lambda s: describe_entries(
            s, item_history(s, bank=cli_bank(s, occupation_code, level, work_type), code=code))):
        click.echo(f"{format_datetime(e.at, seconds=True)}  {e.sentence}")
