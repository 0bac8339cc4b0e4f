"""公示 pages. Thin: each calls review.publicity, the same functions the API uses.

Admins (login): ``new`` (publish a unit's results at its level), ``detail`` (items, objections,
resolving, finalizing), ``attachment`` (an objection's file, streamed, admins only).
Public (no login, CSRF-protected form): ``public_list`` (/gongshi/), ``public_detail``
(/gongshi/<slug>/: the results and the objection form), ``received``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from campaigns import services as campaign_services
from jingpinke.errors import ServiceError
from jingpinke.inputs import parse_id
from jingpinke.storage import download_response
from review import publicity as services
from review.models import ObjectionState, PublicityState
from selection import services as selection_services
from selection.rules import local_text


# --- admins --------------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def new(request, campaign_id, unit_id):
    actor = request.user
    campaign = campaign_services.get_campaign(actor, campaign_id)
    unit, level = selection_services.get_unit(actor, campaign, unit_id)
    if request.method == "POST":
        try:
            publicity = services.create(actor, campaign, unit, title=request.POST.get("title", ""),
                                        note=request.POST.get("note", ""))
        except (ServiceError, PermissionDenied) as exc:
            messages.error(request, getattr(exc, "message", None) or str(exc))
        else:
            messages.success(request, _("公示已发布，公示期至 %(when)s。") % {
                "when": local_text(publicity.ends_at)})
            return redirect("review:publicity", publicity.pk)
    return render(request, "review/publicity/new.html", {
        "campaign": campaign, "unit": unit, "level": level,
        "publicities": services.unit_publicities(actor, campaign, unit),
        "default_title": _("%(unit)s%(level)s结果公示") % {"unit": unit.name, "level": level.name}})


@login_required
@require_http_methods(["GET", "POST"])
def detail(request, publicity_id):
    actor = request.user
    if request.method == "POST":
        pub = services.get_publicity(actor, publicity_id)
        action = request.POST.get("action", "")
        try:
            if action == "finalize":
                services.finalize(actor, pub.pk)
                messages.success(request, _("公示结果已确定。现在可以确认推荐汇总表了。"))
            elif action == "resolve":
                services.resolve(actor, parse_id(request.POST.get("objection")), request.POST.get("decision", ""),
                                 request.POST.get("outcome", ""), withdraw=request.POST.get("withdraw") == "1")
                messages.success(request, _("异议已处理。"))
            else:
                messages.error(request, _("未知的操作。"))
        except (ServiceError, PermissionDenied) as exc:
            messages.error(request, getattr(exc, "message", None) or str(exc))
        return redirect("review:publicity", pub.pk)
    now = timezone.now()
    pub = services.detail(actor, publicity_id, now=now)
    return render(request, "review/publicity/detail.html", {
        "pub": pub, "phase": services.phase(pub, now), "phase_label": services.phase_label(pub, now),
        "countdown": services.countdown(pub, now), "States": ObjectionState, "PublicityState": PublicityState,
        "open_count": sum(1 for o in pub.objections_list if o.state == ObjectionState.OPEN),
        "public_url": request.build_absolute_uri(f"/gongshi/{pub.slug}/")})


@login_required
@require_safe
def attachment(request, objection_id):
    objection = services.attachment(request.user, objection_id)
    ext = objection.attachment.name.rsplit(".", 1)[-1]
    return download_response(objection.attachment, filename=f"objection-{objection.pk}.{ext}",
                             content_type=objection.attachment_type or "application/octet-stream",
                             missing=_("证明材料文件找不到了，请联系管理员。"))


# --- the public side -------------------------------------------------------------------------------------
class ObjectionForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=50,
                           error_messages={"required": gettext_lazy("请填写您的姓名。")})
    contact = forms.CharField(label=gettext_lazy("联系方式"), max_length=100,
                              help_text=gettext_lazy("手机号码、带区号的固定电话或电子邮箱"),
                              error_messages={"required": gettext_lazy("请填写联系方式（手机或电子邮箱），以便告知处理结果。")})
    item = forms.TypedChoiceField(label=gettext_lazy("涉及课程"), required=False, coerce=int, empty_value=None)
    content = forms.CharField(label=gettext_lazy("异议内容"), widget=forms.Textarea(attrs={"rows": 6}), max_length=5000,
                              error_messages={"required": gettext_lazy("请写明异议的内容和理由。")})
    attachment = forms.FileField(label=gettext_lazy("附件（可选）"), required=False,
                                 help_text=gettext_lazy("PDF、JPG、PNG 或 Word（DOCX），不超过 10 MB"))

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [("", _("（不针对具体课程）"))] + [
            (i.pk, f"{i.course_title}（{i.school_name}）") for i in items]
        self.kind = ""

    def clean_contact(self):
        return services.clean_contact(self.cleaned_data["contact"])

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if upload:
            self.kind = services.check_attachment(upload)
        return upload


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


@require_safe
def public_list(request):
    now = timezone.now()
    rows = [(p, services.phase(p, now), services.phase_label(p, now)) for p in services.public_list(now)]
    return render(request, "review/publicity/public_list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
def public_detail(request, slug):
    now = timezone.now()
    pub = services.get_public(slug)
    phase = services.phase(pub, now)
    status = 200
    form = ObjectionForm(items=[i for i in pub.items_list if not i.withdrawn])
    if request.method == "POST":
        form = ObjectionForm(request.POST, request.FILES, items=[i for i in pub.items_list if not i.withdrawn])
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.submit_objection(slug, services.ObjectionInput(
                    name=data["name"], contact=data["contact"], content=data["content"], item_id=data["item"],
                    attachment=data["attachment"] or None, kind=form.kind), _client_ip(request), now=now)
            except ServiceError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                return redirect("review_public:received", slug)
        else:
            status = 400
    return render(request, "review/publicity/public_detail.html", {
        "pub": pub, "phase": phase, "phase_label": services.phase_label(pub, now),
        "countdown": services.countdown(pub, now), "form": form, "open": phase == PublicityState.OPEN},
        status=status)


@require_safe
def received(request, slug):
    pub = services.get_public(slug)
    return render(request, "review/publicity/received.html", {"pub": pub})
