"""Certificates of a level's awards: issuing (one per person, in the background with progress),
what the PDF says, the QR target, verification (valid, revoked, forged), revocation in the
history, the streamed ZIP, and who may see what."""

import io
import zipfile

import pytest
from pypdf import PdfReader

from awards import pdf, services
from awards.models import Certificate, IssueJob
from selection import services as selection_services

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(pdf.font_path() is None, reason="需要中文字体 fonts-wqy-microhei（make test 会自动安装）")]


def place_url(entry):
    return f"/awards/levels/{entry.level_id}/units/{entry.unit_id}/"


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def issued(client, tree, awarded, django_capture_on_commit_callbacks):
    client.force_login(tree.county_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(place_url(awarded[0]) + "issue/")
    assert response.status_code == 302
    return awarded


def test_issuing_makes_one_certificate_per_person_with_progress(issued, tree):
    certs = list(Certificate.objects.order_by("number"))
    assert [(c.holder.username, c.role) for c in certs] == [("teacher", "lead"), ("colleague", "member"),
                                                           ("teacher", "lead")]
    assert [c.serial for c in certs] == [f"{certs[0].year}-COUNTY-{tree.county.pk:04d}-{n:05d}" for n in (1, 2, 3)]
    job = IssueJob.objects.get()
    assert (job.state, job.done, job.total, job.created, job.percent) == ("done", 2, 2, 3, 100)
    # Issuing again only adds what is missing: nothing here, the serials stay.
    job2 = services.start_issue(tree.county_admin, issued[0].level, tree.county)
    services.run_issue(job2.pk)
    assert IssueJob.objects.get(pk=job2.pk).created == 0
    assert Certificate.objects.count() == 3


def test_the_pdf_says_everything_the_notice_asks_and_the_qr_points_to_verification(client, issued, tree, monkeypatch):
    seen = []
    real = pdf.qr_matrix
    monkeypatch.setattr(pdf, "qr_matrix", lambda value: seen.append(value) or real(value))
    cert = Certificate.objects.get(holder__username="colleague")
    response = client.get(f"/awards/certificates/{cert.pk}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in ("荣誉证书", "欧阳修明", "湛江市第二十一小学", "秋天的雨0", "统编版 一年级 上册", "第一单元", "学科课程",
                     "县级精品课", str(cert.year), "赤坎区", cert.serial, "参与制作"):
        assert expected in text.replace("\n", ""), expected
    assert seen == [services.verify_url(cert.token)]
    assert seen[0].endswith(f"/verify/{cert.token}/")
    # The font is embedded (a subset), so the Chinese renders anywhere.
    fonts = PdfReader(io.BytesIO(response.content)).pages[0]["/Resources"]["/Font"]
    descriptors = [f.get_object().get("/FontDescriptor") for f in fonts.values()]
    assert any(d is not None and "/FontFile2" in d.get_object() for d in descriptors)


def test_verification_valid_revoked_and_forged(client, issued, tree):
    cert = Certificate.objects.get(holder__username="teacher", entry=issued[0])
    client.logout()
    page = client.get(f"/verify/{cert.token}/").content.decode()
    assert "证书有效" in page and "王*明" in page and "秋天的雨0" in page and "县级精品课" in page and "赤坎区" in page
    assert "王小明" not in page and "湛江市第二十一小学" not in page and "13800000001" not in page
    forged = client.get("/verify/" + "A" * 24 + "/")
    assert forged.status_code == 404 and "无此证书" in forged.content.decode()
    assert client.get("/verify/x/").status_code == 404
    client.force_login(tree.county_admin)
    refused = client.post(f"/awards/certificates/{cert.pk}/revoke/", {"reason": " "}, follow=True)
    assert "须写明理由" in refused.content.decode()
    client.post(f"/awards/certificates/{cert.pk}/revoke/", {"reason": "经核查存在抄袭"})
    client.logout()
    page = client.get(f"/verify/{cert.token}/").content.decode()
    assert "证书已撤销" in page and "证书有效" not in page


def test_revocation_is_in_the_entry_and_unit_history(client, issued, tree):
    cert = Certificate.objects.get(holder__username="teacher", entry=issued[0])
    services.revoke(tree.county_admin, cert.pk, "经核查存在抄袭")
    events = selection_services.history(issued[0], tree.county_admin)
    revoked = [e for e in events if e.action == "awards.certificate.revoke"]
    assert len(revoked) == 1 and revoked[0].reason == "经核查存在抄袭"
    assert any(e.action == "awards.certificate.issue" for e in events)
    page = client.get(f"/selection/campaigns/{issued[0].level.campaign_id}/units/{tree.county.pk}/history/")
    assert page.status_code == 200 and "撤销证书" in page.content.decode()


def test_the_zip_holds_every_valid_certificate_streamed(client, issued, tree):
    services.revoke(tree.county_admin, Certificate.objects.get(holder__username="colleague").pk, "成员信息有误")
    response = client.get(place_url(issued[0]) + "certificates.zip")
    assert response.status_code == 200 and response.streaming
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert len(names) == 2 and all(n.endswith("_王小明.pdf") for n in names)
    assert all(archive.read(n).startswith(b"%PDF") for n in names)


def test_who_may_see_what(client, issued, tree):
    cert = Certificate.objects.get(holder__username="colleague")
    for user in (tree.other_county_admin, tree.teacher, tree.other_teacher):
        client.force_login(user)
        assert client.get(place_url(issued[0])).status_code == 404
        assert client.get(place_url(issued[0]) + "certificates.zip").status_code == 404
        assert client.post(f"/awards/certificates/{cert.pk}/revoke/", {"reason": "x"}).status_code == 404
    client.force_login(tree.teacher)  # not his certificate (his colleague's)
    assert client.get(f"/awards/certificates/{cert.pk}.pdf").status_code == 404
    client.force_login(cert.holder)
    assert client.get(f"/awards/certificates/{cert.pk}.pdf").status_code == 200
    mine = client.get("/awards/mine/").content.decode()
    assert cert.serial in mine and f"/verify/{cert.token}/" in mine
    client.force_login(tree.city_admin)  # the level above may act for the county
    assert client.get(place_url(issued[0])).status_code == 200


def test_template_is_checked_and_previewed(client, tree, awarded):
    client.force_login(tree.county_admin)
    url = place_url(awarded[0])
    bad = client.post(url, {"title": "荣誉证书", "body": "{姓名} 获得 {奖项}", "issuer_name": "赤坎区教育局"})
    assert "无法识别的占位符" in bad.content.decode() and "{奖项}" in bad.content.decode()
    fake_seal = io.BytesIO(b"%PDF-1.4 not an image")
    fake_seal.name = "seal.png"
    bad = client.post(url, {"title": "荣誉证书", "body": "{姓名}", "issuer_name": "赤坎区教育局", "seal": fake_seal})
    assert "PNG 或 JPG" in bad.content.decode()
    from PIL import Image
    png = io.BytesIO()
    Image.new("RGBA", (120, 120), (200, 0, 0, 128)).save(png, "PNG")
    png.seek(0)
    png.name = "seal.png"
    ok = client.post(url, {"title": "优秀课例证书", "body": "兹证明 {姓名} 的《{课程}》获评{荣誉}。",
                           "issuer_name": "赤坎区教育局", "signature": "赤坎区教育局（盖章）", "seal": png})
    assert ok.status_code == 302
    preview = client.get(url + "preview.pdf")
    assert preview.status_code == 200
    text = pdf_text(preview.content)
    assert "优秀课例证书" in text and "兹证明王小明的《秋天的雨0》获评县级精品课" in text.replace(" ", "").replace("\n", "")


def test_nothing_to_issue_or_no_font_is_said_clearly(client, tree, campaign, awarded, monkeypatch):
    client.force_login(tree.county_admin)
    city_level = campaign.levels.get(kind="city")
    page = client.post(f"/awards/levels/{city_level.pk}/units/{tree.city.pk}/issue/", follow=True)
    assert page.status_code == 404  # the county admin does not issue for the city
    client.force_login(tree.city_admin)
    page = client.post(f"/awards/levels/{city_level.pk}/units/{tree.city.pk}/issue/", follow=True)
    assert "还没有评为“市级精品课”的课程" in page.content.decode()
    monkeypatch.setattr(pdf, "font_path", lambda: None)
    pdf.register_font.cache_clear()
    try:
        client.force_login(tree.county_admin)
        page = client.post(place_url(awarded[0]) + "issue/", follow=True)
        assert "缺少中文字体" in page.content.decode()
        assert not Certificate.objects.exists()
    finally:
        pdf.register_font.cache_clear()


def test_place_page_query_count(client, issued, tree, django_assert_max_num_queries):
    client.force_login(tree.county_admin)
    with django_assert_max_num_queries(16):
        assert client.get(place_url(issued[0])).status_code == 200


@pytest.mark.skipif(__import__("shutil").which("pdftoppm") is None,
                    reason="需要 pdftoppm（poppler-utils，make test 会自动安装）")
def test_the_printed_qr_code_decodes_to_the_verification_page(client, issued, tmp_path):
    """Render the PDF as a printer would (pdftoppm) and read the QR code back from the image."""
    import subprocess

    import zxingcpp
    from PIL import Image

    cert = Certificate.objects.get(holder__username="colleague")
    (tmp_path / "c.pdf").write_bytes(client.get(f"/awards/certificates/{cert.pk}.pdf").content)
    subprocess.run(["pdftoppm", "-png", "-r", "120", "-singlefile", str(tmp_path / "c.pdf"), str(tmp_path / "c")],
                   check=True, timeout=60)
    image = Image.open(tmp_path / "c.png")
    assert image.width > image.height  # landscape A4
    codes = [r.text for r in zxingcpp.read_barcodes(image)]
    assert codes == [services.verify_url(cert.token)]
    client.logout()
    from urllib.parse import urlsplit
    assert "证书有效" in client.get(urlsplit(codes[0]).path).content.decode()


def test_api(client, tree, awarded, bearer, django_capture_on_commit_callbacks):
    base = f"/api/v1/awards/levels/{awarded[0].level_id}/units/{tree.county.pk}"
    admin = bearer(tree.county_admin)
    bad = client.put(base + "/template", {"title": "荣誉证书", "body": "{奖项}", "issuer_name": "赤坎区教育局"},
                     content_type="application/json", **admin)
    assert bad.status_code == 400 and "{奖项}" in bad.json()["detail"]
    with django_capture_on_commit_callbacks(execute=True):
        job = client.post(base + "/issue", **admin)
    assert job.status_code == 202 and job.json()["total"] == 2
    place = client.get(base, **admin).json()
    assert place["certificates"] == 3 and place["job"]["state"] == "done"
    certs = client.get(base + "/certificates", **admin).json()
    assert [c["serial"][-5:] for c in certs] == ["00001", "00002", "00003"]
    other = bearer(tree.other_county_admin)
    assert client.get(base, **other).status_code == 404
    assert client.post(f"/api/v1/awards/certificates/{certs[0]['id']}/revoke", {"reason": "x"},
                       content_type="application/json", **other).status_code == 404
    revoked = client.post(f"/api/v1/awards/certificates/{certs[0]['id']}/revoke", {"reason": "信息有误"},
                          content_type="application/json", **admin)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    token = certs[0]["verify_url"].rstrip("/").rsplit("/", 1)[1]
    client.logout()
    public = client.get(f"/api/v1/awards/verify/{token}").json()
    assert public["found"] and not public["valid"] and public["masked_name"] == "王*明"
    assert "school_name" not in public
    assert client.get("/api/v1/awards/verify/" + "B" * 24).status_code == 404
    mine = client.get("/api/v1/awards/mine", **bearer(tree.teacher)).json()
    assert {c["serial"] for c in mine} == {certs[0]["serial"], certs[2]["serial"]}
    pdf_response = client.get(mine[0]["pdf_url"], **bearer(tree.teacher))
    assert pdf_response.status_code == 200 and pdf_response.content.startswith(b"%PDF")


def test_taking_the_award_back_revokes_its_certificates(client, issued, tree):
    selection_services.set_award(tree.county_admin, issued[0].pk, False)
    certs = Certificate.objects.filter(entry=issued[0])
    assert certs.count() == 2 and all(c.revoked and c.revoke_reason == "本级荣誉已取消" for c in certs)
    assert not Certificate.objects.get(entry=issued[1]).revoked
    events = [e for e in selection_services.history(issued[0], tree.county_admin) if e.action == "awards.certificate.revoke"]
    assert len(events) == 2
    client.logout()
    assert "证书已撤销" in client.get(f"/verify/{certs[0].token}/").content.decode()


def test_issuing_goes_through_a_large_level_in_chunks(tree, awarded, monkeypatch):
    """Entries are loaded ISSUE_CHUNK at a time (a bounded IN list: SQLite refused one of 2,500)."""
    monkeypatch.setattr(services, "ISSUE_CHUNK", 1)
    job = IssueJob.objects.create(level=awarded[0].level, unit=tree.county, total=0, created_by=tree.county_admin)
    job = services.run_issue(job.pk)
    assert (job.done, job.total, job.created) == (2, 2, 3)
    assert sorted(Certificate.objects.values_list("number", flat=True)) == [1, 2, 3]


def test_a_stale_job_does_not_block_issuing(tree, awarded):
    """A job whose worker died (no progress for STALE_AFTER) is replaced; one still moving is followed."""
    from django.utils import timezone

    level = awarded[0].level
    stuck = IssueJob.objects.create(level=level, unit=tree.county, total=2, state="running")
    assert services.start_issue(tree.county_admin, level, tree.county) == stuck
    IssueJob.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - services.STALE_AFTER * 2)
    fresh = services.start_issue(tree.county_admin, level, tree.county)
    assert fresh != stuck and fresh.state == "queued"
