"""我的荣誉: every award of the user's courses (lead or member), with or without a certificate,
as a page, an Excel sheet and a PDF record."""

import io

import openpyxl
import pytest
from pypdf import PdfReader

from awards import pdf, services
from awards.models import Certificate, IssueJob
from selection import services as selection_services
from selection.models import Entry

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(pdf.font_path() is None, reason="需要中文字体 fonts-wqy-microhei（make test 会自动安装）")]


@pytest.fixture
def city_award_too(tree, awarded):
    """The first course also goes to the city and is awarded 市级精品课 there (no certificate yet)."""
    selection_services.decide(tree.county_admin, awarded[0].pk, "recommend")
    city_entry = Entry.objects.get(course=awarded[0].course, level__kind="city")
    selection_services.set_award(tree.city_admin, city_entry.pk, True)
    job = IssueJob.objects.create(level=awarded[0].level, unit=tree.county, total=2, created_by=tree.county_admin)
    services.run_issue(job.pk)
    return city_entry


def test_honours_of_a_lead_teacher_and_a_member(client, tree, awarded, city_award_too, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        got = services.honours(tree.teacher)
    assert [(h.award_name, h.course_title, h.role, h.certificate is not None) for h in got] == [
        ("市级精品课", "秋天的雨0", "lead", False), ("县级精品课", "秋天的雨0", "lead", True),
        ("县级精品课", "秋天的雨1", "lead", True)]
    colleague = Certificate.objects.get(holder__username="colleague").holder
    assert [(h.award_name, h.role) for h in services.honours(colleague)] == [("市级精品课", "member"), ("县级精品课", "member")]
    client.force_login(colleague)
    page = client.get("/awards/mine/").content.decode()
    assert "市级精品课" in page and "证书尚未颁发" in page and "团队成员" in page
    assert "秋天的雨1" not in page  # not his course


def test_honours_excel_and_pdf_record(client, tree, awarded, city_award_too):
    client.force_login(tree.teacher)
    response = client.get("/awards/mine.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(min_row=5, values_only=True))
    assert [(r[1], r[3], r[8]) for r in rows] == [
        ("市级精品课", "秋天的雨0", "未颁发"),
        ("县级精品课", "秋天的雨0", Certificate.objects.get(entry=awarded[0], holder=tree.teacher).serial),
        ("县级精品课", "秋天的雨1", Certificate.objects.get(entry=awarded[1], holder=tree.teacher).serial)]
    assert rows[1][10].endswith("/verify/" + Certificate.objects.get(entry=awarded[0], holder=tree.teacher).token + "/")
    record = client.get("/awards/mine.pdf")
    assert record.status_code == 200 and record["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(record.content)).pages).replace("\n", "")
    assert "基础教育精品课荣誉记录" in text and "王小明" in text and "市级精品课" in text and "秋天的雨1" in text


def test_someone_without_honours(client, tree, awarded):
    client.force_login(tree.other_teacher)
    assert "还没有获评的荣誉" in client.get("/awards/mine/").content.decode()
    assert client.get("/awards/mine.pdf").status_code == 200


def test_honours_api(client, tree, awarded, city_award_too, bearer):
    got = client.get("/api/v1/awards/honours", **bearer(tree.teacher)).json()
    assert [(h["award_name"], h["course_title"], h["certificate"] is not None) for h in got] == [
        ("市级精品课", "秋天的雨0", False), ("县级精品课", "秋天的雨0", True), ("县级精品课", "秋天的雨1", True)]
    assert got[1]["certificate"]["serial"].startswith(str(got[1]["year"]))
