"""The web interface (issue 9): server-rendered pages for item writers, reviewers, the
committee, bank managers, the exam office and auditors, on the same accounts, roles and
need-to-know rules as the HTTP API (the pages call the same services).

Pages live at ``/`` (each user's dashboard) and under ``/ui/...``, out of the OpenAPI schema;
static files (CSS, the vendored htmx) at ``/ui/static/...``. ``api/app.py`` mounts ``router``.

One module per area:

- ``pages_home``: login, logout, the dashboard per role;
- ``pages_items``: writers' items, the item form with its live preview, the review queue,
  reviewing with the old-vs-new diff;
- ``pages_committee``: acceptance batches, signing;
- ``pages_banks``: banks and readiness, element tables, imports, item statistics, usage;
- ``pages_assembly``: blueprints, assembly runs in the background with progress, results;
- ``pages_office``: exam sessions, sealed papers, the two-person opening, downloads, incidents;
- ``pages_office``: also exam plans and their sessions;
- ``pages_audit``: the ledger (newest first, filters in words, Excel export) and its verification;
- ``pages_admin``: users and roles, the expert register;
- ``pages_similarity``: the bank manager's report of similar items, confirming pairs as enemies.
"""

from __future__ import annotations

import importlib

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from api.web.render import STATIC_DIR
from api.web.session import PageRoute
from itembank.errors import NotFoundError
from itembank.i18n import Message

PAGE_MODULES = ("pages_home", "pages_items", "pages_committee", "pages_banks", "pages_assembly",
                "pages_office", "pages_audit", "pages_media", "pages_admin", "pages_similarity")
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.get("/ui/static/{name}")
def static(name: str) -> FileResponse:
    """The few static files, by name only (no paths): cached for a day."""
    path = STATIC_DIR / name
    if "/" in name or "\\" in name or path.suffix not in STATIC_TYPES or not path.is_file():
        raise HTTPException(404, "no such file")  # a static file: no page, no words
    return FileResponse(path, media_type=STATIC_TYPES[path.suffix], headers={"Cache-Control": "max-age=86400"})


for _name in PAGE_MODULES:
    router.include_router(importlib.import_module(f"api.web.{_name}").router)


@router.get("/ui/{rest:path}")
def not_found(rest: str) -> None:
    """Any other address under /ui: the not-found page (after every page above)."""
    raise NotFoundError(Message("There is no page /ui/{path}.", path=rest), field="url")
