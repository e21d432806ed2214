"""Keys, files and integrity (issue 12): keys beside the database, private files, tampered
sealed documents, the sealing's ledger entry, and a ledger whose truncation and re-chaining are
found without anyone remembering a hash."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from sqlalchemy import Engine, delete, select, update

from api.cli import main
from itembank import keys
from itembank.config import Settings
from itembank.db import make_engine, make_sessionmaker, transaction, upgrade
from itembank.domain import Role
from itembank.i18n import use_locale
from itembank.ledger import (
    GENESIS_HASH,
    append,
    entry_hash,
    export_checkpoint,
    make_checkpoint,
    parse_checkpoint,
    query_ledger,
    verify_ledger,
    write_witness,
)
from itembank.orm import LedgerEntryRecord
from itembank.orm_accounts import LedgerCheckpointRecord
from itembank.orm_sealing import SealedDocumentRecord, SealedPaperRecord
from lifecycle.config import LifecycleSettings
from lifecycle.keys import master_key

from .conftest import OCC, Api, page_headers, seal_unopened


def en(message) -> str:  # type: ignore[no-untyped-def]
    from itembank.i18n import render

    return render(message, "en")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --------------------------------------------------------------------------------------
# Key files beside the database, created private, never replaced silently


def test_the_seal_key_lives_beside_the_database_whatever_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_dir = tmp_path / "data"
    engine = make_engine(url=f"sqlite:///{db_dir / 'bank.db'}")
    upgrade(engine)
    settings = LifecycleSettings(_env_file=None)  # seal_key_file: the bare name itembank-seal.key
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with make_sessionmaker(engine)() as s:
        first = master_key(settings, session=s)
    assert (db_dir / "itembank-seal.key").exists() and not (elsewhere / "itembank-seal.key").exists()
    assert _mode(db_dir / "itembank-seal.key") == 0o600 and _mode(db_dir) == 0o700
    monkeypatch.chdir(tmp_path)
    with make_sessionmaker(engine)() as s:
        assert master_key(settings, session=s) == first
    engine.dispose()


def test_no_new_seal_key_while_sealed_papers_exist(api: Api, tmp_path: Path) -> None:
    paper = seal_unopened(api)  # sealed with the configured key; now point at a key file that is gone
    missing = tmp_path / "gone" / "itembank-seal.key"
    settings = LifecycleSettings(seal_key_file=str(missing), _env_file=None)
    with pytest.raises(keys.KeyMissingError) as caught:
        master_key(settings, session=api.session)
    assert str(missing) in caught.value.message
    key_id = api.session.scalar(select(SealedPaperRecord.key_id))
    assert key_id in caught.value.message and not missing.exists()
    assert paper.paper_code


def test_postgresql_needs_a_configured_key_directory() -> None:
    pg = make_engine(url="postgresql+psycopg://u:p@localhost/none")
    with pytest.raises(Exception, match="ITEMBANK_KEY_DIR"):
        keys.resolve_key_file("itembank-seal.key", directory=keys.key_dir(Settings(_env_file=None), pg.url),
                              setting="seal_key_file")
    with pytest.raises(Exception, match="ITEMBANK_KEY_DIR.*relative/keys"):
        keys.key_dir(Settings(key_dir="relative/keys", _env_file=None), pg.url)
    assert keys.key_dir(Settings(key_dir="/srv/keys", _env_file=None), pg.url) == Path("/srv/keys")


def test_database_and_output_files_are_private(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'bank.db'}"
    r = CliRunner().invoke(main, ["--database-url", url, "db", "upgrade"])
    assert r.exit_code == 0, r.output
    assert _mode(tmp_path / "new" / "bank.db") == 0o600 and _mode(tmp_path / "new") == 0o700
    loose = tmp_path / "old.db"
    loose.touch(mode=0o644)
    os.chmod(loose, 0o644)
    make_engine(url=f"sqlite:///{loose}").dispose()
    assert _mode(loose) == 0o600
    out = tmp_path / "out" / "paper.docx"
    keys.write_private(out, b"PK...", exclusive=False)
    assert _mode(out) == 0o600 and _mode(out.parent) == 0o700


# --------------------------------------------------------------------------------------
# Sealed documents


def test_a_flipped_ciphertext_byte_answers_409_ledgered_and_releases_nothing(api: Api) -> None:
    paper = seal_unopened(api)
    offices = [api.add_user(f"office{i}", Role.EXAM_OFFICE, occupation=OCC) for i in (1, 2)]
    base = f"/exam-sessions/{paper.session_code}/sealed-papers/{paper.paper_code}"
    for h in offices:
        api.client.post(f"{base}/open", headers=h)
    doc = api.session.scalar(select(SealedDocumentRecord).join(SealedPaperRecord).where(
        SealedPaperRecord.state == "opened"))
    flipped = bytearray(doc.ciphertext)
    flipped[len(flipped) // 2] ^= 0x01
    api.session.execute(update(SealedDocumentRecord).where(SealedDocumentRecord.id == doc.id)
                        .values(ciphertext=bytes(flipped)))
    api.session.commit()
    r = api.client.get(f"{base}/documents/{doc.name}", headers=offices[0])
    assert r.status_code == 409 and r.json()["error"]["code"] == "seal_tampered"
    assert "完整性" in r.json()["error"]["message"] or "改动" in r.json()["error"]["message"]
    assert b"PK" not in r.content
    (entry,) = query_ledger(api.session, action="paper.tamper_detected", object_id=paper.paper_code)
    assert entry.actor == "office1" and entry.details["document"] == doc.name
    assert not query_ledger(api.session, action="paper.download", object_id=paper.paper_code)
    page = api.client.get(f"/ui/sessions/{paper.session_code}/papers/{paper.paper_code}/documents/{doc.name}",
                          headers=page_headers(offices[1]))
    assert page.status_code == 409 and b"PK\x03\x04" not in page.content
    assert len(query_ledger(api.session, action="paper.tamper_detected", object_id=paper.paper_code)) == 2


def test_verify_sealed_checks_the_manifest_against_the_sealing_ledger_entry(api: Api) -> None:
    import hashlib
    import json

    from lifecycle import sealing
    from tests.api.conftest import LIFECYCLE

    paper = seal_unopened(api)
    rec = api.session.scalar(select(SealedPaperRecord).where(SealedPaperRecord.role == "main"))
    assert sealing.verify_sealed(api.session, exam_session_code=paper.session_code, paper_code=paper.paper_code,
                                 settings=LIFECYCLE) == []
    # the manifest and its hash in the same row, changed together: consistent with each other
    manifest = dict(rec.manifest)
    manifest["sealed_by"] = "someone-else"
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True, ensure_ascii=False,
                                       separators=(",", ":")).encode()).hexdigest()
    api.session.execute(update(SealedPaperRecord).where(SealedPaperRecord.id == rec.id)
                        .values(manifest=manifest, manifest_sha256=digest))
    api.session.commit()
    api.session.expire_all()
    with use_locale("en"):
        problems = sealing.verify_sealed(api.session, exam_session_code=paper.session_code,
                                         paper_code=paper.paper_code, settings=LIFECYCLE)
    assert any("ledger recorded at sealing" in p.msgid for p in problems), problems


# --------------------------------------------------------------------------------------
# The ledger


@pytest.fixture()
def keyed(fresh_engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """A private database whose ledger key and witness live in a key directory of its own."""
    keys.configure(fresh_engine, Settings(key_dir=str(tmp_path / "keys"), _env_file=None))
    yield fresh_engine


def _write(engine: Engine, n: int, actor: str = "clerk") -> None:
    with transaction(engine) as s:
        for i in range(n):
            append(s, actor=actor, action="item.read", object_type="item", object_id=i, details={"n": i})


def _checkpoint(engine: Engine) -> None:
    with transaction(engine) as s:
        cp = make_checkpoint(s, actor="auditor")
    with transaction(engine) as s:
        write_witness(s, cp)


def _verify(engine: Engine, **kw):  # type: ignore[no-untyped-def]
    with use_locale("en"), transaction(engine) as s:
        return verify_ledger(s, **kw)


def test_every_entry_is_keyed_and_the_key_stays_outside_the_database(keyed: Engine, tmp_path: Path) -> None:
    _write(keyed, 3)
    with transaction(keyed) as s:
        macs = s.scalars(select(LedgerEntryRecord.mac)).all()
    assert len(macs) == 3 and all(macs)
    assert _mode(tmp_path / "keys" / keys.LEDGER_KEY_FILE) == 0o600 and _mode(tmp_path / "keys") == 0o700


def test_deleting_the_newest_entries_is_found_against_the_checkpoints(keyed: Engine) -> None:
    _write(keyed, 6)
    _checkpoint(keyed)
    assert _verify(keyed).ok
    with transaction(keyed) as s:  # an intruder with database access deletes the newest entries ...
        newest = s.scalars(select(LedgerEntryRecord.id).order_by(LedgerEntryRecord.id.desc()).limit(2)).all()
        s.execute(delete(LedgerEntryRecord).where(LedgerEntryRecord.id.in_(newest)))
    v = _verify(keyed)
    assert not v.ok and any("no longer in the ledger" in p.msgid for p in v.problems)
    with transaction(keyed) as s:  # ... and the checkpoints too: the witness beside the key remains
        s.execute(delete(LedgerCheckpointRecord))
    v = _verify(keyed)
    assert not v.ok and any("witness" in p.msgid for p in v.problems)


def test_editing_an_entry_and_rechaining_is_found_by_the_macs(keyed: Engine) -> None:
    _write(keyed, 5)
    with transaction(keyed) as s:
        rows = s.scalars(select(LedgerEntryRecord).order_by(LedgerEntryRecord.id)).all()
        prev = rows[0].prev_hash
        for r in rows:  # edit the second entry, then recompute every hash after it, as an intruder can
            if r is rows[1]:
                r.actor = "intruder"
            r.prev_hash = prev
            r.hash = entry_hash(prev_hash=prev, at=r.at, actor=r.actor, action=r.action, object_type=r.object_type,
                                object_id=r.object_id, details=r.details)
            prev = r.hash
    v = _verify(keyed)
    assert not v.ok
    assert sum("MAC does not match" in p.msgid for p in v.problems) == 4  # the edited entry and every later one


def test_an_exported_checkpoint_proves_what_it_saw(keyed: Engine, tmp_path: Path) -> None:
    _write(keyed, 4)
    _checkpoint(keyed)
    with transaction(keyed) as s:
        from itembank.ledger import latest_checkpoint

        cp = latest_checkpoint(s)
        public_key = keys.ledger_key(s).public_key
        text = export_checkpoint(cp, public_key=public_key, centre_name="测试中心")
    assert parse_checkpoint(text) == cp
    assert "记录条数: " in text and "公钥: " in text  # labelled in the reader's language
    with use_locale("en"):  # and read back whatever language it was printed in
        english = export_checkpoint(cp, public_key=public_key, centre_name="测试中心")
    assert "entries: " in english and parse_checkpoint(english) == cp
    _write(keyed, 2)
    v = _verify(keyed, checkpoints=[parse_checkpoint(text)])
    assert v.ok and v.n_after_checkpoint == 2
    assert any("4 entries up to entry" in en(m) for m in v.proves)
    assert any("2 newest entries" in en(m) for m in v.limits)
    forged = text.replace(f"记录条数: {cp.n_entries}", f"记录条数: {cp.n_entries + 1}")
    assert forged != text
    v = _verify(keyed, checkpoints=[parse_checkpoint(forged)])
    assert not v.ok and any("signature does not match" in p.msgid for p in v.problems)


def test_entries_from_before_the_key_are_accepted_as_a_prefix_only(keyed: Engine) -> None:
    _write(keyed, 3)
    with transaction(keyed) as s:  # as after migration 0009: the old entries carry no MAC
        first = s.scalars(select(LedgerEntryRecord.id).order_by(LedgerEntryRecord.id).limit(2)).all()
        s.execute(update(LedgerEntryRecord).where(LedgerEntryRecord.id.in_(first)).values(mac=None))
    v = _verify(keyed)
    assert v.ok and v.n_unkeyed == 2 and any("before the ledger was keyed" in en(m) for m in v.limits)
    with transaction(keyed) as s:  # a MAC stripped after keyed entries is found
        last = s.scalar(select(LedgerEntryRecord.id).order_by(LedgerEntryRecord.id.desc()).limit(1))
        append(s, actor="x", action="item.read", object_type="item", object_id=9)
        s.execute(update(LedgerEntryRecord).where(LedgerEntryRecord.id > last).values(mac=None))
    v = _verify(keyed)
    assert not v.ok and any("MAC is missing" in p.msgid for p in v.problems)


def test_a_missing_ledger_key_is_an_error_not_a_new_key(keyed: Engine, tmp_path: Path) -> None:
    _write(keyed, 2)
    (tmp_path / "keys" / keys.LEDGER_KEY_FILE).unlink()
    keys.forget_cached_keys()
    with pytest.raises(keys.KeyMissingError, match=keys.LEDGER_KEY_FILE):
        _write(keyed, 1)
    assert not (tmp_path / "keys" / keys.LEDGER_KEY_FILE).exists()
    v = _verify(keyed)
    assert not v.ok and any(keys.LEDGER_KEY_FILE in str(p.params) for p in v.problems)


def test_the_cli_and_the_audit_page_say_what_verification_proves(keyed: Engine, tmp_path: Path) -> None:
    _write(keyed, 3)
    url = keyed.url.render_as_string(hide_password=False)
    env = {"ITEMBANK_KEY_DIR": str(tmp_path / "keys")}
    run = CliRunner()
    r = run.invoke(main, ["--database-url", url, "--lang", "en", "ledger", "checkpoint", "--export",
                          str(tmp_path / "cp.txt")], env=env)
    assert r.exit_code == 0, r.output
    assert _mode(tmp_path / "cp.txt") == 0o600
    r = run.invoke(main, ["--database-url", url, "--lang", "en", "ledger", "verify", "--checkpoint",
                          str(tmp_path / "cp.txt")], env=env)
    assert r.exit_code == 0, r.output
    assert "This verification proves" in r.output and "3 entries up to entry" in r.output
    with transaction(keyed) as s:
        s.execute(delete(LedgerEntryRecord).where(LedgerEntryRecord.id == s.scalar(
            select(LedgerEntryRecord.id).order_by(LedgerEntryRecord.id.desc()).limit(1))))
    r = run.invoke(main, ["--database-url", url, "--lang", "en", "ledger", "verify"], env=env)
    assert r.exit_code == 1 and "no longer in the ledger" in r.output


def test_audit_page_shows_checkpoint_state(api: Api, tmp_path: Path) -> None:
    auditor = api.add_user("aud", Role.AUDITOR)
    page = api.client.get("/ui/ledger/verify", headers={**page_headers(auditor), "Accept-Language": "en"})
    assert page.status_code == 200
    assert "This verification proves" in page.text and "It cannot prove" in page.text
    assert "no checkpoint could be checked" in page.text
    r = api.client.get("/ledger/verify", headers={**auditor, "Accept-Language": "en"}).json()
    assert r["proves"] and r["limits"] and r["keyed"] in (True, False)
    assert GENESIS_HASH
