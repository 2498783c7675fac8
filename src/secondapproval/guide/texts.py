"""The fixed words of a guide page, in Chinese and English.

Matter-specific words (titles, conditions, labels, offices) come from the matter file; these are
the headings and captions around them. A missing field is a type error, so both languages always
say the same things. What the page says an approval is follows the matter's `automatic.form`
(`FormTexts`): "秒批" / "approved in seconds" only for `miaopi`; for `check`, that the conditions
are checked automatically and an office acts on the result; for `no-application`, that nobody
applies (the office grants from its own data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
Form = Literal["miaopi", "check", "no-application"]
"""What an approval is, as `automatic.form` of a matter file says (`ruleset.Automatic`)."""


@dataclass(frozen=True, slots=True)
class FormTexts:
    """The words of a page that depend on what an approval is (`automatic.form`)."""

    kicker: str
    after: str
    """The heading of the after column of the before-and-after figures."""
    who_can_apply: str
    who_can_apply_lead: str
    before_after_note: str
    flow_apply: str
    flow_apply_body: str
    flow_ok: str
    flow_ok_body: str


@dataclass(frozen=True, slots=True)
class Texts:
    """Headings and captions of a guide page in one language."""

    html_lang: str
    colon: str
    miaopi: FormTexts
    check: FormTexts
    no_application: FormTexts
    version: str
    in_force: str
    until: str
    office: str
    scan_to_apply: str
    online: str
    no_service_url: str
    nothing_to_apply: str
    """Instead of the missing online address, on the page of a matter nobody applies for."""
    basis: str
    partial: str
    conditions_cited: str
    list_separator: str
    you_bring: str
    you_bring_none: str
    optional: str
    we_look_up: str
    we_look_up_none: str
    platform_supplies: str
    reviewer_checks: str
    how_decided: str
    before_after: str
    before: str
    materials: str
    steps: str
    days: str
    fees: str
    trips: str
    unit_days: str
    unit_documents: str
    """Materials before: documents (`{n}`)."""
    unit_facts: str
    """Materials after: the facts the applicant still gives (`{n}`), not documents: the two are
    counted in their own units."""
    unit_fees: str
    same_day: str
    outputs: str
    outputs_lead: str
    computed_as: str
    unknown: str
    legal_basis: str
    legal_basis_none: str
    generated: str
    flow_title: str
    flow_check: str
    flow_check_body: str
    flow_refer: str
    flow_refer_body: str
    flow_fixable: str
    flow_fixable_missing: str
    flow_fixable_none: str
    index_kicker: str
    index_title: str
    index_lead: str
    index_online: str
    index_offline: str
    index_no_version: str

    def form(self, form: Form) -> FormTexts:
        """The words for a matter of this form."""
        return {"miaopi": self.miaopi, "check": self.check}.get(form, self.no_application)


ZH = Texts(
    html_lang="zh-CN",
    colon="：",
    miaopi=FormTexts(
        kicker="一图看懂 · 秒批",
        after="秒批",
        who_can_apply="谁可以申请",
        who_can_apply_lead="同时满足以下全部条件，系统即时批准（秒批）：",
        before_after_note="改革后：提交申请后系统自动核验，条件全部满足即时批准（秒批）。",
        flow_apply="① 网上申请",
        flow_apply_body="提供 {n} 项材料",
        flow_ok="全部满足：即时批准（秒批）",
        flow_ok_body="由系统作出批准决定，无需人工",
    ),
    check=FormTexts(
        kicker="一图看懂 · 自动核验",
        after="自动核验",
        who_can_apply="谁可以申请",
        who_can_apply_lead="同时满足以下全部条件的，系统自动核验通过，由部门据此办理：",
        before_after_note="改革后：系统自动核验公布的条件，全部满足的由部门据核验结果办理。",
        flow_apply="① 申请",
        flow_apply_body="提供 {n} 项材料",
        flow_ok="全部满足：核验通过",
        flow_ok_body="由部门据核验结果办理",
    ),
    no_application=FormTexts(
        kicker="一图看懂 · 免申即享",
        after="免申即享",
        who_can_apply="谁可以享受",
        who_can_apply_lead="无需申请：同时满足以下全部条件的，部门根据自有数据直接给予：",
        before_after_note="改革后：无需申请，部门根据自有数据核验条件，全部满足的直接给予。",
        flow_apply="① 无需申请",
        flow_apply_body="部门使用自有数据；您提供 {n} 项",
        flow_ok="全部满足：部门直接给予",
        flow_ok_body="无需申请",
    ),
    version="版本",
    in_force="自 {date} 起施行",
    until="至 {date}",
    office="负责部门",
    scan_to_apply="扫码在线申请",
    online="网上办理",
    no_service_url="网上办理地址尚未公布",
    nothing_to_apply="无需申请，部门主动办理",
    basis="依据",
    partial="来源未载明具体内容，由部门数据核验",
    conditions_cited="条件 {numbers}",
    list_separator="；",
    you_bring="您还需提供",
    you_bring_none="无需提供任何材料",
    optional="选填",
    we_look_up="政府部门自行核查（您无需提供）",
    we_look_up_none="无",
    platform_supplies="由您办理所用的平台提供（您无需提供）",
    reviewer_checks="由工作人员核查（本系统暂无法查询，申请转人工审核）",
    how_decided="怎么审批",
    before_after="改革前后",
    before="改革前",
    materials="材料",
    steps="环节",
    days="时限",
    fees="费用",
    trips="跑动",
    unit_days="天",
    unit_documents="{n} 件",
    unit_facts="填 {n} 项",
    unit_fees="元",
    same_day="当天",
    outputs="批准后给予",
    outputs_lead="批准时由规则计算：",
    computed_as="计算方式",
    unknown="未公布",
    legal_basis="政策依据",
    legal_basis_none="事项文件未列出政策依据。",
    generated="本页由事项规则文件自动生成：{matter} 版本 {version}（{date} 施行的版本），"
    "sha256 {digest}。审批以规则为准。",
    flow_title="审批流程图",
    flow_check="② 系统自动核验",
    flow_check_body="{rules} 项条件，核查 {offices} 个部门的数据",
    flow_refer="任一不满足或无法核验：转人工审核",
    flow_refer_body="系统不会自动拒绝，由工作人员审核",
    flow_fixable="申请前您可以自行避免的转人工原因",
    flow_fixable_missing="所需材料缺失或填写有误",
    flow_fixable_none="所有条件均由部门数据核验，无需您自行准备。",
    index_kicker="一图看懂",
    index_title="一图看懂：自动审批与核验事项",
    index_lead="每个事项一页；已公布网上办理地址的事项，页上附二维码直达办理。",
    index_online="扫码办理",
    index_offline="网上办理地址尚未公布",
    index_no_version="{date} 无施行中的版本",
)

EN = Texts(
    html_lang="en",
    colon=": ",
    miaopi=FormTexts(
        kicker="Understand it from one picture · approval in seconds",
        after="approval in seconds",
        who_can_apply="Who can apply",
        who_can_apply_lead="Meet every condition below and the system approves in seconds:",
        before_after_note="After: checked automatically, approved in seconds if every condition "
        "is met.",
        flow_apply="1 Apply online",
        flow_apply_body="bring {n} items",
        flow_ok="All met: approved in seconds",
        flow_ok_body="the system makes the approval; no person is needed",
    ),
    check=FormTexts(
        kicker="Understand it from one picture · automatic check",
        after="automatic check",
        who_can_apply="Who can apply",
        who_can_apply_lead="The conditions below are checked automatically; where every one is "
        "met, an office acts on the result:",
        before_after_note="After: the published conditions are checked automatically and an "
        "office acts on the result.",
        flow_apply="1 Apply",
        flow_apply_body="bring {n} items",
        flow_ok="All met: the check is passed",
        flow_ok_body="an office acts on the result",
    ),
    no_application=FormTexts(
        kicker="Understand it from one picture · no application needed",
        after="no application",
        who_can_apply="Who receives it",
        who_can_apply_lead="Nobody applies: the office grants it from its own data to everyone "
        "who meets every condition below:",
        before_after_note="After: nobody applies; the office checks the conditions on its own "
        "data and grants it where every one is met.",
        flow_apply="1 No application",
        flow_apply_body="the office uses its own data; you give {n} items",
        flow_ok="All met: granted by the office",
        flow_ok_body="nobody applies",
    ),
    version="version",
    in_force="in force from {date}",
    until="to {date}",
    office="Responsible office",
    scan_to_apply="Scan to apply online",
    online="Apply online",
    no_service_url="The online service address is not published yet",
    nothing_to_apply="Nothing to apply for: the office acts on its own",
    basis="basis",
    partial="its content is not in the sources: settled by the office's data",
    conditions_cited="conditions {numbers}",
    list_separator="; ",
    you_bring="What you still bring",
    you_bring_none="Nothing to bring",
    optional="optional",
    we_look_up="What the government looks up itself (you bring none of it)",
    we_look_up_none="Nothing",
    platform_supplies="Supplied by the platform you apply through (you bring none of it)",
    reviewer_checks="Checked by a reviewer (this service cannot look it up yet: referred)",
    how_decided="How it is decided",
    before_after="Before and after",
    before="before",
    materials="Materials",
    steps="Steps",
    days="Time",
    fees="Fees",
    trips="Trips",
    unit_days="days",
    unit_documents="{n} docs",
    unit_facts="{n} entries",
    unit_fees="CNY",
    same_day="same day",
    outputs="What an approval gives",
    outputs_lead="Computed by the rules for each approval:",
    computed_as="computed as",
    unknown="unknown",
    legal_basis="Legal basis",
    legal_basis_none="The matter file lists no legal basis.",
    generated="Generated from the matter file: {matter} version {version} (the version in force "
    "on {date}), sha256 {digest}. The rules decide.",
    flow_title="How an application is decided",
    flow_check="2 Automatic checks",
    flow_check_body="{rules} conditions, data from {offices} offices",
    flow_refer="Any not met or not checkable: handed to a reviewer",
    flow_refer_body="never refused by the machine; a person decides",
    flow_fixable="Reasons for referral you can avoid before applying",
    flow_fixable_missing="An item you bring is missing or wrong",
    flow_fixable_none="Every condition is checked against government data; nothing to prepare.",
    index_kicker="Understand it from one picture",
    index_title="Understand it from one picture: matters decided or checked automatically",
    index_lead=(
        "One page per matter; where the online service's address is published, a QR code on"
        " the page leads to it."
    ),
    index_online="QR code to apply",
    index_offline="no online address published yet",
    index_no_version="no version in force on {date}",
)

TEXTS: dict[Lang, Texts] = {"zh": ZH, "en": EN}
