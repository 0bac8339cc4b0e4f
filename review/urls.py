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

# --- round results: aggregation, ranking, exports and the proposal applied ---
urlpatterns += [
    path("rounds/<int:round_id>/results/", views.round_results, name="results"),
    path("rounds/<int:round_id>/results/settings/", views.round_results_settings, name="results_settings"),
    path("rounds/<int:round_id>/results.xlsx", views.round_results_export, name="results_export"),
    path("rounds/<int:round_id>/report/", views.round_report, name="report"),
    path("rounds/<int:round_id>/proposal/", views.round_proposal, name="proposal"),
]
