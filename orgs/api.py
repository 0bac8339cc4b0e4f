"""Units, people, memberships and their Excel imports. Thin: every endpoint calls orgs.services."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpResponse
from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile

from jingpinke.errors import ServiceError
from jingpinke.paging import paginate
from jingpinke.paging_api import CURSOR_HELP, ListPageOut, page_out
from orgs import services
from orgs.models import Membership, Unit, User

router = Router(tags=["组织与用户"])


# --- schemas -----------------------------------------------------------------------------------
class ErrorOut(Schema):
    detail: str
    errors: list = []


class UnitOut(Schema):
    id: int
    name: str
    code: str
    kind: str
    kind_label: str
    parent_id: int | None
    parent_code: str | None
    owner_label: str
    depth: int
    sort_order: int
    address: str
    is_active: bool

    @staticmethod
    def from_unit(u: Unit) -> dict:
        return {
            "id": u.pk, "name": u.name, "code": u.code, "kind": u.kind, "kind_label": str(u.get_kind_display()),
            "parent_id": u.parent_id, "parent_code": u.parent.code if u.parent_id else None,
            "owner_label": u.owner_label, "depth": u.depth, "sort_order": u.sort_order, "address": u.address,
            "is_active": u.is_active,
        }


class UnitPage(ListPageOut):
    items: list[UnitOut]


class MemberOut(Schema):
    membership_id: int
    user_id: int
    real_name: str
    username: str
    role: str
    title: str
    subject: str


class UnitDetailOut(UnitOut):
    path_names: list[str]
    children: list[UnitOut]
    members: list[MemberOut]


class UnitIn(Schema):
    parent_id: int | None = None
    name: str
    code: str
    kind: str
    sort_order: int = 0
    address: str = ""


class UnitPatch(Schema):
    name: str | None = None
    code: str | None = None
    sort_order: int | None = None
    address: str | None = None
    is_active: bool | None = None
    parent_id: int | None = None


class MembershipOut(Schema):
    id: int
    unit_id: int
    unit_name: str
    unit_code: str
    role: str
    role_label: str
    title: str
    subject: str

    @staticmethod
    def from_membership(m: Membership) -> dict:
        return {"id": m.pk, "unit_id": m.unit_id, "unit_name": m.unit.name, "unit_code": m.unit.code,
                "role": m.role_key, "role_label": m.role_label, "title": m.title, "subject": m.subject}


class UserOut(Schema):
    id: int
    username: str
    real_name: str
    mobile: str | None
    is_active: bool
    must_change_password: bool
    last_login: datetime | None
    memberships: list[MembershipOut]


class UserDetailOut(UserOut):
    can_change: bool
    locked: bool


class UserPage(ListPageOut):
    items: list[UserOut]


ROLE_HELP = ("角色：teacher、expert、school_admin、county_admin、city_admin、province_admin（管理员角色须与单位类型一致；"
             "admin 为别名，表示该单位的管理员）")


class UserIn(Schema):
    unit_id: int
    role: str = Field(..., description=ROLE_HELP)
    real_name: str
    mobile: str
    username: str = ""
    title: str = ""
    subject: str = ""
    password: str = ""


class UserCreated(UserOut):
    password: str


class UserPatch(Schema):
    real_name: str | None = None
    mobile: str | None = None
    is_active: bool | None = None


class MembershipIn(Schema):
    unit_id: int
    role: str = Field(..., description=ROLE_HELP)
    title: str = ""
    subject: str = ""


class PasswordOut(Schema):
    password: str
    must_change_password: bool


class UnlockOut(Schema):
    attempts_cleared: int


class UnitImportOut(Schema):
    count: int
    units: list[UnitOut]


class ImportedUserOut(Schema):
    id: int
    username: str
    real_name: str
    mobile: str
    unit_code: str
    role: str
    initial_password: str  # "" when the sheet gave the password


class UserImportOut(Schema):
    count: int
    users: list[ImportedUserOut]


class UnitFilters(Schema):
    q: str = ""
    kind: str = ""
    parent_id: int | None = None
    active: str = ""
    page: int = 1
    cursor: str = Field("", description=CURSOR_HELP)


class UserFilters(Schema):
    q: str = ""
    unit_id: int | None = None
    role: str = Field("", description=ROLE_HELP)
    active: str = ""
    page: int = 1
    cursor: str = Field("", description=CURSOR_HELP)


def _user_out(u: User, memberships=None) -> dict:
    ms = memberships if memberships is not None else u.memberships.all()
    return {"id": u.pk, "username": u.username, "real_name": u.real_name, "mobile": u.mobile, "is_active": u.is_active,
            "must_change_password": u.must_change_password, "last_login": u.last_login,
            "memberships": [MembershipOut.from_membership(m) for m in ms]}


def _visible_unit_or_error(actor, pk, message):
    unit = services.visible_units(actor).filter(pk=pk).first()
    if unit is None:
        raise ServiceError(message)
    return unit


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


# --- units -------------------------------------------------------------------------------------
@router.get("/units", response={200: UnitPage, **ERRORS}, summary="单位列表（本人管理的单位及其下级）")
def list_units(request, filters: Query[UnitFilters]):
    parent = services.get_unit(request.user, filters.parent_id) if filters.parent_id else None
    qs = services.search_units(request.user, q=filters.q.strip(), kind=filters.kind, parent=parent,
                               active=filters.active)
    page = paginate(qs, services.PAGE_SIZE, filters.page, filters.cursor)
    return page_out(page, [UnitOut.from_unit(u) for u in page.object_list])


@router.get("/units/import/template", response={200: None, **ERRORS}, summary="下载单位导入模板（.xlsx）")
def unit_import_template(request):
    services.require_admin(request.user)
    return services.unit_template()


@router.post("/units/import", response={201: UnitImportOut, **ERRORS},
             summary="Excel 导入单位（整表全部导入或全部不导入；出错时 errors 列出每一行的问题）")
def unit_import(request, file: File[UploadedFile]):
    created = services.import_units(request.user, file)
    return 201, {"count": len(created), "units": [UnitOut.from_unit(u) for u in created]}


@router.get("/units/{int:unit_id}", response={200: UnitDetailOut, **ERRORS}, summary="单位详情：路径、下级单位、本单位人员")
def get_unit(request, unit_id: int):
    unit = services.get_unit(request.user, unit_id)
    children = services.search_units(request.user, parent=unit)
    members = unit.memberships.select_related("user").order_by("role", "user__real_name")
    return UnitOut.from_unit(unit) | {
        "path_names": [a.name for a in unit.ancestors(include_self=True)],
        "children": [UnitOut.from_unit(c) for c in children],
        "members": [{"membership_id": m.pk, "user_id": m.user_id, "real_name": m.user.real_name,
                     "username": m.user.username, "role": m.role_key, "title": m.title, "subject": m.subject}
                    for m in members],
    }


@router.post("/units", response={201: UnitOut, **ERRORS}, summary="新建单位（在本人管理的单位下面）")
def create_unit(request, data: UnitIn):
    parent = services.get_unit(request.user, data.parent_id) if data.parent_id else None
    unit = services.create_unit(request.user, parent=parent, name=data.name, code=data.code, kind=data.kind,
                                sort_order=data.sort_order, address=data.address)
    return 201, UnitOut.from_unit(unit)


@router.patch("/units/{int:unit_id}", response={200: UnitOut, **ERRORS},
              summary="修改单位（名称、代码、排序、地址；上级单位和启用状态只能由上级管理员修改）")
def update_unit(request, unit_id: int, data: UnitPatch):
    unit = services.get_unit(request.user, unit_id)
    changes = data.dict(exclude_unset=True)
    if "parent_id" in changes:
        pid = changes.pop("parent_id")
        changes["parent"] = (
            _visible_unit_or_error(request.user, pid, "上级单位不存在，或不在您管理的范围内。") if pid else None
        )
    changes = {k: v for k, v in changes.items() if v is not None or k == "parent"}
    unit = services.update_unit(request.user, unit, **changes)
    return UnitOut.from_unit(unit)


# --- people ------------------------------------------------------------------------------------
@router.get("/users", response={200: UserPage, **ERRORS}, summary="用户列表（在本人管理范围内有身份的人员）")
def list_users(request, filters: Query[UserFilters]):
    unit = services.get_unit(request.user, filters.unit_id) if filters.unit_id else None
    qs = services.search_users(request.user, q=filters.q.strip(), unit=unit, role=filters.role,
                               active=filters.active)
    page = paginate(qs, services.PAGE_SIZE, filters.page, filters.cursor)
    return page_out(page, [_user_out(u) for u in page.object_list])


@router.get("/users/import/template", response={200: None, **ERRORS}, summary="下载用户导入模板（.xlsx）")
def user_import_template(request):
    services.require_admin(request.user)
    return services.user_template()


@router.post("/users/import", response={201: UserImportOut, **ERRORS},
             summary="Excel 导入用户（整表全部导入或全部不导入）；返回的初始密码只出现这一次，"
                     "加 ?format=xlsx 直接下载初始密码表")
def user_import(request, file: File[UploadedFile], format: str = ""):
    imported = services.import_users(request.user, file)
    if format == "xlsx":
        from urllib.parse import quote

        response = HttpResponse(services.passwords_workbook(imported), content_type=services.PASSWORDS_CONTENT_TYPE,
                                status=201)
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote('初始密码.xlsx')}"
        return response
    return 201, {"count": len(imported), "users": [
        {"id": i.user.pk, "username": i.user.username, "real_name": i.user.real_name, "mobile": i.user.mobile,
         "unit_code": i.membership.unit.code, "role": i.membership.role_key, "initial_password": i.password}
        for i in imported]}


@router.get("/users/{int:user_id}", response={200: UserDetailOut, **ERRORS}, summary="用户详情")
def get_user(request, user_id: int):
    user = services.get_user(request.user, user_id)
    return _user_out(user, services.memberships_of(user)) | {
        "can_change": request.user.has_perm("orgs.change_user", user), "locked": services.is_locked(user)}


@router.post("/users", response={201: UserCreated, **ERRORS},
             summary="新建用户并指定单位与角色；未给初始密码时生成一个，只在本次返回")
def create_user(request, data: UserIn):
    unit = services.get_unit(request.user, data.unit_id)
    user, password = services.create_user(request.user, unit=unit, role=data.role, real_name=data.real_name,
                                          mobile=data.mobile, username=data.username, title=data.title,
                                          subject=data.subject, password=data.password)
    return 201, _user_out(user, services.memberships_of(user)) | {"password": "" if data.password else password}


@router.patch("/users/{int:user_id}", response={200: UserOut, **ERRORS}, summary="修改用户（姓名、手机号、启用）")
def update_user(request, user_id: int, data: UserPatch):
    user = services.get_user(request.user, user_id)
    changes = data.dict(exclude_unset=True)
    if changes.get("real_name") is None:
        changes.pop("real_name", None)
    if changes.get("is_active") is None:
        changes.pop("is_active", None)
    user = services.update_user(request.user, user, **changes)
    return _user_out(user, services.memberships_of(user))


@router.post("/users/{int:user_id}/reset-password", response={200: PasswordOut, **ERRORS},
             summary="重置密码：生成临时密码（只返回这一次），本人下次登录须修改")
def reset_password(request, user_id: int):
    user = services.get_user(request.user, user_id)
    password = services.reset_password(request.user, user)
    return {"password": password, "must_change_password": True}


@router.post("/users/{int:user_id}/unlock", response={200: UnlockOut, **ERRORS}, summary="解除登录锁定")
def unlock_user(request, user_id: int):
    user = services.get_user(request.user, user_id)
    return {"attempts_cleared": services.unlock_user(request.user, user)}


@router.post("/users/{int:user_id}/memberships", response={201: MembershipOut, **ERRORS},
             summary="给用户添加身份（本人管理的单位中的 teacher、expert 或与单位类型一致的管理员角色，如 school_admin）")
def add_membership(request, user_id: int, data: MembershipIn):
    user = services.get_user(request.user, user_id)
    unit = services.get_unit(request.user, data.unit_id)
    m = services.add_membership(request.user, user, unit=unit, role=data.role, title=data.title, subject=data.subject)
    return 201, MembershipOut.from_membership(m)


@router.delete("/users/{int:user_id}/memberships/{int:membership_id}", response={204: None, **ERRORS},
               summary="删除用户的一个身份（不能删除最后一个）")
def remove_membership(request, user_id: int, membership_id: int):
    user = services.get_user(request.user, user_id)
    membership = services.get_membership(request.user, user, membership_id)
    services.remove_membership(request.user, membership)
    return 204, None
