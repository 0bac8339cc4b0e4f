"""Use cases for units and people. One function per action: permission-checked,
transactional, audited. Pages and the API both call these."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from jingpinke.errors import ServiceError
from jingpinke.excel import XLSX_CONTENT_TYPE, RowErrors, read_sheet, template_response
from orgs import rules as org_rules
from orgs.models import ROLE_KEYS, Membership, Role, Unit, UnitKind, User
from orgs.permissions import users_cover_every_unit, users_visible_to

UNSET = object()
PAGE_SIZE = 30


# --- snapshots for the audit log -------------------------------------------------------------
def unit_snapshot(unit: Unit) -> dict:
    return {
        "name": unit.name,
        "code": unit.code,
        "kind": unit.kind,
        "parent": unit.parent.code if unit.parent_id else None,
        "sort_order": unit.sort_order,
        "is_active": unit.is_active,
    }


def user_snapshot(user: User) -> dict:
    return {"username": user.username, "real_name": user.real_name, "mobile": user.mobile, "is_active": user.is_active}


def membership_snapshot(m: Membership) -> dict:
    return {"user": m.user.username, "unit": m.unit.code, "role": m.role, "title": m.title, "subject": m.subject}


# --- permission helpers ---------------------------------------------------------------------
def require(actor, perm: str, obj=None, message: str | None = None) -> None:
    if not actor.has_perm(perm, obj):
        raise PermissionDenied(message or _("您没有权限执行此操作。"))


def require_admin(actor) -> None:
    require(actor, "orgs.manage", None, _("只有学校、教育局或系统管理员可以管理单位和用户。"))


# --- queries (every list, detail and export starts here) ------------------------------------
def visible_units(actor):
    return Unit.objects.visible_to(actor)


def search_units(actor, *, q: str = "", kind: str = "", parent: Unit | None = None, active: str = ""):
    require_admin(actor)
    qs = visible_units(actor).select_related("parent").annotate(member_count=Count("memberships"))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q))
    if kind:
        qs = qs.filter(kind=kind)
    if parent is not None:
        qs = qs.filter(parent=parent)
    if active in ("1", "0"):
        qs = qs.filter(is_active=active == "1")
    return qs.order_by("path")


def get_unit(actor, pk) -> Unit:
    """A unit the actor may see, else 404."""
    require_admin(actor)
    unit = visible_units(actor).select_related("parent").filter(pk=pk).first()
    if unit is None:
        raise Http404(_("未找到该单位，或它不在您管理的范围内。"))
    require(actor, "orgs.view_unit", unit)
    return unit


def visible_users(actor):
    return users_visible_to(actor)


def search_users(actor, *, q: str = "", unit: Unit | None = None, role: str = "", active: str = ""):
    require_admin(actor)
    if unit is None and not role:
        qs = visible_users(actor)
    else:
        # A membership in the unit's subtree (else in the actor's), with the role: one semi-join
        # instead of the scope's and this one's, read by orgs_membership_unit_role_user.
        if unit is not None:
            memberships = Membership.objects.filter(unit__in=Unit.objects.subtree(unit))
        elif users_cover_every_unit(actor):
            memberships = Membership.objects.all()
        else:
            memberships = Membership.objects.filter(unit__in=visible_units(actor))
        if role:
            wanted = org_rules.role_filter(role)
            if wanted is None:
                raise ServiceError(_("角色“%(key)s”无法识别，请填写：%(keys)s。")
                                   % {"key": role, "keys": org_rules.role_choices_text()})
            memberships = memberships.filter(role=wanted[0])
            if wanted[1]:
                memberships = memberships.filter(unit__kind=wanted[1])
        if unit is None and users_cover_every_unit(actor):
            # no subquery of units to re-run per person: EXISTS, which SQLite probes per person
            # (IN would first copy every teacher's membership into a temporary index)
            qs = User.objects.filter(Exists(memberships.filter(user=OuterRef("pk"))))
        else:
            qs = User.objects.filter(pk__in=memberships.values("user_id"))
        # Within the actor's units a membership there is what makes a person visible: the scope's
        # own semi-join is implied (a unit from elsewhere keeps it).
        if unit is not None and not actor.administers(unit):
            qs = visible_users(actor) & qs
    if q:
        qs = qs.filter(Q(real_name__icontains=q) | Q(username__icontains=q) | Q(mobile__icontains=q))
    if active in ("1", "0"):
        qs = qs.filter(is_active=active == "1")
    return qs.prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("unit", "unit__parent").order_by("unit__path"))
    ).order_by("real_name", "username")


def get_user(actor, pk) -> User:
    """A person the actor may see, else 404."""
    require_admin(actor)
    user = visible_users(actor).filter(pk=pk).first()
    if user is None:
        raise Http404(_("未找到该用户，或他不在您管理的范围内。"))
    require(actor, "orgs.view_user", user)
    return user


def get_membership(actor, user: User, pk) -> Membership:
    m = user.memberships.select_related("unit", "user").filter(pk=pk).first()
    if m is None or not actor.administers(m.unit):
        raise Http404(_("未找到该身份，或它不在您管理的范围内。"))
    return m


def memberships_of(user: User):
    return user.memberships.select_related("unit", "unit__parent").order_by("unit__path", "role")


def parent_choices(actor, unit: Unit):
    """Units the actor may move ``unit`` under."""
    return (
        visible_units(actor)
        .filter(kind__in=org_rules.PARENT_KINDS[unit.kind])
        .exclude(path__startswith=unit.path)
        .order_by("path")
    )


# --- units -------------------------------------------------------------------------------------
def _check_unit_fields(name: str, code: str, parent: Unit | None, exclude_pk=None) -> None:
    if not name:
        raise ServiceError(_("请填写单位名称。"))
    if not code:
        raise ServiceError(_("请填写单位代码（全局唯一，例如 440802001）。"))
    clash = Unit.objects.filter(code=code).exclude(pk=exclude_pk).first()
    if clash is not None:
        raise ServiceError(_("单位代码 %(code)s 已被“%(name)s”使用，请换一个代码。") % {"code": code, "name": clash.name})
    if Unit.objects.filter(parent=parent, name=name).exclude(pk=exclude_pk).exists():
        raise ServiceError(_("同一上级单位下已有名为“%(name)s”的单位，请换一个名称。") % {"name": name})


@transaction.atomic
def create_unit(actor, *, parent: Unit | None, name: str, code: str, kind: str, sort_order: int = 0,
                address: str = "") -> Unit:
    require_admin(actor)
    if parent is None:
        if not actor.is_superuser:
            raise PermissionDenied(_("只有系统管理员可以创建省级单位。"))
    else:
        require(actor, "orgs.add_child_unit", parent, _("您只能在自己管理的单位下面创建下级单位。"))
    name, code = (name or "").strip(), (code or "").strip()
    if kind not in UnitKind.values:
        raise ServiceError(_("请选择类型：省、市、县（市、区）或学校。"))
    parent_kind = parent.kind if parent else None
    if not org_rules.kind_fits(kind, parent_kind):
        raise ServiceError(org_rules.kind_mismatch_message(kind, parent_kind))
    if parent is not None and not parent.is_active:
        raise ServiceError(_("上级单位“%(name)s”已停用，不能在它下面创建单位。") % {"name": parent.name})
    _check_unit_fields(name, code, parent)
    unit = Unit.objects.create(name=name, code=code, kind=kind, parent=parent, sort_order=sort_order or 0,
                               address=(address or "").strip())
    record(actor, "orgs.unit.create", unit, after=unit_snapshot(unit))
    return unit


@transaction.atomic
def update_unit(actor, unit: Unit, *, name=UNSET, code=UNSET, sort_order=UNSET, address=UNSET,
                is_active=UNSET, parent=UNSET) -> Unit:
    require_admin(actor)
    require(actor, "orgs.change_unit", unit, _("您只能修改自己管理的单位。"))
    unit = Unit.objects.select_for_update(of=("self",)).select_related("parent").get(pk=unit.pk)
    before = unit_snapshot(unit)
    moving = parent is not UNSET and (parent.pk if parent else None) != unit.parent_id
    switching = is_active is not UNSET and bool(is_active) != unit.is_active
    if (moving or switching) and not actor.has_perm("orgs.move_unit", unit):
        raise PermissionDenied(
            _("您不能修改自己所在最上级单位的上级单位或启用状态，请联系上级单位的管理员。")
        )
    if moving:
        if parent is None:
            if unit.kind != UnitKind.PROVINCE:
                raise ServiceError(org_rules.kind_mismatch_message(unit.kind, None))
        else:
            if not actor.administers(parent):
                raise PermissionDenied(_("只能把单位移到您管理的单位下面。"))
            if parent.is_within(unit):
                raise ServiceError(_("不能把单位移到它自己或它的下级单位下面。"))
            if not org_rules.kind_fits(unit.kind, parent.kind):
                raise ServiceError(org_rules.kind_mismatch_message(unit.kind, parent.kind))
        unit.parent = parent
    if name is not UNSET:
        unit.name = (name or "").strip()
    if code is not UNSET:
        unit.code = (code or "").strip()
    if sort_order is not UNSET:
        unit.sort_order = sort_order or 0
    if address is not UNSET:
        unit.address = (address or "").strip()
    if switching:
        unit.is_active = bool(is_active)
    _check_unit_fields(unit.name, unit.code, unit.parent, exclude_pk=unit.pk)
    unit.save()
    after = unit_snapshot(unit)
    if after != before:
        record(actor, "orgs.unit.update", unit, before=before, after=after)
    return unit


# --- people ------------------------------------------------------------------------------------
def _check_login_free(username: str, mobile: str | None, exclude_pk=None) -> None:
    others = User.objects.exclude(pk=exclude_pk)
    if mobile and others.filter(Q(mobile=mobile) | Q(username__iexact=mobile)).exists():
        raise ServiceError(_("手机号 %(m)s 已被系统中的其他账户使用。") % {"m": mobile})
    if username and username != mobile and others.filter(Q(username__iexact=username) | Q(mobile=username)).exists():
        raise ServiceError(_("用户名 %(u)s 已被系统中的其他账户使用，请换一个用户名。") % {"u": username})


def _password_problems(password: str, user: User) -> list[str]:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def _resolve_role(role: str, unit: Unit) -> str:
    """The stored role for a role key (teacher, expert, school_admin … province_admin, or the
    alias admin) given to a member of ``unit``; refused when it does not fit the unit's kind."""
    stored, problem = org_rules.resolve_role(role, unit.kind)
    if problem:
        raise ServiceError(problem)
    return stored


@transaction.atomic
def create_user(actor, *, unit: Unit, role: str, real_name: str, mobile: str, username: str = "",
                title: str = "", subject: str = "", password: str = "") -> tuple[User, str]:
    """A new person with one membership. Returns the user and the initial password
    (generated when none is given; shown once, never stored in plain text)."""
    require_admin(actor)
    require(actor, "orgs.add_child_unit", unit, _("您只能在自己管理的单位中添加人员。"))
    role = _resolve_role(role, unit)
    real_name = (real_name or "").strip()
    mobile = (mobile or "").strip()
    username = (username or "").strip() or mobile
    if not real_name:
        raise ServiceError(_("请填写姓名。"))
    if not org_rules.is_valid_mobile(mobile):
        raise ServiceError(_("请填写 11 位手机号码，例如 13800138000。"))
    if not org_rules.USERNAME_RE.match(username):
        raise ServiceError(_("用户名只能包含字母、数字和 @ . + - _，最多 150 个字符。"))
    _check_login_free(username, mobile)
    user = User(username=username, real_name=real_name, mobile=mobile, must_change_password=True)
    if password:
        problems = _password_problems(password, user)
        if problems:
            raise ServiceError(_("初始密码不符合要求：%(p)s") % {"p": "".join(problems)}, errors=problems)
    else:
        password = org_rules.generate_password()
    user.set_password(password)
    user.save()
    m = Membership.objects.create(user=user, unit=unit, role=role, title=(title or "").strip(),
                                  subject=(subject or "").strip())
    record(actor, "orgs.user.create", user, after=user_snapshot(user) | {"must_change_password": True}, unit=unit)
    record(actor, "orgs.membership.add", m, after=membership_snapshot(m), unit=unit)
    return user, password


def _scope_unit_of(user: User):
    ms = list(user.memberships.select_related("unit"))
    return min((m.unit for m in ms), key=lambda u: u.depth, default=None)


@transaction.atomic
def update_user(actor, user: User, *, real_name=UNSET, mobile=UNSET, is_active=UNSET) -> User:
    require_admin(actor)
    require(actor, "orgs.change_user", user, _("该用户还属于您管理范围以外的单位，只能由更上级的管理员修改。"))
    user = User.objects.select_for_update().get(pk=user.pk)
    before = user_snapshot(user)
    if real_name is not UNSET:
        real_name = (real_name or "").strip()
        if not real_name:
            raise ServiceError(_("请填写姓名。"))
        user.real_name = real_name
    if mobile is not UNSET:
        mobile = (mobile or "").strip() or None
        if mobile is not None and not org_rules.is_valid_mobile(mobile):
            raise ServiceError(_("请填写 11 位手机号码，例如 13800138000。"))
        _check_login_free("", mobile, exclude_pk=user.pk)
        user.mobile = mobile
    if is_active is not UNSET:
        if not is_active and user.pk == actor.pk:
            raise ServiceError(_("不能停用自己的账户。"))
        user.is_active = bool(is_active)
    user.save()
    after = user_snapshot(user)
    if after != before:
        record(actor, "orgs.user.update", user, before=before, after=after, unit=_scope_unit_of(user))
    return user


@transaction.atomic
def add_membership(actor, user: User, *, unit: Unit, role: str, title: str = "", subject: str = "") -> Membership:
    require_admin(actor)
    require(actor, "orgs.change_user", user, _("该用户还属于您管理范围以外的单位，只能由更上级的管理员修改。"))
    require(actor, "orgs.add_child_unit", unit, _("您只能在自己管理的单位中添加身份。"))
    role = _resolve_role(role, unit)
    if not unit.is_active:
        raise ServiceError(_("单位“%(name)s”已停用，不能在其中添加身份。") % {"name": unit.name})
    if Membership.objects.filter(user=user, unit=unit, role=role).exists():
        raise ServiceError(_("%(user)s 在“%(unit)s”已经是%(role)s。") % {
            "user": user.display_name, "unit": unit.name, "role": ROLE_KEYS[org_rules.role_key(role, unit.kind)]})
    m = Membership.objects.create(user=user, unit=unit, role=role, title=(title or "").strip(),
                                  subject=(subject or "").strip())
    record(actor, "orgs.membership.add", m, after=membership_snapshot(m), unit=unit)
    user.__dict__.pop("_memberships_cache", None)
    user.__dict__.pop("_all_memberships_cache", None)
    return m


@transaction.atomic
def remove_membership(actor, membership: Membership) -> None:
    require_admin(actor)
    user = membership.user
    require(actor, "orgs.change_user", user, _("该用户还属于您管理范围以外的单位，只能由更上级的管理员修改。"))
    if not actor.administers(membership.unit):
        raise PermissionDenied(_("您只能删除自己管理的单位中的身份。"))
    if membership.user_id == actor.pk and membership.role == Role.ADMIN:
        raise ServiceError(_("不能删除您自己的管理员身份，请联系上级单位的管理员。"))
    if user.memberships.count() <= 1:
        raise ServiceError(_("这是该用户唯一的身份，不能删除。如果此人已离开，请把账户设为“停用”。"))
    record(actor, "orgs.membership.remove", membership, before=membership_snapshot(membership),
           unit=membership.unit)
    membership.delete()


@transaction.atomic
def reset_password(actor, user: User) -> str:
    """Sets a generated temporary password (returned once) that must be changed at next login."""
    require_admin(actor)
    require(actor, "orgs.change_user", user, _("该用户还属于您管理范围以外的单位，只能由更上级的管理员重置密码。"))
    if user.pk == actor.pk:
        raise ServiceError(_("请在“修改密码”页面修改您自己的密码。"))
    password = org_rules.generate_password()
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    _axes_reset(user)
    record(actor, "orgs.user.reset_password", user, after={"must_change_password": True}, unit=_scope_unit_of(user))
    return password


def new_password_problems(user: User, new_password: str) -> list[str]:
    """Why ``new_password`` cannot replace the user's password (empty when it can)."""
    if new_password and user.check_password(new_password):
        return [_("新密码不能与当前密码相同，请换一个新密码。")]
    return _password_problems(new_password, user)


@transaction.atomic
def change_password(user: User, *, old_password: str, new_password: str) -> None:
    """The person sets his own password (also the forced change after import or reset).
    The page and the API both call this."""
    if not user.check_password(old_password or ""):
        raise ServiceError(_("当前密码不正确，请重新输入。"))
    problems = new_password_problems(user, new_password or "")
    if problems:
        raise ServiceError(_("新密码不符合要求：%(p)s") % {"p": "".join(problems)}, errors=problems)
    was_forced = user.must_change_password
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    record(user, "orgs.user.password_change", user, after={"forced": was_forced})


def _login_names(user: User) -> list[str]:
    return [n for n in {user.username, user.mobile} if n]


def _axes_reset(user: User) -> int:
    from axes.utils import reset

    return sum(reset(username=name) for name in _login_names(user))


def is_locked(user: User) -> bool:
    from axes.models import AccessAttempt

    since = timezone.now() - getattr(settings, "AXES_COOLOFF_TIME", timedelta(minutes=30))
    return AccessAttempt.objects.filter(
        username__in=_login_names(user), failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
    ).exists()


@transaction.atomic
def unlock_user(actor, user: User) -> int:
    """Clears the failed-login record so that the person can log in again at once."""
    require_admin(actor)
    require(actor, "orgs.change_user", user, _("该用户还属于您管理范围以外的单位，只能由更上级的管理员解锁。"))
    count = _axes_reset(user)
    record(actor, "orgs.user.unlock", user, after={"attempts_cleared": count}, unit=_scope_unit_of(user))
    return count


# --- Excel imports -----------------------------------------------------------------------------
def unit_template() -> HttpResponse:  # noqa: F821
    return template_response(
        _("单位导入模板.xlsx"),
        org_rules.UNIT_COLUMNS,
        org_rules.UNIT_REQUIRED,
        examples=[org_rules.UNIT_EXAMPLE],
        notes=[
            _("类型填写：省、市、县（市、区）或学校。市下面建县（市、区），县（市、区）下面建学校；市直属学校的上级填市的代码，省属学校填省的代码。"),
            _("上级单位代码填系统中已有单位的代码，或本表中其他行的单位代码（顺序不限）。只能在您管理的单位下面导入。"),
            _("单位代码全局唯一，已存在的代码不会被覆盖；如需修改已有单位请在单位页面编辑。"),
            _("排序可留空（按 0 处理），数字小的排在前面。"),
        ],
        choices={"类型": org_rules.KIND_TEMPLATE_CHOICES},
    )


def user_template() -> HttpResponse:  # noqa: F821
    return template_response(
        _("用户导入模板.xlsx"),
        org_rules.USER_COLUMNS,
        org_rules.USER_REQUIRED,
        examples=[org_rules.USER_EXAMPLE],
        notes=[
            _("用户名可留空，留空时用手机号作为用户名。用户名和手机号都可以用来登录，不能与系统中已有的账户重复。"),
            _("单位代码填系统中已有单位的代码（可先导入单位），只能填您管理的单位。"),
            _("角色填写：教师、评审专家、学校管理员、区县管理员、市级管理员或省级管理员；管理员的角色须与单位类型一致"
              "（填“管理员”时按单位类型确定）。"),
            _("初始密码可留空，由系统生成；导入成功后可下载初始密码表。填写时至少 8 位，不能全是数字或过于简单。"),
            _("导入的账户首次登录时必须修改密码。"),
        ],
        choices={"角色": org_rules.ROLE_TEMPLATE_CHOICES},
    )


@transaction.atomic
def import_units(actor, upload) -> list[Unit]:
    """All or nothing: creates every unit of the sheet, parents first, or none."""
    require_admin(actor)
    require(actor, "orgs.import", None)
    rows = read_sheet(upload, org_rules.UNIT_REQUIRED, org_rules.UNIT_COLUMNS)
    codes = {r.get("单位代码").strip() for r in rows} | {r.get("上级单位代码").strip() for r in rows}
    codes.discard("")
    existing = {u.code: u for u in Unit.objects.filter(code__in=codes)}
    known = {c: org_rules.KnownUnit(c, u.kind, actor.administers(u), u.is_active) for c, u in existing.items()}
    names = {r.get("单位名称").strip() for r in rows}
    taken = set(
        Unit.objects.filter(parent__code__in=codes, name__in=names).values_list("parent__code", "name")
    ) | {("", n) for n in Unit.objects.filter(parent=None, name__in=names).values_list("name", flat=True)}
    parsed, errors = org_rules.validate_unit_rows(rows, known, taken, actor.is_superuser)
    RowErrors(errors).raise_if_any(_("单位"))
    by_code = dict(existing)
    created = []
    try:
        for row in parsed:
            parent = by_code[row.parent_code] if row.parent_code else None
            unit = Unit.objects.create(name=row.name, code=row.code, kind=row.kind, parent=parent,
                                       sort_order=row.sort_order)
            by_code[row.code] = unit
            created.append(unit)
            record(actor, "orgs.unit.create", unit, after=unit_snapshot(unit), reason=_("Excel 导入"))
    except IntegrityError:
        raise ServiceError(_("导入时有其他管理员同时创建了相同代码或名称的单位，请刷新后重新导入。")) from None
    record(actor, "orgs.unit.import", None, after={"count": len(created), "codes": [u.code for u in created]},
           unit=_top_unit(actor))
    return created


def _top_unit(actor):
    units = actor.admin_units()
    return min(units, key=lambda u: u.depth) if units else None


@dataclass
class ImportedUser:
    user: User
    membership: Membership
    password: str  # "" when the sheet gave one


@transaction.atomic
def import_users(actor, upload) -> list[ImportedUser]:
    """All or nothing: creates every person of the sheet with his membership, or none.
    Everyone must change the password at first login."""
    require_admin(actor)
    require(actor, "orgs.import", None)
    rows = read_sheet(upload, org_rules.USER_REQUIRED, org_rules.USER_COLUMNS)
    unit_codes = {r.get("单位代码").strip() for r in rows} - {""}
    units = {u.code: u for u in Unit.objects.filter(code__in=unit_codes)}
    in_scope = {c: ("inactive" if not u.is_active else True) if actor.administers(u) else False
                for c, u in units.items()}
    logins = set()
    for r in rows:
        for column in ("用户名", "手机号"):
            value = r.get(column).strip()
            if value:
                logins.add(value.lower())
    taken = set(
        User.objects.annotate(login=Lower("username")).filter(login__in=logins).values_list("login", flat=True)
    ) | {m.lower() for m in User.objects.filter(mobile__in=logins).values_list("mobile", flat=True)}

    def password_errors(password, attrs):
        return _password_problems(password, User(username=attrs["username"], real_name=attrs["real_name"],
                                                 mobile=attrs["mobile"]))

    parsed, errors = org_rules.validate_user_rows(rows, in_scope, taken, password_errors,
                                                  unit_kinds={c: u.kind for c, u in units.items()})
    RowErrors(errors).raise_if_any(_("用户"))
    out = []
    try:
        for row in parsed:
            password = row.password or org_rules.generate_password()
            user = User(username=row.username, real_name=row.real_name, mobile=row.mobile, must_change_password=True)
            user.set_password(password)
            user.save()
            unit = units[row.unit_code]
            m = Membership.objects.create(user=user, unit=unit, role=row.role, title=row.title, subject=row.subject)
            record(actor, "orgs.user.create", user, after=user_snapshot(user) | {"must_change_password": True},
                   reason=_("Excel 导入"), unit=unit)
            record(actor, "orgs.membership.add", m, after=membership_snapshot(m), reason=_("Excel 导入"), unit=unit)
            out.append(ImportedUser(user, m, "" if row.password else password))
    except IntegrityError:
        raise ServiceError(_("导入时有其他管理员同时创建了相同用户名或手机号的账户，请刷新后重新导入。")) from None
    record(actor, "orgs.user.import", None, after={"count": len(out), "usernames": [i.user.username for i in out]},
           unit=_top_unit(actor))
    return out


def passwords_workbook(imported: list[ImportedUser]) -> bytes:
    """The initial passwords as an .xlsx, built in memory for one download (never stored)."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet(_("初始密码"))
    bold = wb.add_format({"bold": True, "bg_color": "#FDE9D9", "border": 1})
    headers = [_("姓名"), _("用户名"), _("手机号"), _("单位"), _("角色"), _("初始密码")]
    for col, h in enumerate(headers):
        ws.write(0, col, h, bold)
        ws.set_column(col, col, 18)
    for r, item in enumerate(imported, start=1):
        values = [item.user.real_name, item.user.username, item.user.mobile or "", item.membership.unit.name,
                  item.membership.role_label, item.password or _("（使用表中填写的初始密码）")]
        for col, value in enumerate(values):
            ws.write_string(r, col, str(value))
    ws.write_string(len(imported) + 2, 0, _("请将初始密码单独告知本人，首次登录后须修改密码。本表请妥善保管，用后删除。"))
    wb.close()
    return buf.getvalue()


PASSWORDS_CONTENT_TYPE = XLSX_CONTENT_TYPE
