"""Plain Django forms for the campaign pages. They only shape input; every rule lives in
rules.py and is applied by the service the view calls."""

from __future__ import annotations

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from campaigns import rules
from campaigns.enums import CampaignStatus, Category, NodeRule, ResourceKind, ShareAppliesTo, Stage
from media import rules as media_rules

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
TIME_HELP = _("不填时间即当天 23:59:59 截止（北京时间）")


def _blank(choices, label=_("（不限）")):
    return [("", label), *choices]


class CampaignCreateForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("主办单位"), queryset=None)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("活动名称"), max_length=200)
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class CampaignEditForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("活动名称"), max_length=200)
    status = forms.ChoiceField(label=_("状态"), choices=CampaignStatus.choices)
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class CategoryForm(forms.Form):
    category = forms.ChoiceField(label=_("类别"), choices=Category.choices)
    max_periods = forms.IntegerField(label=_("最多课时数"), min_value=1, max_value=10, initial=3)
    default_periods = forms.IntegerField(label=_("默认课时数"), min_value=1, max_value=10, initial=1)
    max_team_members = forms.IntegerField(label=_("团队成员上限（不含主讲教师）"), min_value=0, max_value=50, initial=4)
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SlotForm(forms.Form):
    kind = forms.ChoiceField(label=_("资源类型"), choices=ResourceKind.choices)
    label = forms.CharField(label=_("名称"), max_length=50, required=False)
    required = forms.BooleanField(label=_("必交"), required=False, initial=True)
    formats = forms.CharField(label=_("接受的格式"), max_length=100, help_text=_("扩展名，用逗号或顿号分隔，例如 pdf、docx"))
    max_size_mb = forms.IntegerField(label=_("大小上限（MB）"), min_value=1, max_value=10240, initial=50)
    order = forms.IntegerField(label=_("顺序"), min_value=0, max_value=1000, required=False)

    def clean_formats(self):
        return [f.lower().lstrip(".") for f in rules.LIST_SPLIT_RE.split(self.cleaned_data["formats"]) if f]


class SpecForm(forms.Form):
    stage = forms.ChoiceField(label=_("学段"), choices=_blank(Stage.choices, _("全部学段")), required=False)
    container = forms.CharField(label=_("封装格式"), max_length=10, initial="mp4")
    video_codec = forms.CharField(label=_("视频编码"), max_length=10, initial="h264")
    width = forms.IntegerField(label=_("宽（像素）"), min_value=16, initial=1920)
    height = forms.IntegerField(label=_("高（像素）"), min_value=16, initial=1080)
    fps = forms.DecimalField(label=_("帧率"), min_value=1, max_value=240, decimal_places=2, initial=25)
    video_bitrate_kbps = forms.IntegerField(label=_("视频码率（kbps）"), min_value=1, initial=8000)
    audio_codec = forms.CharField(label=_("音频编码"), max_length=10, initial="aac")
    audio_bitrate_kbps = forms.IntegerField(label=_("音频码率（kbps）"), min_value=1, initial=128)
    min_duration_s = forms.IntegerField(label=_("最短时长（秒）"), min_value=0, initial=600)
    max_duration_s = forms.IntegerField(label=_("最长时长（秒）"), min_value=1, initial=900)
    max_size_mb = forms.IntegerField(label=_("文件大小上限（MB）"), min_value=1, initial=1024)
    title_card_seconds = forms.IntegerField(label=_("片头时长（秒）"), min_value=0, max_value=60, initial=5)

    SEVERITY_PREFIX = "severity_"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        given = media_rules.severities_with_defaults(self.initial.get("severities"))
        choices = [(level, label) for level, label in media_rules.SEVERITY_LABELS.items()]
        for i, (rule, (label, default)) in enumerate(media_rules.CHECK_RULES.items()):
            name = self.SEVERITY_PREFIX + rule
            self.fields[name] = forms.ChoiceField(
                label=_("检测项“%(r)s”") % {"r": label}, choices=choices, initial=default, required=False,
                help_text=_("每个检测项不符合规范时：不通过（阻止提交）、提醒（不阻止提交）或不检查。") if i == 0 else "")
            if self.initial:
                self.initial[name] = given[rule]

    def clean_fps(self):
        return float(self.cleaned_data["fps"])

    def row(self) -> dict:
        data = self.cleaned_data
        row = {k: v for k, v in data.items() if k != "DELETE" and not k.startswith(self.SEVERITY_PREFIX)}
        # A rule left out of the post keeps its shipped default.
        row["severities"] = {rule: data[self.SEVERITY_PREFIX + rule] for rule in media_rules.CHECK_RULES
                             if data.get(self.SEVERITY_PREFIX + rule)}
        return row


class DeadlineFieldsMixin:
    """Three deadlines as date + optional time."""

    PAIRS = (("deadline", _("推荐截止日期"), _("推荐截止时间")),
             ("confirm_deadline", _("汇总表确认截止日期"), _("汇总表确认截止时间")),
             ("contact_form_deadline", _("工作联系表截止日期"), _("工作联系表截止时间")))

    def add_deadline_fields(self):
        for name, date_label, time_label in self.PAIRS:
            self.fields[f"{name}_date"] = forms.DateField(label=date_label, required=False, widget=DATE)
            self.fields[f"{name}_time"] = forms.TimeField(label=time_label, required=False, widget=TIME,
                                                          help_text=TIME_HELP)

    @classmethod
    def deadline_initial(cls, obj) -> dict:
        initial = {}
        for name, *_labels in cls.PAIRS:
            day, at = rules.split_deadline(getattr(obj, name))
            initial[f"{name}_date"], initial[f"{name}_time"] = day, at
        return initial

    def deadlines(self) -> dict:
        data = self.cleaned_data
        return {name: rules.make_deadline(data.get(f"{name}_date"), data.get(f"{name}_time"))
                for name, *_labels in self.PAIRS}

    def check_times(self):
        for name, *_labels in self.PAIRS:
            if self.cleaned_data.get(f"{name}_time") and not self.cleaned_data.get(f"{name}_date"):
                self.add_error(f"{name}_date", _("填写了时间，请同时填写日期。"))


class LevelForm(DeadlineFieldsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("层级"), choices=rules.LEVEL_CHOICES)
    name = forms.CharField(label=_("名称"), max_length=50, help_text=_("例如 县级初选"))
    award_name = forms.CharField(label=_("本级荣誉"), max_length=30, required=False, help_text=_("例如 县级精品课"))
    publicity_days = forms.IntegerField(label=_("公示天数"), min_value=1, max_value=30, initial=5, required=False,
                                        help_text=_("本级推荐结果公示的天数（留空为 5 天）"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_deadline_fields()

    def clean(self):
        data = super().clean()
        self.check_times()
        return data

    def row(self) -> dict:
        data = self.cleaned_data
        return {"kind": data["kind"], "name": data["name"], "award_name": data.get("award_name", ""),
                "publicity_days": data.get("publicity_days") or 5, **self.deadlines()}


class OverrideForm(DeadlineFieldsMixin, forms.Form):
    level = forms.ChoiceField(label=_("层级"))
    unit = forms.ModelChoiceField(label=_("单位"), queryset=None,
                                  help_text=_("设给一个单位的截止时间也适用于它下面的单位"))
    reason = forms.CharField(label=_("理由"), max_length=200, required=False)

    def __init__(self, *args, levels, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [(lv.kind, lv.name) for lv in levels]
        self.fields["unit"].queryset = units
        self.add_deadline_fields()

    def clean(self):
        data = super().clean()
        self.check_times()
        return data


class DefaultQuotaForm(forms.Form):
    level = forms.ChoiceField(label=_("层级"))
    school_owner_kind = forms.ChoiceField(label=_("适用学校类型"), required=False,
                                          choices=_blank(rules.OWNER_KIND_CHOICES, _("全部")))
    category = forms.ChoiceField(label=_("类别"), choices=Category.choices)
    subject = forms.CharField(label=_("学科"), max_length=30, required=False, help_text=_("留空：全部学科"))
    per_subject = forms.BooleanField(label=_("每学科分别计算"), required=False)
    limit = forms.IntegerField(label=_("名额"), min_value=0)

    def __init__(self, *args, levels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [(lv.kind, lv.name) for lv in levels]


class QuotaOverrideForm(forms.Form):
    level = forms.ChoiceField(label=_("层级"))
    unit = forms.ModelChoiceField(label=_("单位"), queryset=None)
    category = forms.ChoiceField(label=_("类别"), choices=Category.choices)
    subject = forms.CharField(label=_("学科"), max_length=30, required=False, help_text=_("留空：全部学科"))
    per_subject = forms.BooleanField(label=_("每学科分别计算"), required=False)
    limit = forms.IntegerField(label=_("名额"), min_value=0)

    def __init__(self, *args, levels, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [(lv.kind, lv.name) for lv in levels]
        self.fields["unit"].queryset = units


class _KindsWidget(forms.CheckboxSelectMultiple):
    """Checkboxes, one per kind; ``input_type`` differs from "checkbox" so that campaigns/_field.html
    does not wrap the whole group in one label."""

    input_type = "checkbox-group"

    def create_option(self, *args, **kwargs):
        return {**super().create_option(*args, **kwargs), "type": "checkbox"}


class RulesForm(forms.Form):
    node_rule = forms.ChoiceField(label=_("同一目录节点规则"), choices=NodeRule.choices)
    new_textbook_grades = forms.CharField(
        label=_("须使用新教材的起始年级"), required=False, help_text=_("用逗号或顿号分隔，例如 一年级、七年级"))
    public_resource_kinds = forms.MultipleChoiceField(
        label=_("精品课展示公开的资源"), choices=ResourceKind.choices, required=False, widget=_KindsWidget,
        help_text=_("活动结束后，获奖课程的这些资源在“精品课展示”中向所有人公开（默认：除作业练习外的全部资源）。"))

    def clean_new_textbook_grades(self):
        return [g for g in rules.LIST_SPLIT_RE.split(self.cleaned_data["new_textbook_grades"]) if g]


class ShareCapForm(forms.Form):
    level = forms.ChoiceField(label=_("层级"), choices=rules.LEVEL_CHOICES)
    category = forms.ChoiceField(label=_("类别"), choices=Category.choices)
    subjects = forms.CharField(label=_("学科"), max_length=300, help_text=_("用逗号或顿号分隔，例如 语文、数学、生活适应"))
    max_percent = forms.IntegerField(label=_("最高占比（%）"), min_value=1, max_value=100)
    applies_to = forms.ChoiceField(label=_("适用于"), choices=ShareAppliesTo.choices)


class TargetShareForm(forms.Form):
    level = forms.ChoiceField(label=_("层级"), choices=rules.LEVEL_CHOICES)
    category = forms.ChoiceField(label=_("类别"), choices=Category.choices)
    subjects = forms.CharField(label=_("学科"), max_length=300, help_text=_("用逗号或顿号分隔"))
    min_percent = forms.IntegerField(label=_("目标占比（%）"), min_value=1, max_value=100, required=False,
                                     help_text=_("可不填，只作提示"))
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class ContactForm(forms.Form):
    category = forms.ChoiceField(label=_("负责类别"), required=False, choices=_blank(Category.choices, _("全部类别")))
    unit_name = forms.CharField(label=_("单位/部门"), max_length=100)
    name = forms.CharField(label=_("姓名"), max_length=50)
    phone = forms.CharField(label=_("电话"), max_length=40)
    email = forms.EmailField(label=_("邮箱"), required=False)


class NoticeForm(forms.Form):
    title = forms.CharField(label=_("文件标题"), max_length=200)
    issuer = forms.CharField(label=_("发文单位"), max_length=100, required=False)
    doc_number = forms.CharField(label=_("文号"), max_length=60, required=False)
    published_on = forms.DateField(label=_("发布日期"), required=False, widget=DATE)
    body = forms.CharField(label=_("正文"), required=False, widget=forms.Textarea(attrs={"rows": 8}))
    file = forms.FileField(label=_("附件"), required=False, help_text=_("PDF、Word、OFD、Excel、图片或 ZIP，最大 50 MB"))
    remove_file = forms.BooleanField(label=_("删除现有附件"), required=False)


class TemplateImportForm(forms.Form):
    file = forms.FileField(label=_("活动模板文件（.json）"))
    owner = forms.ModelChoiceField(label=_("主办单位"), queryset=None)
    year_offset = forms.IntegerField(label=_("年度偏移"), initial=0, min_value=-10, max_value=10,
                                     help_text=_("例如填 1：2024 年的模板生成 2025 年的活动，所有截止日期顺延一年"))
    title = forms.CharField(label=_("活动名称"), max_length=200, required=False, help_text=_("留空则沿用模板中的名称"))

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class FromShippedForm(TemplateImportForm):
    template = forms.ChoiceField(label=_("内置模板"))

    field_order = ["template", "owner", "year_offset", "title"]

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["file"]
        self.fields["template"].choices = [(t.key, t.title) for t in templates]


def formset(form_class, extra=1):
    return formset_factory(form_class, extra=extra, can_delete=True)


def rows_of(fs) -> list[dict]:
    """The kept rows of a valid formset, without the bookkeeping fields."""
    rows = []
    for form in fs.forms:
        data = getattr(form, "cleaned_data", None)
        if not data or data.get("DELETE"):
            continue
        row = {k: v for k, v in data.items() if k != "DELETE"}
        if hasattr(form, "row"):
            row = form.row()
        rows.append(row)
    return rows
