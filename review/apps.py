from django.apps import AppConfig


class ReviewConfig(AppConfig):
    """Expert review: rubrics in use, review rounds and panels, expert pools, assignment, blind
    scoring, aggregation and ranking, the recommendation proposal, 公示 and objections."""

    name = "review"
    verbose_name = "专家评审"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from review import permissions, signals  # noqa: F401  (registers the rules permissions and receivers)
        self.ready_publicity()

    # --- publicity (公示) and objections ---
    def ready_publicity(self):
        """公示 blocks confirming the summary table, and changing published entries, until final."""
        from review import publicity
        from selection import hooks

        if publicity.confirm_blocker not in hooks.confirm_blockers:
            hooks.confirm_blockers.append(publicity.confirm_blocker)
        if publicity.decision_blocker not in hooks.decision_blockers:
            hooks.decision_blockers.append(publicity.decision_blocker)
