"""Campaign pages. Thin: every page calls campaigns.services, the same functions the API uses."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns import forms as f
from campaigns import services
from campaigns.enums import Category, ResourceKind
from jingpinke.errors import ServiceError
from jingpinke.inputs import parse_id
from jingpinke.paging import paginate_request


def _service_error(exc: ServiceError) -> dict:
    return {"message": exc.message, "errors": exc.errors}


def _levels(campaign):
    return sorted(campaign.levels.all(), key=lambda lv: services.rules.level_rank(lv.kind))


# --- list, detail, create ---------------------------------------------------------------------
@login_required
def campaign_list(request):
    qs = services.campaigns_for(request.user).select_related("owner").order_by("-year", "title")
    page = paginate_request(request, qs, services.PAGE_SIZE)
    editable = {c.pk for c in page.object_list if services.can_change(request.user, c)}
    return render(request, "campaigns/list.html", {
        "page_obj": page, "editable": editable,
        "can_create": request.user.has_perm("campaigns.create_campaign"),
    })


@login_required
def campaign_detail(request, pk):
    campaign = services.detail(services.get_campaign(request.user, pk))
    role, unit = request.user.primary_role()
    levels = _levels(campaign)
    categories = list(campaign.categories.all())
    return render(request, "campaigns/detail.html", {
        "campaign": campaign,
        "categories": categories,
        "levels": levels,
        "my_unit": unit,
        "my_deadlines": services.deadlines_for(campaign, unit) if unit is not None else [],
        "quotas": services.default_quotas(campaign),
        "contacts": list(campaign.contacts.all()),
        "notices": list(campaign.notices.all()),
        "share_caps": services.labelled(campaign.share_caps),
        "target_shares": services.labelled(campaign.target_shares),
        "public_kinds": [str(ResourceKind(k).label) for k in campaign.public_resource_kinds if k in ResourceKind.values],
        "can_change": services.can_change(request.user, campaign),
        "can_unit_settings": request.user.has_perm("campaigns.manage_unit_settings", campaign),
    })


@login_required
def campaign_create(request):
    actor = request.user
    services.require(actor, "campaigns.create_campaign", None, _("只有省、市教育局或系统管理员可以创建遴选活动。"))
    form = f.CampaignCreateForm(request.POST or None, owners=services.owner_choices(actor))
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.create_campaign(actor, form.cleaned_data["owner"], year=form.cleaned_data["year"],
                                                title=form.cleaned_data["title"],
                                                description=form.cleaned_data["description"])
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已创建活动“%(t)s”，请继续设置类别、层级和名额。") % {"t": campaign.title})
            return redirect("campaigns:detail", campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "heading": _("新建遴选活动")})


@login_required
def campaign_edit(request, pk):
    actor = request.user
    campaign = services.get_campaign_for_change(actor, pk)
    initial = {"year": campaign.year, "title": campaign.title, "status": campaign.status,
               "description": campaign.description}
    form = f.CampaignEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_campaign(actor, campaign, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("基本信息已保存。"))
            return redirect("campaigns:detail", campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "campaign": campaign,
                                                   "heading": _("基本信息与状态")})


# --- formset pages ------------------------------------------------------------------------------
def _formset_page(request, campaign, form_class, initial, save, *, heading, intro="", form_kwargs=None,
                  back=None, extra=1):
    FormSet = f.formset(form_class, extra=extra)
    kwargs = {"form_kwargs": form_kwargs or {}}
    fs = FormSet(request.POST or None, initial=initial, **kwargs)
    error = None
    if request.method == "POST" and fs.is_valid():
        try:
            save(f.rows_of(fs))
        except ServiceError as exc:
            error = _service_error(exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect(back or "campaigns:detail", campaign.pk)
    return render(request, "campaigns/formset.html", {
        "campaign": campaign, "formset": fs, "heading": heading, "intro": intro, "import_error": error})


@login_required
def edit_categories(request, pk):
    actor = request.user
    campaign = services.get_campaign_for_change(actor, pk)
    initial = [{k: getattr(c, k) for k in services.CATEGORY_FIELDS} for c in campaign.categories.all()]
    return _formset_page(request, campaign, f.CategoryForm, initial,
                         lambda rows: services.set_categories(actor, campaign, rows),
                         heading=_("类别"), intro=_("新增的类别自动带上标准资源包，可在详情页中逐项修改。"))


@login_required
def edit_slots(request, pk, category):
    actor = request.user
    campaign = services.get_campaign_for_change(actor, pk)
    cc = services.get_category(actor, campaign, category)
    initial = [{**{k: getattr(s, k) for k in services.SLOT_FIELDS}, "formats": "、".join(s.formats)}
               for s in cc.slots.all()]
    return _formset_page(request, campaign, f.SlotForm, initial,
                         lambda rows: services.set_slots(actor, campaign, category, rows),
                         heading=_("%(c)s · 资源包（每课时）") % {"c": cc.get_category_display()})


@login_required
def edit_specs(request, pk, category):
    actor = request.user
    campaign = services.get_campaign_for_change(actor, pk)
    cc = services.get_category(actor, campaign, category)
    initial = [services.spec_row(s) for s in cc.specs.all()]
    return _formset_page(request, campaign, f.SpecForm, initial,
                         lambda rows: services.set_specs(actor, campaign, category, rows),
                         heading=_("%(c)s · 视频制作规范") % {"c": cc.get_category_display()},
                         intro=_("每个学段一条；学段留空的一条适用于没有单独规定的学段。"))


@login_required
def edit_levels(request, pk):
    actor = request.user
    campaign = services.get_campaign_for_change(actor, pk)
    initial = [{"kind": lv.kind, "name": lv.name, "award_name": lv.award_name, "publicity_days": lv.publicity_days,
                **f.LevelForm.deadline_initial(lv)}
               for lv in _levels(campaign)]
    return _formset_page(request, campaign, f.LevelForm, initial,
                         lambda rows: services.set_levels(actor, campaign, rows),
                         heading=_("层级与截止时间"),
                         intro=_("只填日期时，截止时间为当天 23:59:59（北京时间）。下级单位的截止时间可在“单位截止时间”中单独设置。"))


@login_required
def edit_contacts(request, pk):
    actor = request.user
    campaign = services.get_campaign_for_change(actor, pk)
    initial = [{k: getattr(c, k) for k in services.CONTACT_FIELDS} for c in campaign.contacts.all()]
    return _formset_page(request, campaign, f.ContactForm, initial,
                         lambda rows: services.set_contacts(actor, campaign, rows), heading=_("联系人"))


@login_required
def edit_default_quotas(request, pk):
    actor = request.user
    campaign = services.get_campaign_for_change(actor, pk)
    initial = [services.quota_row(q) for q in services.default_quotas(campaign)]
    return _formset_page(request, campaign, f.DefaultQuotaForm, initial,
                         lambda rows: services.set_default_quotas(actor, campaign, rows),
                         heading=_("各层级默认名额"), form_kwargs={"levels": _levels(campaign)}, back="campaigns:quotas",
                         intro=_("每个推荐单位在本层级的名额。例如：县级 学科课程 25；学校层级、市直属学校、每学科分别计算 1。"
                                 "没有名额的类别不限名额。"))


@login_required
def edit_rules(request, pk):
    actor = request.user
    campaign = services.get_campaign_for_change(actor, pk)
    CapSet = f.formset(f.ShareCapForm)
    TargetSet = f.formset(f.TargetShareForm)
    data = request.POST or None
    form = f.RulesForm(data, initial={"node_rule": campaign.node_rule,
                                      "new_textbook_grades": "、".join(campaign.new_textbook_grades),
                                      "public_resource_kinds": campaign.public_resource_kinds})
    caps = CapSet(data, prefix="caps", initial=[{**c, "subjects": "、".join(c["subjects"])} for c in campaign.share_caps])
    targets = TargetSet(data, prefix="targets",
                        initial=[{**t, "subjects": "、".join(t["subjects"])} for t in campaign.target_shares])
    error = None
    if request.method == "POST" and form.is_valid() and caps.is_valid() and targets.is_valid():
        try:
            services.update_rules(actor, campaign, {**form.cleaned_data, "share_caps": f.rows_of(caps),
                                                    "target_shares": f.rows_of(targets)})
        except ServiceError as exc:
            error = _service_error(exc)
        else:
            messages.success(request, _("规则设置已保存。"))
            return redirect("campaigns:detail", campaign.pk)
    return render(request, "campaigns/rules.html", {"campaign": campaign, "form": form, "caps": caps,
                                                    "targets": targets, "import_error": error})


# --- per-unit settings: deadline overrides and unit quotas -------------------------------------------
@login_required
def overrides(request, pk):
    actor = request.user
    campaign = services.get_campaign(actor, pk)
    services.require(actor, "campaigns.manage_unit_settings", campaign)
    levels = _levels(campaign)
    units = services.settable_units(actor, campaign)
    unit_qs = services.scope_units(actor, campaign).filter(pk__in=[u.pk for u in units]).order_by("path")
    form = f.OverrideForm(request.POST or None, levels=levels, units=unit_qs)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            services.set_deadline_override(actor, campaign, level_kind=form.cleaned_data["level"],
                                           unit=form.cleaned_data["unit"], reason=form.cleaned_data["reason"],
                                           **form.deadlines())
        except ServiceError as exc:
            error = _service_error(exc)
        else:
            messages.success(request, _("单位截止时间已保存。"))
            return redirect("campaigns:overrides", campaign.pk)
    shown = None
    if (unit_id := parse_id(request.GET.get("unit"))) is not None:
        shown = services.get_scope_unit(actor, campaign, pk=unit_id)
    return render(request, "campaigns/overrides.html", {
        "campaign": campaign, "form": form, "import_error": error,
        "overrides": services.deadline_overrides_for(actor, campaign),
        "scope_units": services.scope_units(actor, campaign).order_by("path"),
        "shown": shown, "shown_deadlines": services.deadlines_for(campaign, shown) if shown else [],
        "can_set": bool(units),
    })


@require_POST
@login_required
def override_delete(request, pk, override_pk):
    campaign = services.get_campaign(request.user, pk)
    services.delete_deadline_override(request.user, campaign, override_pk)
    messages.success(request, _("已删除该单位截止时间，恢复继承上级的设置。"))
    return redirect("campaigns:overrides", campaign.pk)


@login_required
def quotas(request, pk):
    actor = request.user
    campaign = services.get_campaign(actor, pk)
    services.require(actor, "campaigns.manage_unit_settings", campaign)
    levels = _levels(campaign)
    units = services.settable_units(actor, campaign)
    unit_qs = services.scope_units(actor, campaign).filter(pk__in=[u.pk for u in units]).order_by("path")
    form = f.QuotaOverrideForm(request.POST or None, levels=levels, units=unit_qs)
    error = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.set_quota_override(actor, campaign, level_kind=data["level"], unit=data["unit"],
                                        category=data["category"], subject=data["subject"],
                                        per_subject=data["per_subject"], limit=data["limit"])
        except ServiceError as exc:
            error = _service_error(exc)
        else:
            messages.success(request, _("单位名额已保存。"))
            return redirect("campaigns:quotas", campaign.pk)
    shown, shown_quotas, shown_applies = None, [], []
    if (unit_id := parse_id(request.GET.get("unit"))) is not None:
        shown = services.get_scope_unit(actor, campaign, pk=unit_id)
        subject = request.GET.get("subject", "").strip()
        shown_quotas = [(label, services.quota_for(campaign, shown, value, subject)) for value, label in Category.choices
                        if campaign.categories.filter(category=value).exists()]
        # With a subject, a pick must also fit its category's total: every row that applies.
        shown_applies = [(label, rows) for label, rows in
                         ((label, services.quotas_for(campaign, shown, value, subject)) for value, label in Category.choices
                          if campaign.categories.filter(category=value).exists()) if len(rows) > 1]
    return render(request, "campaigns/quotas.html", {
        "campaign": campaign, "form": form, "import_error": error,
        "defaults": services.default_quotas(campaign),
        "overrides": services.quota_overrides_for(actor, campaign),
        "scope_units": services.scope_units(actor, campaign).order_by("path"),
        "shown": shown, "shown_quotas": shown_quotas, "shown_applies": shown_applies, "subject": request.GET.get("subject", ""),
        "can_set": bool(units), "can_change": services.can_change(actor, campaign),
    })


@require_POST
@login_required
def quota_delete(request, pk, quota_pk):
    campaign = services.get_campaign(request.user, pk)
    services.delete_quota_override(request.user, campaign, quota_pk)
    messages.success(request, _("已删除该单位名额，恢复使用层级默认名额。"))
    return redirect("campaigns:quotas", campaign.pk)


# --- notices ------------------------------------------------------------------------------------
@login_required
def notices(request, pk):
    actor = request.user
    campaign = services.get_campaign_for_change(actor, pk)
    form = f.NoticeForm(request.POST or None, request.FILES or None)
    form.fields.pop("remove_file")
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        upload = data.pop("file", None)
        try:
            services.add_notice(actor, campaign, data, upload)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已添加通知文件。"))
            return redirect("campaigns:notices", campaign.pk)
    return render(request, "campaigns/notices.html", {"campaign": campaign, "form": form,
                                                      "notices": list(campaign.notices.all())})


@login_required
def notice_edit(request, pk, notice_pk):
    actor = request.user
    campaign = services.get_campaign_for_change(actor, pk)
    notice = services.get_notice(actor, campaign, notice_pk)
    initial = {k: getattr(notice, k) for k in services.NOTICE_FIELDS}
    form = f.NoticeForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        upload = data.pop("file", None)
        remove = data.pop("remove_file", False)
        try:
            services.update_notice(actor, campaign, notice, data, upload, remove_file=remove)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("通知文件已保存。"))
            return redirect("campaigns:notices", campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "campaign": campaign, "multipart": True,
                                                   "heading": _("编辑通知文件"), "notice": notice})


@require_POST
@login_required
def notice_delete(request, pk, notice_pk):
    actor = request.user
    campaign = services.get_campaign_for_change(actor, pk)
    services.delete_notice(actor, campaign, services.get_notice(actor, campaign, notice_pk))
    messages.success(request, _("已删除通知文件。"))
    return redirect("campaigns:notices", campaign.pk)


@login_required
def notice_file(request, pk, notice_pk):
    """Download a notice's attachment after checking the campaign concerns the user."""
    campaign = services.get_campaign(request.user, pk)
    notice = services.get_notice(request.user, campaign, notice_pk)
    return services.notice_response(request.user, campaign, notice)


# --- templates ----------------------------------------------------------------------------------
@login_required
def export(request, pk):
    campaign = services.get_campaign(request.user, pk)
    doc = services.export_template(request.user, campaign)
    response = HttpResponse(json.dumps(doc, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8")
    filename = f"campaign-{campaign.owner.code}-{campaign.year}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def template_import(request):
    actor = request.user
    services.require(actor, "campaigns.create_campaign", None, _("只有省、市教育局或系统管理员可以创建遴选活动。"))
    form = f.TemplateImportForm(request.POST or None, request.FILES or None, owners=services.owner_choices(actor))
    error = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            doc = services.read_template_file(data["file"])
            campaign = services.import_template(actor, doc, data["owner"], year_offset=data["year_offset"] or 0,
                                                title=data["title"])
        except ServiceError as exc:
            error = _service_error(exc)
        else:
            messages.success(request, _("已导入活动“%(t)s”（筹备中），请检查后再开始。") % {"t": campaign.title})
            return redirect("campaigns:detail", campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "multipart": True, "import_error": error,
                                                   "heading": _("导入活动模板")})


@login_required
def from_template(request):
    actor = request.user
    services.require(actor, "campaigns.create_campaign", None, _("只有省、市教育局或系统管理员可以创建遴选活动。"))
    templates = services.shipped_templates()
    # The home page links here with the fitting template, owner and year offset filled in.
    initial = {k: request.GET[k] for k in ("template", "owner", "year_offset") if request.GET.get(k)}
    form = f.FromShippedForm(request.POST or None, initial=initial, owners=services.owner_choices(actor),
                             templates=templates)
    error = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = services.create_from_shipped(actor, data["template"], data["owner"],
                                                    year_offset=data["year_offset"] or 0, title=data["title"])
        except ServiceError as exc:
            error = _service_error(exc)
        else:
            messages.success(request, _("已根据模板创建活动“%(t)s”（筹备中），请检查后再开始。") % {"t": campaign.title})
            return redirect("campaigns:detail", campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "import_error": error, "templates": templates,
                                                   "heading": _("从内置模板创建活动")})

