"""The navigation every page shows, built from what the user may do."""

import rules
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (label, url name, who sees it): "admin" = any unit admin or system admin; "review" = an admin or an expert;
# "teacher" = a user with a teacher membership; "board" = a county, city or province admin, or a system admin.
NAV = [
    (_("首页"), "portal:home", "all"),
    (_("遴选活动"), "campaigns:list", "admin"),
    (_("推荐遴选"), "selection:list", "admin"),
    (_("原创性检测"), "originality:list", "admin"),
    (_("工作联系表"), "contacts:home", "admin"),
    (_("专家评审"), "review:home", "review"),
    (_("证书"), "awards:home", "admin"),
    (_("统计"), "reports:dashboard", "board"),
    (_("我的荣誉"), "awards:mine", "teacher"),
    (_("单位"), "orgs:units", "admin"),
    (_("用户"), "orgs:users", "admin"),
    (_("课程申报"), "courses:list", "all"),
    (_("教材目录"), "catalog:nodes", "all"),
    (_("精品课展示"), "showcase:gallery", "all"),
    (_("帮助"), "portal:help", "all"),
]


def navigation(request):
    user = getattr(request, "user", None)
    items = []
    if user is not None and user.is_authenticated and not user.must_change_password:
        is_admin = user.is_superuser or bool(user.admin_units())
        for label, name, who in NAV:
            if who == "admin" and not is_admin:
                continue
            if who == "review" and not (is_admin or user.is_expert()):
                continue
            if who == "teacher" and not user.teacher_units():
                continue
            # The rules permission itself: user.has_perm would also ask Django's ModelBackend, which
            # loads the user's and his groups' permissions (two queries on every page).
            if who == "board" and not rules.has_perm("reports.view_dashboard", user):
                continue
            try:
                items.append((label, reverse(name)))
            except NoReverseMatch:  # an app that has not added that page yet
                continue
    return {"nav_items": items}
