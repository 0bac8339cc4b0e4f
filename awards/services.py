"""Use cases of certificates: the issuing unit's template and preview, issuing a level in the
background (``IssueJob`` with progress), downloads (one PDF, the holder's own, all as a streamed
ZIP), revocation with a reason, and the public verification by token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from awards import pdf, rules
from awards.models import Certificate, CertificateTemplate, Commendation, IssueJob
from campaigns.models import Level
from campaigns.rules import level_rank
from jingpinke.errors import ServiceError
from notifications.services import site_url
from orgs.models import Unit
from selection.models import Entry, EntryState
from selection.rules import category_label

SEAL_MAX_BYTES = 2 * 1024 * 1024
ISSUE_CHUNK = 200
STALE_AFTER = timedelta(minutes=30)


def require(actor, perm: str, obj=None, message: str | None = None) -> None:
    if not actor.has_perm(perm, obj):
        raise PermissionDenied(message or _("您没有权限进行此操作。"))


def _tz_today(now: datetime | None = None) -> date:
    return timezone.localdate(now or timezone.now())


def node_label(node) -> str:
    tb = node.textbook
    return " ".join(p for p in (tb.version, tb.grade, tb.volume) if p) + " › " + (node.label_path or node.title)


# --- where a unit issues ---------------------------------------------------------------------------
def get_place(actor, level_id, unit_id) -> tuple[Level, Unit]:
    """The level and the issuing unit (the unit holding awarded entries there); 404 outside the
    actor's units."""
    level = Level.objects.select_related("campaign").filter(pk=level_id).first()
    unit = Unit.objects.filter(pk=unit_id).first()
    if level is None or unit is None or unit.kind != level.kind or not actor.has_perm("awards.issue", unit):
        raise Http404(_("未找到该层级或单位，或您无权为其颁发证书。"))
    return level, unit


def awarded_entries(level: Level, unit: Unit):
    return (Entry.objects.filter(level=level, unit=unit, awarded=True).exclude(state=EntryState.RETURNED)
            .select_related("course__school", "course__lead_teacher", "node__textbook")
            .prefetch_related("course__members__user")
            .order_by("course__category", "pk"))


def template_for(level: Level, unit: Unit) -> CertificateTemplate:
    """The unit's template for the level, created with the defaults on first use."""
    tpl, _created = CertificateTemplate.objects.get_or_create(
        level=level, unit=unit, defaults={"issuer_name": unit.name, "signature": _("%(u)s（盖章）") % {"u": unit.name}})
    return tpl


def _sniff_image(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return None


def save_template(actor, level: Level, unit: Unit, *, title: str, body: str, issuer_name: str, signature: str = "",
                  issue_date: date | None = None, seal=None, remove_seal: bool = False) -> CertificateTemplate:
    require(actor, "awards.issue", unit)
    problems = rules.body_problems(body or "")
    title, issuer_name = (title or "").strip(), (issuer_name or "").strip()
    if not title:
        problems.append(_("请填写证书标题（例如 荣誉证书）。"))
    if not issuer_name:
        problems.append(_("请填写颁发单位。"))
    if seal is not None:
        if seal.size > SEAL_MAX_BYTES:
            problems.append(_("公章图片不能超过 2 MB。"))
        else:
            head = seal.read(16)
            seal.seek(0)
            if _sniff_image(head) is None:
                problems.append(_("公章图片须为 PNG 或 JPG 图片（建议透明背景的 PNG）。"))
    if problems:
        raise ServiceError(problems[0], errors=[{"message": p} for p in problems])
    tpl = template_for(level, unit)
    before = {"title": tpl.title, "body": tpl.body, "issuer_name": tpl.issuer_name, "signature": tpl.signature}
    tpl.title, tpl.body, tpl.issuer_name, tpl.signature = title, body.strip(), issuer_name, (signature or "").strip()
    tpl.issue_date = issue_date
    if remove_seal and tpl.seal:
        tpl.seal.delete(save=False)
        tpl.seal = ""
    if seal is not None:
        if tpl.seal:
            tpl.seal.delete(save=False)
        tpl.seal.save("seal.png", seal, save=False)
    tpl.save()
    record(actor, "awards.template.update", level.campaign, before=before,
           after={"title": tpl.title, "body": tpl.body, "issuer_name": tpl.issuer_name, "signature": tpl.signature,
                  "level": level.kind}, unit=unit)
    return tpl


def _layout(tpl: CertificateTemplate) -> pdf.Layout:
    seal = None
    if tpl.seal:
        try:
            with default_storage.open(tpl.seal.name, "rb") as fh:
                seal = fh.read(SEAL_MAX_BYTES + 1)
        except OSError:
            seal = None
    return pdf.Layout(tpl.title, tpl.body, tpl.issuer_name, tpl.signature, seal, tpl.issue_date)


def verify_url(token: str) -> str:
    return site_url() + reverse("awards_public:verify", args=[token])


def _texts(entry: Entry, level: Level, issuer_name: str) -> list[tuple[rules.Holder, rules.CertificateText]]:
    course = entry.course
    lead = rules.Holder(course.lead_teacher_id, course.lead_teacher.display_name, course.school.name, "lead")
    members = [rules.Holder(m.user_id, m.user.display_name, course.school.name, "member")
               for m in course.members.all()]
    label = node_label(entry.node)
    return [(h, rules.CertificateText(h.name, h.school, course.title, label, str(category_label(course.category)),
                                      level.award_name or level.name, level.campaign.year, issuer_name, h.role))
            for h in rules.holders(lead, members)]


def preview(actor, level: Level, unit: Unit) -> bytes:
    """A certificate as it would be issued now: the first awarded entry's lead teacher, or a sample."""
    require(actor, "awards.issue", unit)
    tpl = template_for(level, unit)
    entry = awarded_entries(level, unit).first()
    if entry is not None:
        text = _texts(entry, level, tpl.issuer_name)[0][1]
    else:
        text = rules.CertificateText(_("张三"), _("某某学校"), _("示例课程"), _("教材版本 年级 册次 › 单元 › 课"),
                                     _("学科课程"), level.award_name or level.name, level.campaign.year,
                                     tpl.issuer_name, "lead")
    return pdf.render(text, _layout(tpl), serial=_("样张"), verify_url=site_url() + "/verify/…",
                      issued_on=_tz_today())


# --- issuing ---------------------------------------------------------------------------------------
def start_issue(actor, level: Level, unit: Unit) -> IssueJob:
    """Queue the issuing of the level's certificates of every awarded entry the unit holds (those
    issued already are kept: issuing again only adds the missing ones)."""
    require(actor, "awards.issue", unit)
    if not level.award_name:
        raise ServiceError(_("本层级没有设置本级荣誉名称（如 市级精品课），不能颁发证书：请先在遴选活动的层级设置中填写。"))
    try:
        pdf.register_font()
    except pdf.FontMissing as exc:
        raise ServiceError(str(exc)) from None
    total = awarded_entries(level, unit).count()
    if not total:
        raise ServiceError(_("本单位在本层级还没有评为“%(a)s”的课程：请先在推荐工作台评定本级荣誉。") % {
            "a": level.award_name})
    # A job still queued or running is the one to follow, unless it made no progress for STALE_AFTER
    # (its worker was killed): then a new one starts (issuing only adds what is missing, so nothing doubles).
    running = IssueJob.objects.filter(level=level, unit=unit, state__in=[IssueJob.State.QUEUED,
                                                                           IssueJob.State.RUNNING],
                                      updated_at__gte=timezone.now() - STALE_AFTER).first()
    if running is not None:
        return running
    template_for(level, unit)
    job = IssueJob.objects.create(level=level, unit=unit, total=total, created_by=actor)
    record(actor, "awards.issue", level.campaign, after={"level": level.kind, "entries": total, "job": job.pk},
           unit=unit)
    from awards.tasks import issue_certificates

    transaction.on_commit(lambda: issue_certificates.enqueue(job.pk))
    return job


def run_issue(job_id: int, now: datetime | None = None) -> IssueJob:
    """The task: create the missing certificates entry by entry, updating the job's progress."""
    job = IssueJob.objects.select_related("level__campaign", "unit", "created_by").get(pk=job_id)
    if job.state == IssueJob.State.DONE:
        return job
    job.state = IssueJob.State.RUNNING
    job.save(update_fields=["state"])
    tpl = template_for(job.level, job.unit)
    now = now or timezone.now()
    ids = list(awarded_entries(job.level, job.unit).values_list("pk", flat=True))
    job.total = len(ids)
    existing = set(Certificate.objects.filter(level=job.level, issuer=job.unit).values_list("entry_id", "holder_id"))

    def entries():  # in chunks: a bounded IN list and memory whatever the level's size
        for start in range(0, len(ids), ISSUE_CHUNK):
            yield from awarded_entries(job.level, job.unit).filter(pk__in=ids[start:start + ISSUE_CHUNK])

    try:
        for i, entry in enumerate(entries(), 1):
            with transaction.atomic():
                for holder, text in _texts(entry, job.level, tpl.issuer_name):
                    if (entry.pk, holder.user_id) in existing:
                        continue
                    cert = _create(job, entry, holder, text, now)
                    existing.add((entry.pk, holder.user_id))
                    job.created += 1
                    record(job.created_by, "awards.certificate.issue", entry.course,
                           after={"serial": cert.serial, "holder": holder.name, "level": job.level.kind}, unit=job.unit)
            job.done = i
            IssueJob.objects.filter(pk=job.pk).update(done=i, total=job.total, created=job.created,
                                                      updated_at=timezone.now())
    except Exception as exc:  # noqa: BLE001 - the job says it failed; what was issued stays
        job.state, job.error, job.finished_at = IssueJob.State.FAILED, str(exc)[:1000], timezone.now()
        job.save(update_fields=["state", "error", "finished_at", "done", "total", "created"])
        raise
    job.state, job.finished_at = IssueJob.State.DONE, timezone.now()
    job.save(update_fields=["state", "finished_at", "done", "total", "created"])
    return job


def _create(job: IssueJob, entry: Entry, holder: rules.Holder, text: rules.CertificateText, now) -> Certificate:
    """One certificate with the next running number of its issuer and level (retried on a race)."""
    for _attempt in range(5):
        number = (Certificate.objects.filter(issuer=job.unit, level=job.level).aggregate(n=Max("number"))["n"] or 0) + 1
        try:
            with transaction.atomic():
                return Certificate.objects.create(
                    entry=entry, holder_id=holder.user_id, issuer=job.unit, level=job.level, number=number,
                    serial=rules.serial(text.year, job.level.kind, job.unit.pk, number), role=holder.role,
                    holder_name=text.holder_name, school_name=text.school_name, course_title=text.course_title,
                    node_label=text.node_label, category_label=text.category_label, award_name=text.award_name,
                    year=text.year, issuer_name=text.issuer_name, issued_at=now, issued_by=job.created_by)
        except IntegrityError:
            if Certificate.objects.filter(entry=entry, holder_id=holder.user_id).exists():
                return Certificate.objects.get(entry=entry, holder_id=holder.user_id)
    raise ServiceError(_("证书编号分配冲突，请稍后重试。"))


def latest_job(level: Level, unit: Unit) -> IssueJob | None:
    return IssueJob.objects.filter(level=level, unit=unit).first()


def certificates_of(level: Level, unit: Unit):
    return Certificate.objects.filter(level=level, issuer=unit).order_by("number")


# --- downloads ---------------------------------------------------------------------------------------
def render_certificate(cert: Certificate, tpl: CertificateTemplate | None = None, layout: pdf.Layout | None = None) -> bytes:
    layout = layout or _layout(tpl or template_for(cert.level, cert.issuer))
    return pdf.render(cert.text, layout, serial=cert.serial, verify_url=verify_url(cert.token),
                      issued_on=timezone.localdate(cert.issued_at), revoked=cert.revoked)


def get_certificate(actor, pk) -> Certificate:
    """A certificate its holder or the issuing unit's admins may download; 404 for anyone else."""
    cert = Certificate.objects.select_related("level__campaign", "issuer").filter(pk=pk).first()
    if cert is None or not (cert.holder_id == actor.pk or actor.has_perm("awards.issue", cert.issuer)):
        raise Http404(_("未找到该证书，或您无权查看。"))
    return cert


def filename(cert: Certificate) -> str:
    return f"{cert.serial}_{cert.holder_name}.pdf"


def zip_stream(level: Level, unit: Unit):
    """Every valid certificate of the level as one ZIP (zipstream-ng), streamed: each PDF is rendered
    only when the response reaches it, so memory stays flat however many there are."""
    from zipstream import ZIP_STORED, ZipStream

    layout = _layout(template_for(level, unit))

    def one(cert):
        yield render_certificate(cert, layout=layout)

    zs = ZipStream(sized=False, compress_type=ZIP_STORED)  # PDFs are compressed already
    for cert in certificates_of(level, unit).filter(revoked_at__isnull=True).select_related("level", "issuer"):
        zs.add(one(cert), arcname=filename(cert))
    return zs


def zip_filename(level: Level, unit: Unit) -> str:
    return f"{unit.name}_{level.award_name or level.name}_证书.zip"


# --- revocation and verification ---------------------------------------------------------------------
@transaction.atomic
def revoke(actor, pk, reason: str, now: datetime | None = None) -> Certificate:
    cert = Certificate.objects.select_for_update().select_related("issuer", "entry__course", "level").filter(pk=pk).first()
    if cert is None or not actor.has_perm("awards.issue", cert.issuer):
        raise Http404(_("未找到该证书，或您无权撤销。"))
    if cert.revoked:
        raise ServiceError(_("该证书已于 %(t)s 撤销。") % {"t": timezone.localtime(cert.revoked_at).strftime("%Y-%m-%d %H:%M")})
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("撤销证书须写明理由（将记入历史记录，并在验证页面显示“已撤销”）。"))
    mark_revoked(cert, actor, reason, now)
    return cert


def mark_revoked(cert: Certificate, actor, reason: str, now: datetime | None = None) -> None:
    """Revoke a (locked) certificate and record it in the course's history, scoped to the issuer."""
    cert.revoked_at, cert.revoked_by, cert.revoke_reason = now or timezone.now(), actor, reason
    cert.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    record(actor, "awards.certificate.revoke", cert.entry.course, before={"serial": cert.serial},
           after={"serial": cert.serial, "holder": cert.holder_name, "level": cert.level.kind}, reason=reason,
           unit=cert.issuer)


@dataclass(frozen=True)
class Verification:
    found: bool
    valid: bool = False
    serial: str = ""
    masked_name: str = ""
    course_title: str = ""
    award_name: str = ""
    year: int | None = None
    issuer_name: str = ""
    issued_on: date | None = None
    revoked_on: date | None = None


def verify(token: str) -> Verification:
    """What the public verification page says of a token: 无此证书, or valid/revoked with the course,
    level, year, issuer and the holder's masked name (nothing else: no school, no phone)."""
    token = (token or "").strip()
    cert = Certificate.objects.filter(token=token).first() if 10 <= len(token) <= 40 else None
    if cert is None:
        return Verification(False)
    return Verification(True, not cert.revoked, cert.serial, rules.mask_name(cert.holder_name), cert.course_title,
                        cert.award_name, cert.year, cert.issuer_name, timezone.localdate(cert.issued_at),
                        timezone.localdate(cert.revoked_at) if cert.revoked_at else None)


def mine(user):
    """The user's own certificates (我的荣誉), newest year first."""
    return Certificate.objects.held_by(user).select_related("level").order_by("-year", "-issued_at", "pk")


# --- a teacher's honours (我的荣誉) ------------------------------------------------------------------
@dataclass(frozen=True)
class Honour:
    """One award of one of the user's courses at one level, with his certificate if issued."""

    year: int
    campaign_title: str
    level_kind: str
    award_name: str
    issuer: str
    course_title: str
    node_label: str
    category_label: str
    role: str  # lead / member
    school: str
    certificate: Certificate | None

    @property
    def role_label(self) -> str:
        return _("主讲教师") if self.role == "lead" else _("团队成员")


def honours(user) -> list[Honour]:
    """Every award of every campaign and year of the courses the user leads or is a member of, newest
    first, each with his certificate (None while not issued). Three queries."""
    from django.db.models import Q

    entries = list(Entry.objects.filter(Q(course__lead_teacher=user) | Q(course__members__user=user), awarded=True)
                   .exclude(state=EntryState.RETURNED).distinct()
                   .select_related("course__school", "course__campaign", "level", "unit", "node__textbook"))
    certs = {c.entry_id: c for c in Certificate.objects.filter(holder=user, entry__in=entries)}
    out = []
    for e in entries:
        course = e.course
        out.append(Honour(course.campaign.year, course.campaign.title, e.level.kind, e.level.award_name or e.level.name,
                          e.unit.name,
                          course.title, node_label(e.node), str(category_label(course.category)),
                          "lead" if course.lead_teacher_id == user.pk else "member", course.school.name,
                          certs.get(e.pk)))
    out.sort(key=lambda h: (-h.year, h.campaign_title, -level_rank(h.level_kind), h.course_title))
    return out


HONOUR_COLUMNS = [(_("年度"), 8), (_("荣誉"), 14), (_("颁发单位"), 16), (_("课程"), 24), (_("目录节点"), 36),
                  (_("类别"), 10), (_("本人身份"), 10), (_("学校"), 22), (_("证书编号"), 24), (_("证书状态"), 10),
                  (_("验证网址"), 50)]


def _honour_row(h: Honour) -> list:
    c = h.certificate
    state = "" if c is None else (_("已撤销") if c.revoked else _("有效"))
    return [h.year, h.award_name, h.issuer, h.course_title, h.node_label, h.category_label, h.role_label, h.school,
            c.serial if c else _("未颁发"), state, verify_url(c.token) if c and not c.revoked else ""]


def honours_workbook(user):
    from selection.exports import table_workbook

    return table_workbook(_("%(name)s 的基础教育精品课荣誉") % {"name": user.display_name},
                          [(str(h), w) for h, w in HONOUR_COLUMNS], (_honour_row(h) for h in honours(user)),
                          now=timezone.now(), sheet_name=_("我的荣誉"))


def honours_pdf(user) -> bytes:
    """A one-document record of the user's honours to hand in (职称评聘): a table with each
    certificate's serial and verification address."""
    rows = [_honour_row(h) for h in honours(user)]
    return pdf.record(_("基础教育精品课荣誉记录"), user.display_name, [str(h) for h, _w in HONOUR_COLUMNS[:10]],
                      [r[:10] for r in rows], [r[10] for r in rows], made_on=_tz_today())


# --- commendations (通报表扬) -------------------------------------------------------------------------
def commendation_places(actor, campaign) -> list[Unit]:
    """The units whose children the actor may commend in the campaign: his city and province units."""
    from selection.services import board_units

    return [u for u in board_units(actor, campaign) if u.kind in ("city", "province")]


def get_commendation_place(actor, campaign, unit_id) -> Unit:
    unit = next((u for u in commendation_places(actor, campaign) if u.pk == unit_id), None)
    if unit is None:
        raise Http404(_("只有市、省教育局的管理员可以表扬下级单位，且只能在本活动范围内。"))
    return unit


def unit_facts(actor, campaign, unit: Unit, now: datetime | None = None) -> list[rules.UnitFacts]:
    """The measurable facts of each child unit (the progress board's figures plus the awards won at
    ``unit``'s level and the complete packages). A fixed number of queries."""
    from django.db.models import Count, Q

    from selection import services as selection_services
    from selection.rules import Compliance

    rows = [r for r in selection_services.progress(actor, campaign, unit, now=now) if r.unit.kind != "school"]
    ids = [r.unit.pk for r in rows]
    above = dict(Entry.objects.filter(level__campaign=campaign, unit=unit, from_unit_id__in=ids, awarded=True)
                 .exclude(state=EntryState.RETURNED).values("from_unit_id").annotate(n=Count("pk"))
                 .values_list("from_unit_id", "n"))
    complete = dict(selection_services.with_compliance(
        Entry.objects.filter(level__campaign=campaign, unit_id__in=ids, state=EntryState.RECOMMENDED))
        .filter(Q(compliance=Compliance.PASS) | Q(compliance=Compliance.WARN))
        .values("unit_id").annotate(n=Count("pk")).values_list("unit_id", "n"))
    out = []
    for r in rows:
        limits = [q.limit for q in r.quotas if not q.subject]
        if any(limit is None for limit in limits) or not limits:
            limits = [q.limit for q in r.quotas]
        quota = sum(limits) if limits and all(limit is not None for limit in limits) else None
        confirmed = None
        if r.confirmed:
            confirmed = r.confirm_deadline is None or r.unit_level.confirmed_at <= r.confirm_deadline
        contact = None
        if r.contact_required:
            contact = bool(r.contact_filed_at and (r.level.contact_form_deadline is None
                                                   or r.contact_filed_at <= r.level.contact_form_deadline))
        out.append(rules.UnitFacts(r.unit.pk, r.unit.name, r.held.count(EntryState.RECOMMENDED), quota,
                                   above.get(r.unit.pk, 0), complete.get(r.unit.pk, 0), confirmed, contact))
    return out


def commendation_candidates(actor, campaign, unit: Unit) -> list[rules.CommendationCandidate]:
    level = campaign.levels.filter(kind=unit.kind).first()
    award = (level.award_name or level.name) if level else ""
    return rules.commendation_candidates(unit_facts(actor, campaign, unit), award)


@transaction.atomic
def publish_commendation(actor, campaign, unit: Unit, *, title: str, doc_number: str = "", body: str,
                         reasons: dict) -> Commendation:
    """Publish a commendation of the child units in ``reasons`` ({unit id: the admin's reason}); each
    reason is required. Units the facts did not propose may be chosen, and are marked so."""
    from awards.models import Commendation, CommendedUnit

    if not actor.has_perm("awards.issue", unit):
        raise Http404(_("只有市、省教育局的管理员可以表扬下级单位。"))
    candidates = {c.facts.unit_id: c for c in commendation_candidates(actor, campaign, unit)}
    problems = []
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        problems.append(_("请填写通报标题。"))
    if not body:
        problems.append(_("请填写通报正文。"))
    chosen = {}
    for key, reason in (reasons or {}).items():
        try:
            unit_id = int(key)
        except (TypeError, ValueError):
            unit_id = None
        if unit_id not in candidates:
            problems.append(_("所选单位不是本单位的下级单位（编号 %(k)s）。") % {"k": key})
            continue
        if not (reason or "").strip():
            problems.append(_("请填写表扬“%(u)s”的理由。") % {"u": candidates[unit_id].facts.name})
            continue
        chosen[unit_id] = reason.strip()
    if not chosen and not problems:
        problems.append(_("请至少选择一个受表扬的单位。"))
    if problems:
        raise ServiceError(problems[0], errors=[{"message": p} for p in problems])
    c = Commendation.objects.create(campaign=campaign, issuer=unit, title=title, doc_number=(doc_number or "").strip(),
                                    body=body, published_at=timezone.now(), published_by=actor)
    order = [cand.facts.unit_id for cand in candidates.values()]
    for unit_id in sorted(chosen, key=order.index):
        cand = candidates[unit_id]
        CommendedUnit.objects.create(commendation=c, unit_id=unit_id, reason=chosen[unit_id],
                                     facts=cand.facts.__dict__, proposed=cand.proposed, order=order.index(unit_id))
    record(actor, "awards.commendation.publish", campaign, after={
        "commendation": c.pk, "title": title, "units": {str(k): v for k, v in chosen.items()}}, unit=unit)
    return c


def commendation_pdf(c) -> bytes:
    units = list(c.units.select_related("unit"))
    return pdf.notice(c.title, c.doc_number, c.body, [(u.unit.name, u.reason) for u in units], c.issuer.name,
                      timezone.localdate(c.published_at))
