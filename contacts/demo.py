"""Demo contact forms: two Zhanjiang counties have filed theirs (people and a generated one-page
PDF as the stamped scan), a third has saved people but not filed, the rest have not started, so
the city's board and the progress board show every state.

Call ``load(campaign)`` after the campaign is loaded (portal's load_demo). Idempotent: a unit
that already has a form is left alone.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from contacts import services
from contacts.models import ContactForm
from orgs.models import Role

# (unit code, file?, people: name, position, mobile, categories, remark)
DEMO_FORMS = [
    ("440802", True, [
        ("黄志明", "赤坎区教育局电教站站长", "13800138021", ["subject", "special"], "学科课程、特殊教育"),
        ("陈丽娟", "赤坎区教师发展中心教研员", "13800138022", ["experiment"], "实验教学"),
    ]),
    ("440803", True, [
        ("林国栋", "霞山区教育局装备中心主任", "13800138031", ["subject", "special", "experiment"], "三类均负责"),
    ]),
    ("440804", False, [
        ("吴海燕", "坡头区教育局基础教育股", "13800138041", ["subject"], ""),
    ]),
]


def scan_pdf(title: str) -> bytes:
    """A one-page PDF standing in for the stamped scan (PDF text in a standard font)."""
    from media.testing import pdf_bytes

    return pdf_bytes(pages=1, text=title)


@transaction.atomic
def load(campaign) -> list[ContactForm]:
    """Fill (and mostly file) the demo counties' forms in ``campaign``. Returns the forms made."""
    made = []
    for code, filed, people in DEMO_FORMS:
        unit = next((u for u in services.reporting_units(campaign) if u.code == code), None)
        if unit is None or ContactForm.objects.filter(campaign=campaign, unit=unit).exists():
            continue
        admin = next((m.user for m in unit.memberships.filter(role=Role.ADMIN).select_related("user")), None)
        if admin is None:
            continue
        now = timezone.now()
        rows = [{"name": n, "position": p, "mobile": m, "categories": c, "remark": r} for n, p, m, c, r in people]
        form = services.save_people(admin, campaign, unit, rows, now=now)
        if filed:
            scan = SimpleUploadedFile(f"{unit.name}工作联系表（盖章）.pdf", scan_pdf("Contact form (stamped)"),
                                      content_type="application/pdf")
            services.upload_scan(admin, campaign, unit, scan, now=now)
            form = services.file_form(admin, campaign, unit, now=now)
        made.append(form)
    return made
