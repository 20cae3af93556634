"""Report language: English by default, Korean on request (``lang="ko"``).

CRM teams in Korea read reports in Korean: headings, segment names and figure labels are
translated here, and :func:`setup_figures` switches matplotlib to a Hangul font (NanumGothic,
shipped inside the ``koreanize-matplotlib`` package, so nothing is downloaded at run time).
"""

from __future__ import annotations

from pathlib import Path

from crmlab.errors import ParameterError

LANGS = ("en", "ko")

SEGMENT_NAMES_KO = {
    "Champions": "챔피언",
    "Loyal": "충성 고객",
    "Potential Loyalist": "잠재 충성 고객",
    "New": "신규 고객",
    "Promising": "유망 고객",
    "Need Attention": "관심 필요",
    "About to Sleep": "휴면 직전",
    "At Risk": "이탈 위험",
    "Can't Lose Them": "놓치면 안 될 고객",
    "Hibernating": "휴면 고객",
    "Lost": "이탈 고객",
}

TEXT = {
    "title": {"en": "CRM strategy report", "ko": "CRM 전략 보고서"},
    "headline_kpis": {"en": "Headline KPIs", "ko": "핵심 지표"},
    "segment_strategy": {"en": "Segment strategy", "ko": "세그먼트별 전략"},
    "findings": {"en": "Five findings that matter", "ko": "핵심 발견 다섯 가지"},
    "recommendations": {"en": "Recommendations", "ko": "권고 사항"},
    "scorecard": {"en": "Targets scorecard", "ko": "목표 달성 현황"},
    "segment": {"en": "segment", "ko": "세그먼트"},
    "customers": {"en": "customers", "ko": "고객 수"},
    "revenue_share": {"en": "revenue share", "ko": "매출 비중"},
    "customer_share": {"en": "% of customers", "ko": "고객 비중(%)"},
    "revenue_pct": {"en": "% of revenue", "ko": "매출 비중(%)"},
    "avg_clv": {"en": "average CLV", "ko": "평균 고객생애가치"},
    "prob_alive": {"en": "P(alive)", "ko": "활동 확률"},
    "churn_risk": {"en": "churn risk", "ko": "이탈 위험"},
    "best_offer": {"en": "best cross-sell offer", "ko": "추천 교차판매"},
    "campaign_response": {"en": "campaign response", "ko": "캠페인 반응"},
    "action": {"en": "action", "ko": "실행 방안"},
    "channel": {"en": "channel", "ko": "채널"},
    "send_time": {"en": "send time", "ko": "발송 시점"},
    "priority": {"en": "priority", "ko": "우선순위"},
    "segments_figure": {"en": "RFM segments: size and value", "ko": "RFM 세그먼트: 규모와 가치"},
    "percent": {"en": "percent", "ko": "비율(%)"},
    "status": {"en": "status", "ko": "상태"},
    "met": {"en": "met", "ko": "달성"},
    "on track": {"en": "on track", "ko": "달성 예상"},
    "off track": {"en": "off track", "ko": "미달 예상"},
    "missed": {"en": "missed", "ko": "미달성"},
    "no trend": {"en": "no trend", "ko": "추세 없음"},
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ParameterError(f"unsupported report language {lang!r}", value=lang,
                             expected="one of " + ", ".join(LANGS))
    return lang


def t(key: str, lang: str = "en") -> str:
    """The text for ``key`` in ``lang`` (the key itself when there is no translation)."""
    return TEXT.get(key, {}).get(check_lang(lang), key)


def segment_name(name: str, lang: str = "en") -> str:
    return SEGMENT_NAMES_KO.get(name, name) if check_lang(lang) == "ko" else name


def hangul_font() -> Path:
    """Path of the NanumGothic TrueType font shipped with koreanize-matplotlib."""
    import importlib.util

    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise ParameterError("Korean output needs the koreanize-matplotlib package",
                             fix="pip install koreanize-matplotlib")
    return Path(list(spec.submodule_search_locations)[0]) / "fonts" / "NanumGothic.ttf"


def setup_figures(lang: str = "en") -> str | None:
    """Make this session's figures able to show the language: registers a Hangul font for
    ``ko`` and returns its family name (``None`` for English, where nothing changes)."""
    if check_lang(lang) != "ko":
        return None
    import matplotlib
    from matplotlib import font_manager

    path = hangul_font()
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    matplotlib.rcParams["font.family"] = [family, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return family
