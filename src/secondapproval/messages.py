"""Why a fact is invalid, in English and Chinese.

Validation records one English message per invalid path (`Decision.invalid`, the audit record's
`invalid`): a fixed text from `ZH`, or a fixed text, `": "` and a detail written as JSON (a
pattern, the allowed values, an item's index). `zh(message)` gives the Chinese of any of them, so
a message read back from an old audit record is translated the same way. A message not in the
catalogue (it cannot come from this version) is shown as it is.
"""

from __future__ import annotations

import json
from typing import Any

# every message validation writes, English → Chinese
ZH: dict[str, str] = {
    # structure
    "the application is not a JSON object": "申请不是 JSON 对象",
    "the application could not be validated": "申请无法校验",
    "not a declared fact of this matter": "不是本事项声明的信息项",
    "facts are nested objects, not dotted keys": "信息项应为嵌套对象，而非带点的键名",
    "the key is given more than once": "同一键名出现了多次",
    "a JSON object is required": "应为 JSON 对象",
    "a JSON list is required": "应为 JSON 列表",
    "an invalid value": "值无效",
    # JSON types
    "true or false is required": "应为 true 或 false",
    "an integer is required": "应为整数",
    "a string is required": "应为字符串",
    "one of the allowed values is required": "应为允许的取值之一",
    "item": "列表项",
    "field": "字段",
    "not a field of the list's items": "不是列表项的字段",
    "a required field is absent": "缺少必填字段",
    # numbers
    "a number is required, not a boolean": "应为数字，而不是布尔值",
    "number is not finite": "数字不是有限值",
    "a number (or a decimal string) is required": "应为数字（或十进制数字字符串）",
    "the number has more significant digits than allowed": "数字的有效位数超过上限",
    "the number is too large or too small": "数字过大或过小",
    "an amount in CNY has at most two decimal places (fen)": "人民币金额最多两位小数（分）",
    # dates
    "a date is an ISO YYYY-MM-DD string": "日期应为 ISO 格式 YYYY-MM-DD 字符串",
    "the date does not exist": "该日期不存在",
    "does not match the pattern": "不符合格式要求",
    # identifiers
    "a citizen ID number must be a string": "公民身份号码应为字符串",
    "old 15-digit ID number (GB 11643-1989) has no check digit": "旧式 15 位身份号码没有校验码",
    "an ID number is 17 digits and a digit or upper-case X": (
        "身份号码应为 17 位数字加一位数字或大写 X"
    ),
    "the check character does not match (GB 11643 MOD 11-2)": "校验码不符（GB 11643 MOD 11-2）",
    "the birth date in the ID number does not exist": "身份号码中的出生日期不存在",
    "unknown region code (GB/T 2260)": "未知的行政区划代码（GB/T 2260）",
    "region code retired before the birth year": "该行政区划代码在出生年份之前已撤销",
    "birth date in the ID number is after the decision date": "身份号码中的出生日期晚于决定日期",
    "a unified social credit code must be a string": "统一社会信用代码应为字符串",
    "a credit code is 18 characters of 0-9 and A-Y without I, O, S, V, Z": (
        "统一社会信用代码应为 18 位，由 0-9 和除 I、O、S、V、Z 外的 A-Y 组成"
    ),
    "the check character does not match (GB 32100 MOD 31-3)": "校验码不符（GB 32100 MOD 31-3）",
    # limits (INVALID:$)
    "beyond the engine's limits": "超出引擎的限制",
    "bytes more than": "字节数超过",
    "nesting deeper than": "嵌套层数超过",
    "keys more than": "键的数量超过",
    "list items more than": "列表项数量超过",
    "a string longer than": "字符串长度超过",
    "a key longer than": "键名长度超过",
}


def detail(message: str, value: Any) -> str:
    """A catalogue message with a detail, the detail written as JSON."""
    return f"{message}: {as_json(value)}"


def as_json(value: Any) -> str:
    """A value as JSON text (non-ASCII kept), never a Python repr."""
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return json.dumps(str(value), ensure_ascii=False)


def zh(message: str) -> str:
    """The Chinese of a validation message (see the module docstring)."""
    found = ZH.get(message)
    if found is not None:
        return found
    parts = message.split(": ")  # "item: 3: an integer is required", "…pattern: \"…\""
    if parts[0] not in ZH:
        return message
    return "：".join(ZH.get(part, part) for part in parts)
