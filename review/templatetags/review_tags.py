"""``{% expert_tasks user %}``: the expert's review tasks on his home page (neutral codes only)."""

from django import template

from review import services

register = template.Library()

HOME_LIMIT = 10


@register.inclusion_tag("review/_home_tasks.html")
def expert_tasks(user):
    tasks = services.my_tasks(user) if user.is_authenticated and user.is_expert() else []
    return {"tasks": tasks[:HOME_LIMIT], "more": max(0, len(tasks) - HOME_LIMIT), "is_expert": bool(tasks) or (
        user.is_authenticated and user.is_expert())}
