"""The item form: what the writer typed, kept as typed (so nothing is lost on an error), and
its reading into ``ItemContent``. Only the reading of the inputs is checked here (a number where
a number goes); the item's rules are ``itembank.items.validate_content``'s."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.datastructures import FormData

from itembank.domain import Item, ItemContent, ItemType, Option, RubricPoint
from itembank.i18n import Message

Problem = tuple[str, Message]  # (field, what is wrong)

OPTION_LABELS = "ABCDEFGH"
MIN_OPTION_ROWS = 4
MIN_RUBRIC_ROWS = 3
MAX_ROWS = 20
MAX_FIELD = 20_000  # the API's bound of any text field (api.schemas.common.MAX_TEXT)
TEXT_KEY_TYPES = (ItemType.FILL_IN, ItemType.SHORT_ANSWER, ItemType.CALCULATION, ItemType.ESSAY)
RUBRIC_TYPES = (ItemType.SHORT_ANSWER, ItemType.CALCULATION, ItemType.ESSAY, ItemType.PRACTICAL_TASK,
                ItemType.DEFENCE_TOPIC)
FIELDS = ("code", "set_code", "item_type", "stem", "points", "element_codes", "options", "key", "rubric",
          "analysis", "time_limit_min", "equipment", "estimated_time_s", "difficulty_rating", "reason")


def _clean(value: object, limit: int = MAX_FIELD) -> str:
    """Text as the database can store it: no NUL, no lone surrogates; bounded."""
    text = str(value or "")[:limit].replace("\x00", "")
    return text.encode("utf-8", "replace").decode("utf-8") if not text.isascii() else text


@dataclass
class ItemForm:
    """The inputs of the item form, as strings."""

    item_type: str = ItemType.SINGLE_CHOICE.value
    code: str = ""
    code_auto: str = ""  # the code the form suggested (``workflow.next_item_code``)
    set_code: str = ""
    stem: str = ""
    points: str = "1"
    difficulty_rating: str = "3"
    estimated_time_s: str = "60"
    analysis: str = ""
    time_limit_min: str = ""
    equipment: str = ""
    reason: str = ""
    element_codes: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=lambda: [""] * MIN_OPTION_ROWS)
    key_choice: list[str] = field(default_factory=list)
    key_tf: str = ""
    key_text: str = ""
    rubric: list[tuple[str, str, str]] = field(default_factory=lambda: [("", "", "")] * MIN_RUBRIC_ROWS)

    # ----------------------------------------------------------------------------------
    @property
    def type(self) -> ItemType | None:
        try:
            return ItemType(self.item_type)
        except ValueError:
            return None

    @property
    def option_rows(self) -> list[tuple[str, str]]:
        return list(zip(OPTION_LABELS, self.options))

    @classmethod
    def from_form(cls, form: FormData | Mapping[str, str]) -> ItemForm:
        get = form.get
        getlist = form.getlist if isinstance(form, FormData) else (lambda k: [])  # type: ignore[attr-defined]
        n_opt = _count(get("n_options"), MIN_OPTION_ROWS)
        n_rub = _count(get("n_rubric"), MIN_RUBRIC_ROWS)
        if get("action") == "add_option":
            n_opt += 1
        if get("action") == "add_rubric":
            n_rub += 1
        return cls(
            item_type=_clean(get("item_type"), 32) or ItemType.SINGLE_CHOICE.value,
            code=_clean(get("code"), 64).strip(), code_auto=_clean(get("code_auto"), 64).strip(),
            set_code=_clean(get("set_code"), 64).strip(),
            stem=_clean(get("stem")), points=_clean(get("points"), 32).strip(),
            difficulty_rating=_clean(get("difficulty_rating"), 8).strip(),
            estimated_time_s=_clean(get("estimated_time_s"), 32).strip(), analysis=_clean(get("analysis")),
            time_limit_min=_clean(get("time_limit_min"), 32).strip(), equipment=_clean(get("equipment")),
            reason=_clean(get("reason"), 2000),
            element_codes=list(dict.fromkeys(_clean(c, 64) for c in getlist("element_codes") if c))[:50],
            options=[_clean(get(f"option_{lbl}"), 4000) for lbl in OPTION_LABELS[:min(n_opt, len(OPTION_LABELS))]],
            key_choice=[_clean(k, 8) for k in getlist("key_choice") if k][:len(OPTION_LABELS)],
            key_tf=_clean(get("key_tf"), 2), key_text=_clean(get("key_text")),
            rubric=[(_clean(get(f"rubric_desc_{i}"), 4000), _clean(get(f"rubric_points_{i}"), 32).strip(),
                     _clean(get(f"rubric_criteria_{i}"), 4000)) for i in range(min(n_rub, MAX_ROWS))],
        )

    @classmethod
    def from_item(cls, item: Item) -> ItemForm:
        c = item.content
        opts = [o.text for o in c.options] + [""] * max(0, MIN_OPTION_ROWS - len(c.options))
        rub = [(r.description, _num_text(r.points), r.criteria) for r in c.rubric]
        rub += [("", "", "")] * max(0, MIN_RUBRIC_ROWS - len(rub))
        return cls(
            item_type=c.item_type.value, code=item.code, set_code=item.set_code or "", stem=c.stem,
            points=_num_text(c.points), difficulty_rating=str(c.difficulty_rating),
            estimated_time_s=_num_text(c.estimated_time_s), analysis=c.analysis,
            time_limit_min=_num_text(c.time_limit_min) if c.time_limit_min is not None else "",
            equipment=c.equipment, element_codes=list(c.element_codes), options=opts,
            key_choice=list(c.key) if c.item_type.has_options else [],
            key_tf=c.key[0] if c.item_type is ItemType.TRUE_FALSE and c.key else "",
            key_text="\n".join(c.key) if c.item_type in TEXT_KEY_TYPES else "", rubric=rub,
        )

    # ----------------------------------------------------------------------------------
    def to_content(self) -> tuple[ItemContent, list[Problem]]:
        """The content as typed, and the problems reading it, by field. An unreadable number
        is left at a neutral value (1 point, 60 seconds, difficulty 3) so that the preview
        still shows the item and a draft can still be saved."""
        problems: list[Problem] = []
        t = self.type
        if t is None:
            problems.append(("item_type", Message("Choose the item type.")))
            t = ItemType.SINGLE_CHOICE
        points = _number(self.points, "points", problems)
        if points is not None and points <= 0:
            problems.append(("points", Message("The points must be above 0.")))
            points = None
        time_s = _number(self.estimated_time_s or "60", "estimated_time_s", problems)
        if time_s is not None and time_s <= 0:
            problems.append(("estimated_time_s", Message("The time needed must be above 0 seconds.")))
            time_s = None
        rating = _number(self.difficulty_rating or "3", "difficulty_rating", problems)
        if rating is not None and not (float(rating).is_integer() and 1 <= rating <= 5):
            problems.append(("difficulty_rating", Message("The difficulty is a whole number from 1 to 5.")))
            rating = None
        limit = None
        if t is ItemType.PRACTICAL_TASK and self.time_limit_min:
            limit = _number(self.time_limit_min, "time_limit_min", problems)
        options: tuple[Option, ...] = ()
        key: tuple[str, ...] = ()
        if t.has_options:
            filled = [i for i, text in enumerate(self.options) if text.strip()]
            upto = (max(filled) + 1) if filled else 0
            options = tuple(Option(OPTION_LABELS[i], self.options[i].strip()) for i in range(upto))
            key = tuple(k for k in OPTION_LABELS if k in self.key_choice)
        elif t is ItemType.TRUE_FALSE:
            key = (self.key_tf,) if self.key_tf in ("T", "F") else ()
        elif t in TEXT_KEY_TYPES:
            key = tuple(line.strip() for line in self.key_text.splitlines() if line.strip())
        rubric: list[RubricPoint] = []
        if t in RUBRIC_TYPES:
            for i, (desc, pts, crit) in enumerate(self.rubric, start=1):
                if not (desc.strip() or pts or crit.strip()):
                    continue
                value = _number(pts, "rubric", problems, point=i)
                rubric.append(RubricPoint(desc.strip(), value if value is not None else 0.0, crit.strip()))
        content = ItemContent(
            item_type=t, stem=self.stem.strip(), points=points if points is not None else 1.0,
            element_codes=tuple(self.element_codes), options=options, key=key, rubric=tuple(rubric),
            analysis=self.analysis.strip(), time_limit_min=limit if t is ItemType.PRACTICAL_TASK else None,
            equipment=self.equipment.strip() if t is ItemType.PRACTICAL_TASK else "",
            estimated_time_s=time_s if time_s is not None else 60.0,
            difficulty_rating=int(rating) if rating is not None else 3,
        )
        return content, problems


def _count(raw: object, default: int) -> int:
    try:
        return max(default, min(MAX_ROWS, int(str(raw))))
    except (TypeError, ValueError):
        return default


def _number(raw: str, name: str, problems: list[Problem], *, point: int | None = None) -> float | None:
    """``raw`` as a number; a problem under ``name`` when it is empty or not a number."""
    if not raw:
        problems.append((name, Message("Fill in the points of scoring point {n}.", n=point) if point
                         else Message("Fill in this number.")))
        return None
    try:
        value = float(raw)
    except ValueError:
        problems.append((name, Message("“{text}” is not a number.", text=raw)))
        return None
    if not math.isfinite(value) or abs(value) > 1_000_000:
        problems.append((name, Message("“{text}” is out of range.", text=raw)))
        return None
    return value


def _num_text(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
