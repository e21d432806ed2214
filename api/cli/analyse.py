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
from api.cli.localized import argument, group, option
from itembank.config import Settings
from itembank.i18n import _


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


def report_text(rep) -> str:  # type: ignore[no-untyped-def]
    """The analysis report in plain text: data, model, convergence, papers, items to review."""
    from itembank.analysis_service import FLAG_FEW_RESPONSES

    c = rep.calibration
    lines = [
        f"== Analysis #{c.id} — {c.bank_label} {c.part.zh} ({c.created_at:%Y-%m-%d %H:%M} UTC, by {c.actor})",
        f"   data: session(s) {', '.join(c.session_codes)}; paper(s) {', '.join(c.paper_codes)}; "
        f"{c.n_persons} candidates, {c.n_responses} responses, {c.n_items} item versions",
        f"   model: {c.model.upper()} for 0/1 items, {c.polytomous_model.upper()} for rubric-scored items, "
        f"{'conditional' if c.method == 'cml' else 'marginal'} ML ({c.method}); "
        f"a/b/c form, logistic constant D = {c.D:g}",
    ]
    if c.scale == "bank":
        lines.append(f"   scale: the bank's, through {c.n_anchors} anchor items held at their stored parameters"
                     + (f"; this sample: mean {_f(c.population_mean, '.3f')}, SD {_f(c.population_sd, '.3f')}"
                        if c.population_mean is not None else ""))
    elif c.scale == "sample":
        lines.append("   scale: set by this sample (no anchors)")
    else:
        lines.append("   scale: no IRT calibration (classical statistics only)")
    if c.convergence is not None:
        cv = c.convergence
        lines.append(
            f"   outcome: {cv.message}{'' if cv.converged else ' (NOT USED)'}; "
            f"{'conditional ' if c.method == 'cml' else ''}log-likelihood {_f(cv.log_likelihood, '.2f')}; "
            f"last max change {_f(cv.max_change, '.1e')}; standard errors: {cv.se_method}"
            + (f"; {c.quadrature.get('n_nodes', '?')} {c.quadrature.get('rule', '')} quadrature nodes"
               if c.quadrature else "")
        )
    lines += ["", "   paper            n  items   max    mean     SD   alpha    SEM"]
    for f in c.forms:
        lines.append(f"   {f.paper_code:<12} {f.n_persons:>5} {f.n_items:>6} {f.max_possible:>5g} "
                     f"{_f(f.mean):>7} {_f(f.sd):>6} {_f(f.alpha, '.3f'):>7} {_f(f.sem):>6}"
                     + (f"  ({f.note})" if f.note else ""))
    review = rep.needing_review
    lines += ["", f"   items needing review: {len(review)}"]
    for it in review:
        lines.append(f"   {it.ref} ({it.item_type}; p {_f(it.p_value)}, corrected r "
                     f"{_f(it.corrected_r)}, D-index {_f(it.discrimination_index)}"
                     + (f", a {_f(it.a)}, b {_f(it.b)}" if it.a is not None else "") + ")")
        for word, r in zip(it.flags, it.reasons):
            if word != FLAG_FEW_RESPONSES:
                lines.append(f"      - {_strip_ref(r, it.ref)}")
    few = rep.ctt_only
    if few:
        lines += ["", f"   classical statistics only, too few responses for IRT ({len(few)}): "
                  + ", ".join(f"{it.ref} (n={it.n})" for it in few)]
    if c.notes:
        lines += ["", "   notes:"] + [f"   - {n}" for n in c.notes]  # messages: the reader's language
    return "\n".join(lines)


@group(invoke_without_command=True)
@option("--session", "session_code", default=None, help="Exam session whose responses are analysed.")
@option("--paper", "paper_codes", multiple=True,
        help="Paper code (repeatable): analyse these papers (within --session if given).")
@option("--model", default=None, type=click.Choice(["2pl", "3pl", "rasch", "1pl"]),
        help="IRT model of 0/1 items (default: rasch for a Rasch-scale bank, else 2pl).")
@option("--polytomous-model", default=None, type=click.Choice(["gpcm", "grm", "pcm"]),
        help="IRT model of rubric-scored items (default: pcm with rasch, else gpcm).")
@option("--method", default=None, type=click.Choice(["mml", "cml"]),
        help="Estimation: cml (conditional ML, Rasch family; the default there) or mml.")
@option("--D", "D", default=1.0, show_default=True, type=float,
        help="Logistic constant of the reported a (1.0 logistic, 1.702 normal metric).")
@option("--anchor", default="existing", show_default=True, type=click.Choice(["existing", "none"]),
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
    click.echo(_("{code}: {n} analyses", code=code, n=len(entries)))
    click.echo("   #  date        version sessions            n      p  corr.r  D-idx  IRT")
    for e in entries:
        s = e.stats
        irt = "—" if s.a is None else (
            f"{s.irt_role} {s.model} a={s.a:.2f} b={s.b:.2f}"
            + (f" (SE {s.se_b:.2f})" if s.se_b is not None else "") + f" D={s.D:g}"
            + (" [current]" if e.current else ""))
        click.echo(f"{e.calibration_id:>4}  {e.created_at:%Y-%m-%d}  v{s.version:<6} "
                   f"{','.join(e.session_codes):<18} {s.n:>5} {_f(s.p_value):>6} {_f(s.corrected_r):>7} "
                   f"{_f(s.discrimination_index):>6}  {irt}")
        for r in s.reasons:
            click.echo(f"         - {_strip_ref(r, s.ref)}")


@analyse.command("review")
@option("--occupation", "occupation_code", required=True)
@option("--work-type", default=None)
@option("--level", required=True, help="5..1")
@option("--part", default=None, type=click.Choice(["theory", "practical", "defence"]))
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
    click.echo(_("{bank}: {n} items need review", bank=bank.label, n=len(items)))
    for r in items:
        click.echo(f"{r.code} v{r.version} ({r.item_type}, analysis #{r.calibration_id} of "
                   f"{r.analysed_at:%Y-%m-%d})")
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
