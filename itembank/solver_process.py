"""The solver in a child process, with a hard deadline.

``run_solver`` starts ``assembly.assemble_forms`` in a child process (forked from a clean
``forkserver`` that has preloaded numpy, PuLP and the assembly package, so a start costs
milliseconds), relays its progress (``SolveProgress``: stage, incumbent, bound, gap, elapsed,
the best papers so far) to a callback, and kills the child's whole process group (CBC runs as
a grandchild) with SIGKILL when

- the run's deadline plus a short grace has passed (the solver should have stopped itself;
  the kill is the backstop, and the best papers it reported count),
- the caller asks it to stop (a cancel, a worker shutting down), or
- the parent dies: the child watches a pipe from its parent and kills its group when the pipe
  closes, so a worker killed with kill -9 leaves no solver behind.

No database here: the caller (``itembank.assembly_service.execute_run_job``) records.
"""

from __future__ import annotations

import inspect
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import assembly as asm
from itembank.i18n import Message

log = logging.getLogger(__name__)

try:  # the assembly package's own type, once it has it (the assembly engineer adds it)
    from assembly.results import SolveProgress  # type: ignore[attr-defined]
except ImportError:  # a compatible stand-in until then
    @dataclass(frozen=True, slots=True)
    class SolveProgress:  # type: ignore[no-redef]
        """Where a solve stands (same fields as ``assembly.results.SolveProgress``)."""

        stage: str
        stage_text: Message
        fraction: float
        elapsed_s: float
        incumbent: float | None = None
        bound: float | None = None
        gap: float | None = None
        best_forms: tuple[tuple[str, ...], ...] | None = None


GRACE_S = 3.0
"""How long after its deadline a solve may take before it is killed (writing out the result of
a model that stopped at its time limit takes a moment)."""

_PRELOAD = ["numpy", "pulp", "assembly"]
_context: Any = None
_context_lock = threading.Lock()


def _mp() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            _context = mp.get_context("forkserver")
            _context.set_forkserver_preload(_PRELOAD)
        return _context


def accepts_progress(func: Callable[..., Any]) -> bool:
    try:
        return "progress" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class SolveJob:
    """What the child needs: the pool, the blueprint and the keyword arguments of
    ``assemble_forms`` (or ``reassemble_after_leak`` with ``leak``)."""

    pool: asm.Pool
    blueprint: asm.Blueprint
    kwargs: dict[str, Any]
    time_limit_s: float
    leak: tuple[Any, ...] | None = None  # (forms, leaked_form_index) for a leak re-assembly


@dataclass
class SolverOutcome:
    """``status``: done (``result`` holds the assembly result), error (``error``: bad input or
    a crash of the solver), time_limit (killed at the deadline), stopped (the caller asked)."""

    status: str
    result: asm.AssemblyResult | None = None
    error: str = ""
    error_kind: str = ""
    last_progress: Any = None
    elapsed_s: float = 0.0
    progress_events: int = field(default=0)


def _die_with_parent(alive: Connection) -> None:
    try:
        alive.recv()  # never sent: returns (EOFError) only when the parent is gone
    except (EOFError, OSError):
        pass
    os.killpg(0, signal.SIGKILL)


def _child(job: SolveJob, out: Connection, alive: Connection) -> None:
    os.setsid()  # a process group of its own: killing it takes CBC along
    threading.Thread(target=_die_with_parent, args=(alive,), daemon=True).start()
    last_sent = [0.0]

    def report(progress: Any) -> None:
        now = time.monotonic()
        # every new incumbent goes through; otherwise at most ten a second
        if getattr(progress, "best_forms", None) is not None or now - last_sent[0] >= 0.1:
            last_sent[0] = now
            out.send(("progress", progress))

    try:
        kwargs = dict(job.kwargs)
        target = asm.reassemble_after_leak if job.leak is not None else asm.assemble_forms
        if accepts_progress(target):
            kwargs["progress"] = report
        if job.leak is not None:
            result = asm.reassemble_after_leak(job.pool, job.blueprint, job.leak[0], job.leak[1], **kwargs)
        else:
            result = asm.assemble_forms(job.pool, job.blueprint, **kwargs)
        out.send(("result", result))
    except asm.AssemblyError as exc:
        out.send(("error", ("input", str(exc))))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as the run's failure
        out.send(("error", ("crash", f"{exc.__class__.__name__}: {exc}")))


def _kill(proc: Any) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except (ProcessLookupError, ValueError):
        pass


def run_solver(job: SolveJob, *, on_progress: Callable[[Any], None] | None = None,
               should_stop: Callable[[], bool] | None = None, grace_s: float = GRACE_S,
               tick_s: float = 0.2) -> SolverOutcome:
    """Solve ``job`` in a child process; see the module docstring. ``should_stop`` is called
    about every ``tick_s`` seconds; ``on_progress`` with each progress report, and about once a
    second with the elapsed time when the solver reports nothing (the page keeps moving)."""
    ctx = _mp()
    out_r, out_w = ctx.Pipe(duplex=False)
    alive_r, alive_w = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(job, out_w, alive_r), daemon=True, name="itembank-solver")
    started = time.monotonic()
    proc.start()
    out_w.close()
    alive_r.close()
    deadline = started + job.time_limit_s + grace_s
    outcome = SolverOutcome(status="error", error_kind="crash", error="the solver process ended without a result")
    last_report = started
    try:
        while True:
            now = time.monotonic()
            if out_r.poll(max(0.0, min(tick_s, deadline - now))):
                try:
                    kind, payload = out_r.recv()
                except (EOFError, OSError):
                    break
                if kind == "progress":
                    outcome.last_progress = payload
                    outcome.progress_events += 1
                    last_report = time.monotonic()
                    if on_progress is not None:
                        on_progress(payload)
                    continue
                if kind == "result":
                    outcome = SolverOutcome(status="done", result=payload, last_progress=outcome.last_progress,
                                            progress_events=outcome.progress_events)
                else:
                    outcome = SolverOutcome(status="error", error_kind=payload[0], error=payload[1],
                                            last_progress=outcome.last_progress,
                                            progress_events=outcome.progress_events)
                break
            now = time.monotonic()
            if now >= deadline:
                outcome.status = "time_limit"
                break
            if should_stop is not None and should_stop():
                outcome.status = "stopped"
                break
            if not proc.is_alive() and not out_r.poll(0):
                break
            if on_progress is not None and now - last_report >= 1.0:
                last_report = now
                last = outcome.last_progress
                on_progress(SolveProgress(
                    stage=getattr(last, "stage", "solving"),
                    stage_text=getattr(last, "stage_text", None) or Message("Solving"),
                    fraction=min(0.99, (now - started) / max(job.time_limit_s, 1e-9)),
                    elapsed_s=now - started, incumbent=getattr(last, "incumbent", None),
                    bound=getattr(last, "bound", None), gap=getattr(last, "gap", None), best_forms=None))
    finally:
        _kill(proc)
        proc.join(timeout=5)
        out_r.close()
        alive_w.close()
    outcome.elapsed_s = time.monotonic() - started
    if outcome.status in ("time_limit", "stopped"):
        outcome.error = ""
        outcome.error_kind = ""
    return outcome
