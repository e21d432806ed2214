"""Thin lifecycle modules on top of the item bank (issue 8).

Pure rules (no database; tested without one):
    idnumbers      identity documents: GB 11643-1999 MOD 11-2 check digit, birth date, other formats
    eligibility    申报条件 as data (``DEFAULT_RULES``, editable), evaluated with reasons in words
    codes          certificate code layout (22 = letter + 21 digits), examiner / supervisor card numbers
    workdays       working-day calendar (weekends, holidays, 调休) and the 5-working-day publication
    scoring_rules  objective scoring, examiner-score combination, 100-point scale, pass decision
    cards          card validity: 3-year term, revocation, annual training
    qr             signed certificate QR payload, verification, PNG/SVG rendering

Services (``session`` keyword, flush, never commit; ledger entries through ``itembank.ledger``):
    registration   candidates, applications, eligibility rules, .xlsx import (all or nothing)
    staff          staff, cards, training, declared relations (recusal)
    sessions       exam plans, sessions, rooms, tickets, seating, proctors, examiner groups
    scoring        responses, examiner scores, part results, outcome, violations, sparse export
    publication    calendar data, publication, objections, release
    certificates   certificates and their ledger, QR verification
    retention      reviews, holds, destruction runs
    tickets_docx   admission tickets as .docx

ORM rows live in ``itembank/orm_lifecycle.py`` (migration 0003); errors in ``lifecycle/errors.py``;
settings in ``lifecycle/config.py`` (``ITEMBANK_LIFECYCLE_*``).
"""
