"""What every list of the API answers besides its items (``jingpinke.paging``): a count that stops
at ``JPK_LIST_COUNT_CAP`` (``count_capped`` says it did), the page number while pages are counted,
and the ``next`` / ``previous`` cursors: pass one as ``?cursor=`` to get that page, at any depth, at
the cost of the first (a forged or stale cursor answers 400)."""

from __future__ import annotations

from ninja import Field, Schema

from jingpinke.paging import ListPage

CURSOR_HELP = "翻页游标：上一次响应中的 next 或 previous；给出时忽略 page"


class ListPageOut(Schema):
    count: int = Field(description="条数；超过上限（JPK_LIST_COUNT_CAP，默认 10000）时为上限加 1，count_capped 为 true")
    count_capped: bool = Field(description="条数超过上限，count 不是准确总数")
    page: int | None = Field(description="页码；用 cursor 翻到的页为 null")
    num_pages: int = Field(description="按页码可翻到的页数（最多到上限）")
    next: str | None = Field(description="下一页的游标（?cursor=…）；没有下一页时为 null")
    previous: str | None = Field(description="上一页的游标；没有上一页时为 null")


def page_out(page: ListPage, items: list) -> dict:
    paginator = page.paginator
    return {"count": paginator.count, "count_capped": paginator.capped, "page": page.number,
            "num_pages": paginator.num_pages, "next": page.next_cursor, "previous": page.previous_cursor,
            "items": items}
