"""Certificates (附件3): only for the successful (附件15 第7条), unique codes under concurrent
transactions, the certificate ledger, QR verification."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from itembank.db import transaction
from itembank.orm_lifecycle import CertificateRecord, SerialCounterRecord
from lifecycle.certificates import (
    certificate_history,
    certificate_qr_image,
    correct_certificate,
    hand_over_certificate,
    issue_certificate,
    print_certificate,
    reissue_certificate,
    revoke_certificate,
    verify_certificate,
    void_certificate,
)
from lifecycle.codes import parse_certificate_code
from lifecycle.domain import CertificateStatus
from lifecycle.errors import CertificateRefusedError, CertificateStateError, ValidationError
from lifecycle.publication import publish_results, release_results
from lifecycle.serials import next_serial, peek_serial

from .conftest import ALL_RIGHT, score_everyone


@pytest.fixture()
def released(session: Session, scenario, settings):  # type: ignore[no-untyped-def]
    """甲 and 乙 passed, 丙 failed the practical part; results released."""
    score_everyone(session, scenario, settings, {n: (ALL_RIGHT, [10, 15]) for n in ("甲", "乙", "丙")},
                   {"甲": [50, 30, 20], "乙": [40, 30, 15], "丙": [20, 10, 10]})
    publish_results(session, plan_code=scenario.plan_code, starts_on=date(2026, 12, 7), actor="o", settings=settings)
    release_results(session, plan_code=scenario.plan_code, on=date(2026, 12, 15), actor="o", settings=settings)
    return scenario


def test_no_certificate_for_the_unsuccessful(session: Session, released, settings) -> None:  # type: ignore[no-untyped-def]
    # 附件15 第7条: 私自给成绩不合格者或无成绩者办证 — the service refuses, whatever the caller
    with pytest.raises(CertificateRefusedError) as e:
        issue_certificate(session, application_id=released.apps["丙"], actor="cert", settings=settings)
    assert "成绩为“不合格”（实际操作：40 分，低于合格线 60 分）：不合格者不发证书（附件3 第8条、附件15 第7条）" in str(e.value)
    from lifecycle.registration import register_candidate, submit_application
    from lifecycle.eligibility import Declaration

    from .conftest import OCC, make_id

    c = register_candidate(session, name="无成绩", id_type="mainland_id", id_number=make_id(900), actor="c")
    app = submit_application(session, candidate_id=c.id, occupation_code=OCC, level=5,
                             declaration=Declaration(years_of_work=3), actor="c")
    with pytest.raises(CertificateRefusedError, match="成绩尚未确定"):
        issue_certificate(session, application_id=app.id, actor="cert", settings=settings)


def test_one_live_certificate_per_application_and_void_gives_a_new_code(session: Session, released, settings) -> None:  # type: ignore[no-untyped-def]
    cert = issue_certificate(session, application_id=released.apps["甲"], actor="cert", settings=settings,
                             issued_on=date(2026, 12, 16))
    assert cert.code == "Y032132000007265000001" and cert.status is CertificateStatus.GENERATED
    with pytest.raises(CertificateRefusedError, match="该报名已有证书"):
        issue_certificate(session, application_id=released.apps["甲"], actor="cert", settings=settings)
    # the partial unique index refuses a second live certificate even if the service is bypassed
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.add(CertificateRecord(**{**{c.name: getattr(session.get(CertificateRecord, cert.id), c.name)
                                                for c in CertificateRecord.__table__.columns if c.name != "id"},
                                             "code": "Y032132000007265999999"}))
            session.flush()
    print_certificate(session, code=cert.code, actor="cert", settings=settings)
    void_certificate(session, code=cert.code, reason="打印错位", actor="cert", settings=settings)
    again = issue_certificate(session, application_id=released.apps["甲"], actor="cert", settings=settings,
                              issued_on=date(2026, 12, 16))
    assert again.code != cert.code and parse_certificate_code(again.code)["serial"] == "000002"
    with pytest.raises(CertificateStateError, match="证书 .* 已作废：只有处于“已生成”状态时才能打印"):
        print_certificate(session, code=cert.code, actor="cert", settings=settings)


def test_certificate_ledger_print_issue_reissue_correct_revoke(session: Session, released, settings) -> None:  # type: ignore[no-untyped-def]
    cert = issue_certificate(session, application_id=released.apps["乙"], actor="cert", settings=settings)
    with pytest.raises(CertificateStateError):
        reissue_certificate(session, code=cert.code, reason="遗失", actor="cert", settings=settings)
    print_certificate(session, code=cert.code, actor="cert", settings=settings)
    hand_over_certificate(session, code=cert.code, actor="cert", settings=settings)
    assert verify_certificate(session, payload=cert.qr_payload, settings=settings).valid
    r = reissue_certificate(session, code=cert.code, reason="本人遗失，登报声明", actor="cert", settings=settings)
    assert r.print_count == 2 and r.code == cert.code
    with pytest.raises(ValidationError, match="只能修改 holder_name"):
        correct_certificate(session, code=cert.code, changes={"level": "1"}, reason="x", actor="c", settings=settings)
    fixed = correct_certificate(session, code=cert.code, changes={"holder_name": "乙二"}, reason="姓名录入错误",
                                actor="cert", settings=settings)
    assert fixed.holder_name == "乙二"
    stale = verify_certificate(session, payload=cert.qr_payload, settings=settings)
    assert not stale.valid and "证书信息已修改" in str(stale.message)
    assert verify_certificate(session, payload=fixed.qr_payload, settings=settings).valid
    revoke_certificate(session, code=cert.code, reason="伪造申报信息（附件1 第32条）", actor="cert", settings=settings)
    history = certificate_history(session, code=cert.code)
    assert [h[0] for h in history] == ["generate", "print", "issue", "reissue", "correct", "revoke"]
    assert history[4][3]["old"]["holder_name"] == "乙" and history[4][3]["new"]["holder_name"] == "乙二"
    forged = fixed.qr_payload.replace("l=5", "l=1")
    assert "签名不符" in str(verify_certificate(session, payload=forged, settings=settings).message)
    assert certificate_qr_image(session, code=cert.code, settings=settings).startswith(b"\x89PNG")


def test_disqualification_after_the_certificate_revokes_it(session: Session, released, settings) -> None:  # type: ignore[no-untyped-def]
    from lifecycle.scoring import record_violation

    cert = issue_certificate(session, application_id=released.apps["甲"], actor="cert", settings=settings)
    record_violation(session, application_id=released.apps["甲"], kind="disqualified",
                     description="事后查实由他人冒名顶替（附件1 第32条）", actor="audit", settings=settings)
    assert certificate_history(session, code=cert.code)[-1][0] == "revoke"


def test_serials_are_unique_under_concurrent_transactions(fresh_engine: Engine) -> None:
    n_threads, per_thread = 4, 15
    got: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            for _ in range(per_thread):
                with transaction(fresh_engine) as s:
                    value = next_serial(s, scope="certificate:Y032132000007265")
                with lock:
                    got.append(value)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(got) == list(range(1, n_threads * per_thread + 1))
    with transaction(fresh_engine) as s:
        assert peek_serial(s, scope="certificate:Y032132000007265") == n_threads * per_thread


def test_a_rolled_back_serial_is_given_again(fresh_engine: Engine) -> None:
    with pytest.raises(RuntimeError):
        with transaction(fresh_engine) as s:
            assert next_serial(s, scope="x") == 1
            raise RuntimeError("the certificate could not be saved")
    with transaction(fresh_engine) as s:
        assert next_serial(s, scope="x") == 1
        with pytest.raises(ValueError, match="已用完"):
            s.execute(update(SerialCounterRecord).values(value=9))
            next_serial(s, scope="x", maximum=9)
