"""Pure decisions of the public showcase: plain data in, decisions out (no ORM, no I/O).

What is public: a course of an ended campaign (``CampaignStatus.CLOSED``) that was named an award
at some level (县级/市级/省级精品课). Of its files only the kinds its campaign lists in
``public_resource_kinds``; of its people only their real names and the school's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from campaigns.enums import LEVEL_ORDER, VIDEO_KINDS

FILTER_FIELDS = ("year", "level", "category", "stage", "subject", "grade", "version", "node", "q")
MAX_QUERY = 100


@dataclass(frozen=True)
class Award:
    level: str  # a LEVEL_ORDER kind
    name: str  # the level's award name, e.g. 市级精品课


def level_rank(kind: str) -> int:
    return LEVEL_ORDER.index(kind) if kind in LEVEL_ORDER else -1


def highest_award(awards: list[Award]) -> Award | None:
    """The award of the highest level among a course's awards (the one the showcase shows)."""
    named = [a for a in awards if a.name]
    return max(named, key=lambda a: level_rank(a.level)) if named else None


def levels_above(kind: str) -> tuple[str, ...]:
    return LEVEL_ORDER[level_rank(kind) + 1:] if kind in LEVEL_ORDER else ()


def is_public_kind(kind: str, public_kinds) -> bool:
    return kind in set(public_kinds or ())


def video_is_public(public_kinds) -> bool:
    return bool(VIDEO_KINDS & set(public_kinds or ()))


@dataclass(frozen=True)
class Filter:
    """The gallery's filters, cleaned: unknown or malformed values are dropped (a public page
    never fails on a hand-edited URL)."""

    year: int | None = None
    level: str = ""
    category: str = ""
    stage: str = ""
    subject: str = ""
    grade: str = ""
    version: str = ""
    node: int | None = None
    q: str = ""
    dropped: tuple[str, ...] = field(default=())

    @property
    def active(self) -> bool:
        return any((self.year, self.level, self.category, self.stage, self.subject, self.grade, self.version,
                    self.node, self.q))


def _int(value: str) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def parse_filter(params, *, categories, stages) -> Filter:
    """``params``: a mapping of strings (the query string). ``categories``/``stages``: valid codes."""
    get = {k: str(params.get(k) or "").strip() for k in FILTER_FIELDS}
    dropped = []
    year, node = _int(get["year"]), _int(get["node"])
    for name, raw, value in (("year", get["year"], year), ("node", get["node"], node)):
        if raw and value is None:
            dropped.append(name)
    level = get["level"] if get["level"] in LEVEL_ORDER else ""
    category = get["category"] if get["category"] in set(categories) else ""
    stage = get["stage"] if get["stage"] in set(stages) else ""
    for name, value in (("level", level), ("category", category), ("stage", stage)):
        if get[name] and not value:
            dropped.append(name)
    return Filter(year=year, level=level, category=category, stage=stage, subject=get["subject"][:30],
                  grade=get["grade"][:20], version=get["version"][:40], node=node, q=get["q"][:MAX_QUERY],
                  dropped=tuple(dropped))


def facet_options(rows) -> dict[str, list]:
    """Options of the filter selects from the published courses' facts ``(year, category, stage,
    subject, grade, version)`` rows: each value once, years newest first, the rest sorted."""
    columns = list(zip(*rows, strict=False)) if rows else [(), (), (), (), (), ()]
    years, categories, stages, subjects, grades, versions = (sorted({v for v in col if v not in (None, "")})
                                                               for col in columns)
    return {"years": sorted(years, reverse=True), "categories": categories, "stages": stages,
            "subjects": subjects, "grades": grades, "versions": versions}
