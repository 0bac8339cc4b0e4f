"""The board page's rows and cards drawn in Python (``selection/progress_html.py``) are exactly what
the template drew per row before (kept here as the reference), whatever the row holds: names to
escape, no deadline, confirmed or not, a contact form filed or not, conflicts, quota lines, with
and without the management forms (hypothesis picks)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.template import engines
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selection.progress_html import BoardHtml

pytestmark = pytest.mark.django_db

# What selection/progress.html drew per row before it called progress_html (table rows, then cards).
TEMPLATE = """{% load i18n %}  {% for r, cells in table %}<tr id="row-{{ r.unit.pk }}"{% if r.behind %} class="behind"{% endif %}>
    <td><a href="{% url 'selection:list' %}?campaign={{ campaign.pk }}&amp;held_by={{ r.unit.pk }}">{{ r.unit.name }}</a><br><span class="small muted">{{ r.level.name }} · <a href="{% url 'selection:history' campaign.pk r.unit.pk %}">{% translate "操作记录" %}</a></span></td>
    {% for c in cells %}<td class="nowrap">{{ c }}</td>{% endfor %}
    <td>{{ r.counts.pending }}</td>
    <td>{% if r.deadline %}{{ r.deadline|date:"Y-m-d H:i" }}{% else %}{% translate "未设截止时间" %}{% endif %}</td>
    <td>{% if r.confirmed %}<span class="badge st-pass">{% translate "已确认" %}</span>{% else %}<span class="badge st-pending">{% translate "未确认" %}</span>{% endif %}</td>
    <td>{% if r.contact_required %}<a href="{% url 'contacts:form' campaign.pk r.unit.pk %}">{% if r.contact_filed %}<span class="badge st-pass">{% translate "已提交" %}</span>{% else %}<span class="badge st-pending">{% translate "未提交" %}</span>{% endif %}</a>{% else %}<span class="muted">—</span>{% endif %}</td>
    {% if can_manage %}<td>{% include "selection/_unit_admin.html" with unit=r.unit confirmed=r.confirmed can_unlock=can_manage can_reopen=can_manage prefix="t-" %}</td>{% endif %}
  </tr>{% endfor %}
<<CARDS>>{% for r in rows %}
  <li class="card{% if r.behind %} behind{% endif %}" id="unit-{{ r.unit.pk }}">
    <h2><a href="{% url 'selection:list' %}?campaign={{ campaign.pk }}&amp;held_by={{ r.unit.pk }}">{{ r.unit.name }}</a>
      {% if r.confirmed %}<span class="badge st-pass">{% translate "已确认" %}</span>{% else %}<span class="badge st-pending">{% translate "未确认" %}</span>{% endif %}</h2>
    <dl class="kv">
      <dt>{% translate "层级" %}</dt><dd>{{ r.level.name }}</dd>
      <dt>{% translate "截止" %}</dt><dd>{% if r.deadline %}{{ r.deadline|date:"Y-m-d H:i" }}<br><span data-deadline="{{ r.deadline|date:'c' }}">{{ r.time_left_text }}</span>{% else %}{% translate "未设截止时间" %}{% endif %}</dd>
      <dt>{% translate "课程" %}</dt><dd>{% blocktranslate with p=r.counts.pending %}待处理 {{ p }}{% endblocktranslate %}</dd>
      <dt>{% translate "节点冲突" %}</dt><dd{% if r.node_conflicts %} class="warn"{% endif %}>{{ r.node_conflicts }}</dd>
      {% if r.contact_required %}<dt>{% translate "工作联系表" %}</dt><dd class="contact-filed"><a href="{% url 'contacts:form' campaign.pk r.unit.pk %}">{% if r.contact_filed %}<span class="badge st-pass">{% translate "已提交" %}</span>{% else %}<span class="badge st-pending">{% translate "未提交" %}</span>{% endif %}</a>{% if r.contact_filed %} <span class="small muted">{{ r.contact_filed_at|date:"Y-m-d H:i" }}</span>{% endif %}</dd>{% endif %}
    </dl>
    <p class="small"><a href="{% url 'selection:history' campaign.pk r.unit.pk %}">{% translate "操作记录" %}</a></p>
    <ul class="quota-lines">{% for q in r.quotas %}<li class="{% if q.over %}bad{% elif q.full %}ok{% endif %}">{{ q.text }}</li>{% endfor %}</ul>
    {% include "selection/_unit_admin.html" with unit=r.unit confirmed=r.confirmed can_unlock=can_manage can_reopen=can_manage %}
  </li>
{% endfor %}"""

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')

NAMES = st.text(alphabet=st.sampled_from(list("湛江第一小学<>&\"' a")), min_size=1, max_size=8)
WHEN = st.one_of(st.none(), st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1),
                                         timezones=st.just(UTC)))


def quota(draw_text, used, limit):
    return SimpleNamespace(over=limit is not None and used > limit, full=limit is not None and used >= limit,
                           text=lambda: draw_text)


ROW = st.builds(
    lambda pk, name, level, behind, pending, deadline, confirmed, required, filed_at, conflicts, quotas, left: SimpleNamespace(
        unit=SimpleNamespace(pk=pk, name=name), level=SimpleNamespace(name=level), behind=behind,
        counts={"pending": pending}, deadline=deadline, confirmed=confirmed, contact_required=required,
        contact_filed=filed_at is not None, contact_filed_at=filed_at, node_conflicts=conflicts,
        quotas=[quota(*q) for q in quotas], time_left_text=left),
    st.integers(1, 10**9), NAMES, NAMES, st.booleans(), st.integers(0, 12345), WHEN, st.booleans(), st.booleans(),
    WHEN, st.integers(0, 3), st.lists(st.tuples(NAMES, st.integers(0, 5), st.one_of(st.none(), st.integers(0, 5))),
                                      max_size=3),
    st.sampled_from(["还剩 3 天", "已截止", "<b>"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=1, max_size=4), can_manage=st.booleans(),
       cells=st.lists(NAMES, min_size=0, max_size=3), path=st.sampled_from(["/p/", "/p/?sort=-pending&page=2"]))
def test_rows_and_cards_are_what_the_template_drew(db, rows, can_manage, cells, path):
    request = RequestFactory().get(path)
    campaign = SimpleNamespace(pk=7)
    table = [(r, cells) for r in rows]
    context = {"campaign": campaign, "rows": rows, "table": table, "can_manage": can_manage}
    expected = engines["django"].from_string(TEMPLATE).render(context, request)
    html = BoardHtml(request, campaign, can_manage=can_manage)
    got = "  " + "".join(html.row(r, c) for r, c in table) + "\n" + "<<CARDS>>" + "".join(
        html.card(r) for r in rows)
    assert CSRF.sub("CSRF", got) == CSRF.sub("CSRF", expected)
