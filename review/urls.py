from django.urls import path

from review import views

app_name = "review"
urlpatterns = [
    path("", views.home, name="home"),
    path("my/", views.my_tasks, name="my"),
    path("my/<int:assignment_id>/decline/", views.decline_task, name="decline"),
    path("experts/", views.experts, name="experts"),
    path("experts/import/", views.expert_import, name="expert_import"),
    path("experts/template.xlsx", views.expert_template, name="expert_template"),
    path("campaigns/<int:campaign_id>/rubrics/", views.rubrics, name="rubrics"),
    path("campaigns/<int:campaign_id>/rubrics/<str:category>/", views.rubric_edit, name="rubric_edit"),
    path("campaigns/<int:campaign_id>/rounds/new/", views.round_new, name="round_new"),
    path("rounds/<int:round_id>/", views.round_detail, name="round"),
    path("rounds/<int:round_id>/action/", views.round_action, name="round_action"),
]

# --- scoring: the expert's blind scoring page and the chair's reopening ---------------------------
urlpatterns += [
    path("my/<int:assignment_id>/score/", views.score, name="score"),
    path("my/<int:assignment_id>/score/autosave/", views.score_autosave, name="score_autosave"),
    path("my/<int:assignment_id>/files/<int:resource_id>/", views.task_file, name="task_file"),
    path("my/rounds/<int:round_id>/sheets/", views.chair_sheets, name="chair_sheets"),
    path("rounds/<int:round_id>/assignment/", views.round_assignment, name="round_assignment"),
]


# --- round results: aggregation, ranking, exports and the proposal applied ---
urlpatterns += [
    path("rounds/<int:round_id>/results/", views.round_results, name="results"),
    path("rounds/<int:round_id>/results/settings/", views.round_results_settings, name="results_settings"),
    path("rounds/<int:round_id>/results.xlsx", views.round_results_export, name="results_export"),
    path("rounds/<int:round_id>/report/", views.round_report, name="report"),
    path("rounds/<int:round_id>/proposal/", views.round_proposal, name="proposal"),
]


# --- awards proposal: the level's award (本级荣誉) from the round's ranking ---
urlpatterns += [
    path("rounds/<int:round_id>/proposal/awards/", views.round_award_proposal, name="award_proposal"),
]

# --- lecture scores entered by the chair; adjudication; adding a reviewer ---
urlpatterns += [
    path("my/rounds/<int:round_id>/chair/", views.chair_panel, name="chair_panel"),
    path("rounds/<int:round_id>/disagreements/", views.round_disagreements, name="disagreements"),
]


# --- publicity (公示) and objections: the admins' pages (the public ones: review/urls_public.py) ---
from review import publicity_views  # noqa: E402

urlpatterns += [
    path("campaigns/<int:campaign_id>/units/<int:unit_id>/publicity/", publicity_views.new, name="publicity_new"),
    path("publicity/<int:publicity_id>/", publicity_views.detail, name="publicity"),
    path("objections/<int:objection_id>/attachment/", publicity_views.attachment, name="objection_attachment"),
]
