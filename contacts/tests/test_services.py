"""Use cases of the contact form: who files, deadlines (at the second, reopened by an override),
saving people, the scan (by content, size), filing, the audit log."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from audit.models import Event
from campaigns import services as campaign_services
from campaigns.models import DeadlineOverride
from contacts import services
from contacts.models import ContactForm
from contacts.tests.helpers import PNG_1PX, docx_bytes, pdf_upload, upload
from jingpinke.errors import ServiceError
from media.models import StoredFile


def county_deadline(campaign):
    return campaign.levels.get(kind="county").contact_form_deadline


# --- who files, by when -----------------------------------------------------------------------------
def test_the_counties_and_the_city_owned_schools_file(tree, campaign):
    assert [u.name for u in services.reporting_units(campaign)] == ["赤坎区", "霞山区", "湛江市第一中学"]
    assert not services.files(campaign, tree.school)  # a county's school does not file
    assert not services.files(campaign, tree.city)  # the organiser does not file in its own campaign
    assert not services.files(campaign, tree.province_school)


def test_deadlines_resolve_with_overrides_like_every_other_deadline(tree, campaign):
    county_level = campaign.levels.get(kind="county")
    default = county_level.contact_form_deadline
    # The city-owned school's level has no contact-form deadline: it files with the counties.
    assert services.deadline_of(campaign, tree.city_school) == default
    later = default + timedelta(days=2)
    campaign_services.set_deadline_override(tree.city_admin, campaign, level_kind="county", unit=tree.county,
                                            contact_form_deadline=later, reason="补报")
    assert services.deadline_of(campaign, tree.county) == later
    from_deadlines_for = next(r.contact_form_deadline for r in campaign_services.deadlines_for(campaign, tree.county)
                              if r.level.kind == "county")
    assert from_deadlines_for == later
    campaign._contact_levels = None
    assert services.deadlines(campaign, services.reporting_units(campaign)) == {
        tree.county.pk: later, tree.other_county.pk: default, tree.city_school.pk: default}
    # A school-level contact-form deadline of its own wins over the counties'.
    campaign_services.set_deadline_override(tree.city_admin, campaign, level_kind="school", unit=tree.city_school,
                                            contact_form_deadline=later + timedelta(days=1), reason="")
    assert services.deadline_of(campaign, tree.city_school) == later + timedelta(days=1)


# --- saving people ----------------------------------------------------------------------------------
def test_save_people_replaces_the_rows_and_is_audited(tree, campaign, rows):
    form = services.save_people(tree.county_admin, campaign, tree.county, rows)
    assert [(p.name, p.mobile, p.categories) for p in form.people.all()] == [
        ("黄志明", "13800138021", ["subject", "special"]), ("陈丽娟", "13800138022", ["experiment"])]
    assert (form.level.kind, form.filed, form.updated_by) == ("county", False, tree.county_admin)
    services.save_people(tree.county_admin, campaign, tree.county, rows[1:])
    events = list(Event.objects.filter(action="contacts.form.update").order_by("id"))
    assert [len(e.after["people"]) for e in events] == [2, 1]
    assert events[1].before["people"][0]["name"] == "黄志明"
    assert events[1].unit_path == tree.county.path
    # Saving the same rows again changes nothing and logs nothing.
    services.save_people(tree.county_admin, campaign, tree.county, rows[1:])
    assert Event.objects.filter(action="contacts.form.update").count() == 2


def test_a_bad_mobile_saves_nothing(tree, campaign, rows):
    services.save_people(tree.county_admin, campaign, tree.county, rows)
    bad = [rows[0], {**rows[1], "mobile": "0759-3201457"}]
    with pytest.raises(ServiceError) as exc:
        services.save_people(tree.county_admin, campaign, tree.county, bad)
    assert exc.value.message == ("联系人信息有 1 处需要修改：第 2 位联系人：“0759-3201457”不是有效的手机号码，"
                                 "请填写 11 位手机号码，例如 13800138000。")
    assert exc.value.errors[0]["row"] == 2
    assert list(ContactForm.objects.get(unit=tree.county).people.values_list("mobile", flat=True)) == [
        "13800138021", "13800138022"]


def test_only_the_units_own_admins_fill_it(tree, campaign, rows):
    for actor in (tree.city_admin, tree.other_county_admin, tree.school_admin):
        with pytest.raises(PermissionDenied):
            services.save_people(actor, campaign, tree.county, rows)
    with pytest.raises(Http404):  # a school under a county does not file
        services.get_unit(tree.school_admin, campaign, tree.school.pk)
    assert not ContactForm.objects.exists()


# --- the deadline -----------------------------------------------------------------------------------
def test_the_deadline_holds_to_the_second_and_a_reopen_lifts_it(tree, campaign, rows):
    deadline = county_deadline(campaign)
    services.save_people(tree.county_admin, campaign, tree.county, rows, now=deadline)  # the last second
    with pytest.raises(ServiceError) as exc:
        services.save_people(tree.county_admin, campaign, tree.county, rows[:1], now=deadline + timedelta(seconds=1))
    assert exc.value.message.startswith("工作联系表已于 ")
    assert "截止，不能再修改或提交。如确需补报，请联系上级单位为本单位重新开放" in exc.value.message
    with pytest.raises(ServiceError):
        services.upload_scan(tree.county_admin, campaign, tree.county, pdf_upload(),
                             now=deadline + timedelta(seconds=1))
    assert not StoredFile.objects.exists()  # refused before any byte was stored

    # Past the deadline for real: the city reopens 赤坎区 (its recommendation deadlines are kept).
    campaign.levels.filter(kind="county").update(contact_form_deadline=timezone.now() - timedelta(hours=1))
    campaign_services.set_deadline_override(tree.city_admin, campaign, level_kind="county", unit=tree.county,
                                            deadline=timezone.now() + timedelta(days=9), reason="推荐延期")
    with pytest.raises(ServiceError):
        services.file_form(tree.county_admin, campaign, tree.county)
    with pytest.raises(PermissionDenied):
        services.reopen(tree.county_admin, campaign, tree.county, "2099-01-01", "自己开放")
    with pytest.raises(ServiceError) as exc:
        services.reopen(tree.city_admin, campaign, tree.county, "2099-01-01", "")
    assert exc.value.message == "重新开放时请写明理由。"
    new = services.reopen(tree.city_admin, campaign, tree.county, "2099-01-01", "系统故障补报")
    assert new.isoformat() == "2099-01-01T23:59:59+08:00"
    override = DeadlineOverride.objects.get(unit=tree.county, level__kind="county")
    assert (override.contact_form_deadline, override.deadline.date()) == (new, (timezone.now() + timedelta(days=9)).date())
    services.upload_scan(tree.county_admin, campaign, tree.county, pdf_upload())
    assert services.file_form(tree.county_admin, campaign, tree.county).filed
    # The neighbour was not reopened.
    with pytest.raises(ServiceError):
        services.save_people(tree.other_county_admin, campaign, tree.other_county, rows)
    assert Event.objects.get(action="contacts.reopen").reason == "系统故障补报"


# --- the scan ---------------------------------------------------------------------------------------
def test_upload_a_pdf_scan_and_replace_it_with_a_photo(tree, campaign):
    form = services.upload_scan(tree.county_admin, campaign, tree.county, pdf_upload("赤坎区联系表.pdf"))
    first = form.scan
    assert (first.kind, first.original_name, first.owner, first.size > 100) == ("pdf", "赤坎区联系表.pdf",
                                                                             tree.county_admin, True)
    from django.core.files.storage import default_storage

    assert default_storage.open(first.storage_key).read(5) == b"%PDF-"
    form = services.upload_scan(tree.county_admin, campaign, tree.county, upload("scan.png", PNG_1PX, "image/png"))
    assert form.scan.kind == "png" and form.scan_id != first.pk
    scans = [(e.before["scan"], e.after["scan"]["name"]) for e in
             Event.objects.filter(action="contacts.form.scan").order_by("id")]
    assert scans == [(None, "赤坎区联系表.pdf"), ({**scans[1][0], "name": "赤坎区联系表.pdf"}, "scan.png")]
    assert Event.objects.filter(action="media.file.upload").count() == 2


def test_a_word_file_behind_a_pdf_name_is_refused_and_not_stored(tree, campaign):
    with pytest.raises(ServiceError) as exc:
        services.upload_scan(tree.county_admin, campaign, tree.county, upload("联系表.pdf", docx_bytes()))
    assert exc.value.message == ("“联系表.pdf”的内容是Word 文档（docx），不是 PDF、JPG 或 PNG（按文件内容判断，与扩展名无关）。"
                                 "请上传加盖公章后的扫描件或照片。")
    with pytest.raises(ServiceError) as exc:
        services.upload_scan(tree.county_admin, campaign, tree.county, upload("x.pdf", b"just text, not a pdf"))
    assert "的内容是无法识别的文件" in exc.value.message
    with pytest.raises(ServiceError) as exc:
        services.upload_scan(tree.county_admin, campaign, tree.county, upload("empty.pdf", b""))
    assert exc.value.message == "“empty.pdf”是空文件，请重新选择盖章后的扫描件。"
    assert not StoredFile.objects.exists()
    assert not ContactForm.objects.filter(scan__isnull=False).exists()


def test_an_oversize_scan_is_refused_before_reading(tree, campaign, settings):
    big = upload("big.pdf", b"%PDF-1.4\n" + b"0" * 64)
    big.size = 20 * 1024 * 1024 + 1  # what the browser declared
    with pytest.raises(ServiceError) as exc:
        services.upload_scan(tree.county_admin, campaign, tree.county, big)
    assert exc.value.message.startswith("“big.pdf”有 20.0 MB，扫描件不能超过 20.0 MB。")
    assert not StoredFile.objects.exists()


def test_attach_a_file_uploaded_through_tus(tree, campaign):
    mine = StoredFile.objects.create(owner=tree.county_admin, storage_key="files/aa/x", size=2000, sha256="0" * 64,
                                     kind="jpeg", original_name="photo.jpg")
    video = StoredFile.objects.create(owner=tree.county_admin, storage_key="files/aa/y", size=2000, sha256="1" * 64,
                                      kind="mp4", original_name="联系表.pdf")
    theirs = StoredFile.objects.create(owner=tree.other_county_admin, storage_key="files/aa/z", size=2000,
                                       sha256="2" * 64, kind="pdf", original_name="a.pdf")
    with pytest.raises(ServiceError) as exc:
        services.attach_scan(tree.county_admin, campaign, tree.county, theirs.pk)
    assert (exc.value.status, exc.value.message) == (404, "找不到这个文件，或它不是您上传的。请重新上传。")
    with pytest.raises(ServiceError) as exc:
        services.attach_scan(tree.county_admin, campaign, tree.county, video.pk)
    assert "的内容是MP4 视频，不是 PDF、JPG 或 PNG" in exc.value.message
    assert services.attach_scan(tree.county_admin, campaign, tree.county, mine.pk).scan == mine


# --- filing -----------------------------------------------------------------------------------------
def test_filing_needs_a_person_and_the_scan(tree, campaign, rows):
    with pytest.raises(ServiceError) as exc:
        services.file_form(tree.county_admin, campaign, tree.county)
    assert exc.value.message == "还不能提交：请至少填写一位联系人，并上传加盖公章的扫描件（PDF、JPG 或 PNG）。"
    services.save_people(tree.county_admin, campaign, tree.county, rows)
    with pytest.raises(ServiceError) as exc:
        services.file_form(tree.county_admin, campaign, tree.county)
    assert exc.value.message == "还不能提交：请上传加盖公章的扫描件（PDF、JPG 或 PNG）。"
    services.upload_scan(tree.county_admin, campaign, tree.county, pdf_upload())
    now = timezone.now()
    form = services.file_form(tree.county_admin, campaign, tree.county, now=now)
    assert (form.filed_at, form.filed_by) == (now, tree.county_admin)
    event = Event.objects.get(action="contacts.form.file")
    assert (event.before["filed_at"], event.after["filed_at"], event.actor) == (None, now.isoformat(), tree.county_admin)
    with pytest.raises(ServiceError) as exc:
        services.file_form(tree.county_admin, campaign, tree.county)
    assert exc.value.errors == [{"rule": "filed"}]
    # Still editable before the deadline, but it keeps at least one person.
    services.save_people(tree.county_admin, campaign, tree.county, rows[:1])
    with pytest.raises(ServiceError) as exc:
        services.save_people(tree.county_admin, campaign, tree.county, [])
    assert exc.value.message.startswith("工作联系表已提交，至少要保留一位联系人和盖章扫描件。")
    form.refresh_from_db()
    assert (form.people.count(), form.filed_at) == (1, now)


def test_the_board_in_a_fixed_number_of_queries(tree, campaign, rows, django_assert_num_queries):
    services.save_people(tree.county_admin, campaign, tree.county, rows)
    services.upload_scan(tree.county_admin, campaign, tree.county, pdf_upload())
    services.file_form(tree.county_admin, campaign, tree.county)
    fresh = type(campaign).objects.select_related("owner").get(pk=campaign.pk)
    # memberships, levels, units, forms (with scan and people), people, overrides, categories
    with django_assert_num_queries(7):
        board = services.board(tree.city_admin, fresh)
        assert [(d.unit.name, d.status, len(d.people)) for d in board] == [
            ("赤坎区", "filed", 2), ("霞山区", "missing", 0), ("湛江市第一中学", "missing", 0)]
        list(services.export_rows(fresh, board))
    with pytest.raises(Http404):
        services.board(tree.county_admin, fresh)
