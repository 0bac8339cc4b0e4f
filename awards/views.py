"""Pages of certificates (thin: the use cases are in awards.services)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from awards import services
from campaigns.models import Level
from jingpinke.errors import ServiceError
from selection.models import Entry


def _pdf(data: bytes, name: str, inline: bool = True) -> HttpResponse:
    from django.utils.http import content_disposition_header

    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(not inline, name)
    return response


@login_required
def home(request):
    """The issuing places of the user's units: (level, unit) where awarded entries are held."""
    units = request.user.admin_units()
    places = []
    if units or request.user.is_system_admin:
        from django.db.models import Count, Q

        q = Q()
        for u in units:
            q |= Q(unit__path__startswith=u.path)
        rows = (Entry.objects.filter(awarded=True).filter(q if units else Q())
                .values("level_id", "unit_id", "unit__name", "level__name", "level__award_name",
                        "level__campaign__title", "level__campaign__year")
                .annotate(n=Count("pk")).order_by("-level__campaign__year", "level_id", "unit__name"))
        places = list(rows[:200])
    from campaigns.models import Campaign

    commend = [(campaign, unit) for campaign in Campaign.objects.select_related("owner").order_by("-year", "-pk")[:20]
               for unit in services.commendation_places(request.user, campaign)]
    return render(request, "awards/home.html", {"places": places, "commend": commend})


@login_required
def place(request, level_id, unit_id):
    level, unit = services.get_place(request.user, level_id, unit_id)
    tpl = services.template_for(level, unit)
    errors = []
    if request.method == "POST":
        post = request.POST
        try:
            issue_date = date.fromisoformat(post["issue_date"]) if post.get("issue_date") else None
        except ValueError:
            issue_date = None
            errors.append(_("落款日期格式应为 2024-12-01。"))
        if not errors:
            try:
                services.save_template(request.user, level, unit, title=post.get("title", ""), body=post.get("body", ""),
                                       issuer_name=post.get("issuer_name", ""), signature=post.get("signature", ""),
                                       issue_date=issue_date, seal=request.FILES.get("seal"),
                                       remove_seal=post.get("remove_seal") == "1")
                messages.success(request, _("证书模板已保存。请先预览一张再颁发。"))
                return redirect(request.path)
            except ServiceError as exc:
                errors = [e["message"] for e in exc.errors] or [exc.message]
        tpl.title, tpl.body = post.get("title", tpl.title), post.get("body", tpl.body)
        tpl.issuer_name, tpl.signature = post.get("issuer_name", tpl.issuer_name), post.get("signature", tpl.signature)
    job = services.latest_job(level, unit)
    certs = services.certificates_of(level, unit)
    context = {"level": level, "unit": unit, "tpl": tpl, "errors": errors, "job": job,
               "running": job is not None and job.state in ("queued", "running"),
               "awarded": services.awarded_entries(level, unit).count(), "certs": certs[:500],
               "cert_count": certs.count(), "placeholders": list(services.rules.PLACEHOLDERS)}
    return render(request, "awards/place.html", context)


@login_required
def preview(request, level_id, unit_id):
    level, unit = services.get_place(request.user, level_id, unit_id)
    try:
        return _pdf(services.preview(request.user, level, unit), _("证书样张.pdf"))
    except services.pdf.FontMissing as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")


@login_required
@require_POST
def issue(request, level_id, unit_id):
    level, unit = services.get_place(request.user, level_id, unit_id)
    try:
        job = services.start_issue(request.user, level, unit)
        messages.success(request, _("已开始颁发 %(n)d 门课程的证书，完成后可下载。") % {"n": job.total})
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("awards:place", level.pk, unit.pk)


@login_required
def archive(request, level_id, unit_id):
    level, unit = services.get_place(request.user, level_id, unit_id)
    from django.utils.http import content_disposition_header

    response = StreamingHttpResponse(services.zip_stream(level, unit), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, services.zip_filename(level, unit))
    return response


@login_required
def download(request, cert_id):
    cert = services.get_certificate(request.user, cert_id)
    return _pdf(services.render_certificate(cert), services.filename(cert), inline=request.GET.get("download") != "1")


@login_required
@require_POST
def revoke(request, cert_id):
    try:
        cert = services.revoke(request.user, cert_id, request.POST.get("reason", ""))
        messages.success(request, _("证书 %(s)s 已撤销。") % {"s": cert.serial})
        return redirect("awards:place", cert.level_id, cert.issuer_id)
    except ServiceError as exc:
        messages.error(request, exc.message)
        cert = services.get_certificate(request.user, cert_id)
        return redirect("awards:place", cert.level_id, cert.issuer_id)


@login_required
def mine(request):
    return render(request, "awards/mine.html", {"honours": services.honours(request.user)})


@login_required
def mine_xlsx(request):
    from django.http import FileResponse

    return FileResponse(services.honours_workbook(request.user), as_attachment=True,
                        filename=_("我的荣誉-%(name)s.xlsx") % {"name": request.user.display_name},
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@login_required
def mine_pdf(request):
    try:
        data = services.honours_pdf(request.user)
    except services.pdf.FontMissing as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    return _pdf(data, _("荣誉记录-%(name)s.pdf") % {"name": request.user.display_name}, inline=False)


def verify(request, token):
    result = services.verify(token)
    return render(request, "awards/verify.html", {"v": result}, status=200 if result.found else 404)


def level_name(level: Level) -> str:
    return level.award_name or level.name


# --- commendations ---------------------------------------------------------------------------------
def _campaign(campaign_id):
    from django.http import Http404

    from campaigns.models import Campaign

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404(_("未找到该遴选活动。"))
    return campaign


@login_required
def commendation_new(request, campaign_id, unit_id):
    campaign = _campaign(campaign_id)
    unit = services.get_commendation_place(request.user, campaign, unit_id)
    candidates = services.commendation_candidates(request.user, campaign, unit)
    errors, posted = [], {}
    if request.method == "POST":
        chosen = request.POST.getlist("unit")
        reasons = {key: request.POST.get(f"reason-{key}", "") for key in chosen}
        posted = {"title": request.POST.get("title", ""), "doc_number": request.POST.get("doc_number", ""),
                  "body": request.POST.get("body", ""), "chosen": chosen, "reasons": reasons}
        try:
            c = services.publish_commendation(request.user, campaign, unit, title=posted["title"],
                                              doc_number=posted["doc_number"], body=posted["body"], reasons=reasons)
            messages.success(request, _("通报已发布。"))
            return redirect("awards_public:commendation", c.pk)
        except ServiceError as exc:
            errors = [e["message"] for e in exc.errors] or [exc.message]
    level = campaign.levels.filter(kind=unit.kind).first()
    default_body = _("在%(y)d年基础教育精品课遴选活动中，以下单位组织有力、按时高质量完成申报、推荐和资源审核工作，"
                     "获评%(a)s数量位居前列。经研究，决定予以通报表扬。希望受表扬单位再接再厉，"
                     "其他单位以受表扬单位为榜样，共同推进精品课建设和应用。") % {
        "y": campaign.year, "a": (level.award_name or level.name) if level else ""}
    rows = [{"c": c, "checked": str(c.facts.unit_id) in posted.get("chosen", []) if posted else c.proposed,
             "reason": posted.get("reasons", {}).get(str(c.facts.unit_id), c.reason) if posted else c.reason}
            for c in candidates]
    return render(request, "awards/commendation_new.html", {
        "campaign": campaign, "unit": unit, "rows": rows, "errors": errors,
        "title": posted.get("title", _("关于表扬%(y)d年基础教育精品课遴选工作表现突出单位的通报") % {"y": campaign.year}),
        "doc_number": posted.get("doc_number", ""), "body": posted.get("body", default_body),
        "published": services.Commendation.objects.filter(campaign=campaign, issuer=unit)})


def commendation(request, pk):
    from django.shortcuts import get_object_or_404

    c = get_object_or_404(services.Commendation.objects.select_related("issuer", "campaign"), pk=pk)
    return render(request, "awards/commendation.html", {"c": c, "units": c.units.select_related("unit")})


def commendation_pdf(request, pk):
    from django.shortcuts import get_object_or_404

    c = get_object_or_404(services.Commendation.objects.select_related("issuer"), pk=pk)
    return _pdf(services.commendation_pdf(c), f"{c.title}.pdf")
