from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("用户名或手机号"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "inputmode": "text"}),
    )
    error_messages = {
        "invalid_login": _("用户名/手机号或密码不正确。连续多次输入错误，账户会被暂时锁定。"),
        "inactive": _("该账户已停用，请联系所在单位管理员。"),
    }


class PasswordChangeForm(DjangoPasswordChangeForm):
    """Django's form with short Chinese help, and the password rules reported at the new password
    (Django puts them under the confirmation field, far from where they apply on a phone)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("当前密码")
        self.fields["new_password1"].label = _("新密码")
        self.fields["new_password1"].help_text = _(
            "至少 8 位，不能全是数字，不能是常见密码，也不能与姓名、用户名或手机号相似。")
        self.fields["new_password2"].label = _("再次输入新密码")
        self.fields["new_password2"].help_text = ""

    def clean(self):
        from orgs.services import new_password_problems

        self.validate_passwords("new_password1", "new_password2")
        password = self.cleaned_data.get("new_password1")
        if password:
            for problem in new_password_problems(self.user, password):  # the same password, the validators
                self.add_error("new_password1", problem)
        return super(SetPasswordForm, self).clean()  # skip SetPasswordForm.clean, done above


class UnitChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", _("请选择单位"))
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        return f"{'　' * obj.depth}{obj.name}（{obj.code}）"


class UnitCreateForm(forms.Form):
    name = forms.CharField(label=_("单位名称"), max_length=100)
    code = forms.CharField(label=_("单位代码"), max_length=40, help_text=_("全局唯一，例如 440802001。"))
    kind = forms.ChoiceField(label=_("类型"))
    sort_order = forms.IntegerField(label=_("排序"), min_value=0, initial=0, required=False)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        from orgs.rules import kind_label

        self.fields["kind"].choices = [(k, kind_label(k)) for k in kinds]


class UnitEditForm(forms.Form):
    name = forms.CharField(label=_("单位名称"), max_length=100)
    code = forms.CharField(label=_("单位代码"), max_length=40)
    sort_order = forms.IntegerField(label=_("排序"), min_value=0, required=False)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    parent = UnitChoiceField(label=_("上级单位"), queryset=None, required=False, empty_label=None)
    is_active = forms.BooleanField(label=_("启用"), required=False)

    def __init__(self, *args, parents=None, can_move=True, **kwargs):
        super().__init__(*args, **kwargs)
        if can_move and parents is not None:
            self.fields["parent"].queryset = parents
        else:
            del self.fields["parent"]
            del self.fields["is_active"]


ROLE_CHOICES = [("teacher", _("教师")), ("admin", _("管理员")), ("expert", _("评审专家"))]


class UserCreateForm(forms.Form):
    real_name = forms.CharField(label=_("姓名"), max_length=50)
    mobile = forms.CharField(
        label=_("手机号"), max_length=11, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"})
    )
    username = forms.CharField(label=_("用户名"), max_length=150, required=False, help_text=_("可留空，留空时用手机号作为用户名。"))
    unit = UnitChoiceField(label=_("单位"), queryset=None)
    role = forms.ChoiceField(label=_("角色"), choices=ROLE_CHOICES)
    title = forms.CharField(label=_("职务"), max_length=50, required=False)
    subject = forms.CharField(label=_("任教学科"), max_length=30, required=False)
    password = forms.CharField(
        label=_("初始密码"), required=False, widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("可留空，由系统生成并只显示一次。"),
    )

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class UserEditForm(forms.Form):
    real_name = forms.CharField(label=_("姓名"), max_length=50)
    mobile = forms.CharField(label=_("手机号"), max_length=11, required=False,
                             widget=forms.TextInput(attrs={"inputmode": "tel"}))
    is_active = forms.BooleanField(label=_("启用"), required=False)


class MembershipForm(forms.Form):
    unit = UnitChoiceField(label=_("单位"), queryset=None)
    role = forms.ChoiceField(label=_("角色"), choices=ROLE_CHOICES)
    title = forms.CharField(label=_("职务"), max_length=50, required=False)
    subject = forms.CharField(label=_("任教学科"), max_length=30, required=False)

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Excel 文件（.xlsx）"),
        error_messages={"required": _("请选择要上传的 Excel 文件。")},
        widget=forms.FileInput(attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
    )
