"""Use cases for the catalog. One function per action: permission-checked, transactional,
audited. Pages and the API both call these."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _

from audit.services import record
from campaigns.models import Campaign, CampaignStatus, Stage
from catalog import rules
from catalog.models import CatalogNode, Edition, OpenNode, Textbook
from catalog.permissions import campaigns_visible_to
from jingpinke.errors import ServiceError
from jingpinke.excel import MAX_IMPORT_BYTES, read_sheet, template_response

PAGE_SIZE = 30


# --- permission helpers ---------------------------------------------------------------------------
def require(actor, perm: str, obj=None, message: str | None = None) -> None:
    if not actor.has_perm(perm, obj):
        raise PermissionDenied(message or _("您没有权限执行此操作。"))


def require_viewer(actor) -> None:
    require(actor, "catalog.view", None, _("请先登录。"))


def require_importer(actor) -> None:
    require(actor, "catalog.import", None, _("教材目录由系统管理员和省、市教育局管理员维护，您没有导入权限。"))


def can_import(actor) -> bool:
    return actor.has_perm("catalog.import")


def can_manage(actor, campaign: Campaign | None) -> bool:
    return campaign is not None and actor.has_perm("catalog.manage_open_nodes", campaign)


def _require_manage(actor, campaign: Campaign) -> None:
    require(actor, "catalog.manage_open_nodes", campaign,
            _("只有主办单位（%(unit)s）及其上级的管理员可以开放或关闭本活动的目录节点。") % {"unit": campaign.owner.name})
    if campaign.status == CampaignStatus.CLOSED:
        raise ServiceError(_("活动“%(t)s”已结束，不能再开放或关闭目录节点。") % {"t": campaign.title})


# --- campaigns -------------------------------------------------------------------------------------
def visible_campaigns(actor):
    return campaigns_visible_to(actor).select_related("owner").order_by("-year", "title")


def get_campaign(actor, pk) -> Campaign:
    campaign = visible_campaigns(actor).filter(pk=pk).first()
    if campaign is None:
        raise Http404(_("未找到该遴选活动，或您无权查看。"))
    return campaign


# --- filters ----------------------------------------------------------------------------------------
@dataclass
class NodeFilters:
    """What a search (or a bulk open/close) selects. Textbook dimensions, a keyword, and
    optionally explicit textbooks or nodes."""

    stage: str = ""
    subject: str = ""
    grade: str = ""
    version: str = ""
    volume: str = ""
    edition: str = ""
    q: str = ""
    textbook_ids: list[int] = field(default_factory=list)
    node_ids: list[int] = field(default_factory=list)

    def __post_init__(self):
        for name in ("stage", "subject", "grade", "version", "volume", "edition", "q"):
            setattr(self, name, (getattr(self, name) or "").strip())
        if self.stage not in Stage.values:
            self.stage = ""
        if self.edition not in Edition.values:
            self.edition = ""
        self.textbook_ids = sorted({int(i) for i in self.textbook_ids or ()})
        self.node_ids = sorted({int(i) for i in self.node_ids or ()})

    def is_empty(self) -> bool:
        return not any(asdict(self).values())

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v}


def _filter_textbooks(qs, f: NodeFilters, prefix: str = ""):
    for name in ("stage", "subject", "grade", "version", "volume", "edition"):
        value = getattr(f, name)
        if value:
            qs = qs.filter(**{f"{prefix}{name}": value})
    if f.textbook_ids:
        qs = qs.filter(**{f"{prefix}pk__in": f.textbook_ids})
    return qs


def _keyword(qs, q: str):
    for term in q.split():
        qs = qs.filter(Q(title__icontains=term) | Q(label_path__icontains=term) | Q(textbook__title__icontains=term))
    return qs


def _selected_nodes(f: NodeFilters):
    """Nodes a filter selects: the given nodes (leaves or not: the rule refuses non-leaves),
    else every leaf of the matching textbooks."""
    qs = CatalogNode.objects.all()
    if f.node_ids:
        qs = qs.filter(pk__in=f.node_ids)
    else:
        qs = qs.filter(is_leaf=True)
    qs = _filter_textbooks(qs, f, prefix="textbook__")
    return _keyword(qs, f.q)


# --- queries ------------------------------------------------------------------------------------------
def search_nodes(actor, f: NodeFilters, *, campaign: Campaign | None = None, only_open: bool = False):
    """Selectable nodes (leaves) matching the filters, in textbook and tree order. With a
    campaign, each node carries ``is_open``; ``only_open`` keeps the open ones."""
    require_viewer(actor)
    qs = _selected_nodes(NodeFilters(**{**asdict(f), "node_ids": []})).select_related("textbook")
    if campaign is not None:
        opened = OpenNode.objects.filter(campaign=campaign, node=OuterRef("pk"))
        qs = qs.annotate(is_open=Exists(opened))
        if only_open:
            qs = qs.filter(is_open=True)
    return qs.order_by("textbook__rank", "textbook__subject", "textbook__version", "textbook__volume",
                       "textbook__edition", "textbook__school_system", "textbook_id", "order")


def _count_subquery(qs):
    return Coalesce(Subquery(qs.order_by().values("textbook").annotate(c=Count("pk")).values("c")[:1],
                             output_field=IntegerField()), Value(0))


def search_textbooks(actor, f: NodeFilters, *, campaign: Campaign | None = None):
    require_viewer(actor)
    qs = _filter_textbooks(Textbook.objects.all(), f)
    for term in f.q.split():
        qs = qs.filter(Q(title__icontains=term) | Q(subject__icontains=term) | Q(version__icontains=term))
    qs = qs.annotate(leaf_count=_count_subquery(CatalogNode.objects.filter(textbook=OuterRef("pk"), is_leaf=True)))
    if campaign is not None:
        qs = qs.annotate(open_count=_count_subquery(
            CatalogNode.objects.filter(textbook=OuterRef("pk"), openings__campaign=campaign)))
    return qs


def get_textbook(actor, pk) -> Textbook:
    require_viewer(actor)
    book = Textbook.objects.filter(pk=pk).first()
    if book is None:
        raise Http404(_("未找到该教材。"))
    return book


def textbook_nodes(book: Textbook, campaign: Campaign | None = None) -> list[CatalogNode]:
    """Every node of a textbook in tree order (each with ``is_open`` when a campaign is given)."""
    qs = book.nodes.order_by("order", "id")
    if campaign is not None:
        qs = qs.annotate(is_open=Exists(OpenNode.objects.filter(campaign=campaign, node=OuterRef("pk"))))
    return list(qs)


def textbook_tree(book: Textbook, campaign: Campaign | None = None) -> list[dict]:
    """The nested tree: [{"id", "title", "label_path", "is_leaf", "external_id", "remark",
    "is_open", "child_nodes": [...]}, ...]."""
    nodes = textbook_nodes(book, campaign)
    items: dict[int, dict] = {}
    roots: list[dict] = []
    for node in nodes:
        item = {
            "id": node.pk, "title": node.title, "label_path": node.label_path, "is_leaf": node.is_leaf,
            "external_id": node.external_id, "remark": node.remark,
            "is_open": getattr(node, "is_open", None), "child_nodes": [],
        }
        items[node.pk] = item
        parent = items.get(node.parent_id)
        (parent["child_nodes"] if parent else roots).append(item)
    return roots


def open_nodes_of(actor, campaign: Campaign):
    """The campaign's open nodes, in textbook and tree order."""
    require_viewer(actor)
    return (OpenNode.objects.filter(campaign=campaign).select_related("node", "node__textbook")
            .order_by("node__textbook__rank", "node__textbook__subject", "node__textbook__version",
                      "node__textbook__volume", "node__textbook__edition", "node__textbook_id", "node__order"))


FACET_LEVELS = ("stage", "subject", "grade", "version", "volume")


def facets(actor, *, stage="", subject="", grade="", version="", volume="", textbook_id=None, unit_id=None,
           campaign: Campaign | None = None) -> dict:
    """Options for a cascading picker: 学段 → 学科 → 年级 → 版本 → 册次 → 教材 → 单元 → 课.
    Each level lists what remains under the choices above it; with a campaign only what
    is open in it. Units and lessons are listed once a textbook is chosen."""
    require_viewer(actor)
    books = Textbook.objects.all()
    if campaign is not None:
        books = books.filter(Exists(OpenNode.objects.filter(campaign=campaign, node__textbook=OuterRef("pk"))))
    chosen = {"stage": stage, "subject": subject, "grade": grade, "version": version, "volume": volume}
    out: dict = {}
    stage_labels = dict(Stage.choices)
    for level in FACET_LEVELS:
        values = set(books.order_by().values_list(level, flat=True).distinct())
        if level == "stage":
            ordered = sorted(values, key=rules.stage_sort_key)
            out["stages"] = [{"value": v, "label": str(stage_labels.get(v, v))} for v in ordered]
        else:
            key = rules.grade_sort_key if level == "grade" else (lambda v: v)
            out[f"{level}s"] = [{"value": v, "label": v} for v in sorted(values, key=key) if v]
        if chosen[level]:
            books = books.filter(**{level: chosen[level]})
    book_list = list(books.order_by("rank", "subject", "version", "volume", "edition", "school_system"))
    out["textbooks"] = [
        {"id": b.pk, "label": b.label, "stage": b.stage, "grade": b.grade, "subject": b.subject,
         "version": b.version, "volume": b.volume, "edition": b.edition}
        for b in book_list
    ]
    out["units"], out["lessons"] = [], []
    book = next((b for b in book_list if textbook_id and b.pk == int(textbook_id)), None)
    if book is not None:
        nodes = textbook_nodes(book, campaign)
        parents = {n.pk: n.parent_id for n in nodes}

        def under(node, ancestor_id) -> bool:
            pk = node.parent_id
            while pk is not None:
                if pk == ancestor_id:
                    return True
                pk = parents.get(pk)
            return False

        open_ok = (lambda n: n.is_open) if campaign is not None else (lambda n: True)
        leaves = [n for n in nodes if n.is_leaf and open_ok(n)]
        out["units"] = [
            {"id": n.pk, "title": n.title}
            for n in nodes if n.parent_id is None and not n.is_leaf and any(under(leaf, n.pk) for leaf in leaves)
        ]
        if unit_id:
            leaves = [n for n in leaves if under(n, int(unit_id))]
        out["lessons"] = [{"id": n.pk, "title": n.title, "label_path": n.label_path, "remark": n.remark}
                          for n in leaves]
    return out


def filter_choices(actor) -> dict:
    """The values each filter of the search page offers (one query per dimension)."""
    require_viewer(actor)
    out = {}
    stage_labels = dict(Stage.choices)
    for level in FACET_LEVELS:
        values = set(Textbook.objects.order_by().values_list(level, flat=True).distinct())
        if level == "stage":
            out[level] = [(v, str(stage_labels.get(v, v))) for v in sorted(values, key=rules.stage_sort_key)]
        else:
            key = rules.grade_sort_key if level == "grade" else (lambda v: v)
            out[level] = [(v, v) for v in sorted(values, key=key) if v]
    return out


# --- imports -----------------------------------------------------------------------------------------
@dataclass
class TextbookImport:
    textbook: Textbook
    created: bool
    nodes_created: int
    nodes_updated: int
    nodes_total: int
    leaves: int


@dataclass
class ImportResult:
    source: str
    textbooks: list[TextbookImport]

    @property
    def nodes_created(self) -> int:
        return sum(t.nodes_created for t in self.textbooks)

    @property
    def nodes_updated(self) -> int:
        return sum(t.nodes_updated for t in self.textbooks)

    def summary(self) -> str:
        new = sum(1 for t in self.textbooks if t.created)
        return _("已导入 %(n)d 本教材（新建 %(new)d 本）：新增节点 %(c)d 个，更新节点 %(u)d 个。") % {
            "n": len(self.textbooks), "new": new, "c": self.nodes_created, "u": self.nodes_updated}


def excel_template():
    return template_response(
        _("教材目录导入模板.xlsx"),
        rules.EXCEL_COLUMNS,
        rules.EXCEL_REQUIRED,
        examples=[
            ["小学", "", "一年级", "语文", "统编版", "上册", "新教材", "第五单元", "1 秋天", "", "", ""],
            ["小学", "", "一年级", "语文", "统编版", "上册", "新教材", "第五单元", "2 江南", "", "", ""],
            ["初中", "", "八年级", "物理", "人教版", "上册", "旧教材", "第一章 机械运动", "第4节 测量平均速度", "", "",
             "含实验：测量物体运动的平均速度"],
            ["特殊教育", "培智学校", "一年级", "生活适应", "人教版", "上册", "新教材", "第一单元 我的学校", "1 我上学了",
             "", "", ""],
        ],
        notes=[
            _("每一行是一个可选的目录节点（课）。同一本教材（学段、学制、年级、学科、版本、册次、新旧教材都相同）的行合成一本教材；"
              "同一“单元”的行合成一个单元，顺序与表中一致。"),
            _("学段：小学、初中、高中或特殊教育。学制：六三学制可不填；五四学制填“五四学制”；特殊教育填 培智学校、盲校或聋校。"),
            _("年级：一年级 至 九年级；高中填 高一、高二、高三 或不填。新旧教材：新教材 或 旧教材。"),
            _("“单元”可不填，此时“课”直接挂在教材下面。平台教材ID、平台节点ID 是国家中小学智慧教育平台上的 ID，可不填。"),
            _("再次导入同一本教材时：有平台节点ID 的按 ID 更新标题，没有 ID 的按“单元 › 课”匹配，新出现的节点会被添加，原有节点不会被删除。"),
        ],
        choices={"学段": list(rules.STAGE_NAMES), "学制": list(rules.SYSTEM_CHOICES), "新旧教材": ["新教材", "旧教材"]},
    )


def import_excel(actor, upload) -> ImportResult:
    """Textbooks and their 单元 › 课 trees from the template sheet; all or nothing."""
    require_importer(actor)
    rows = read_sheet(upload, rules.EXCEL_REQUIRED, rules.EXCEL_OPTIONAL)
    specs, errors = rules.parse_excel_rows((row.number, row.values) for row in rows)
    _raise_errors(errors, _("教材目录"))
    return _apply(actor, specs, "excel")


def import_json(actor, upload) -> ImportResult:
    """Textbooks from the national platform's nested JSON; all or nothing."""
    require_importer(actor)
    data = _read_json(upload)
    specs, errors = rules.parse_platform_json(data)
    _raise_errors(errors, _("教材目录"))
    return _apply(actor, specs, "json")


def _read_json(upload):
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_IMPORT_BYTES:
        raise ServiceError(_("文件太大（超过 20 MB）。请把教材分成几个文件分别导入。"))
    raw = upload.read()
    if not raw:
        raise ServiceError(_("上传的文件是空的，请选择教材目录的 JSON 文件。"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ServiceError(_("文件不是 UTF-8 编码的 JSON 文本。请用平台下载的原始文件，或在编辑器中“另存为 UTF-8”。")) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ServiceError(
            _("文件不是有效的 JSON：第 %(line)d 行第 %(col)d 列附近有语法错误。请检查括号、引号是否成对，逗号是否多余或缺少。")
            % {"line": exc.lineno, "col": exc.colno}
        ) from None


def _raise_errors(errors: list[dict], what: str) -> None:
    if errors:
        places = sorted({str(e["row"]) for e in errors})
        raise ServiceError(
            _("%(what)s未导入：共有 %(n)d 处有问题，请按下面的说明修改后重新上传整个文件。已有的数据没有任何改动。")
            % {"what": what, "n": len(places)},
            errors=errors,
        )


@transaction.atomic
def _apply(actor, specs: list[rules.TextbookSpec], source: str) -> ImportResult:
    errors: list[dict] = []
    results: list[TextbookImport] = []
    for spec in specs:
        book, created = _match_textbook(spec, errors)
        if book is None:
            continue
        before = None if created else {"title": book.title, "external_id": book.external_id,
                                       "nodes": book.nodes.count()}
        outcome = _merge_nodes(book, spec, errors)
        if outcome is None:
            continue
        n_created, n_updated, total, leaves = outcome
        results.append(TextbookImport(book, created, n_created, n_updated, total, leaves))
        if created or n_created or n_updated or (before["title"], before["external_id"]) != (book.title, book.external_id):
            record(actor, "catalog.textbook.import", book, before=before, after={
                "source": source, "title": book.title, "external_id": book.external_id,
                "nodes": total, "nodes_created": n_created, "nodes_updated": n_updated})
    if errors:
        transaction.set_rollback(True)
        _raise_errors(errors, _("教材目录"))
    return ImportResult(source, results)


def _match_textbook(spec: rules.TextbookSpec, errors: list[dict]) -> tuple[Textbook | None, bool]:
    dims = dict(zip(("stage", "school_system", "grade", "subject", "version", "volume", "edition"),
                    spec.dimensions, strict=True))
    by_dims = Textbook.objects.filter(**dims).first()
    by_ext = Textbook.objects.filter(external_id=spec.external_id).first() if spec.external_id else None
    if by_ext is not None and by_ext != by_dims:
        errors.append(rules.problem(spec.where, _("平台教材ID"), _(
            "平台教材ID %(id)s 已属于“%(book)s”，与本次填写的学段、年级、学科、版本、册次或新旧教材不一致。"
            "请核对后再导入。") % {"id": spec.external_id, "book": by_ext.label}))
        return None, False
    book = by_ext or by_dims
    if book is None:
        book = Textbook(**dims, title=spec.title, external_id=spec.external_id or None)
        book.save()
        return book, True
    if spec.external_id and book.external_id and book.external_id != spec.external_id:
        errors.append(rules.problem(spec.where, _("平台教材ID"), _(
            "“%(book)s”已有平台教材ID %(old)s，本次是 %(new)s。请核对后再导入。") % {
            "book": book.label, "old": book.external_id, "new": spec.external_id}))
        return None, False
    changed = []
    if spec.external_id and not book.external_id:
        book.external_id = spec.external_id
        changed.append("external_id")
    if spec.title and spec.title != book.title:
        book.title = spec.title
        changed.append("title")
    if changed:
        book.save(update_fields=[*changed, "updated_at"])
    return book, False


def _merge_nodes(book: Textbook, spec: rules.TextbookSpec, errors: list[dict]):
    """Merge the imported tree into the stored one: match by platform id, else by title
    under the same parent; update titles, add what is new, keep what the file leaves out.
    Returns (created, updated, total, leaves), or None after adding errors."""
    existing = list(book.nodes.all())
    before = {n.pk: (n.parent_id, n.title, n.remark, n.external_id, n.order, n.depth, n.label_path, n.is_leaf)
              for n in existing}
    by_ext = {n.external_id: n for n in existing if n.external_id}
    by_parent_title: dict[tuple, CatalogNode] = {(n.parent_id, n.title): n for n in existing}
    claimed: set[int] = set()
    position: dict[int, int] = {}  # node pk → index among its imported siblings
    created = 0
    start_errors = len(errors)

    def place(specs: list[rules.NodeSpec], parent: CatalogNode | None):
        nonlocal created
        for index, item in enumerate(specs):
            node = by_ext.get(item.external_id) if item.external_id else None
            if node is None:
                candidate = by_parent_title.get((parent.pk if parent else None, item.title))
                if candidate is not None and candidate.pk not in claimed and (
                        not candidate.external_id or not item.external_id):
                    node = candidate
            if node is not None and node.pk in claimed:
                errors.append(rules.problem(item.where, _("节点"), _("“%(t)s”在文件中出现了两次。") % {"t": item.title}))
                continue
            if node is None:
                node = CatalogNode(textbook=book, parent=parent, title=item.title, remark=item.remark,
                                   external_id=item.external_id or None)
                node.save()
                created += 1
            else:
                node.parent = parent
                node.title = item.title
                if item.remark:
                    node.remark = item.remark
                if item.external_id:
                    node.external_id = item.external_id
            claimed.add(node.pk)
            position[node.pk] = index
            nodes_by_pk[node.pk] = node
            place(item.children, node)

    nodes_by_pk: dict[int, CatalogNode] = {n.pk: n for n in existing}
    place(spec.children, None)
    if len(errors) > start_errors:
        return None
    # Renumber the whole tree in preorder; what the file left out follows what it listed.
    children: dict[int | None, list[CatalogNode]] = {}
    for node in nodes_by_pk.values():
        children.setdefault(node.parent_id, []).append(node)
    old_order = {pk: values[4] for pk, values in before.items()}
    counter = 0

    def walk(parent_id, depth, titles):
        nonlocal counter
        for node in _sibling_order(children.get(parent_id, []), position, old_order):
            counter += 1
            node.order = counter
            node.depth = depth
            path = [*titles, node.title]
            node.label_path = rules.label_path(path)
            node.is_leaf = not children.get(node.pk)
            if len(node.label_path) > rules.MAX_LABEL_PATH:
                errors.append(rules.problem(spec.where, _("节点"), _("目录路径“%(p)s”太长（最多 %(n)d 字）。") % {
                    "p": node.label_path[:60] + "…", "n": rules.MAX_LABEL_PATH}))
            walk(node.pk, depth + 1, path)

    walk(None, 0, [])
    became_parents = [pk for pk, values in before.items() if values[7] and not nodes_by_pk[pk].is_leaf]
    if became_parents:
        opened = CatalogNode.objects.filter(pk__in=became_parents, openings__isnull=False).distinct()
        for node in opened:
            errors.append(rules.problem(spec.where, _("节点"), _(
                "“%(p)s”已在遴选活动中开放，不能在它下面再添加子节点。请先在活动中关闭它。") % {"p": nodes_by_pk[node.pk].label_path}))
    if len(errors) > start_errors:
        return None
    updated = 0
    dirty = []
    for node in nodes_by_pk.values():
        now = (node.parent_id, node.title, node.remark, node.external_id, node.order, node.depth, node.label_path,
               node.is_leaf)
        old = before.get(node.pk)
        if old is None or old != now:
            dirty.append(node)
        if old is not None and old[:4] != now[:4]:
            updated += 1
    CatalogNode.objects.bulk_update(
        dirty, ["parent", "title", "remark", "external_id", "order", "depth", "label_path", "is_leaf"], batch_size=500)
    total = len(nodes_by_pk)
    leaves = sum(1 for n in nodes_by_pk.values() if n.is_leaf)
    return created, updated, total, leaves


def _sibling_order(kids: list[CatalogNode], position: dict[int, int], old_order: dict[int, int]) -> list[CatalogNode]:
    """Siblings after a merge. When the file lists them all, its order wins. Otherwise
    stored nodes keep their order and each new node follows the node listed before it in
    the file (or goes last)."""
    listed = sorted((n for n in kids if n.pk in position), key=lambda n: position[n.pk])
    if len(listed) == len(kids):
        return listed
    ordered = sorted((n for n in kids if n.pk in old_order), key=lambda n: (old_order[n.pk], n.pk))
    for index, node in enumerate(listed):
        if node.pk in old_order:
            continue
        previous = listed[index - 1] if index else None
        at = ordered.index(previous) + 1 if previous is not None and previous in ordered else len(ordered)
        ordered.insert(at, node)
    return ordered


# --- opening nodes in a campaign ---------------------------------------------------------------------
@dataclass
class OpenResult:
    opened: int
    already_open: int
    refused: list[rules.Refusal]

    def messages(self) -> list[str]:
        return [r.message for r in self.refused]


def _require_selection(f: NodeFilters) -> None:
    if f.is_empty():
        raise ServiceError(_("请至少选择一个条件：教材、目录节点、学段、学科、年级、版本或册次。"))


@transaction.atomic
def open_nodes(actor, campaign: Campaign, f: NodeFilters) -> OpenResult:
    """Open the selected leaves for declarations in the campaign. In the campaign's
    starting grades only new-edition textbooks open; the rest are refused with a reason."""
    _require_manage(actor, campaign)
    _require_selection(f)
    nodes = list(_selected_nodes(f).select_related("textbook"))
    if not nodes:
        raise ServiceError(_("没有找到符合条件的目录节点，请检查筛选条件。"))
    facts = [rules.NodeFacts(n.pk, n.is_leaf, n.textbook.stage, n.textbook.grade, n.textbook.edition, n.textbook_id, n.textbook.label)
             for n in nodes]
    decision = rules.decide_opening(facts, campaign.new_textbook_grades)
    already = set(OpenNode.objects.filter(campaign=campaign).values_list("node_id", flat=True))
    new_ids = [pk for pk in decision.allowed if pk not in already]
    OpenNode.objects.bulk_create([OpenNode(campaign=campaign, node_id=pk, opened_by=actor) for pk in new_ids],
                                 ignore_conflicts=True, batch_size=500)
    if new_ids:
        record(actor, "catalog.nodes.open", campaign, unit=campaign.owner, after={
            "filters": f.as_dict(), "opened": len(new_ids), "node_ids": new_ids,
            "refused": [r.message for r in decision.refused]})
    return OpenResult(len(new_ids), len(decision.allowed) - len(new_ids), decision.refused)


@transaction.atomic
def close_nodes(actor, campaign: Campaign, f: NodeFilters) -> int:
    """Close the selected nodes in the campaign. Returns how many were open."""
    _require_manage(actor, campaign)
    _require_selection(f)
    openings = OpenNode.objects.filter(campaign=campaign, node__in=_selected_nodes(f))
    ids = sorted(openings.values_list("node_id", flat=True))
    if ids:
        OpenNode.objects.filter(campaign=campaign, node_id__in=ids).delete()
        record(actor, "catalog.nodes.close", campaign, unit=campaign.owner, before={"node_ids": ids},
               after={"filters": f.as_dict(), "closed": len(ids)})
    return len(ids)
