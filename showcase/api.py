"""The public showcase in the REST API (no login): the gallery with the page's filters, and one
course with its public files. Only what the pages show: real names, never a username, mobile,
score, review or decision; files only of the kinds the campaign makes public."""

from __future__ import annotations

from django.urls import reverse
from ninja import Field, Query, Router, Schema

from jingpinke.paging_api import CURSOR_HELP
from showcase import services

router = Router(tags=["精品课展示"])


class ErrorOut(Schema):
    detail: str
    errors: list = []


class CardOut(Schema):
    id: int
    title: str
    year: int
    campaign: str
    category: str
    stage: str
    subject: str
    grade: str
    version: str
    node_id: int
    node_path: str
    textbook: str
    school: str
    teacher: str = Field(..., description="主讲教师姓名")
    award: str = Field(..., description="最高一级的荣誉，如 市级精品课")
    award_level: str = Field(..., description="该荣誉的层级：school/county/city/province")
    url: str
    poster_url: str | None = None


class PageOut(Schema):
    count: int = Field(description="条数；超过上限时为上限加 1，count_capped 为 true")
    count_capped: bool
    page: int | None = Field(description="页码；用 cursor 翻到的页为 null")
    pages: int
    next: str | None = Field(description="下一页的游标（?cursor=…）")
    previous: str | None = Field(description="上一页的游标")
    results: list[CardOut]


class FileOut(Schema):
    id: int
    period: int
    kind: str
    label: str
    name: str
    size: int
    url: str


class CourseOut(CardOut):
    team: list[str] = Field(..., description="教学团队姓名（主讲教师在前）")
    video_url: str | None = None
    files: list[FileOut]


def _card(c: services.Card) -> dict:
    return {**c.__dict__, "url": reverse("showcase:course", args=[c.id]),
            "poster_url": reverse("showcase:poster", args=[c.id, c.poster]) if c.poster else None}


@router.get("/courses", auth=None, response={200: PageOut, 400: ErrorOut},
            summary="精品课列表：可按 year、level、category、stage、subject、grade、version、node 筛选，q 搜索课程名称/教师/学校")
def showcase_courses(request, year: str = "", level: str = "", category: str = "", stage: str = "", subject: str = "",
                 grade: str = "", version: str = "", node: str = "", q: str = "", page: int = 1,
                 cursor: str = Query("", description=CURSOR_HELP)):
    params = {"year": year, "level": level, "category": category, "stage": stage, "subject": subject,
              "grade": grade, "version": version, "node": node, "q": q, "page": str(page), "cursor": cursor}
    g = services.gallery(params, strict=True)
    p = g.page
    return {"count": p.paginator.count, "count_capped": p.paginator.capped, "page": p.number,
            "pages": p.paginator.num_pages, "next": p.next_cursor, "previous": p.previous_cursor,
            "results": [_card(c) for c in g.cards]}


@router.get("/courses/{course_id}", auth=None, response={200: CourseOut, 404: ErrorOut},
            summary="一门精品课：公开的资源文件（视频支持 Range 请求）")
def showcase_course(request, course_id: str):
    p = services.course_page(course_id)
    files = [{**f.__dict__, "url": reverse("showcase:file", args=[p.card.id, f.id])}
             for _n, _t, fs in p.periods for f in fs]
    return {**_card(p.card), "team": p.team, "files": files,
            "video_url": reverse("showcase:file", args=[p.card.id, p.video.id]) if p.video else None}
