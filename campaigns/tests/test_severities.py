"""Check severities (fail / warn / off per rule) as part of the production spec: the shipped
templates, the service, the page and the API."""

import json

import pytest
from django.urls import reverse

from campaigns import services
from campaigns.tests.test_pages import formset_post
from jingpinke.errors import ServiceError
from media.rules import DEFAULT_SEVERITIES

# What the shipped templates say: the notices state 25 fps as a requirement, so a wrong frame rate
# fails there (the code's default for a spec without severities only warns); no audio track fails.
TEMPLATE = {**DEFAULT_SEVERITIES, "fps": "fail", "audio": "fail"}


def severities_of(campaign, category="subject"):
    return {s.stage: s.severities for s in campaign.categories.get(category=category).specs.all()}


def test_the_shipped_templates_carry_every_rules_severity(zhanjiang, guangdong):
    assert TEMPLATE == {"container": "fail", "video_codec": "fail", "resolution": "fail", "aspect": "fail",
                        "fps": "fail", "video_bitrate": "warn", "audio": "fail", "audio_codec": "warn",
                        "audio_bitrate": "warn", "duration": "fail", "text": "warn", "extension": "warn"}
    for campaign in (zhanjiang, guangdong):
        for category in ("subject", "special", "experiment"):
            assert severities_of(campaign, category) == {
                "primary": TEMPLATE, "junior": TEMPLATE, "senior": TEMPLATE, "special": TEMPLATE}


def test_export_round_trips_the_severities(tree, zhanjiang):
    services.set_specs(tree.city_admin, zhanjiang, "subject", [{"stage": "", "severities": {"fps": "off"}}])
    doc = services.export_template(tree.city_admin, zhanjiang)
    assert doc["categories"][0]["specs"][0]["severities"] == {**DEFAULT_SEVERITIES, "fps": "off"}
    copy = services.import_template(tree.city_admin, doc, tree.city, year_offset=1)
    assert severities_of(copy) == {"": {**DEFAULT_SEVERITIES, "fps": "off"}}


def test_set_specs_completes_the_severities_with_the_defaults(tree, zhanjiang):
    services.set_specs(tree.city_admin, zhanjiang, "subject", [
        {"stage": "primary", "severities": {"audio": "warn", "duration": "off"}}, {"stage": "junior"}])
    assert severities_of(zhanjiang) == {
        "primary": {**DEFAULT_SEVERITIES, "audio": "warn", "duration": "off"}, "junior": DEFAULT_SEVERITIES}
    assert DEFAULT_SEVERITIES["audio"] == "fail"


def test_an_unknown_rule_or_severity_is_refused_with_the_choices(tree, zhanjiang):
    with pytest.raises(ServiceError) as exc:
        services.set_specs(tree.city_admin, zhanjiang, "subject", [
            {"stage": "", "severities": {"loudness": "fail", "fps": "block"}}])
    messages = [e["message"] for e in exc.value.errors]
    assert messages[0].startswith("没有“loudness”这个检测项，可选：container（封装格式）、video_codec（视频编码）")
    assert messages[1] == "“帧率”的严重程度“block”无效，可选值：fail（不通过（阻止提交））、warn（提醒（不阻止提交））、off（不检查）。"
    assert [(e["row"], e["column"]) for e in exc.value.errors] == [("学科课程 › 制作规范 1", "检测项严重程度")] * 2
    assert severities_of(zhanjiang)["primary"] == TEMPLATE  # nothing saved


def test_the_spec_page_shows_and_edits_the_severities(client, tree, zhanjiang):
    client.force_login(tree.city_admin)
    page_url = reverse("campaigns:specs", args=[zhanjiang.pk, "subject"])
    html = client.get(page_url).content.decode()
    assert '<option value="fail" selected>不通过（阻止提交）</option>' in html  # form-0-severity_audio
    assert 'name="form-0-severity_audio"' in html and 'name="form-0-severity_extension"' in html
    assert "检测项“没有音频轨道”" in html
    spec = {"stage": "", "container": "mp4", "video_codec": "h264", "width": "1920", "height": "1080", "fps": "25",
            "video_bitrate_kbps": "8000", "audio_codec": "aac", "audio_bitrate_kbps": "128", "min_duration_s": "600",
            "max_duration_s": "900", "max_size_mb": "1024", "title_card_seconds": "5",
            "severity_audio": "warn", "severity_fps": "off"}
    assert client.post(page_url, formset_post([spec])).status_code == 302
    assert severities_of(zhanjiang) == {"": {**DEFAULT_SEVERITIES, "audio": "warn", "fps": "off"}}
    detail = client.get(reverse("campaigns:detail", args=[zhanjiang.pk])).content.decode()
    assert ('<span class="sev-warn">提醒（不阻止提交）：视频码率、没有音频轨道、音频编码、音频码率、PDF 无文字（扫描件）、扩展名与内容不符</span>'
            in detail)
    assert '<span class="sev-off">不检查：帧率</span>' in detail


def test_the_api_reads_and_writes_the_severities(client, tree, zhanjiang, bearer):
    h = bearer(tree.city_admin)
    body = client.get(f"/api/v1/campaigns/{zhanjiang.pk}", **h).json()
    assert body["categories"][0]["specs"][0]["severities"] == TEMPLATE
    r = client.put(f"/api/v1/campaigns/{zhanjiang.pk}/categories/subject/specs",
                   json.dumps([{"stage": "", "severities": {"audio": "warn"}}]), content_type="application/json", **h)
    assert (r.status_code, r.json()[0]["severities"]) == (200, {**DEFAULT_SEVERITIES, "audio": "warn"})
    r = client.put(f"/api/v1/campaigns/{zhanjiang.pk}/categories/subject/specs",
                   json.dumps([{"stage": "", "severities": {"audio": "loud"}}]), content_type="application/json", **h)
    assert r.status_code == 400
    assert r.json()["errors"] == [{"row": "学科课程 › 制作规范 1", "column": "检测项严重程度",
                                   "message": "“没有音频轨道”的严重程度“loud”无效，可选值：fail（不通过（阻止提交））、warn（提醒（不阻止提交））、off（不检查）。"}]
