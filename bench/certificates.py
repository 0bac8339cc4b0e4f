"""Certificates of a level (awards): issuing 5,000 certificates — 2,500 awarded county-level courses,
each with its lead teacher and one team member — then streaming all of them as one ZIP (every PDF
rendered with the embedded CJK font). Reports wall time and the process's peak RSS after each step
(ru_maxrss: it only grows, so the ZIP's figure shows whether streaming stays flat).
Target (issue #11): measured, no target given; the ZIP must not grow with the number of PDFs."""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench certificates")
    parser.add_argument("--courses", type=int, default=2_500)
    args = parser.parse_args(argv)

    os.environ.setdefault("JPK_DATA_DIR", tempfile.mkdtemp(prefix="jpk-bench-cert-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingpinke.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from awards import pdf

    if pdf.font_path() is None:  # say so before seeding, not as a traceback from the ZIP's first PDF
        print("certificates: not measured — no CJK font on this machine (install fonts-wqy-microhei: "
              "`make bench` does so as root, or set JPK_CJK_FONT)", file=sys.stderr)
        return 1
    call_command("migrate", verbosity=0)
    from awards import services
    from awards.models import IssueJob
    from campaigns import services as campaign_services
    from campaigns.enums import CampaignStatus
    from catalog.models import CatalogNode, Textbook
    from courses.models import Course, CourseMember
    from orgs.models import Membership, Role, Unit, UnitKind, User
    from selection.models import Entry

    t0 = time.perf_counter()
    province = Unit.objects.create(name="广东省", code="B440000", kind=UnitKind.PROVINCE)
    city = Unit.objects.create(name="湛江市", code="B440800", kind=UnitKind.CITY, parent=province)
    county = Unit.objects.create(name="赤坎区", code="B440802", kind=UnitKind.COUNTY, parent=city)
    schools = [Unit.objects.create(name=f"赤坎区第{i}小学", code=f"B4408020{i:02d}", kind=UnitKind.SCHOOL, parent=county)
               for i in range(1, 51)]
    admin = User.objects.create_user(username="bench_admin", password="x", real_name="管理员", is_superuser=True)
    Membership.objects.create(user=admin, unit=county, role=Role.ADMIN)
    campaign = campaign_services.create_from_shipped(admin, "zhanjiang-2024", city, status=CampaignStatus.OPEN)
    level = campaign.levels.get(kind="county")
    book = Textbook.objects.create(stage="primary", grade="三年级", subject="语文", version="统编版", volume="上册")
    node = CatalogNode.objects.create(textbook=book, title="秋天的雨", label_path="第二单元 › 6 秋天的雨", order=1,
                                      is_leaf=True)
    n = args.courses
    users = User.objects.bulk_create([User(username=f"t{i}", real_name=f"教师{i:05d}") for i in range(2 * n)])
    courses = Course.objects.bulk_create([
        Course(campaign=campaign, category="subject", node=node, title=f"秋天的雨（{i}）", lead_teacher=users[2 * i],
               school=schools[i % len(schools)], status="submitted") for i in range(n)])
    CourseMember.objects.bulk_create([CourseMember(course=c, user=users[2 * i + 1], order=1)
                                      for i, c in enumerate(courses)])
    Entry.objects.bulk_create([Entry(campaign=campaign, course=c, level=level, unit=county, node=node, node_exclusive=False,
                                     state="recommended", awarded=True, decided_at=timezone.now()) for c in courses])
    print(f"seeded {n} awarded courses ({2 * n} people) in {time.perf_counter() - t0:.1f} s; RSS {rss_mb():.0f} MB")

    t0 = time.perf_counter()
    job = IssueJob.objects.create(level=level, unit=county, total=n, created_by=admin)
    job = services.run_issue(job.pk)
    issue_s = time.perf_counter() - t0
    print(f"issue: {job.created} certificates in {issue_s:.1f} s ({job.created / issue_s:.0f}/s); "
          f"peak RSS {rss_mb():.0f} MB")

    t0 = time.perf_counter()
    size = 0
    for chunk in services.zip_stream(level, county):
        size += len(chunk)
    zip_s = time.perf_counter() - t0
    print(f"ZIP of {job.created} PDFs: {size / 2**20:.0f} MiB in {zip_s:.1f} s ({job.created / zip_s:.0f} PDFs/s); "
          f"peak RSS {rss_mb():.0f} MB")
    return 0
