"""Textbooks, catalog nodes, imports and the nodes a campaign opens. Thin: every endpoint
calls catalog.services, the same functions the pages use.

JSON import shape (one textbook, a list of them, or {"textbooks": [...]}):

    {"id": "<平台教材ID>", "title": "统编版语文一年级上册",
     "tags": {"zxxxd": "小学", "zxxnj": "一年级", "zxxxk": "语文",
              "zxxbb": "统编版", "zxxcc": "上册", "zxxxjjc": "新教材"},
     "child_nodes": [{"id": "<平台节点ID>", "title": "第五单元（阅读）",
                      "child_nodes": [{"id": "…", "title": "1 秋天", "child_nodes": []}]}]}

``tags`` may also be the platform's ``tag_list`` ([{"tag_dimension_id": "zxxxd", "tag_name": "小学"}, …]);
学制 is read from zxxxd ("小学（五•四学制）") or an optional ``tags.school_system``
("五四学制", "培智学校", …). A node may carry an optional ``remark`` ("含实验：…").
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile

from catalog import services
from catalog.models import CatalogNode, Textbook
from jingpinke.paging import paginate
from jingpinke.paging_api import CURSOR_HELP, ListPageOut, page_out

router = Router(tags=["教材目录"])

JSON_IMPORT_DOC = """上传 UTF-8 编码的 JSON 文件（multipart 字段名 file），格式与国家中小学智慧教育平台的教材目录一致：

```json
{"id": "<平台教材ID>", "title": "统编版语文一年级上册",
 "tags": {"zxxxd": "小学", "zxxnj": "一年级", "zxxxk": "语文",
          "zxxbb": "统编版", "zxxcc": "上册", "zxxxjjc": "新教材"},
 "child_nodes": [{"id": "<平台节点ID>", "title": "第五单元（阅读）",
                  "child_nodes": [{"id": "…", "title": "1 秋天", "child_nodes": []}]}]}
```

- 也可以是多本教材组成的数组，或 {"textbooks": [...]}。
- tags 也可写成平台的 tag_list：[{"tag_dimension_id": "zxxxd", "tag_name": "小学"}, …]。
- 学制写在 zxxxd 中（如 "初中（五•四学制）"），或写在可选的 tags.school_system（"五四学制"、"培智学校"、"盲校"、"聋校"）。
- 节点可带可选的 remark（如 "含实验：探究平面镜成像的特点"）。没有子节点的节点是可选的末级节点。
- 平台 ID 会被保存；再次导入同一本教材时按 ID（没有 ID 时按标题路径）更新标题、添加新节点，不会重复，也不会删除已有节点。
- 整个文件校验通过才导入；有问题时返回 400，errors 中每一项的 row 指出教材与节点路径，column 指出字段。
"""


# --- schemas -------------------------------------------------------------------------------------
class ErrorOut(Schema):
    detail: str
    errors: list = []


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class TextbookOut(Schema):
    id: int
    title: str
    label: str
    stage: str
    stage_label: str
    school_system: str
    grade: str
    subject: str
    version: str
    volume: str
    edition: str
    edition_label: str
    external_id: str | None
    leaf_count: int | None = None
    open_count: int | None = None

    @staticmethod
    def from_book(b: Textbook) -> dict:
        return {
            "id": b.pk, "title": b.title, "label": b.label, "stage": b.stage, "stage_label": b.stage_label,
            "school_system": b.school_system, "grade": b.grade, "subject": b.subject, "version": b.version,
            "volume": b.volume, "edition": b.edition, "edition_label": str(b.get_edition_display()),
            "external_id": b.external_id, "leaf_count": getattr(b, "leaf_count", None),
            "open_count": getattr(b, "open_count", None),
        }


class TextbookPage(ListPageOut):
    items: list[TextbookOut]


class TreeNode(Schema):
    id: int
    title: str
    label_path: str
    is_leaf: bool
    external_id: str | None
    remark: str
    is_open: bool | None = None
    child_nodes: list[TreeNode] = []


TreeNode.model_rebuild()


class TextbookDetailOut(TextbookOut):
    child_nodes: list[TreeNode]


class NodeOut(Schema):
    id: int
    title: str
    label_path: str
    remark: str
    external_id: str | None
    textbook_id: int
    textbook_label: str
    stage: str
    grade: str
    subject: str
    version: str
    volume: str
    edition: str
    is_open: bool | None = None

    @staticmethod
    def from_node(n: CatalogNode) -> dict:
        b = n.textbook
        return {
            "id": n.pk, "title": n.title, "label_path": n.label_path, "remark": n.remark,
            "external_id": n.external_id, "textbook_id": b.pk, "textbook_label": b.label, "stage": b.stage,
            "grade": b.grade, "subject": b.subject, "version": b.version, "volume": b.volume, "edition": b.edition,
            "is_open": getattr(n, "is_open", None),
        }


class NodePage(ListPageOut):
    items: list[NodeOut]


class OpenNodeOut(NodeOut):
    opened_at: datetime


class OpenNodePage(ListPageOut):
    items: list[OpenNodeOut]


class Option(Schema):
    value: str
    label: str


class FacetTextbook(Schema):
    id: int
    label: str
    stage: str
    grade: str
    subject: str
    version: str
    volume: str
    edition: str


class FacetUnit(Schema):
    id: int
    title: str


class FacetLesson(Schema):
    id: int
    title: str
    label_path: str
    remark: str


class FacetsOut(Schema):
    stages: list[Option]
    subjects: list[Option]
    grades: list[Option]
    versions: list[Option]
    volumes: list[Option]
    textbooks: list[FacetTextbook]
    units: list[FacetUnit]
    lessons: list[FacetLesson]


class ImportedTextbookOut(Schema):
    id: int
    label: str
    external_id: str | None
    created: bool
    nodes_created: int
    nodes_updated: int
    nodes_total: int
    leaves: int


class ImportOut(Schema):
    detail: str
    count: int
    textbooks: list[ImportedTextbookOut]


class SelectionIn(Schema):
    """What to open or close: any of textbook ids, node ids, and textbook dimensions (all combined)."""

    textbook_ids: list[int] = []
    node_ids: list[int] = []
    stage: str = ""
    subject: str = ""
    grade: str = ""
    version: str = ""
    volume: str = ""
    edition: str = ""
    q: str = ""


class RefusalOut(Schema):
    textbook_id: int
    textbook_label: str
    reason: str
    grade: str
    count: int
    message: str


class OpenOut(Schema):
    detail: str
    opened: int
    already_open: int
    refused: list[RefusalOut]


class CloseOut(Schema):
    detail: str
    closed: int


class NodeFiltersIn(Schema):
    stage: str = ""
    subject: str = ""
    grade: str = ""
    version: str = ""
    volume: str = ""
    edition: str = ""
    q: str = ""
    textbook_id: int | None = None
    campaign_id: int | None = None
    only_open: bool = False
    page: int = 1
    cursor: str = Field("", description=CURSOR_HELP)


class FacetsIn(Schema):
    stage: str = ""
    subject: str = ""
    grade: str = ""
    version: str = ""
    volume: str = ""
    textbook_id: int | None = None
    unit_id: int | None = None
    campaign_id: int | None = None


def _filters(data) -> services.NodeFilters:
    return services.NodeFilters(
        stage=data.stage, subject=data.subject, grade=data.grade, version=data.version, volume=data.volume,
        edition=data.edition, q=data.q,
        textbook_ids=getattr(data, "textbook_ids", None) or ([data.textbook_id] if getattr(data, "textbook_id", None) else []),
        node_ids=getattr(data, "node_ids", []),
    )


def _page(qs, number, cursor=""):
    return paginate(qs, services.PAGE_SIZE, number, cursor)


def _campaign(request, campaign_id):
    return services.get_campaign(request.user, campaign_id) if campaign_id else None


# --- textbooks ---------------------------------------------------------------------------------------
@router.get("/textbooks", response={200: TextbookPage, **ERRORS},
            summary="教材列表（按学段、学科、年级、版本、册次、新旧教材、关键词筛选；给 campaign_id 时含本活动已开放数）")
def list_textbooks(request, filters: Query[NodeFiltersIn]):
    campaign = _campaign(request, filters.campaign_id)
    qs = services.search_textbooks(request.user, _filters(filters), campaign=campaign)
    page = _page(qs, filters.page, filters.cursor)
    return page_out(page, [TextbookOut.from_book(b) for b in page.object_list])


@router.get("/textbooks/{int:textbook_id}", response={200: TextbookDetailOut, **ERRORS},
            summary="教材详情与完整目录树（给 campaign_id 时每个节点含 is_open）")
def get_textbook(request, textbook_id: int, campaign_id: int | None = None):
    campaign = _campaign(request, campaign_id)
    book = services.get_textbook(request.user, textbook_id)
    return {**TextbookOut.from_book(book), "child_nodes": services.textbook_tree(book, campaign)}


# --- imports -------------------------------------------------------------------------------------------
def _import_out(result: services.ImportResult) -> dict:
    return {"detail": result.summary(), "count": len(result.textbooks), "textbooks": [
        {"id": t.textbook.pk, "label": t.textbook.label, "external_id": t.textbook.external_id, "created": t.created,
         "nodes_created": t.nodes_created, "nodes_updated": t.nodes_updated, "nodes_total": t.nodes_total,
         "leaves": t.leaves}
        for t in result.textbooks]}


@router.get("/import/template", response={200: None, **ERRORS}, summary="下载教材目录 Excel 导入模板（.xlsx）")
def import_template(request):
    services.require_importer(request.user)
    return services.excel_template()


@router.post("/import/excel", response={201: ImportOut, **ERRORS},
             summary="Excel 导入教材目录（系统管理员、省市管理员；整表全部导入或全部不导入，errors 列出每一行的问题）")
def import_excel(request, file: File[UploadedFile]):
    return 201, _import_out(services.import_excel(request.user, file))


@router.post("/import/json", response={201: ImportOut, **ERRORS},
             summary="导入平台格式的教材目录 JSON（全部导入或全部不导入，errors 指出教材和节点）",
             description=JSON_IMPORT_DOC)
def import_json(request, file: File[UploadedFile]):
    return 201, _import_out(services.import_json(request.user, file))


# --- search and picker ---------------------------------------------------------------------------------
@router.get("/nodes", response={200: NodePage, **ERRORS},
            summary="搜索可选目录节点（末级节点）；campaign_id + only_open=true 时只列本活动已开放的")
def search_nodes(request, filters: Query[NodeFiltersIn]):
    campaign = _campaign(request, filters.campaign_id)
    qs = services.search_nodes(request.user, _filters(filters), campaign=campaign,
                               only_open=filters.only_open and campaign is not None)
    page = _page(qs, filters.page, filters.cursor)
    return page_out(page, [NodeOut.from_node(n) for n in page.object_list])


@router.get("/facets", response={200: FacetsOut, **ERRORS},
            summary="级联选择器：学段 → 学科 → 年级 → 版本 → 册次 → 教材 → 单元 → 课（给 campaign_id 时只列本活动已开放的）")
def facets(request, params: Query[FacetsIn]):
    campaign = _campaign(request, params.campaign_id)
    return services.facets(request.user, stage=params.stage, subject=params.subject, grade=params.grade,
                           version=params.version, volume=params.volume, textbook_id=params.textbook_id,
                           unit_id=params.unit_id, campaign=campaign)


# --- open nodes per campaign ------------------------------------------------------------------------------
@router.get("/campaigns/{int:campaign_id}/open-nodes", response={200: OpenNodePage, **ERRORS},
            summary="本活动已开放的目录节点")
def list_open_nodes(request, campaign_id: int, page: int = 1, cursor: str = Query("", description=CURSOR_HELP)):
    campaign = services.get_campaign(request.user, campaign_id)
    p = _page(services.open_nodes_of(request.user, campaign), page, cursor)
    return page_out(p, [{**NodeOut.from_node(o.node), "is_open": True, "opened_at": o.opened_at}
                        for o in p.object_list])


@router.post("/campaigns/{int:campaign_id}/open", response={200: OpenOut, **ERRORS},
             summary="为活动开放目录节点（主办单位及上级管理员）；起始年级只开放新教材，refused 说明未开放的原因")
def open_nodes(request, campaign_id: int, data: SelectionIn):
    campaign = services.get_campaign(request.user, campaign_id)
    result = services.open_nodes(request.user, campaign, _filters(data))
    detail = "；".join([_("已开放 %(n)d 个目录节点") % {"n": result.opened}, *result.messages()])
    return {"detail": detail, "opened": result.opened, "already_open": result.already_open, "refused": [
        {"textbook_id": r.textbook_id, "textbook_label": r.textbook_label, "reason": r.reason, "grade": r.grade,
         "count": len(r.node_ids), "message": r.message} for r in result.refused]}


@router.post("/campaigns/{int:campaign_id}/close", response={200: CloseOut, **ERRORS},
             summary="关闭活动中的目录节点（主办单位及上级管理员）")
def close_nodes(request, campaign_id: int, data: SelectionIn):
    campaign = services.get_campaign(request.user, campaign_id)
    closed = services.close_nodes(request.user, campaign, _filters(data))
    return {"detail": _("已关闭 %(n)d 个目录节点") % {"n": closed}, "closed": closed}
