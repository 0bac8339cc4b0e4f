"""The organisation tree and the people in it.

Tree: province → city → county-level unit → school. A school's parent is its
*owner*: a county, a city (市直属学校) or the province (省属学校); its entries go
up through that owner. Every unit stores a materialised ``path`` of ids
("/1/4/17/") so that "this unit and everything below it" is one indexed
``startswith`` query.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_backends
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import PermissionDenied
from django.core.validators import RegexValidator
from django.db import connection, models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _

from jingpinke.prepared import prepared
from jingpinke.rows import ModelColumns
from orgs import rules as org_rules


class UnitKind(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县（市、区）")
    SCHOOL = "school", _("学校")


# Which kinds may sit directly under which.
ALLOWED_PARENT_KINDS = {
    UnitKind.PROVINCE: (),
    UnitKind.CITY: (UnitKind.PROVINCE,),
    UnitKind.COUNTY: (UnitKind.CITY,),
    UnitKind.SCHOOL: (UnitKind.COUNTY, UnitKind.CITY, UnitKind.PROVINCE),
}
LEVEL_ORDER = [UnitKind.SCHOOL, UnitKind.COUNTY, UnitKind.CITY, UnitKind.PROVINCE]


class UnitQuerySet(models.QuerySet):
    def subtree(self, unit: Unit) -> UnitQuerySet:
        """The unit and every unit below it."""
        return self.filter(path__startswith=unit.path)

    def subtrees(self, units) -> UnitQuerySet:
        units = list(units)
        if not units:
            return self.none()
        q = Q()
        for unit in units:
            q |= Q(path__startswith=unit.path)
        return self.filter(q)

    def visible_to(self, user) -> UnitQuerySet:
        """Units an administrator may see: his units and all below them."""
        if not user.is_authenticated:
            return self.none()
        if user.is_system_admin:
            return self.all()
        return self.subtrees(user.admin_units())


class Unit(models.Model):
    name = models.CharField(_("单位名称"), max_length=100)
    code = models.CharField(
        _("单位代码"),
        max_length=40,
        unique=True,
        help_text=_("全局唯一，导入时用来识别单位，例如 440800 或 440802-001。"),
    )
    kind = models.CharField(_("类型"), max_length=10, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="orgs_unit_unique_name_per_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        old_path, old_depth = self.path, self.depth
        if self.pk is None:
            super().save(*args, **kwargs)  # the path needs the primary key
            args, kwargs = (), {"update_fields": ["path", "depth"]}
        self.path = (self.parent.path if self.parent_id else "/") + f"{self.pk}/"
        self.depth = self.path.count("/") - 2
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            # A move: rewrite the paths of the whole subtree in one statement.
            Unit.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                path=Concat(Value(self.path), Substr("path", len(old_path) + 1)),
                depth=F("depth") + (self.depth - old_depth),
            )

    # --- tree helpers ---------------------------------------------------
    @property
    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]

    def ancestors(self, include_self: bool = False):
        ids = self.ancestor_ids if include_self else self.ancestor_ids[:-1]
        return Unit.objects.filter(pk__in=ids).order_by("depth")

    def is_within(self, other: Unit) -> bool:
        """True if self is ``other`` or lies below it."""
        return self.path.startswith(other.path)

    @property
    def owner_kind(self) -> str | None:
        """For a school: the kind of unit it reports to (county, city, province)."""
        if self.kind != UnitKind.SCHOOL or self.parent is None:
            return None
        return self.parent.kind

    @property
    def owner_label(self) -> str:
        kind = self.owner_kind
        if kind == UnitKind.CITY:
            return str(_("市直属学校"))
        if kind == UnitKind.PROVINCE:
            return str(_("省属学校"))
        if kind == UnitKind.COUNTY:
            return str(_("县属学校"))
        return ""

    def full_name(self) -> str:
        return " / ".join(u.name for u in self.ancestors(include_self=True))


class Role(models.TextChoices):
    TEACHER = "teacher", _("教师")
    ADMIN = "admin", _("管理员")
    EXPERT = "expert", _("评审专家")


ADMIN_ROLE_LABELS = {
    UnitKind.SCHOOL: _("学校管理员"),
    UnitKind.COUNTY: _("区县管理员"),
    UnitKind.CITY: _("市级管理员"),
    UnitKind.PROVINCE: _("省级管理员"),
}


mobile_validator = RegexValidator(r"^1\d{10}$", _("请填写 11 位手机号码，例如 13800138000。"))


class JpkUserManager(UserManager):
    def get_by_login(self, login: str):
        """Find a user by username or mobile number (used by the login backend)."""
        login = (login or "").strip()
        return self.get(Q(username__iexact=login) | Q(mobile=login))


_backends: list = [None, []]


def _auth_backends() -> list:
    """``django.contrib.auth.get_backends()``, built again only when the setting changes (tests
    override it). The backends hold no state of a request (axes', rules', Django's model backend)."""
    paths = settings.AUTHENTICATION_BACKENDS
    if _backends[0] is not paths:
        _backends[1] = get_backends()
        _backends[0] = paths
    return _backends[1]


class User(AbstractUser):
    """A person. What he may do comes from his memberships in units."""

    real_name = models.CharField(_("姓名"), max_length=50, blank=True)
    mobile = models.CharField(
        _("手机号码"), max_length=11, unique=True, null=True, blank=True, validators=[mobile_validator]
    )
    must_change_password = models.BooleanField(
        _("首次登录须修改密码"), default=False
    )

    objects = JpkUserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        indexes = [
            # The users page's order (orgs.services.search_users; paging appends the id): a page is
            # the first rows of this index that are in the admin's scope, not a sort of the scope.
            models.Index(fields=["real_name", "username", "id"], name="orgs_user_by_name"),
            # The deactivated (the filter 已停用), few: their page and count without a walk of everyone.
            models.Index(fields=["real_name", "username", "id"], name="orgs_user_inactive_by_name",
                         condition=models.Q(is_active=False)),
        ]

    def __str__(self) -> str:
        return self.real_name or self.username

    @property
    def display_name(self) -> str:
        return self.real_name or self.get_full_name() or self.username

    @property
    def is_system_admin(self) -> bool:
        return bool(self.is_superuser)

    def has_perm(self, perm, obj=None) -> bool:
        """Django's ``PermissionsMixin.has_perm``, asking the authentication backends loaded once per
        process (``_auth_backends``): Django's ``get_backends()`` imports and instantiates every
        backend at every call, ~2 µs, and a desk page asks for each of its 30 rows' units."""
        if self.is_active and self.is_superuser:
            return True
        for backend in _auth_backends():
            if not hasattr(backend, "has_perm"):
                continue
            try:
                if backend.has_perm(self, perm, obj):
                    return True
            except PermissionDenied:
                return False
        return False

    # Memberships are cached on the instance: permission checks call these a lot.
    def memberships_cached(self) -> list[Membership]:
        cache = getattr(self, "_memberships_cache", None)
        if cache is None:
            cache = self._memberships_cache = active_memberships(self)
        return cache

    def admin_units(self) -> list[Unit]:
        return [m.unit for m in self.memberships_cached() if m.role == Role.ADMIN]

    def teacher_units(self) -> list[Unit]:
        return [m.unit for m in self.memberships_cached() if m.role == Role.TEACHER]

    def is_expert(self) -> bool:
        return any(m.role == Role.EXPERT for m in self.memberships_cached())

    def administers(self, unit: Unit) -> bool:
        """True if the user is an admin of ``unit`` or of a unit above it."""
        if self.is_system_admin:
            return True
        return any(unit.is_within(u) for u in self.admin_units())

    def primary_role(self) -> tuple[str, Unit | None]:
        """The role the home page is built for: the highest admin unit first."""
        if self.is_system_admin:
            return ("sysadmin", None)
        admins = sorted(self.admin_units(), key=lambda u: u.depth)
        if admins:
            return (f"{admins[0].kind}_admin", admins[0])
        teachers = self.teacher_units()
        if teachers:
            return ("teacher", teachers[0])
        if self.is_expert():
            unit = next(m.unit for m in self.memberships_cached() if m.role == Role.EXPERT)
            return ("expert", unit)
        return ("none", None)


ROLE_KEYS = {
    "teacher": _("教师"),
    "school_admin": _("学校管理员"),
    "county_admin": _("区县管理员"),
    "city_admin": _("市级管理员"),
    "province_admin": _("省级管理员"),
    "expert": _("评审专家"),
    "sysadmin": _("系统管理员"),
    "none": _("未分配角色"),
}


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("用户"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("单位"))
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices)
    title = models.CharField(_("职务"), max_length=50, blank=True)
    subject = models.CharField(_("任教学科/专业"), max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("成员身份")
        verbose_name_plural = _("成员身份")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="orgs_membership_unique"),
        ]
        indexes = [
            # The members of a subtree's units, with a role or not (a city's users page, its
            # bounded count, the role filter): read from the index alone, by unit.
            models.Index(fields=["unit", "role", "user"], name="orgs_membership_unit_role_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.unit} ({self.role_label})"

    @property
    def role_key(self) -> str:
        """teacher, expert or <unit kind>_admin: the vocabulary of the API (see orgs.rules)."""
        return org_rules.role_key(self.role, self.unit.kind)

    @property
    def role_label(self) -> str:
        return str(ROLE_KEYS.get(self.role_key, self.role))


# --- the user's memberships, read by (nearly) every request ------------------------------------------
_MEMBERSHIP_COLUMNS = (ModelColumns(Membership, "m"), ModelColumns(Unit, "u"), ModelColumns(Unit, "p"))
_memberships_sql: dict[str, str] = {}


def active_memberships(user: User) -> list[Membership]:
    """The user's memberships in active units, each with its unit and the unit's parent: what
    ``user.memberships.select_related("unit", "unit__parent").filter(unit__is_active=True)`` reads
    (each membership's ``user`` is ``user``), in one statement written out. Nearly every request
    reads them (scope, permissions); the ORM's compilation of that three-table read (~35 columns)
    cost ~0.5 ms of CPU per request, several times the statement itself. In id order."""
    if user.pk is None:  # as the related manager: an unsaved user has no memberships to read
        return list(user.memberships.all())
    m_cols, u_cols, p_cols = _MEMBERSHIP_COLUMNS
    sql = _memberships_sql.get(connection.vendor)
    if sql is None:
        sql = _memberships_sql[connection.vendor] = (
            f"SELECT {m_cols.select(connection)}, {u_cols.select(connection)}, {p_cols.select(connection)} "
            f"FROM {Membership._meta.db_table} m JOIN {Unit._meta.db_table} u ON u.id = m.unit_id "
            f"LEFT JOIN {Unit._meta.db_table} p ON p.id = u.parent_id "
            "WHERE m.user_id = %s AND u.is_active ORDER BY m.id"
        )
    with prepared(), connection.cursor() as cursor:  # keyed: the user's id
        cursor.execute(sql, [user.pk])
        rows = cursor.fetchall()
    set_user, set_unit = Membership.user.field.set_cached_value, Membership.unit.field.set_cached_value
    set_parent = Unit.parent.field.set_cached_value
    found = []
    for row in rows:
        membership = m_cols.instance(row, 0, connection)
        unit = u_cols.instance(row, m_cols.width, connection)
        set_parent(unit, p_cols.instance(row, m_cols.width + u_cols.width, connection))
        set_unit(membership, unit)
        set_user(membership, user)
        found.append(membership)
    return found
