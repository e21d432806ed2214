"""The FastAPI application: ``create_app(settings)``; ``itembank serve`` runs it with uvicorn."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import logging

from fastapi import FastAPI

from api import errors
from api.checkpointer import Checkpointer
from api.limits import BodyLimit, route_limits
from api.security import SecurityHeaders, TrustedProxies, parse_networks
from api.schemas.common import ERROR_RESPONSES
from itembank import i18n, keys
from itembank.config import Settings
from itembank.db import make_engine, make_sessionmaker
from lifecycle.config import LifecycleSettings

log = logging.getLogger(__name__)

DESCRIPTION = """
职业技能等级认定题库与组卷 API: occupations and banks, element tables, versioned items and the
authoring workflow (review, committee acceptance), imports, readiness against the minimums
(附件11 第7条), registration, exam sessions, scoring, results, certificates and the ledger (台帐).

**Logging in.** `POST /auth/token` with the form fields `username` and `password` gives a
token; send it on every request as `Authorization: Bearer <token>`. Tokens expire.

**Who sees what.** Every operation names the roles it needs. Item content follows
need-to-know (附件12 第9条): bank managers browse the whole bank, writers their own items,
reviewers the items assigned to them, committee members the items of their batches; every
reading of item content is written to the ledger.

**Lists** take `offset` and `limit` and answer `{"items", "total", "offset", "limit"}`.

**Errors** share one body: `{"error": {"code", "message", "field", "errors", "problems"}}`.
404: no such object; 409: the object's state does not allow it; 422: the request is not
valid, with every problem listed (for an uploaded file, each with its sheet, row and column).
"""

TAGS = [
    {"name": "auth", "description": "Logging in and out."},
    {"name": "users", "description": "User accounts and roles (administrators)."},
    {"name": "occupations", "description": "Occupations (职业/工种) and whether they are filed (备案)."},
    {"name": "banks", "description": "Banks (occupation x level), element tables (认定要素细目表), readiness."},
    {"name": "items", "description": "Items and their versions, under need-to-know; reads are ledgered."},
    {"name": "media", "description": "Pictures of items (circuit diagrams, wiring drawings, photos): upload, "
                                     "then show with ![caption](media:<sha256>) in the text; reads are ledgered."},
    {"name": "workflow", "description": "Submitting, reviewing, comparing versions, history, retiring (附件11 第13–18条)."},
    {"name": "acceptance", "description": "Acceptance committees: batches, signatures, rejection (附件11 第17条)."},
    {"name": "experts", "description": "The expert register of writers and reviewers (附件11 第10条, 第19条)."},
    {"name": "imports", "description": "Excel, CSV and QTI imports (all or nothing), QTI export, templates."},
    {"name": "readiness", "description": "Minimum rules of the banks (附件11 第7条)."},
    {"name": "documents", "description": "Word documents: element tables and readiness reports."},
    {"name": "registration", "description": "Candidates, applications and eligibility (附件1 第二章)."},
    {"name": "exam sessions", "description": "Exam plans, sessions, rooms, seats, admission tickets, proctors, "
                                             "examiner groups (附件1 第三章)."},
    {"name": "staff", "description": "Examiners, supervisors and proctors; cards and annual training (附件2, 附件10)."},
    {"name": "scoring", "description": "Answer sheets, examiner scores, results, violations (附件1 第25条, 附件14)."},
    {"name": "publication", "description": "Publishing results for 5 working days, objections, release (附件1 第26条)."},
    {"name": "certificates", "description": "Certificates and their ledger (附件3); public QR verification."},
    {"name": "retention", "description": "Keeping and destroying exam records (附件1 第29条, 附件13)."},
    {"name": "assembly", "description": "Blueprints (组卷方案), assembly runs (jobs: POST, then poll), papers, "
                                        "re-checks and the assembly report (issue 4)."},
    {"name": "sealed papers", "description": "Sealed papers per exam session, the two-person opening, downloads "
                                             "and incidents (附件12, 附件16, 附件7)."},
    {"name": "analyses", "description": "Item analyses fed back into the bank: statistics, calibrations, "
                                        "items needing review (附件1 第15条)."},
    {"name": "ledger", "description": "The ledger (台帐) for auditors."},
    {"name": "jobs", "description": "Long work as jobs on the queue: large imports, analyses, sealed-paper "
                                    "batches (POST answers 202; poll GET /jobs/{id})."},
    {"name": "health", "description": "Liveness."},
]

ROUTERS = (
    "health", "auth", "users", "occupations", "banks", "items", "workflow", "batches", "experts", "imports",
    "minimums", "documents", "registration", "sessions", "staff", "scoring", "publication", "certificates",
    "retention", "ledger", "blueprints", "assembly", "sealed", "analyses", "media", "jobs",
)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the job queue (``api.jobs``); on SQLite (or when configured) start a worker in this
    process (``api.worker.LocalWorker``), so that ``itembank serve`` alone runs jobs. At the
    stop, that worker kills a running solver and hands its run back to the queue: the stop
    never waits on a solver."""
    from api.jobs import QueueJobs
    from api.worker import LocalWorker, make_app

    settings: Settings = app.state.settings
    worker = None
    if app.state.jobs is None and app.state.engine.url.database in (None, "", ":memory:"):
        # an in-memory database lives in this process only: no queue another process could
        # reach, so jobs run in the requesting thread
        from api.jobs import InlineJobs

        log.warning("in-memory database: jobs run inline, not on a queue")
        app.state.jobs = InlineJobs(lambda: app.state.sessionmaker(), lifecycle=app.state.lifecycle_settings,
                                    settings=settings)
    if app.state.jobs is None:
        queue = make_app(settings)
        queue.open()
        app.state.jobs = QueueJobs(queue, lambda: app.state.sessionmaker())
        local = settings.local_worker
        if local if local is not None else app.state.engine.dialect.name == "sqlite":
            worker = LocalWorker(settings, app.state.lifecycle_settings, concurrency=settings.worker_concurrency)
            worker.start()
    try:
        app.state.checkpointer.start()
        yield
    finally:
        app.state.checkpointer.stop()
        if worker is not None:
            worker.stop()
        app.state.jobs.close()


def create_app(settings: Settings | None = None, *, engine=None,  # type: ignore[no-untyped-def]
               lifecycle_settings: LifecycleSettings | None = None) -> FastAPI:
    settings = settings or Settings()
    parse_networks(settings.trusted_proxies)  # a bad entry is refused now, not at the first request
    i18n.configure(default_locale=settings.default_locale, time_zone=settings.time_zone)
    app = FastAPI(title="itembank", version="0.2.0", description=DESCRIPTION, openapi_tags=TAGS,
                  lifespan=_lifespan)
    app.state.settings = settings
    app.state.lifecycle_settings = lifecycle_settings or LifecycleSettings()
    # On SQLite a request reads without waiting and takes the write lock only for its writes
    # (itembank.db); nothing of this process is shared with the others (jobs: api.jobs).
    app.state.engine = engine if engine is not None else make_engine(settings)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    app.state.jobs = None  # the queue, opened at start (_lifespan); tests may put InlineJobs here
    # the keys beside this database (or in ITEMBANK_KEY_DIR), and the ledger's checkpoints
    keys.configure(app.state.engine, settings)
    app.state.checkpointer = Checkpointer(lambda: app.state.sessionmaker(), minutes=settings.ledger_checkpoint_minutes)
    # Middleware added later is outer. The body limit sits inside the locale and outside the
    # retry (errors.install) so that its 413 speaks the reader's language and comes before
    # anything reads the body; the headers and the client address outermost, so that every
    # answer has the one and every layer sees the other.
    routers: list[object] = []
    errors.install(app, body_limit=(BodyLimit, {"default": settings.max_body_bytes, "routes": lambda: route_limits(
        routers, upload=settings.max_upload_bytes, overrides=settings.body_limits)}))
    app.add_middleware(SecurityHeaders)
    app.add_middleware(TrustedProxies, proxies=settings.trusted_proxies)
    for name in ROUTERS:
        module = importlib.import_module(f"api.routes.{name}")
        for attr in ("router", "queue_router", "public_router"):
            if hasattr(module, attr):
                routers.append(getattr(module, attr))
                app.include_router(getattr(module, attr), responses=ERROR_RESPONSES)
    app.include_router(importlib.import_module("api.web").router)  # the pages (issue 9), out of the schema
    return app
