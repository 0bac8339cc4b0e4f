"""Every operation of the OpenAPI document, fuzzed by schemathesis as a logged-in admin and as a
teacher: no response is a server error, and every 4xx body is the documented
``{"detail": "中文说明", "errors": [...]}`` (issue 9). Bounded: a few examples per operation."""

from __future__ import annotations

import json
import re

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from api.models import ApiToken
from courses.tests.conftest import campaign, course, node  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

EXAMPLES = 3
# The edges random examples rarely reach: each integer query parameter beyond 64 bits, each
# text query parameter with a NUL (one request each, besides the generated ones).
BIG = 2**64
NUL_TEXT = "a\x00b"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler inside the test's transaction: like the test client, it must not close
    the connection at the start and end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _known_ids(tree, campaign, course):
    return {"campaign_id": campaign.pk, "course_id": course.pk, "unit_id": tree.county.pk, "user_id": tree.teacher.pk,
            "number": 1, "kind": "video", "category": "subject", "role": "teacher"}


def _problems(case, response) -> list[str]:
    where = f"{case.method} {case.formatted_path} query={case.query!r} body={str(case.body)[:200]!r}"
    status = response.status_code
    if status >= 500:
        return [f"{status} from {where}"]
    if 400 <= status < 500:
        try:
            body = json.loads(response.content if hasattr(response, "content") else response.get_data())
        except ValueError:
            return [f"{status} without a JSON body from {where}"]
        if not (isinstance(body, dict) and isinstance(body.get("detail"), str) and CHINESE.search(body["detail"])
                and isinstance(body.get("errors"), list)):
            return [f"{status} body {str(body)[:200]!r} from {where}"]
    return []


def _edges(operation) -> list[dict]:
    """One query per parameter: an integer beyond 64 bits, or a free text with a NUL."""
    edges = []
    for parameter in operation.query:
        schema = parameter.definition.get("schema", {})
        types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
        if "integer" in types:
            edges.append({parameter.name: BIG})
        elif "string" in types and not schema.get("enum") and not schema.get("format"):
            edges.append({parameter.name: NUL_TEXT})
    return edges


def _run(schema, token, fixed) -> list[str]:
    problems: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    for result in schema.get_all_operations():
        operation = result.ok()
        names = {p.name for p in operation.path_parameters}
        known = {k: v for k, v in fixed.items() if k in names}
        # Generated data with the ids of the fixtures' objects (reaching the use cases), then with
        # generated ids too (reaching the routing and the lookups).
        rounds = [(GenerationMode.POSITIVE, known), (GenerationMode.NEGATIVE, known)]
        if known:
            rounds.append((GenerationMode.NEGATIVE, {}))
        for mode, path_parameters, query, examples in [
            *((mode, ids, None, EXAMPLES) for mode, ids in rounds),
            *((GenerationMode.POSITIVE, known, edge, 1) for edge in _edges(operation)),
        ]:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None, query=query)

            @given(case=strategy)
            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            def check(case):
                response = case.call(headers=headers)
                problems.extend(_problems(case, response))

            try:
                check()
            except Unsatisfiable:
                pass
    return problems


@pytest.mark.parametrize("role", ["city_admin", "teacher"])
def test_every_operation_answers_without_a_server_error(tree, course, wsgi_app, role):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    assert len(list(schema.get_all_operations())) >= 100
    _, token = ApiToken.issue(getattr(tree, role), "schemathesis")
    problems = _run(schema, token, _known_ids(tree, course.campaign, course))
    assert problems == [], "\n".join(problems)
