"""The unread count of the bell in the top bar: one query, run only when a page shows it."""

from functools import cache


def unread(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    @cache
    def count() -> int:  # templates call it (once: cached) when they render the bell
        from notifications.services import unread_count

        return unread_count(user)

    return {"unread_notifications": count}
