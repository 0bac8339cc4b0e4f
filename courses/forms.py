"""Plain Django forms for the course pages. They only shape input; every rule lives in
rules.py and is applied by the service the view calls."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class StartForm(forms.Form):
    category = forms.ChoiceField(label=_("类别"), widget=forms.RadioSelect)
    school = forms.ChoiceField(label=_("申报学校"), required=False)
    node = forms.IntegerField(label=_("目录节点（课）"), widget=forms.HiddenInput,
                              error_messages={"required": _("请在上面选择一个目录节点（课）。")})
    title = forms.CharField(label=_("课程名称"), max_length=200,
                            help_text=_("一般与课名一致，例如“秋天”。"))
    periods = forms.TypedChoiceField(label=_("课时数"), coerce=int,
                                     help_text=_("一课（节）跨多个课时的，分课时录制，每个课时一套完整资源。"))

    def __init__(self, *args, categories, schools, max_periods: int, default_periods: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = categories
        if len(categories) == 1:
            self.fields["category"].initial = categories[0][0]
        self.fields["school"].choices = [(str(s.pk), s.name) for s in schools]
        if len(schools) <= 1:
            self.fields["school"].widget = forms.HiddenInput()
        self.fields["periods"].choices = [(i, _("%(n)d 个课时") % {"n": i}) for i in range(1, max_periods + 1)]
        self.fields["periods"].initial = default_periods


class InfoForm(forms.Form):
    title = forms.CharField(label=_("课程名称"), max_length=200)
    periods = forms.TypedChoiceField(label=_("课时数"), coerce=int)

    def __init__(self, *args, max_periods: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["periods"].choices = [(i, _("%(n)d 个课时") % {"n": i}) for i in range(1, max_periods + 1)]


class RelocateForm(forms.Form):
    """更换目录节点 / 类别: the category radios and the lesson chosen in the node picker."""

    category = forms.ChoiceField(label=_("类别"), widget=forms.RadioSelect)
    node = forms.IntegerField(label=_("目录节点（课）"), widget=forms.HiddenInput,
                              error_messages={"required": _("请在下面选择一个目录节点（课）。")})

    def __init__(self, *args, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = categories

