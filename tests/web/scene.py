"""Setting the scene of a browser journey through the services (what earlier steps, tested
in their own journeys, would have left behind)."""

from __future__ import annotations

from itembank import accounts, occupations, workflow
from itembank import assembly_service as asvc
from itembank.domain import ItemContent, ItemType, Option
from lifecycle import sealing

from .conftest import Live


def actor(s, username: str):  # type: ignore[no-untyped-def]
    return accounts.get_user(s, username=username).actor()


def content(stem: str, *, key: str = "B", element: str = "A-01-01") -> ItemContent:
    return ItemContent(item_type=ItemType.SINGLE_CHOICE, stem=stem, points=1.0, element_codes=(element,),
                       options=(Option("A", "36V"), Option("B", "220V"), Option("C", "380V"), Option("D", "12V")),
                       key=(key,))


def submitted(live: Live, stems: dict[str, str], *, writer: str = "writer1") -> None:
    """Items written and submitted by ``writer``."""
    with live.session() as s:
        bank = occupations.get_bank_by_id(s, live.world.bank_id)
        a = actor(s, writer)
        for code, stem in stems.items():
            workflow.create_item(s, actor=a, bank=bank, code=code, content=content(stem))
            workflow.submit(s, actor=a, bank=bank, code=code)
        s.commit()


def approved(live: Live, stems: dict[str, str], *, writer: str = "writer1", reviewer: str = "reviewer1") -> None:
    """Items written, reviewed and approved: ready for a committee."""
    submitted(live, stems, writer=writer)
    with live.session() as s:
        bank = occupations.get_bank_by_id(s, live.world.bank_id)
        m, r = actor(s, "manager1"), actor(s, reviewer)
        for code in stems:
            workflow.assign_reviewer(s, actor=m, bank=bank, code=code, reviewer=reviewer)
            workflow.start_review(s, actor=r, bank=bank, code=code)
            workflow.record_review(s, actor=r, bank=bank, code=code, decision="approve", comment="同意")
        s.commit()


def batch(live: Live, codes: list[str], members: list[str]) -> str:
    with live.session() as s:
        bank = occupations.get_bank_by_id(s, live.world.bank_id)
        b = workflow.create_acceptance_batch(s, actor=actor(s, "manager1"), bank=bank, codes=codes, members=members,
                                             meeting="2026年第4次题库验收会")
        s.commit()
        return b.code


APPROVED = {"DG5-P-0001": "电气设备着火时应首先（　）。"}
DRAFT = {"DG5-P-0002": "照明线路的相线应接在开关上。"}


def full_world(live: Live, *, seal_later: bool = False) -> dict[str, str]:
    """Items in each state, a batch, sealed papers (also for the later session: not yet to be
    opened) and an assembly run; the codes the paths that show them need."""
    approved(live, APPROVED)
    code = batch(live, list(APPROVED), [f"member{i}" for i in range(1, 6)])
    with live.session() as s:
        bank = occupations.get_bank_by_id(s, live.world.bank_id)
        workflow.create_item(s, actor=actor(s, "writer1"), bank=bank, code="DG5-P-0002",
                             content=content(DRAFT["DG5-P-0002"]))
        sessions = [live.world.session_code] + ([live.world.later_code] if seal_later else [])
        for code_ in sessions:
            sealing.seal_papers(s, exam_session_code=code_, actor=actor(s, "office1"), settings=live.lifecycle,
                                n_backups=1)
        runs, _ = asvc.list_runs(s, bank=bank, limit=1)
        s.commit()
    return {"batch": code, "run": str(runs[0].id)}
