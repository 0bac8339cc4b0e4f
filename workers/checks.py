"""``manage.py check --deploy``: what would stay on one node's disk in scaled mode (PostgreSQL).

Several web nodes and workers share nothing but the database, the file storage and, for tus
uploads in progress, the uploads folder (README, 部署（规模化模式）). A node must not keep its
own secret key: that is checked here. Whether the media and uploads folders are shared mounts
cannot be seen from one node (README says what to mount); ``check --deploy`` stays silent on them
so that README's production settings pass it clean (jingpinke/tests/test_security.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register
from django.utils.translation import gettext as _

from jingpinke import config


def _scaled() -> bool:
    return "sqlite" not in settings.DATABASES["default"]["ENGINE"]


@register("jingpinke", deploy=True)
def node_local_state(app_configs=None, **kwargs):
    if not _scaled():
        return []
    messages = []
    if not config.get("JPK_SECRET_KEY"):
        messages.append(Warning(
            _("未设置 JPK_SECRET_KEY：本节点使用自己生成的密钥（%(path)s），其他节点的密钥不同，"
              "登录会话、CSRF 和签名链接在请求落到另一节点时失效。") % {"path": config.data_dir() / "secret_key"},
            hint=_("在每个节点上设置同一个 JPK_SECRET_KEY。"), id="jingpinke.W101"))
    return messages
