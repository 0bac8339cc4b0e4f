from django import forms
from django.utils.translation import gettext_lazy as _


class ExcelImportForm(forms.Form):
    file = forms.FileField(label=_("Excel 文件（.xlsx）"), error_messages={"required": _("请选择要上传的 Excel 文件。")})


class JsonImportForm(forms.Form):
    file = forms.FileField(label=_("JSON 文件（.json）"), error_messages={"required": _("请选择要上传的 JSON 文件。")})
