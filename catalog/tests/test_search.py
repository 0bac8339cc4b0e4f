"""Searching nodes, the cascading picker, the textbook pages; exact results and query counts."""

from django.urls import reverse

from catalog import services

NODES = "/api/v1/catalog/nodes"
FACETS = "/api/v1/catalog/facets"


def labels(page):
    return [(n.textbook.label, n.label_path) for n in page.context["page_obj"].object_list]


# --- the search page ------------------------------------------------------------------------------
def test_keyword_searches_titles_paths_and_textbooks(client, tree, catalog):
    client.force_login(tree.teacher)
    response = client.get(reverse("catalog:nodes"), {"q": "秋天"})
    assert response.status_code == 200
    assert labels(response) == [
        ("统编版语文一年级上册", "第五单元（阅读） › 1 秋天"), ("统编版语文一年级上册（旧教材）", "第四单元（课文） › 1 秋天")]
    response = client.get(reverse("catalog:nodes"), {"q": "物理 平面镜"})
    assert labels(response) == [("人教版物理八年级上册（旧教材）", "第四章 光现象 › 第3节 平面镜成像")]
    assert "含实验：探究平面镜成像的特点" in response.content.decode()


def test_filters_by_stage_subject_grade_version_volume_edition(client, tree, catalog):
    client.force_login(tree.teacher)
    response = client.get(reverse("catalog:nodes"), {"stage": "junior", "subject": "数学", "grade": "七年级",
                                                     "version": "人教版", "volume": "上册", "q": "有理数的"})
    assert [p for _, p in labels(response)] == [
        "第一章 有理数 › 1.2 有理数及其大小比较 › 1.2.1 有理数的概念",
        "第二章 有理数的运算 › 2.1 有理数的加法与减法 › 2.1.1 有理数的加法",
        "第二章 有理数的运算 › 2.1 有理数的加法与减法 › 2.1.2 有理数的减法",
        "第二章 有理数的运算 › 2.2 有理数的乘法与除法 › 2.2.1 有理数的乘法",
        "第二章 有理数的运算 › 2.2 有理数的乘法与除法 › 2.2.2 有理数的除法",
        "第二章 有理数的运算 › 2.3 有理数的乘方 › 2.3.1 乘方",
        "第二章 有理数的运算 › 2.3 有理数的乘方 › 2.3.2 科学记数法",
        "第二章 有理数的运算 › 2.3 有理数的乘方 › 2.3.3 近似数",
    ]
    response = client.get(reverse("catalog:nodes"), {"stage": "special"})
    assert [p for _, p in labels(response)][:2] == ["第一单元 我的学校 › 1 我上学了", "第一单元 我的学校 › 2 我的老师"]
    assert response.context["page_obj"].paginator.count == 10
    response = client.get(reverse("catalog:nodes"), {"edition": "old", "grade": "一年级"})
    assert response.context["page_obj"].paginator.count == 53


def test_pages_of_thirty_in_textbook_order(client, tree, catalog):
    client.force_login(tree.teacher)
    response = client.get(reverse("catalog:nodes"), {"subject": "语文", "edition": "new", "page": 2})
    page = response.context["page_obj"]
    assert (page.paginator.count, page.paginator.num_pages, page.number) == (49, 2, 2)
    assert [p for _, p in labels(response)][:2] == ["第五单元（阅读） › 3 雪地里的小画家", "第五单元（阅读） › 4 四季"]
    assert "第 2 / 2 页，共 49 条" in response.content.decode()


def test_only_open_in_a_campaign(client, tree, campaign, catalog):
    services.open_nodes(tree.city_admin, campaign, services.NodeFilters(subject="物理", q="透镜"))
    client.force_login(tree.teacher)
    response = client.get(reverse("catalog:nodes"), {"campaign": campaign.pk, "open": "1"})
    assert [p for _, p in labels(response)] == [
        "第五章 透镜及其应用 › 第1节 透镜", "第五章 透镜及其应用 › 第2节 生活中的透镜",
        "第五章 透镜及其应用 › 第3节 凸透镜成像的规律", "第五章 透镜及其应用 › 第4节 眼睛和眼镜",
        "第五章 透镜及其应用 › 第5节 显微镜和望远镜"]
    html = response.content.decode()
    assert "已开放" in html and "开放所选" not in html  # a teacher sees, does not manage
    client.force_login(tree.city_admin)
    html = client.get(reverse("catalog:nodes"), {"campaign": campaign.pk, "subject": "物理"}).content.decode()
    assert "开放所选" in html and "按当前筛选开放全部 26 个节点" in html


def test_search_page_needs_a_login_and_has_no_n_plus_one(client, tree, campaign, catalog, django_assert_max_num_queries):
    assert client.get(reverse("catalog:nodes")).status_code == 302
    client.force_login(tree.city_admin)
    services.open_nodes(tree.city_admin, campaign, services.NodeFilters(stage="primary", edition="new"))
    with django_assert_max_num_queries(16):
        response = client.get(reverse("catalog:nodes"), {"campaign": campaign.pk})
    assert len(response.context["page_obj"].object_list) == 30


# --- the API ------------------------------------------------------------------------------------------
def test_api_search_with_a_token(client, tree, campaign, catalog, bearer, django_assert_max_num_queries):
    services.open_nodes(tree.city_admin, campaign, services.NodeFilters(subject="化学", q="实验活动"))
    auth = bearer(tree.teacher)
    with django_assert_max_num_queries(8):
        response = client.get(NODES, {"campaign_id": campaign.pk, "only_open": "true"}, **auth)
    body = response.json()
    book = catalog["人教版化学九年级上册（旧教材）"]
    assert (body["count"], body["page"], body["num_pages"]) == (3, 1, 1)
    assert body["items"][0] | {"id": 0} == {
        "id": 0, "title": "实验活动1 氧气的实验室制取与性质",
        "label_path": "第二单元 我们周围的空气 › 实验活动1 氧气的实验室制取与性质", "remark": "学生必做实验",
        "external_id": None, "textbook_id": book.pk, "textbook_label": "人教版化学九年级上册（旧教材）",
        "stage": "junior", "grade": "九年级", "subject": "化学", "version": "人教版", "volume": "上册", "edition": "old",
        "is_open": True}
    response = client.get(NODES, {"subject": "数学", "page": 2}, **auth)
    assert (response.json()["count"], len(response.json()["items"])) == (50, 20)
    assert client.get(NODES).status_code == 401


def test_facets_cascade_from_stage_to_lessons(client, tree, catalog, django_assert_max_num_queries):
    client.force_login(tree.teacher)
    body = client.get(FACETS).json()
    assert [o["label"] for o in body["stages"]] == ["小学", "初中", "特殊教育"]
    assert [o["value"] for o in body["subjects"]] == sorted(["语文", "数学", "物理", "化学", "英语", "生活适应"])
    assert [o["value"] for o in body["grades"]] == ["一年级", "七年级", "八年级", "九年级"]
    assert (body["units"], body["lessons"]) == ([], [])
    body = client.get(FACETS, {"stage": "primary", "subject": "语文"}).json()
    assert [o["value"] for o in body["grades"]] == ["一年级"]
    assert [t["label"] for t in body["textbooks"]] == ["统编版语文一年级上册", "统编版语文一年级上册（旧教材）"]
    book = catalog["统编版语文一年级上册"]
    with django_assert_max_num_queries(12):
        body = client.get(FACETS, {"stage": "primary", "subject": "语文", "textbook_id": book.pk}).json()
    assert [u["title"] for u in body["units"]] == [
        "我上学了", "第一单元（识字）", "第二单元（汉语拼音）", "第三单元（汉语拼音）", "第四单元（汉语拼音）",
        "第五单元（阅读）", "第六单元（识字）", "第七单元（阅读）", "第八单元（阅读）"]
    assert len(body["lessons"]) == 49
    unit = next(u for u in body["units"] if u["title"] == "第五单元（阅读）")
    body = client.get(FACETS, {"textbook_id": book.pk, "unit_id": unit["id"]}).json()
    assert [lesson["title"] for lesson in body["lessons"]] == [
        "1 秋天", "2 江南", "3 雪地里的小画家", "4 四季", "口语交际：交朋友", "语文园地五"]


def test_facets_with_a_campaign_list_only_what_is_open(client, tree, campaign, catalog):
    services.open_nodes(tree.city_admin, campaign, services.NodeFilters(grade="七年级"))
    services.close_nodes(tree.city_admin, campaign, services.NodeFilters(subject="数学", q="第六章"))
    client.force_login(tree.teacher)
    body = client.get(FACETS, {"campaign_id": campaign.pk}).json()
    assert [o["value"] for o in body["stages"]] == ["junior"]
    assert [t["label"] for t in body["textbooks"]] == ["人教版数学七年级上册", "人教版英语七年级上册"]
    book = catalog["人教版数学七年级上册"]
    body = client.get(FACETS, {"campaign_id": campaign.pk, "textbook_id": book.pk}).json()
    assert [u["title"] for u in body["units"]] == [
        "第一章 有理数", "第二章 有理数的运算", "第三章 代数式", "第四章 整式的加减", "第五章 一元一次方程"]
    assert len(body["lessons"]) == 26 - 6


# --- textbooks --------------------------------------------------------------------------------------
def test_textbook_list_and_tree(client, tree, campaign, catalog, django_assert_max_num_queries):
    services.open_nodes(tree.city_admin, campaign, services.NodeFilters(subject="生活适应"))
    client.force_login(tree.teacher)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("catalog:textbooks"), {"campaign": campaign.pk})
    rows = [(b.label, b.leaf_count, b.open_count) for b in response.context["page_obj"].object_list]
    assert rows == [
        ("人教版数学一年级上册", 24, 0), ("统编版语文一年级上册", 49, 0), ("统编版语文一年级上册（旧教材）", 53, 0),
        ("人教版数学七年级上册", 26, 0), ("人教版英语七年级上册", 17, 0), ("人教版物理八年级上册（旧教材）", 26, 0),
        ("人教版化学九年级上册（旧教材）", 24, 0), ("人教版生活适应一年级上册（培智学校）", 10, 10)]
    book = catalog["人教版生活适应一年级上册（培智学校）"]
    response = client.get(reverse("catalog:textbook", args=[book.pk]), {"campaign": campaign.pk})
    html = response.content.decode()
    assert "特殊教育（培智学校）" in html and "本活动已开放 10 个" in html and "开放本教材全部节点" not in html
    assert [n.title for n in response.context["nodes"]][:3] == ["第一单元 我的学校", "1 我上学了", "2 我的老师"]
    assert client.get(reverse("catalog:textbook", args=[99999])).status_code == 404


def test_textbook_api_list_and_detail(client, tree, campaign, catalog, bearer, django_assert_max_num_queries):
    auth = bearer(tree.expert)
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/catalog/textbooks", {"subject": "物理"}, **auth)
    (item,) = response.json()["items"]
    book = catalog["人教版物理八年级上册（旧教材）"]
    assert item == {
        "id": book.pk, "title": "人教版物理八年级上册", "label": "人教版物理八年级上册（旧教材）", "stage": "junior",
        "stage_label": "初中", "school_system": "", "grade": "八年级", "subject": "物理", "version": "人教版",
        "volume": "上册", "edition": "old", "edition_label": "旧教材", "external_id": None, "leaf_count": 26,
        "open_count": None}
    services.open_nodes(tree.city_admin, campaign, services.NodeFilters(textbook_ids=[book.pk], q="测量"))
    client.force_login(tree.teacher)
    with django_assert_max_num_queries(10):
        response = client.get(f"/api/v1/catalog/textbooks/{book.pk}", {"campaign_id": campaign.pk})
    body = response.json()
    assert [c["title"] for c in body["child_nodes"]] == [
        "第一章 机械运动", "第二章 声现象", "第三章 物态变化", "第四章 光现象", "第五章 透镜及其应用", "第六章 质量与密度"]
    first = body["child_nodes"][0]
    assert (first["is_leaf"], first["is_open"]) == (False, False)
    assert [(c["title"], c["is_open"], c["remark"]) for c in first["child_nodes"]] == [
        ("第1节 长度和时间的测量", True, "含实验：用刻度尺测量长度、用停表测量时间"), ("第2节 运动的描述", False, ""),
        ("第3节 运动的快慢", False, ""), ("第4节 测量平均速度", True, "含实验：测量物体运动的平均速度")]
    assert client.get("/api/v1/catalog/textbooks/99999").status_code == 404


def test_session_api_search_and_textbook_list(client, tree, catalog):
    client.force_login(tree.teacher)
    body = client.get(NODES, {"q": "江南"}).json()
    assert [(i["textbook_label"], i["label_path"]) for i in body["items"]] == [
        ("统编版语文一年级上册", "第五单元（阅读） › 2 江南"), ("统编版语文一年级上册（旧教材）", "第四单元（课文） › 3 江南")]
    body = client.get("/api/v1/catalog/textbooks", {"stage": "primary", "edition": "new"}).json()
    assert [i["label"] for i in body["items"]] == ["人教版数学一年级上册", "统编版语文一年级上册"]


def test_import_pages_render_for_city_admins(client, tree):
    client.force_login(tree.city_admin)
    html = client.get(reverse("catalog:import_excel")).content.decode()
    assert "下载导入模板" in html
    html = client.get(reverse("catalog:import_json")).content.decode()
    assert "zxxxjjc 新旧教材" in html
    html = client.get(reverse("catalog:textbooks")).content.decode()
    assert "没有符合条件的教材。" in html and "可以用 Excel 或平台 JSON 导入教材目录。" in html
