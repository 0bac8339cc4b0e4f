import base64
from functools import wraps

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from jingpinke.errors import ServiceError
from jingpinke.inputs import parse_id
from jingpinke.paging import paginate_request
from orgs import rules as org_rules
from orgs import services
from orgs.forms import (
    ImportForm,
    LoginForm,
    MembershipForm,
    PasswordChangeForm,
    UnitCreateForm,
    UnitEditForm,
    UserCreateForm,
    UserEditForm,
)
from orgs.models import Role, UnitKind


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("portal:home")
    form_class = PasswordChangeForm

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if self.request.user.must_change_password:
            form.fields["old_password"].label = _("初始密码")
            form.fields["old_password"].help_text = _("管理员告知您的密码，或初始密码表中的密码。")
        return form

    def form_valid(self, form):
        try:
            services.change_password(form.user, old_password=form.cleaned_data["old_password"],
                                     new_password=form.cleaned_data["new_password1"])
        except ServiceError as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        update_session_auth_hash(self.request, form.user)
        messages.success(self.request, _("密码已修改。"))
        return redirect(self.get_success_url())


def admin_required(view):
    """Logged in and an admin of some unit (or a system admin); else 403."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        services.require_admin(request.user)
        return view(request, *args, **kwargs)

    return wrapper


def _page(request, qs, size=services.PAGE_SIZE):
    return paginate_request(request, qs, size)


# --- units -------------------------------------------------------------------------------------
@admin_required
def units(request):
    actor = request.user
    q = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    if kind not in UnitKind.values:
        kind = ""
    active = request.GET.get("active", "")
    qs = services.search_units(actor, q=q, kind=kind, active=active)
    page = _page(request, qs)
    base_depth = min((u.depth for u in actor.admin_units()), default=0) if not actor.is_superuser else 0
    rows = [(u, max(u.depth - base_depth, 0)) for u in page.object_list]
    return render(request, "orgs/units.html", {
        "page_obj": page, "rows": rows, "q": q, "kind": kind, "active": active, "kinds": UnitKind.choices,
        "filtered": bool(q or kind or active),
    })


@admin_required
def unit_detail(request, pk):
    actor = request.user
    unit = services.get_unit(actor, pk)
    children = services.search_units(actor, parent=unit)
    memberships = unit.memberships.select_related("user").order_by("role", "user__real_name")
    may_have_children = bool(org_rules.child_kinds(unit.kind))
    return render(request, "orgs/unit_detail.html", {
        "unit": unit,
        # (unit, link?) from the top down: units above the admin's own scope are shown, not linked
        "ancestors": [(a, a.pk != unit.pk and actor.administers(a)) for a in unit.ancestors(include_self=True)],
        "parent_link": unit.parent is not None and actor.administers(unit.parent),
        "children": children,
        "memberships": memberships,
        "may_have_children": may_have_children,
        "can_add_child": may_have_children and unit.is_active,
        "can_edit": request.user.has_perm("orgs.change_unit", unit),
    })


@admin_required
def unit_create(request, pk=None):
    actor = request.user
    parent = services.get_unit(actor, pk) if pk is not None else None
    if parent is None and not actor.is_superuser:
        raise PermissionDenied(_("只有系统管理员可以创建省级单位。"))
    kinds = org_rules.child_kinds(parent.kind if parent else None)
    form = UnitCreateForm(request.POST if request.method == "POST" else None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.create_unit(actor, parent=parent, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已创建单位“%(name)s”。") % {"name": unit.name})
            return redirect("orgs:unit_detail", unit.pk)
    return render(request, "orgs/unit_form.html", {"form": form, "parent": parent, "creating": True})


@admin_required
def unit_edit(request, pk):
    actor = request.user
    unit = services.get_unit(actor, pk)
    services.require(actor, "orgs.change_unit", unit)
    can_move = actor.has_perm("orgs.move_unit", unit) and unit.parent_id is not None
    initial = {"name": unit.name, "code": unit.code, "sort_order": unit.sort_order, "address": unit.address,
               "parent": unit.parent_id, "is_active": unit.is_active}
    form = UnitEditForm(request.POST if request.method == "POST" else None, initial=initial, can_move=can_move,
                        parents=services.parent_choices(actor, unit) if can_move else None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if not can_move:
            data.pop("parent", None)
            data.pop("is_active", None)
        try:
            services.update_unit(actor, unit, **data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("单位信息已保存。"))
            return redirect("orgs:unit_detail", unit.pk)
    return render(request, "orgs/unit_form.html", {"form": form, "unit": unit, "creating": False})


# --- people ------------------------------------------------------------------------------------
@admin_required
def users(request):
    actor = request.user
    q = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    if role not in Role.values:
        role = ""
    active = request.GET.get("active", "")
    unit = None
    if (unit_id := parse_id(request.GET.get("unit"))) is not None:
        unit = services.get_unit(actor, unit_id)
    qs = services.search_users(actor, q=q, unit=unit, role=role, active=active)
    page = _page(request, qs)
    return render(request, "orgs/users.html", {
        "page_obj": page, "q": q, "role": role, "unit": unit, "active": active, "roles": Role.choices,
    })


@admin_required
def user_detail(request, pk):
    actor = request.user
    person = services.get_user(actor, pk)
    can_change = actor.has_perm("orgs.change_user", person)
    form = MembershipForm(units=services.visible_units(actor).filter(is_active=True).order_by("path")) if can_change else None
    return render(request, "orgs/user_detail.html", {
        "person": person,
        "memberships": services.memberships_of(person),
        "can_change": can_change,
        "locked": services.is_locked(person),
        "membership_form": form,
    })


@never_cache
@admin_required
def user_create(request):
    actor = request.user
    units = services.visible_units(actor).filter(is_active=True).order_by("path")
    initial = {}
    if (unit_id := parse_id(request.GET.get("unit"))) is not None:
        initial["unit"] = unit_id
    form = UserCreateForm(request.POST if request.method == "POST" else None, units=units, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person, password = services.create_user(actor, **data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已创建用户“%(name)s”。") % {"name": person.display_name})
            return render(request, "orgs/password_shown.html", {
                "person": person, "password": password if not data.get("password") else "", "created": True})
    return render(request, "orgs/user_form.html", {"form": form, "creating": True})


@admin_required
def user_edit(request, pk):
    actor = request.user
    person = services.get_user(actor, pk)
    services.require(actor, "orgs.change_user", person,
                     _("该用户还属于您管理范围以外的单位，只能由更上级的管理员修改。"))
    form = UserEditForm(request.POST if request.method == "POST" else None,
                        initial={"real_name": person.real_name, "mobile": person.mobile, "is_active": person.is_active})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_user(actor, person, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("用户信息已保存。"))
            return redirect("orgs:user_detail", person.pk)
    return render(request, "orgs/user_form.html", {"form": form, "person": person, "creating": False})


@admin_required
@require_POST
def membership_add(request, pk):
    actor = request.user
    person = services.get_user(actor, pk)
    services.require(actor, "orgs.change_user", person,
                     _("该用户还属于您管理范围以外的单位，只能由更上级的管理员修改。"))
    form = MembershipForm(request.POST, units=services.visible_units(actor).filter(is_active=True))
    if form.is_valid():
        try:
            services.add_membership(actor, person, **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已添加身份。"))
    else:
        messages.error(request, _("请选择您管理的单位和角色。"))
    return redirect("orgs:user_detail", person.pk)


@admin_required
@require_POST
def membership_remove(request, pk, mid):
    actor = request.user
    person = services.get_user(actor, pk)
    membership = services.get_membership(actor, person, mid)
    try:
        services.remove_membership(actor, membership)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除该身份。"))
    return redirect("orgs:user_detail", person.pk)


@never_cache
@admin_required
@require_POST
def user_reset_password(request, pk):
    actor = request.user
    person = services.get_user(actor, pk)
    try:
        password = services.reset_password(actor, person)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("orgs:user_detail", person.pk)
    return render(request, "orgs/password_shown.html", {"person": person, "password": password, "created": False})


@admin_required
@require_POST
def user_unlock(request, pk):
    actor = request.user
    person = services.get_user(actor, pk)
    services.unlock_user(actor, person)
    messages.success(request, _("已解除登录锁定，%(name)s 现在可以重新登录。") % {"name": person.display_name})
    return redirect("orgs:user_detail", person.pk)


# --- imports -----------------------------------------------------------------------------------
@admin_required
def unit_template(request):
    return services.unit_template()


@admin_required
def user_template(request):
    return services.user_template()


@admin_required
def unit_import(request):
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    import_error = None
    if request.method == "POST" and form.is_valid():
        try:
            created = services.import_units(request.user, form.cleaned_data["file"])
        except ServiceError as exc:
            import_error = exc
        else:
            messages.success(request, _("已导入 %(n)d 个单位。") % {"n": len(created)})
            return redirect("orgs:units")
    return render(request, "orgs/import.html", {
        "form": form, "import_error": import_error, "what": _("单位"), "template_url_name": "orgs:unit_template",
        "status": 400 if import_error else 200,
    }, status=400 if import_error else 200)


@never_cache
@admin_required
def user_import(request):
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    import_error = None
    if request.method == "POST" and form.is_valid():
        try:
            imported = services.import_users(request.user, form.cleaned_data["file"])
        except ServiceError as exc:
            import_error = exc
        else:
            # The passwords file is built now and embedded in this one page: it is never stored.
            data = base64.b64encode(services.passwords_workbook(imported)).decode()
            return render(request, "orgs/import_users_done.html", {
                "imported": imported, "passwords_href": f"data:{services.PASSWORDS_CONTENT_TYPE};base64,{data}",
                "generated": sum(1 for i in imported if i.password),
            })
    return render(request, "orgs/import.html", {
        "form": form, "import_error": import_error, "what": _("用户"), "template_url_name": "orgs:user_template",
    }, status=400 if import_error else 200)
