"""The role guides: every role's page answers, and the expert's says what blind review hides and
what it cannot hide (the title card)."""

import pytest

from portal.help import HELP

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", sorted(HELP))
def test_every_role_guide_answers_without_login(client, role):
    response = client.get(f"/help/{role}/")
    assert response.status_code == 200
    assert str(HELP[role]["summary"]) in response.content.decode()


def test_unknown_role_is_404(client):
    assert client.get("/help/nobody/").status_code == 404


def test_expert_guide_explains_blind_review_and_the_title_card(client):
    html = client.get("/help/expert/").content.decode()
    assert "片头" in html and "可能显示教师姓名" in html  # accepted leak, said in the help (#10)
    assert "去除作者" in html  # the metadata of the copies experts get
    assert "一票否决" in html and "写明理由" in html
    assert "截止后评分即为最终结果" in html
    assert "组长" in html and "试讲" in html

