"""README.md's configuration table and jingpinke.config.OPTIONS must agree."""

import re

from jingpinke import config


def readme_options():
    text = (config.BASE_DIR / "README.md").read_text()
    rows = re.findall(r"^\|\s*`(JPK_[A-Z_]+)`\s*\|\s*`([^`]*)`\s*\|", text, flags=re.M)
    return {env: "" if default == '""' else default for env, default in rows}


def test_readme_documents_every_option_with_its_default():
    documented = readme_options()
    assert documented == {o.env: o.default for o in config.OPTIONS}


def test_email_url_parsing():
    from jingpinke.settings import _email_settings

    assert _email_settings("console:")["EMAIL_BACKEND"].endswith("console.EmailBackend")
    smtp = _email_settings("smtp+tls://jpk%40x.cn:p%40ss@mail.x.cn:587")
    assert (smtp["EMAIL_HOST"], smtp["EMAIL_PORT"], smtp["EMAIL_HOST_USER"], smtp["EMAIL_HOST_PASSWORD"], smtp["EMAIL_USE_TLS"]) == (
        "mail.x.cn", 587, "jpk@x.cn", "p@ss", True)


def test_settings_defaults():
    from django.conf import settings

    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.AUTH_USER_MODEL == "orgs.User"
