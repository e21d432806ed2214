"""``itembank analyse``: feed a session's responses back into the bank (附件1 第15条).

    itembank analyse --session CODE [--paper CODE ...] [--model 2pl] [--method cml] [--D 1.0] [--json]
    itembank analyse history --occupation CODE --level N --item CODE [--json]
    itembank analyse review --occupation CODE --level N [--part theory] [--json]
    itembank analyse show CALIBRATION_ID [--json]
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from api.cli.common import cli_bank, fail, open_engine
from api.cli.localized import Choice, argument, group, option
from itembank.config import Settings
from itembank.domain import IrtModel, Part
from itembank.i18n import N_, Message, _, render


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=str)


def _f(x: float | None, fmt: str = ".2f") -> str:
    if x is None:
        return "—"
    return format(x, fmt) if abs(x) < 1000 else format(x, ".2e")  # degenerate estimates


def _strip_ref(reason: Any, ref: str) -> str:
    """A stored reason without the item reference in front (messages carry it as a parameter)."""
    inner = getattr(reason, "params", {}).get("reason")
    if inner is not None:
        return str(inner)
    text = str(reason)
    return text[len(ref) + 2 :] if text.startswith(ref + ": ") else text


MODELS = {m.value: m.title for m in IrtModel}  # names, not msgids: the same in every language
SE_METHODS = {"observed": N_("observed information"), "xpd": N_("cross-product of the gradients"),
              "conditional": N_("conditional information"), "none": N_("none")}
IRT_ROLES = {"estimated": N_("estimated"), "anchor": N_("anchor"), "none": N_("none")}


def _model(code: str | None) -> str:
    from itembank.analysis_service import model_name

    return model_name(code)


def _word(table: dict[str, str], code: str | None) -> str:
    return _(table[code]) if code in table else str(code or "—")


def report_text(rep) -> str:  # type: ignore[no-untyped-def]
    """The analysis report in plain text, in the run's locale: data, model, convergence,
    papers, items to review, notes."""
    from itembank.analysis_service import FLAG_FEW_RESPONSES
    from itembank.i18n import format_datetime

    c = rep.calibration
    lines = [
        _("== Analysis no. {id}: {bank} {part} ({when}, by {actor})", id=c.id, bank=c.bank_label, part=c.part,
          when=format_datetime(c.created_at), actor=c.actor),
        "   " + _("data: exam sessions {sessions}; papers {papers}; {persons} candidates, {responses} responses, "
                  "{items} item versions", sessions=list(c.session_codes), papers=list(c.paper_codes),
                  persons=c.n_persons, responses=c.n_responses, items=c.n_items),
        "   " + _("model: {model} for items scored 0/1, {poly} for items scored by rubric; {method}; a/b/c "
                  "parameters with the logistic constant D = {D}", model=_model(c.model),
                  poly=_model(c.polytomous_model), D=format(c.D, "g"),
                  method=Message("conditional maximum likelihood (CML)") if c.method == "cml"
                  else Message("marginal maximum likelihood (MML)")),
    ]
    if c.scale == "bank":
        if c.population_mean is not None:
            lines.append("   " + _("scale: the bank's, through {n} anchor items held at their stored parameters; this "
                                  "sample: mean {mean}, standard deviation {sd}", n=c.n_anchors,
                                  mean=_f(c.population_mean, ".3f"), sd=_f(c.population_sd, ".3f")))
        else:
            lines.append("   " + _("scale: the bank's, through {n} anchor items held at their stored parameters",
                                  n=c.n_anchors))
    elif c.scale == "sample":
        lines.append("   " + _("scale: set by this sample (no anchor items)"))
    else:
        lines.append("   " + _("scale: no IRT calibration (classical statistics only)"))
    if c.convergence is not None:
        cv = c.convergence
        outcome = _("outcome: {message}", message=cv.message) if cv.converged else _(
            "outcome: {message} (the estimates were not used)", message=cv.message)
        parts = [outcome,
                 _("conditional log-likelihood {value}", value=_f(cv.log_likelihood, ".2f")) if c.method == "cml"
                 else _("log-likelihood {value}", value=_f(cv.log_likelihood, ".2f")),
                 _("largest change in the last iteration {value}", value=_f(cv.max_change, ".1e")),
                 _("standard errors: {method}", method=_word(SE_METHODS, cv.se_method))]
        if c.quadrature:
            parts.append(_("{n} quadrature nodes", n=c.quadrature.get("n_nodes", "?")))
        lines.append("   " + _("; ").join(parts))
    lines += ["", "   " + "  ".join((_("paper"), _("candidates"), _("items"), _("full marks"), _("mean"),
                                    _("standard deviation"), _("alpha"), _("standard error of measurement")))]
    for f in c.forms:
        lines.append(f"   {f.paper_code:<12} {f.n_persons:>5} {f.n_items:>6} {f.max_possible:>5g} "
                     f"{_f(f.mean):>7} {_f(f.sd):>6} {_f(f.alpha, '.3f'):>7} {_f(f.sem):>6}"
                     + (f"  ({render(f.note)})" if f.note else ""))
    review = rep.needing_review
    lines += ["", "   " + _("items needing review: {n}", n=len(review))]
    for it in review:
        stats = _("{item_type}; facility p {p}, corrected item-total correlation {r}, discrimination index {d}",
                  item_type=_item_type(it.item_type), p=_f(it.p_value), r=_f(it.corrected_r),
                  d=_f(it.discrimination_index))
        if it.a is not None:
            stats = _("{stats}; a {a}, b {b}", stats=stats, a=_f(it.a), b=_f(it.b))
        lines.append(f"   {it.ref}（{stats}）")
        for word, r in zip(it.flags, it.reasons):
            if word != FLAG_FEW_RESPONSES:
                lines.append(f"      - {_strip_ref(r, it.ref)}")
    few = rep.ctt_only
    if few:
        refs = [_("{ref} ({n} responses)", ref=it.ref, n=it.n) for it in few]
        lines += ["", "   " + _("classical statistics only, too few responses for IRT ({n}): {items}", n=len(few),
                                 items=refs)]
    if c.notes:
        lines += ["", "   " + _("notes:")] + [f"   - {render(n)}" for n in c.notes]
    return "\n".join(lines)


def _item_type(code: str) -> object:
    """The item type (named in the reader's locale when rendered), or the stored code."""
    from itembank.domain import ItemType

    try:
        return ItemType(code)
    except ValueError:
        return code


@group(invoke_without_command=True)
@option("--session", "session_code", default=None, help="Exam session whose responses are analysed.")
@option("--paper", "paper_codes", multiple=True,
        help="Paper code (repeatable): analyse these papers (within --session if given).")
@option("--model", default=None, type=Choice(["2pl", "3pl", "rasch", "1pl"], MODELS),
        help="IRT model of 0/1 items (default: rasch for a Rasch-scale bank, else 2pl).")
@option("--polytomous-model", default=None, type=Choice(["gpcm", "grm", "pcm"], MODELS),
        help="IRT model of rubric-scored items (default: pcm with rasch, else gpcm).")
@option("--method", default=None, type=Choice(["mml", "cml"], {"mml": N_("marginal maximum likelihood (MML)"),
                                                  "cml": N_("conditional maximum likelihood (CML)")}),
        help="Estimation: cml (conditional ML, Rasch family; the default there) or mml.")
@option("--D", "D", default=1.0, show_default=True, type=float,
        help="Logistic constant of the reported a (1.0 logistic, 1.702 normal metric).")
@option("--anchor", default="existing", show_default=True, type=Choice(["existing", "none"], {"existing": N_("items calibrated before as anchors"),
                                                             "none": N_("no anchors")}),
        help="existing: items calibrated before are fixed anchors (bank scale); none: free.")
@option("--min-responses", default=100, show_default=True, type=int,
        help="Fewer responses: classical statistics only.")
@option("--p-min", default=0.2, show_default=True, type=float, help="Facility below: too hard.")
@option("--p-max", default=0.9, show_default=True, type=float, help="Facility above: too easy.")
@option("--r-min", default=0.2, show_default=True, type=float,
        help="Corrected item-total correlation below: flagged.")
@option("--actor", default="cli", show_default=True)
@option("--note", default="", help="Stored with the calibration.")
@option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def analyse(ctx: click.Context, session_code: str | None, paper_codes: tuple[str, ...], model: str | None,
            polytomous_model: str | None, method: str | None, D: float, anchor: str, min_responses: int, p_min: float, p_max: float,
            r_min: float, actor: str, note: str, as_json: bool) -> None:
    """Analyse a session's responses and store the statistics on the item versions used.

    Classical statistics per paper, IRT across papers (anchored on earlier calibrations),
    flags and their reasons; the calibration and every item's statistics go into the history.
    """
    if ctx.invoked_subcommand is not None:
        return
    if session_code is None and not paper_codes:
        fail(_("give --session CODE (or --paper CODE ...); see `itembank analyse --help`"))
    from analysis import CttThresholds
    from itembank.analysis_service import ReviewRules, analyse_session
    from itembank.db import transaction
    from itembank.errors import ItemBankError

    settings: Settings = ctx.obj
    try:
        thresholds = CttThresholds(p_min=p_min, p_max=p_max, r_min=r_min)
    except ValueError as e:
        fail(e)
        return
    try:
        with transaction(open_engine(settings)) as session:
            rep = analyse_session(
                session, session_code=session_code, paper_codes=list(paper_codes) or None, model=model,
                polytomous_model=polytomous_model, method=method, D=D, anchor=anchor, thresholds=thresholds,
                rules=ReviewRules(min_responses=min_responses), actor=actor, note=note,
            )
    except ItemBankError as e:
        click.echo(_("nothing was stored: {error}", error=e.message), err=True)
        sys.exit(2)
    click.echo(_dumps(rep.to_dict()) if as_json else report_text(rep))




@analyse.command("history")
@option("--occupation", "occupation_code", required=True, help="Occupation code, e.g. 6-31-01-03.")
@option("--work-type", default=None)
@option("--level", required=True, help="5..1")
@option("--item", "code", required=True, help="Item code.")
@option("--json", "as_json", is_flag=True)
@click.pass_obj
def history_cmd(settings: Settings, occupation_code: str, work_type: str | None, level: str, code: str,
                as_json: bool) -> None:
    """Every analysis of an item (all its versions), oldest first."""
    from itembank.analysis_service import calibration_history
    from itembank.db import transaction
    from itembank.errors import ItemBankError

    try:
        with transaction(open_engine(settings)) as session:
            entries = calibration_history(session, bank=cli_bank(session, occupation_code, level, work_type),
                                          code=code)
    except ItemBankError as e:
        fail(e)
        return
    if as_json:
        click.echo(_dumps([e.to_dict() for e in entries]))
        return
    if not entries:
        click.echo(_("item {code} has not been analysed yet", code=code))
        return
    from itembank.i18n import format_date

    click.echo(_("{code}: {n} analyses", code=code, n=len(entries)))
    for e in entries:
        s = e.stats
        head = _("analysis no. {id} of {day}: version {version}, exam sessions {sessions}, {n} responses; facility p "
                 "{p}, corrected item-total correlation {r}, discrimination index {d}", id=e.calibration_id,
                 day=format_date(e.created_at), version=s.version, sessions=list(e.session_codes), n=s.n,
                 p=_f(s.p_value), r=_f(s.corrected_r), d=_f(s.discrimination_index))
        if s.a is not None:
            irt = _("IRT ({role}, {model}): a = {a}, b = {b}", role=_word(IRT_ROLES, s.irt_role), model=_model(s.model),
                    a=format(s.a, ".2f"), b=format(s.b, ".2f"))
            if s.se_b is not None:
                irt = _("{irt} (standard error of b {se})", irt=irt, se=format(s.se_b, ".2f"))
            head = _("{head}; {irt}", head=head, irt=irt)
        if e.current:
            head = _("{head} (current)", head=head)
        click.echo(f"{e.calibration_id:>4}  {head}")
        for r in s.reasons:
            click.echo(f"         - {_strip_ref(r, s.ref)}")


@analyse.command("review")
@option("--occupation", "occupation_code", required=True)
@option("--work-type", default=None)
@option("--level", required=True, help="5..1")
@option("--part", default=None, type=Choice(Part))
@option("--json", "as_json", is_flag=True)
@click.pass_obj
def review_cmd(settings: Settings, occupation_code: str, work_type: str | None, level: str,
               part: str | None, as_json: bool) -> None:
    """Accepted items whose latest analysis flagged them, with the reasons."""
    from itembank.analysis_service import items_needing_review
    from itembank.db import transaction
    from itembank.domain import Part
    from itembank.errors import ItemBankError

    try:
        with transaction(open_engine(settings)) as session:
            bank = cli_bank(session, occupation_code, level, work_type)
            items = items_needing_review(session, bank=bank, part=Part(part) if part else None)
    except ItemBankError as e:
        fail(e)
        return
    if as_json:
        click.echo(_dumps([r.to_dict() for r in items]))
        return
    from itembank.i18n import format_date

    click.echo(_("{bank}: {n} items need review", bank=bank.label, n=len(items)))
    for r in items:
        click.echo(_("{code} version {version} ({item_type}; analysis no. {id} of {day})", code=r.code,
                     version=r.version, item_type=_item_type(r.item_type), id=r.calibration_id,
                     day=format_date(r.analysed_at)))
        for reason in r.reasons:
            click.echo(f"   - {_strip_ref(reason, f'{r.code} v{r.version}')}")


@analyse.command("show")
@argument("calibration_id", type=int)
@option("--json", "as_json", is_flag=True)
@click.pass_obj
def show_cmd(settings: Settings, calibration_id: int, as_json: bool) -> None:
    """Print a stored analysis again."""
    from itembank.analysis_service import get_calibration
    from itembank.db import transaction
    from itembank.errors import ItemBankError

    try:
        with transaction(open_engine(settings)) as session:
            rep = get_calibration(session, calibration_id)
    except ItemBankError as e:
        fail(e)
        return
    click.echo(_dumps(rep.to_dict()) if as_json else report_text(rep))
