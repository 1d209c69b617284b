"""Traditional Chinese (zh-TW, with Taiwan phrasing) converted from the Simplified catalog.

Converted when first needed, with OpenCC's s2twp, rather than written by hand or kept in a
generated file: the zh-CN text stays the one source, so a new or changed message is in
Traditional Chinese at once, with nothing to regenerate or forget. OpenCC's output for the whole
catalog was read through; `OVERRIDES` fixes what it gets wrong for this bot, and the tests pin the
command descriptions and common replies so a change in OpenCC shows up.
"""

from __future__ import annotations

from functools import cache
from types import MappingProxyType

import opencc

# Wrong or unidiomatic in this bot's context -> what a Taiwanese reader expects. Applied, in this
# order, to OpenCC's output.
OVERRIDES = MappingProxyType(
    {
        "引數": "參數",  # s2twp's word is the programming "argument"; members set parameters
        "許可權": "權限",  # Discord's own zh-TW interface says 權限 for permissions
        "身份組": "身分組",  # and 身分組 for roles
        "賬戶": "帳戶",
        "文本": "文字",
        "示例": "範例",
        "獲取": "取得",
        "隻能": "只能",  # 只 (only) wrongly taken for the measure word 隻
        "執行狀況": "運作狀況",  # the health of a service, not of a run
        "“": "「",  # Taiwan quotes with corner brackets
        "”": "」",
        "‘": "『",
        "’": "』",
    }
)


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("s2twp")


def to_traditional(text: str) -> str:
    converted = _converter().convert(text)
    for wrong, right in OVERRIDES.items():
        converted = converted.replace(wrong, right)
    return converted
