"""Pictures of items (issue 17): circuit diagrams, wiring drawings, photos of equipment.

Upload a PNG, JPEG or SVG file; it is checked by its content, re-encoded (SVG rasterized) and
stored once by its SHA-256. The answer's ``markup`` (``![caption](media:<sha256>)``) goes into
the item's text where the picture is to be shown; saving the item links the picture to that
version. Reading a picture follows need-to-know like the item text that shows it (附件12 第9条)
and is written to the ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Response, UploadFile
from pydantic import BaseModel

from api.deps import SessionDep, require
from api.responses import file_response
from api.schemas.common import IdPath, bad_text_reason
from itembank import media, occupations
from itembank.domain import Actor, Role
from itembank.i18n import Message
from itembank.visibility import CONTENT_ROLES

router = APIRouter(tags=["media"])
UploaderDep = Annotated[Actor, require(Role.ITEM_WRITER, Role.BANK_MANAGER)]
ReaderDep = Annotated[Actor, require(*CONTENT_ROLES)]
ShaPath = Annotated[str, Path(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$",
                              description="The picture's SHA-256 (lower-case hex), as in its markup.")]
PICTURE_HEADERS = {
    # confidential like the item: never cached, never sniffed into another type
    "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox", "Cross-Origin-Resource-Policy": "same-origin",
}


class PictureOut(BaseModel):
    sha256: str
    media_type: str
    width: int
    height: int
    bytes: int
    markup: str

    @classmethod
    def of(cls, p: media.StoredPicture) -> PictureOut:
        return cls(sha256=p.sha256, media_type=p.media_type, width=p.width, height=p.height, bytes=p.n_bytes,
                   markup=p.markup)


def read_upload(upload: UploadFile) -> tuple[bytes, str]:
    """The uploaded bytes (refused past ``media.MAX_FILE_BYTES`` without reading further) and
    a storable file name."""
    data = upload.file.read(media.MAX_FILE_BYTES + 1)
    name = (upload.filename or "picture").strip()[-200:] or "picture"
    if bad_text_reason(name):  # the name is only recorded: one that cannot be stored is not kept
        name = "picture"
    if len(data) > media.MAX_FILE_BYTES:
        raise media.PictureError(Message("picture {name}: {reason}", name=name, reason=Message(
            "the file is larger than {limit} MB; save it smaller (e.g. JPEG for photos)",
            limit=media.MAX_FILE_BYTES // 1048576)), field="file")
    return data, name


def picture_response(p: media.StoredPicture) -> Response:
    ext = "png" if p.media_type == media.PNG else "jpg"
    return Response(p.data, media_type=p.media_type, headers={
        **PICTURE_HEADERS, "Content-Disposition": f'inline; filename="{p.sha256[:16]}.{ext}"'})


@router.post("/banks/{bank_id}/media", response_model=PictureOut, status_code=201,
             summary="Upload a picture for an item (PNG, JPEG or SVG)")
def upload_picture(bank_id: IdPath, session: SessionDep, actor: UploaderDep,
                   file: Annotated[UploadFile, File(description="PNG, JPEG or SVG; at most 10 MB.")]) -> PictureOut:
    """Writers and bank managers of the bank's occupation. The type is read from the content;
    pictures larger than 2,400 pixels are scaled down, photo metadata is dropped, SVG drawings
    must hold no scripts and refer to nothing outside themselves and are rasterized. Put the
    answer's ``markup`` into the item's stem, an option or the analysis."""
    bank = occupations.get_bank_by_id(session, bank_id)
    data, name = read_upload(file)
    stored = media.upload_picture(session, actor=actor, bank=bank, data=data, filename=name)
    session.commit()
    return PictureOut.of(stored)


@router.get("/media/{sha256}", response_class=Response, responses=file_response(media.PNG, media.JPEG),
            summary="Read a picture (ledgered)")
def read_picture(sha256: ShaPath, session: SessionDep, actor: ReaderDep) -> Response:
    """For whoever may read an item version that shows the picture (bank managers, its writer,
    its reviewers, the committee members of its batch), or who uploaded it into a bank they
    work in; refused alike (403) for a picture that does not exist."""
    picture = media.read_picture(session, actor=actor, sha256=sha256, via="api")
    session.commit()
    return picture_response(picture)
