"""The progress board page's rows (a table row and a phone card per child unit) as HTML, written
in Python: exactly what ``selection/progress.html`` drew with ``{% url %}``, ``{% include %}`` and
``{% translate %}`` per row (pinned by ``tests/test_progress_html.py`` against the template), but
the URLs are reversed once per page and the strings translated once. Drawn twice per unit, 30 units
per page, the template's nodes were about half of the page's CPU (issue 12)."""

from __future__ import annotations

from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

PK = "0000000000"  # stands for a unit's id in the URLs reversed once per page


def _text(value) -> str:
    """What ``{{ value }}`` prints: localized, escaped."""
    return conditional_escape(value if type(value) is str else str(localize(value)))


def _when(value) -> str:
    """``{{ value|date:"Y-m-d H:i" }}``: in the current time zone."""
    return date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "Y-m-d H:i")


class _Urls:
    """The per-unit URLs of a page, reversed once with a stand-in id."""

    def __init__(self, campaign):
        self.campaign = campaign.pk
        self.list = reverse("selection:list")
        self.history = reverse("selection:history", args=[campaign.pk, PK])
        self.contact = reverse("contacts:form", args=[campaign.pk, PK])
        self.unlock = reverse("selection:unlock", args=[campaign.pk, PK])
        self.reopen = reverse("selection:reopen", args=[campaign.pk, PK])

    def held_by(self, unit) -> str:
        return f"{self.list}?campaign={self.campaign}&amp;held_by={unit.pk}"

    @staticmethod
    def of(url: str, unit) -> str:
        return url.replace(PK, str(unit.pk))


def _badge(ok: bool, yes: str, no: str) -> str:
    return f'<span class="badge st-pass">{yes}</span>' if ok else f'<span class="badge st-pending">{no}</span>'


class BoardHtml:
    """Draws the rows of one page of the board for one request."""

    def __init__(self, request, campaign, *, can_manage: bool):
        self.urls = _Urls(campaign)
        self.can_manage = can_manage
        self.csrf = escape(get_token(request)) if can_manage else ""
        self.next = escape(request.get_full_path())
        self.t = {key: escape(_(text)) for key, text in {
            "history": "操作记录", "no_deadline": "未设截止时间", "confirmed": "已确认", "unconfirmed": "未确认",
            "filed": "已提交", "not_filed": "未提交", "level": "层级", "deadline": "截止", "courses": "课程",
            "conflicts": "节点冲突", "contact": "工作联系表", "unlock": "解锁", "unlock_reason": "解锁理由",
            "reopen": "重新开放（设定新的截止时间）", "new_date": "新的截止日期", "time": "时间（不填为当天 23:59:59）",
            "reason": "理由"}.items()}

    def _contact(self, r) -> str:
        if not r.contact_required:
            return ""
        return (f'<a href="{self.urls.of(self.urls.contact, r.unit)}">'
                f'{_badge(r.contact_filed, self.t["filed"], self.t["not_filed"])}</a>')

    def admin(self, r, prefix: str = "") -> str:
        """``selection/_unit_admin.html`` with can_unlock = can_reopen = can_manage."""
        if not self.can_manage:
            return "\n"
        t, unit, pk = self.t, r.unit, r.unit.pk
        name = conditional_escape(unit.name)
        csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{self.csrf}">'
        nxt = f'<input type="hidden" name="next" value="{self.next}">'
        out = '<div class="unit-admin">\n  '
        if r.confirmed:
            out += (f'<details class="inline-form">\n    <summary>{t["unlock"]}</summary>\n'
                    f'    <form method="post" action="{self.urls.of(self.urls.unlock, unit)}">{csrf}{nxt}\n'
                    f'      <p><label for="{prefix}unlock-{pk}">{t["unlock_reason"]} <span class="req">*</span></label>'
                    f'<textarea id="{prefix}unlock-{pk}" name="reason" rows="2" required></textarea></p>\n'
                    f'      <p><button type="submit" class="secondary">'
                    f'{_("为%(u)s解锁") % {"u": name}}</button></p>\n'
                    '    </form>\n  </details>')
        out += ('\n  <details class="inline-form">\n'
                f'    <summary>{t["reopen"]}</summary>\n'
                f'    <form method="post" action="{self.urls.of(self.urls.reopen, unit)}">{csrf}{nxt}\n'
                f'      <p><label for="{prefix}reopen-date-{pk}">{t["new_date"]} <span class="req">*</span></label>'
                f'<input type="date" id="{prefix}reopen-date-{pk}" name="deadline_date" required></p>\n'
                f'      <p><label for="{prefix}reopen-time-{pk}">{t["time"]}</label>'
                f'<input type="time" id="{prefix}reopen-time-{pk}" name="deadline_time"></p>\n'
                f'      <p><label for="{prefix}reopen-reason-{pk}">{t["reason"]} <span class="req">*</span></label>'
                f'<textarea id="{prefix}reopen-reason-{pk}" name="reason" rows="2" required></textarea></p>\n'
                f'      <p><button type="submit" class="secondary">'
                f'{_("为%(u)s重新开放") % {"u": name}}</button></p>\n'
                '    </form>\n  </details>\n</div>\n')
        return out

    def row(self, r, cells) -> str:
        """The table row of a child unit."""
        t, unit = self.t, r.unit
        name = conditional_escape(unit.name)
        contact = self._contact(r) or '<span class="muted">—</span>'
        behind = ' class="behind"' if r.behind else ""
        tds = "".join(f'<td class="nowrap">{conditional_escape(c)}</td>' for c in cells)
        admin = f"<td>{self.admin(r, 't-')}</td>" if self.can_manage else ""
        return mark_safe(
            f'<tr id="row-{unit.pk}"{behind}>\n'
            f'    <td><a href="{self.urls.held_by(unit)}">{name}</a><br><span class="small muted">'
            f'{conditional_escape(r.level.name)} · <a href="{self.urls.of(self.urls.history, unit)}">{t["history"]}</a>'
            '</span></td>\n'
            f'    {tds}\n'
            f'    <td>{_text(r.counts["pending"])}</td>\n'
            f'    <td>{_when(r.deadline) if r.deadline else t["no_deadline"]}</td>\n'
            f'    <td>{_badge(r.confirmed, t["confirmed"], t["unconfirmed"])}</td>\n'
            f'    <td>{contact}</td>\n'
            f'    {admin}\n'
            '  </tr>')

    def card(self, r) -> str:
        """The phone card of a child unit."""
        t, unit = self.t, r.unit
        name = conditional_escape(unit.name)
        if r.deadline:
            deadline = (f'{_when(r.deadline)}<br><span data-deadline="{date_format(_local(r.deadline), "c")}">'
                        f'{conditional_escape(r.time_left_text)}</span>')
        else:
            deadline = t["no_deadline"]
        contact = ""
        if r.contact_required:
            filed_at = (f' <span class="small muted">{_when(r.contact_filed_at)}</span>'
                        if r.contact_filed else "")
            contact = (f'<dt>{t["contact"]}</dt><dd class="contact-filed">{self._contact(r)}{filed_at}</dd>')
        quotas = "".join(f'<li class="{_quota_class(q)}">{conditional_escape(q.text())}</li>' for q in r.quotas)
        behind = " behind" if r.behind else ""
        warn = ' class="warn"' if r.node_conflicts else ""
        pending = _("待处理 %(p)s") % {"p": _text(r.counts["pending"])}
        return mark_safe(
            f'\n  <li class="card{behind}" id="unit-{unit.pk}">\n'
            f'    <h2><a href="{self.urls.held_by(unit)}">{name}</a>\n'
            f'      {_badge(r.confirmed, t["confirmed"], t["unconfirmed"])}</h2>\n'
            '    <dl class="kv">\n'
            f'      <dt>{t["level"]}</dt><dd>{conditional_escape(r.level.name)}</dd>\n'
            f'      <dt>{t["deadline"]}</dt><dd>{deadline}</dd>\n'
            f'      <dt>{t["courses"]}</dt><dd>{pending}</dd>\n'
            f'      <dt>{t["conflicts"]}</dt><dd{warn}>'
            f'{_text(r.node_conflicts)}</dd>\n'
            f'      {contact}\n'
            '    </dl>\n'
            f'    <p class="small"><a href="{self.urls.of(self.urls.history, unit)}">{t["history"]}</a></p>\n'
            f'    <ul class="quota-lines">{quotas}</ul>\n'
            f'    {self.admin(r)}\n'
            '  </li>\n')


def _local(value):
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _quota_class(q) -> str:
    return "bad" if q.over else "ok" if q.full else ""
