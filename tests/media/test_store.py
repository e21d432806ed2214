"""Storing pictures with item versions, and who may read them (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank import ledger, media, workflow
from itembank.domain import Actor, Role
from itembank.errors import ItemValidationError, PermissionDeniedError
from itembank.items import get_item, list_versions
from itembank.orm_media import ItemVersionPictureRecord, MediaBlobRecord, MediaUploadRecord
from tests.itembank.conftest import single_choice
from tests.workflow.conftest import COMMITTEE, MANAGER, MEMBERS, R1, W1, W2, Cast, approved

from .conftest import CIRCUIT_SVG, photo_jpeg, wiring_png

pytestmark = pytest.mark.usefixtures("english")  # messages read in English

OTHER_WRITER = Actor("w9", frozenset({Role.ITEM_WRITER}), frozenset({"4-04-05-01"}))
EXAM_OFFICE = Actor("eo", frozenset({Role.EXAM_OFFICE}))
AUDITOR = Actor("au", frozenset({Role.AUDITOR}))


def _with_picture(stem: str, sha: str, caption: str = "图1") -> object:
    return single_choice(stem=f"{stem}\n{media.picture_markup(sha, caption)}\n图中灯泡的接法是（　）。")


def test_upload_stores_once_and_records_each_uploader(session: Session, cast: Cast) -> None:
    a = media.upload_picture(session, actor=W1, bank=cast.bank, data=wiring_png(), filename="接线图.png")
    b = media.upload_picture(session, actor=W2, bank=cast.bank, data=wiring_png(), filename="copy.png")
    c = media.upload_picture(session, actor=W1, bank=cast.bank, data=wiring_png(), filename="again.png")
    assert a.sha256 == b.sha256 == c.sha256 and a.markup == f"![](media:{a.sha256})"
    assert session.scalar(select(func.count()).select_from(MediaBlobRecord)) == 1
    uploads = session.execute(select(MediaUploadRecord.uploaded_by, MediaUploadRecord.source_name)
                              .order_by(MediaUploadRecord.id)).all()
    assert uploads == [("w1", "接线图.png"), ("w2", "copy.png")]
    entries = ledger.query_ledger(session, action="picture.upload")
    assert [e.actor for e in entries] == ["w1", "w2", "w1"] and entries[0].details["name"] == "接线图.png"
    svg_pic = media.upload_picture(session, actor=W1, bank=cast.bank, data=CIRCUIT_SVG, filename="电路.svg")
    jpg_pic = media.upload_picture(session, actor=W1, bank=cast.bank, data=photo_jpeg(800, 600), filename="柜.jpg")
    assert (svg_pic.media_type, jpg_pic.media_type) == ("image/png", "image/jpeg")


def test_only_writers_and_managers_of_the_occupation_upload(session: Session, cast: Cast) -> None:
    for actor in (OTHER_WRITER, EXAM_OFFICE, AUDITOR, R1):
        with pytest.raises(PermissionDeniedError):
            media.upload_picture(session, actor=actor, bank=cast.bank, data=wiring_png(), filename="a.png")
    assert session.scalar(select(func.count()).select_from(MediaBlobRecord)) == 0


def test_a_refused_file_stores_nothing(session: Session, cast: Cast) -> None:
    with pytest.raises(media.PictureError):
        media.upload_picture(session, actor=W1, bank=cast.bank, data=b"GIF89a" + bytes(64), filename="a.png")
    assert session.scalar(select(func.count()).select_from(MediaBlobRecord)) == 0
    assert ledger.query_ledger(session, action="picture.upload") == []


def test_item_versions_link_their_pictures_and_a_revision_keeps_the_old_ones(session: Session, cast: Cast) -> None:
    old = media.upload_picture(session, actor=W1, bank=cast.bank, data=wiring_png(), filename="v1.png")
    item = workflow.create_item(session, actor=W1, bank=cast.bank, code="DG-P1",
                                content=_with_picture("如图所示电路：", old.sha256))
    assert media.pictures_of_versions(session, [item.version_id]) == {item.version_id: [old.sha256]}
    new = media.upload_picture(session, actor=W1, bank=cast.bank, data=wiring_png(seed=9), filename="v2.png")
    revised = workflow.revise(session, actor=W1, bank=cast.bank, code="DG-P1",
                              content=_with_picture("如图所示电路（已改）：", new.sha256), reason="换图")
    assert revised.version == 2
    v1, v2 = list_versions(session, bank=cast.bank, code="DG-P1")
    links = media.pictures_of_versions(session, [v1.version_id, v2.version_id])
    assert links == {v1.version_id: [old.sha256], v2.version_id: [new.sha256]}
    assert media.content_picture_refs(v1.content) == [old.sha256]  # the old text still shows the old picture
    assert set(media.load_pictures(session, [old.sha256, new.sha256])) == {old.sha256, new.sha256}
    # a revision that keeps the picture and changes the words links the same picture again
    third = workflow.revise(session, actor=W1, bank=cast.bank, code="DG-P1",
                            content=_with_picture("如图所示电路（再改）：", new.sha256))
    assert media.pictures_of_versions(session, [third.version_id]) == {third.version_id: [new.sha256]}
    assert session.scalar(select(func.count()).select_from(MediaBlobRecord)) == 2


def test_a_picture_change_alone_makes_a_new_version(session: Session, cast: Cast) -> None:
    a = media.upload_picture(session, actor=W1, bank=cast.bank, data=wiring_png(), filename="a.png")
    b = media.upload_picture(session, actor=W1, bank=cast.bank, data=wiring_png(seed=3), filename="b.png")
    workflow.create_item(session, actor=W1, bank=cast.bank, code="DG-P2", content=_with_picture("见图", a.sha256))
    same = workflow.revise(session, actor=W1, bank=cast.bank, code="DG-P2", content=_with_picture("见图", a.sha256))
    assert same.version == 1
    changed = workflow.revise(session, actor=W1, bank=cast.bank, code="DG-P2", content=_with_picture("见图", b.sha256))
    assert changed.version == 2


def test_unknown_or_foreign_pictures_are_refused_and_nothing_is_saved(session: Session, cast: Cast) -> None:
    unknown = "0" * 64
    with pytest.raises(ItemValidationError) as e:
        workflow.create_item(session, actor=W1, bank=cast.bank, code="DG-P3", content=_with_picture("见图", unknown))
    assert any(x.field == "stem" and "is not in this bank" in x.message.msgid and x.where.params == {"code": "DG-P3"}
               for x in e.value.errors)
    # a picture of another bank is not a way into it: it must be uploaded to this bank
    foreign = media.store_picture(session, bank=cast.other_bank, uploaded_by="w9",
                                  checked=media.check_picture(wiring_png(seed=5)))
    with pytest.raises(ItemValidationError):
        workflow.create_item(session, actor=W1, bank=cast.bank, code="DG-P3", content=_with_picture("见图", foreign.sha256))
    assert session.scalar(select(func.count()).select_from(ItemVersionPictureRecord)) == 0
    media.upload_picture(session, actor=W1, bank=cast.bank, data=wiring_png(seed=5), filename="mine.png")
    item = workflow.create_item(session, actor=W1, bank=cast.bank, code="DG-P3",
                                content=_with_picture("见图", foreign.sha256))
    assert media.pictures_of_versions(session, [item.version_id]) == {item.version_id: [foreign.sha256]}
    # a malformed reference is an item problem named by its field
    bad = dataclasses.replace(single_choice(), stem="见图 ![图](media:1234)")
    with pytest.raises(ItemValidationError) as e:
        workflow.create_item(session, actor=W1, bank=cast.bank, code="DG-P4", content=bad)
    assert any(x.field == "stem" and "is incomplete" in x.message.msgid and x.where.params == {"code": "DG-P4"}
               for x in e.value.errors)


def test_need_to_know_on_pictures(session: Session, cast: Cast) -> None:
    pic = media.upload_picture(session, actor=W1, bank=cast.bank, data=wiring_png(), filename="a.png")
    pending = media.upload_picture(session, actor=W1, bank=cast.bank, data=wiring_png(seed=4), filename="b.png")
    approved(session, cast.bank, "DG-P5", content=_with_picture("见图", pic.sha256))

    def may(actor: Actor, sha: str) -> bool:
        try:
            media.require_picture_access(session, actor=actor, sha256=sha)
            return True
        except PermissionDeniedError:
            return False

    assert may(W1, pic.sha256) and may(W1, pending.sha256)  # the writer: own item, own upload
    assert may(MANAGER, pic.sha256) and may(MANAGER, pending.sha256)  # the bank manager: the whole bank
    assert may(R1, pic.sha256) and not may(R1, pending.sha256)  # the reviewer: the assigned item only
    assert not may(W2, pic.sha256) and not may(W2, pending.sha256)  # another writer of the same bank
    for outsider in (OTHER_WRITER, EXAM_OFFICE, AUDITOR, COMMITTEE[0]):
        assert not may(outsider, pic.sha256)
    assert not may(W1, "f" * 64) and not may(W1, "../../etc/passwd")  # unknown: refused alike
    batch = workflow.create_acceptance_batch(session, actor=MANAGER, bank=cast.bank, codes=["DG-P5"], members=MEMBERS)
    assert batch.code and may(COMMITTEE[0], pic.sha256) and not may(COMMITTEE[5], pic.sha256)


def test_reads_are_ledgered_and_checked_against_the_hash(session: Session, cast: Cast) -> None:
    pic = media.upload_picture(session, actor=W1, bank=cast.bank, data=wiring_png(), filename="a.png")
    approved(session, cast.bank, "DG-P6", content=_with_picture("见图", pic.sha256))
    got = media.read_picture(session, actor=R1, sha256=pic.sha256, via="web")
    assert got.data is not None and got.media_type == "image/png"
    entry = ledger.query_ledger(session, action="picture.read")[-1]
    assert (entry.actor, entry.object_id, entry.details["via"]) == ("r1", pic.sha256, "web")
    assert entry.details["items"] == [f"{cast.bank.id}:DG-P6"]
    with pytest.raises(PermissionDeniedError):
        media.read_picture(session, actor=W2, sha256=pic.sha256)
    assert len(ledger.query_ledger(session, action="picture.read")) == 1
    # bytes altered in the database are noticed, not served
    rec = session.get(MediaBlobRecord, pic.sha256)
    rec.data = rec.data[:-1] + bytes([rec.data[-1] ^ 1])
    session.flush()
    with pytest.raises(Exception, match="does not match its hash"):
        media.read_picture(session, actor=W1, sha256=pic.sha256)


def test_pictures_for_items_gives_each_picture_once(session: Session, cast: Cast) -> None:
    a = media.upload_picture(session, actor=W1, bank=cast.bank, data=wiring_png(), filename="a.png")
    b = media.upload_picture(session, actor=W1, bank=cast.bank, data=CIRCUIT_SVG, filename="b.svg")
    content = dataclasses.replace(_with_picture("见图", a.sha256), options=tuple(
        dataclasses.replace(o, text=media.picture_markup(b.sha256)) if o.label == "B" else o
        for o in single_choice().options))
    workflow.create_item(session, actor=W1, bank=cast.bank, code="DG-P7", content=content)
    workflow.create_item(session, actor=W1, bank=cast.bank, code="DG-P8", content=_with_picture("又见", a.sha256))
    items = [get_item(session, bank=cast.bank, code=c) for c in ("DG-P7", "DG-P8")]
    got = media.pictures_for_items(session, items)
    assert set(got) == {a.sha256, b.sha256}
    assert set(media.pictures_of_versions(session, [items[0].version_id])[items[0].version_id]) == {a.sha256, b.sha256}
