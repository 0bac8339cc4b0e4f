"""``manage.py check --deploy``: what would stay on one node's disk in scaled mode (PostgreSQL).

Several web nodes and workers share nothing but the database, the file storage and, for tus
uploads in progress, the uploads folder (README, 部署（规模化模式）). These checks say which of
those this node keeps to itself."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Info, Warning, register
from django.utils.translation import gettext as _

from jingpinke import config


def _scaled() -> bool:
    return "sqlite" not in settings.DATABASES["default"]["ENGINE"]


@register("jingpinke", deploy=True)
def node_local_state(app_configs=None, **kwargs):
    from jingpinke import storage

    if not _scaled():
        return []
    messages = []
    if not config.get("JPK_SECRET_KEY"):
        messages.append(Warning(
            _("未设置 JPK_SECRET_KEY：本节点使用自己生成的密钥（%(path)s），其他节点的密钥不同，"
              "登录会话、CSRF 和签名链接在请求落到另一节点时失效。") % {"path": config.data_dir() / "secret_key"},
            hint=_("在每个节点上设置同一个 JPK_SECRET_KEY。"), id="jingpinke.W101"))
    if not storage.is_s3():
        messages.append(Info(
            _("文件保存在本地文件夹 %(path)s：多个节点时它必须是同一个共享挂载（每个节点路径相同）。")
            % {"path": settings.MEDIA_ROOT},
            hint=_("或设置 JPK_STORAGE_BACKEND=s3 使用对象存储。"), id="jingpinke.I102"))
    messages.append(Info(
        _("正在进行的上传（tus 临时文件）保存在 %(path)s：多个 Web 节点时它必须是同一个共享挂载（每个节点路径相同），"
          "否则上传只能在开始它的节点上续传。") % {"path": settings.UPLOAD_DIR},
        id="jingpinke.I103"))
    return messages
