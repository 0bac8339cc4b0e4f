"""The expert's pages link his guide (which says what blind review cannot hide: the title card)."""

import pytest

from review.tests.test_scoring import files, scoring, teacher  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def test_task_list_and_scoring_page_link_the_expert_guide(client, scoring):  # noqa: F811
    client.force_login(scoring.expert)
    assert "/help/expert/" in client.get("/review/my/").content.decode()
    html = client.get(f"/review/my/{scoring.a.pk}/score/").content.decode()
    assert "/help/expert/" in html and "片头" in html
