"""Pictures on the pages (issue 17): the editor's upload, and the pictures an item's text shows.

``POST /ui/banks/{id}/media`` takes a file from the item form's 插入图片 box (htmx: the answer
is a fragment with the picture and the text to put into the stem; without script, a small
page). ``GET /ui/media/{sha256}`` serves a picture to whoever may see it (the API's own rule,
``itembank.media.read_picture``), ledgered like any reading of item content.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from api.deps import SessionDep
from api.routes.media import picture_response, read_upload
from api.web.common import page_router, scoped_bank
from api.web.render import render
from api.web.session import FormDep, PageContext, page_role
from itembank import media
from itembank.domain import Role
from itembank.errors import ValidationError
from itembank.i18n import Message
from itembank.visibility import CONTENT_ROLES

router = page_router()
ReaderDep = Annotated[PageContext, page_role(*CONTENT_ROLES)]
UploaderDep = Annotated[PageContext, page_role(Role.ITEM_WRITER, Role.BANK_MANAGER)]


@router.get("/ui/media/{sha256}")
def picture(sha256: str, session: SessionDep, ctx: ReaderDep) -> Response:
    found = media.read_picture(session, actor=ctx.actor, sha256=sha256.lower(), via="web")
    session.commit()
    return picture_response(found)


@router.post("/ui/banks/{bank_id}/media")
def upload(request: Request, bank_id: int, session: SessionDep, ctx: UploaderDep, form: FormDep) -> Response:
    """The picture checked and stored; the answer shows it with its markup (the caption typed
    beside the file goes into the markup). A refused file answers 422 with the reason in the
    same box (htmx), so the item form keeps what was typed; without script the upload opens in
    a page of its own."""
    bank = scoped_bank(session, ctx, bank_id, Role.ITEM_WRITER, Role.BANK_MANAGER)
    fragment = request.headers.get("HX-Request") == "true"
    caption = str(form.get("caption") or "")[:media.MAX_CAPTION]
    file = form.get("file")
    context = {"bank": bank, "caption": caption, "fragment": fragment}
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            raise ValidationError(Message("choose a picture file (PNG, JPEG or SVG) first"), field="file")
        data, name = read_upload(file)  # type: ignore[arg-type]
        stored = media.upload_picture(session, actor=ctx.actor, bank=bank, data=data, filename=name)
    except ValidationError as e:
        session.rollback()
        context["error"] = e.message
    else:
        session.commit()
        context.update(picture=stored, markup=media.picture_markup(stored.sha256, caption))
    # htmx swaps only 2xx answers: the refusal is shown in the box like the picture would be
    status = 200 if fragment or "error" not in context else 422
    return render(request, "_picture_uploaded.html" if fragment else "picture_uploaded.html", context,
                  status_code=status)
