"""The FastAPI application: ``create_app(settings)``; ``itembank serve`` runs it with uvicorn."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from api import errors
from itembank.config import Settings
from itembank.db import make_engine, make_sessionmaker

log = logging.getLogger(__name__)

DESCRIPTION = """
职业技能等级认定题库与组卷 API — occupations, banks, element tables, versioned items,
readiness against the minimums (附件11 第7条), the ledger (台帐).

Log in with `POST /auth/token` (form fields `username`, `password`) and send the token as
`Authorization: Bearer <token>`. Errors share one body:
`{"error": {"code", "message", "field", "errors"}}`.
"""


def create_app(settings: Settings | None = None, *, engine=None) -> FastAPI:  # type: ignore[no-untyped-def]
    settings = settings or Settings()
    app = FastAPI(title="itembank", version="0.1.0", description=DESCRIPTION)
    app.state.settings = settings
    app.state.engine = engine if engine is not None else make_engine(settings)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    errors.install(app)

    from api.routes import auth, banks, health, items, ledger, occupations, users

    for module in (health, auth, users, occupations, banks, items, ledger):
        app.include_router(module.router)
    return app
