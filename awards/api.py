"""Certificates in the REST API (tag 证书). Thin: the same use cases as the pages
(awards.services). A level or unit outside the units you administer answers 404; a refused action
400 with {"detail", "errors"}. The verification endpoint is public, like the page."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from ninja import Router, Schema

from awards import services
from awards.models import Certificate, IssueJob

router = Router(tags=["证书"])


class ErrorOut(Schema):
    detail: str
    errors: list = []


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class CertificateOut(Schema):
    id: int
    serial: str
    holder_id: int
    holder_name: str
    role: str
    school_name: str
    course_title: str
    node_label: str
    category_label: str
    award_name: str
    year: int
    issuer_name: str
    issued_at: datetime
    revoked: bool
    revoked_at: datetime | None
    revoke_reason: str
    verify_url: str
    pdf_url: str


def _cert_out(c: Certificate) -> dict:
    return {"id": c.pk, "serial": c.serial, "holder_id": c.holder_id, "holder_name": c.holder_name, "role": c.role,
            "school_name": c.school_name, "course_title": c.course_title, "node_label": c.node_label,
            "category_label": c.category_label, "award_name": c.award_name, "year": c.year,
            "issuer_name": c.issuer_name, "issued_at": c.issued_at, "revoked": c.revoked,
            "revoked_at": c.revoked_at, "revoke_reason": c.revoke_reason, "verify_url": services.verify_url(c.token),
            "pdf_url": f"/api/v1/awards/certificates/{c.pk}.pdf"}


class JobOut(Schema):
    id: int
    state: str
    total: int
    done: int
    created: int
    percent: int
    error: str
    created_at: datetime
    finished_at: datetime | None


def _job_out(job: IssueJob | None) -> dict | None:
    if job is None:
        return None
    return {"id": job.pk, "state": job.state, "total": job.total, "done": job.done, "created": job.created,
            "percent": job.percent, "error": job.error, "created_at": job.created_at, "finished_at": job.finished_at}


class TemplateIn(Schema):
    title: str
    body: str
    issuer_name: str
    signature: str = ""
    issue_date: date | None = None


class TemplateOut(TemplateIn):
    has_seal: bool
    placeholders: list[str]


class PlaceOut(Schema):
    level_id: int
    unit_id: int
    award_name: str
    awarded: int
    certificates: int
    template: TemplateOut
    job: JobOut | None


def _place_out(level, unit) -> dict:
    tpl = services.template_for(level, unit)
    return {"level_id": level.pk, "unit_id": unit.pk, "award_name": level.award_name,
            "awarded": services.awarded_entries(level, unit).count(),
            "certificates": services.certificates_of(level, unit).count(),
            "template": {"title": tpl.title, "body": tpl.body, "issuer_name": tpl.issuer_name,
                         "signature": tpl.signature, "issue_date": tpl.issue_date, "has_seal": bool(tpl.seal),
                         "placeholders": list(services.rules.PLACEHOLDERS)},
            "job": _job_out(services.latest_job(level, unit))}


@router.get("/mine", response={200: list[CertificateOut], **ERRORS}, summary="我的荣誉：本人的全部证书")
def mine(request):
    return [_cert_out(c) for c in services.mine(request.auth)]


class HonourOut(Schema):
    year: int
    campaign_title: str
    level_kind: str
    award_name: str
    issuer: str
    course_title: str
    node_label: str
    category_label: str
    role: str
    school: str
    certificate: CertificateOut | None


@router.get("/honours", response={200: list[HonourOut], **ERRORS},
            summary="我的荣誉：本人主讲或参与的课程在各年度、各层级获评的荣誉（含证书，未颁发时为 null）")
def honours(request):
    return [{**{k: getattr(h, k) for k in HonourOut.model_fields if k != "certificate"},
             "certificate": _cert_out(h.certificate) if h.certificate else None}
            for h in services.honours(request.auth)]


@router.get("/levels/{level_id}/units/{unit_id}", response={200: PlaceOut, **ERRORS},
            summary="某单位在某层级的证书：模板、获评课程数、已颁发数、最近一次颁发任务")
def place(request, level_id: int, unit_id: int):
    level, unit = services.get_place(request.auth, level_id, unit_id)
    return _place_out(level, unit)


@router.put("/levels/{level_id}/units/{unit_id}/template", response={200: PlaceOut, **ERRORS},
            summary="修改证书模板（标题、含占位符的正文、颁发单位、签章行、落款日期）")
def save_template(request, level_id: int, unit_id: int, data: TemplateIn):
    level, unit = services.get_place(request.auth, level_id, unit_id)
    services.save_template(request.auth, level, unit, title=data.title, body=data.body, issuer_name=data.issuer_name,
                           signature=data.signature, issue_date=data.issue_date)
    return _place_out(level, unit)


@router.post("/levels/{level_id}/units/{unit_id}/issue", response={202: JobOut, **ERRORS},
             summary="颁发证书（后台任务；再次颁发只补发缺少的证书）")
def issue(request, level_id: int, unit_id: int):
    level, unit = services.get_place(request.auth, level_id, unit_id)
    return 202, _job_out(services.start_issue(request.auth, level, unit))


@router.get("/levels/{level_id}/units/{unit_id}/certificates", response={200: list[CertificateOut], **ERRORS},
            summary="已颁发的证书（按编号，每页 100 张）")
def certificates(request, level_id: int, unit_id: int, page: int = 1):
    level, unit = services.get_place(request.auth, level_id, unit_id)
    page = max(1, min(page, 10**6))
    qs = services.certificates_of(level, unit)[(page - 1) * 100:page * 100]
    return [_cert_out(c) for c in qs]


@router.get("/levels/{level_id}/units/{unit_id}/certificates.zip", response={200: None, **ERRORS},
            summary="下载全部有效证书（ZIP，流式）")
def archive(request, level_id: int, unit_id: int):
    level, unit = services.get_place(request.auth, level_id, unit_id)
    response = StreamingHttpResponse(services.zip_stream(level, unit), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, services.zip_filename(level, unit))
    return response


@router.get("/certificates/{cert_id}.pdf", response={200: None, **ERRORS}, summary="下载一张证书（本人或颁发单位管理员）")
def download(request, cert_id: int):
    cert = services.get_certificate(request.auth, cert_id)
    response = HttpResponse(services.render_certificate(cert), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, services.filename(cert))
    return response


class RevokeIn(Schema):
    reason: str


@router.post("/certificates/{cert_id}/revoke", response={200: CertificateOut, **ERRORS},
             summary="撤销证书（须写明理由，记入历史记录）")
def revoke(request, cert_id: int, data: RevokeIn):
    return _cert_out(services.revoke(request.auth, cert_id, data.reason))


class VerifyOut(Schema):
    found: bool
    valid: bool
    serial: str
    masked_name: str
    course_title: str
    award_name: str
    year: int | None
    issuer_name: str
    issued_on: date | None
    revoked_on: date | None


@router.get("/verify/{token}", auth=None, response={200: VerifyOut, 404: ErrorOut},
            summary="公开验证证书：有效或已撤销，获得者姓名部分隐去；无此证书时 404")
def verify(request, token: str):
    from django.utils.translation import gettext as _

    result = services.verify(token)
    if not result.found:
        return 404, {"detail": _("无此证书：验证码不存在。"), "errors": []}
    return result.__dict__


# --- commendations ---------------------------------------------------------------------------------
class CandidateOut(Schema):
    unit_id: int
    name: str
    recommended: int
    quota: int | None
    awarded_above: int
    complete: int
    confirmed_on_time: bool | None
    contact_on_time: bool | None
    proposed: bool
    reason: str
    shortfalls: list[str]


@router.get("/commendations/campaigns/{campaign_id}/units/{unit_id}/candidates",
            response={200: list[CandidateOut], **ERRORS},
            summary="通报表扬候选单位：各下级单位的数据、系统建议及不建议的原因")
def commendation_candidates(request, campaign_id: int, unit_id: int):
    from awards.views import _campaign

    campaign = _campaign(campaign_id)
    unit = services.get_commendation_place(request.auth, campaign, unit_id)
    return [{**c.facts.__dict__, "proposed": c.proposed, "reason": c.reason, "shortfalls": list(c.shortfalls)}
            for c in services.commendation_candidates(request.auth, campaign, unit)]


class CommendedIn(Schema):
    unit_id: int
    reason: str


class CommendationIn(Schema):
    title: str
    doc_number: str = ""
    body: str
    units: list[CommendedIn]


class CommendedOut(Schema):
    unit_id: int
    name: str
    reason: str
    proposed: bool


class CommendationOut(Schema):
    id: int
    title: str
    doc_number: str
    body: str
    issuer: str
    published_at: datetime
    units: list[CommendedOut]
    url: str
    pdf_url: str


def _commendation_out(c) -> dict:
    return {"id": c.pk, "title": c.title, "doc_number": c.doc_number, "body": c.body, "issuer": c.issuer.name,
            "published_at": c.published_at,
            "units": [{"unit_id": u.unit_id, "name": u.unit.name, "reason": u.reason, "proposed": u.proposed}
                      for u in c.units.select_related("unit")],
            "url": f"/commendations/{c.pk}/", "pdf_url": f"/commendations/{c.pk}.pdf"}


@router.post("/commendations/campaigns/{campaign_id}/units/{unit_id}", response={201: CommendationOut, **ERRORS},
             summary="发布通报表扬（每个单位须写明理由）")
def publish_commendation(request, campaign_id: int, unit_id: int, data: CommendationIn):
    from awards.views import _campaign

    campaign = _campaign(campaign_id)
    unit = services.get_commendation_place(request.auth, campaign, unit_id)
    c = services.publish_commendation(request.auth, campaign, unit, title=data.title, doc_number=data.doc_number,
                                      body=data.body, reasons={str(u.unit_id): u.reason for u in data.units})
    return 201, _commendation_out(c)


@router.get("/commendations/{int:commendation_id}", auth=None, response={200: CommendationOut, 404: ErrorOut},
            summary="公开的通报表扬")
def commendation(request, commendation_id: int):
    from django.shortcuts import get_object_or_404

    return _commendation_out(get_object_or_404(services.Commendation.objects.select_related("issuer"),
                                               pk=commendation_id))
