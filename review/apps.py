from django.apps import AppConfig


class ReviewConfig(AppConfig):
    """Expert review: rubrics in use, review rounds and panels, expert pools, assignment, blind
    scoring, aggregation and ranking, the recommendation proposal, 公示 and objections."""

    name = "review"
    verbose_name = "专家评审"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from review import permissions, signals  # noqa: F401  (registers the rules permissions and receivers)
