"""Sentences and tables of the retention and CLV report (notebook 03), written from the numbers.

Every claim is computed from the results it describes: which segment keeps its customers
longest, whether a driver of churn is significant, which purchase model won and by how much,
how many valuable customers are at risk. Nothing names or assumes a particular data set.
Each function takes ``lang`` ("en" or "ko") and returns Markdown; :func:`table` returns a
report table with readable headers (translated through ``crmlab/i18n/ko/ltv.yml``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from crmlab.data.frames import distinct_count, first_last
from crmlab.i18n import pick as _pick
from crmlab.i18n import check_lang, segment_name, t
from crmlab.ltv.narrative_churn import CHURN_HEADERS

__all__ = ["section", "data_intro", "cohorts", "survival", "cox", "first_value_effect", "best_retention", "models",
           "clv", "action_list", "recommendations", "covariate_label", "table", "translate_axes", "HEADERS"]


def _pct(x: Any) -> str:
    return "n/a" if x is None or not math.isfinite(float(x)) else f"{float(x):.0%}"


def _ok(x: Any) -> bool:
    return x is not None and math.isfinite(float(x))


_SECTIONS: dict[str, tuple[str, str, str, str]] = {
    "title": (
        "# Retention and customer lifetime value: whom we keep, what they are worth, whom to save",
        "How well do we keep customers, what drives churn, what is each customer worth over the horizon, "
        "and which valuable customers are slipping away right now? Method: acquisition cohorts; time to "
        "churn as a survival problem (Kaplan-Meier, Cox model); buy-till-you-die models (BG/NBD, "
        "Pareto/NBD, MBG/NBD) chosen on a holdout period after the cut-off date; the Gamma-Gamma spend "
        "model; CLV with intervals; an action list of high-value customers at risk.",
        "# 고객 유지와 고객생애가치: 누구를 지키고, 얼마의 가치가 있으며, 누구를 되찾을 것인가",
        "고객을 얼마나 잘 유지하는지, 무엇이 이탈을 부르는지, 고객별로 앞으로 어느 정도의 가치가 있는지, 지금 "
        "이탈하고 있는 우량 고객은 누구인지 살펴봅니다. 방법: 획득 코호트, 생존 분석(Kaplan-Meier, Cox 모형), "
        "기준일 이후 검증 기간으로 고른 구매 모형(BG/NBD, Pareto/NBD, MBG/NBD), Gamma-Gamma 지출 모형, "
        "구간이 있는 고객생애가치, 이탈 위험 우량 고객 목록."),
    "cohorts": (
        "## 1. Do new customers come back? Acquisition cohorts",
        "Each row is the customers acquired in one month; each column the months since their first order. "
        "A cell is the share of the cohort that ordered in exactly that month. The last cell of each row "
        "is the final month of the data, usually incomplete; the averages below leave it out.",
        "## 1. 신규 고객은 다시 오는가? 획득 코호트",
        "각 행은 한 달 동안 획득한 고객이고, 각 열은 첫 주문 이후 지난 개월 수입니다. 각 칸은 그 달에 주문한 "
        "코호트 고객의 비율입니다. 각 행의 마지막 칸은 데이터의 마지막 달로 대개 불완전하므로 아래 평균에서 "
        "제외합니다."),
    "survival": (
        "## 2. How long do customers stay? Survival by segment",
        "Customers active at the cut-off date (an order in the preceding churn window) are grouped by the "
        "RFM segment they had at that date and followed forward. A customer churns when they stop ordering "
        "for longer than the churn window; those still ordering at the end are censored, not counted as "
        "lost. Shaded bands are 95% confidence bands; no survival is reported beyond the follow-up the "
        "data has.",
        "## 2. 고객은 얼마나 오래 머무는가? 세그먼트별 생존",
        "기준일에 활동 중인 고객(직전 이탈 기간 안에 주문)을 그날의 RFM 세그먼트로 나누어 이후를 추적합니다. "
        "이탈 기간보다 오래 주문이 없으면 이탈로 보고, 끝까지 주문하는 고객은 이탈이 아니라 중도 절단으로 "
        "처리합니다. 음영은 95% 신뢰구간이며, 데이터의 추적 기간을 넘는 생존율은 보고하지 않습니다."),
    "cox": (
        "## 3. What drives churn? Cox model",
        "Time from first order to churn over the whole history, explained by what is known at the first "
        "order (its value, its number of lines, and where the data has countries, whether the customer is "
        "domestic). A hazard ratio below 1 means slower churn.",
        "## 3. 무엇이 이탈을 부르는가? Cox 모형",
        "전체 기간에서 첫 주문부터 이탈까지의 시간을 첫 주문 시점에 알 수 있는 정보(첫 주문 금액, 품목 수, "
        "국가 정보가 있으면 국내 고객 여부)로 설명합니다. 위험비가 1보다 작으면 이탈이 느립니다."),
    "best": (
        "## 4. Are we keeping our best customers?",
        "Every quarter, the customers who were in the best segments at its start (RFM on their history so "
        "far): the share who ordered again within the quarter.",
        "## 4. 최우수 고객을 지키고 있는가?",
        "분기마다 분기 시작 시점에 최우수 세그먼트(그때까지의 이력으로 계산한 RFM)에 속한 고객 중 그 분기 안에 "
        "다시 주문한 비율입니다."),
    "models": (
        "## 5. Which purchase model to trust? Holdout check",
        "Three buy-till-you-die models, a gradient-boosting regressor and a naive baseline (customers keep their "
        "past rate) predict each customer's orders after several cut-offs (a rolling-origin backtest); the purchase "
        "model closest customer by customer (mean absolute error) is kept. The holdout check shows it once more.",
        "## 5. 어떤 구매 모형을 믿을 것인가? 검증 기간 점검",
        "세 가지 구매 모형, 그래디언트 부스팅 회귀, 단순 기준선(과거 구매율 유지)이 여러 기준일 이후의 고객별 주문을 "
        "예측합니다(롤링 백테스트). 고객별 오차(평균 절대 오차)가 가장 작은 구매 모형을 고르고, 검증 기간 점검으로 다시 "
        "보여 줍니다."),
    "clv": (
        "## 6. What is each customer worth? CLV by segment",
        "The chosen model is refitted on the whole history; with the Gamma-Gamma spend model it gives each "
        "customer's expected margin over the horizon, discounted. Intervals come from parameter "
        "uncertainty.",
        "## 6. 고객별 가치는 얼마인가? 세그먼트별 고객생애가치",
        "선택한 모형을 전체 이력으로 다시 적합하고, Gamma-Gamma 지출 모형과 함께 기간 내 고객별 기대 이익을 "
        "할인하여 계산합니다. 구간은 모수의 불확실성에서 나옵니다."),
    "action": (
        "## 7. Action list: high-value customers at risk",
        "Customers in the top spend band whose probability of still being active is lowest. A customer is "
        "at risk when the probability alive is below `p_alive_below` or they have not ordered for more than "
        "`churn_days` days (the same rule as the strategy report). IDs are pseudonyms unless `show_pii` is "
        "set.",
        "## 7. 실행 목록: 이탈 위험이 있는 우량 고객",
        "과거 지출 상위 고객 중 활동 확률이 가장 낮은 고객입니다. 활동 확률이 `p_alive_below`보다 낮거나 "
        "`churn_days`일 넘게 주문이 없으면 이탈 위험으로 봅니다(전략 보고서와 같은 규칙). `show_pii`를 "
        "설정하지 않으면 고객 번호는 가명입니다."),
    "recommendations": ("## 8. Recommendations", "", "## 8. 권고 사항", ""),
}


def section(key: str, lang: str = "en") -> str:
    """A section heading with its method paragraph.

    Parameters
    ----------
    key : str
        One of title, cohorts, survival, cox, best, models, clv, action, recommendations.
    lang : str

    Returns
    -------
    str
    """
    en_h, en_b, ko_h, ko_b = _SECTIONS[key]
    head, body = (ko_h, ko_b) if check_lang(lang) == "ko" else (en_h, en_b)
    return head + ("\n\n" + body if body else "")


def data_intro(source_name: str, tx: pd.DataFrame, as_of: pd.Timestamp, cutoff: pd.Timestamp, *,
               given: bool, share: float, holdout_days: int = 0, lang: str = "en") -> str:
    """Which data the report reads, its period, and how the cut-off date was chosen.

    Parameters
    ----------
    source_name : str
    tx : pandas.DataFrame
        The cleaned order lines.
    as_of, cutoff : pandas.Timestamp
        Report date and calibration cut-off.
    given : bool
        Whether the cut-off was passed explicitly.
    share : float
        Calibration share of the observed period (when not given).
    holdout_days : int
        Holdout length in days when positive (when not given).
    lang : str

    Returns
    -------
    str
    """
    n, orders = distinct_count(tx, "customer_id"), distinct_count(tx, "order_id")  # pandas or Spark
    first, last = (t.date() for t in first_last(tx, "order_ts"))
    if given:
        how = _pick(lang, "as given", "지정값")
    elif holdout_days > 0:
        how = _pick(lang, f"the last {holdout_days} days are the holdout", f"마지막 {holdout_days}일이 검증 기간")
    else:
        how = _pick(lang, f"the first {share:.0%} of the observed days are the calibration period",
                    f"관측 기간의 처음 {share:.0%}가 학습 기간")
    return _pick(
        lang,
        f"*Data: {source_name}.* **{n:,} customers** with {orders:,} orders from {first} to {last} "
        f"(report date {as_of.date()}: orders before it count). The cut-off date is {cutoff.date()} ({how}).",
        f"*데이터: {source_name}.* {first} ~ {last} 기간 **고객 {n:,}명**, 주문 {orders:,}건 "
        f"(보고 기준일 {as_of.date()} 이전 주문). 기준일은 {cutoff.date()}입니다({how}).")


def cohorts(avg: pd.Series, ever: pd.Series, one_order_share: float, lang: str = "en") -> str:
    """Cohort return rates and the share of customers who never ordered again.

    Parameters
    ----------
    avg : pandas.Series
        Average cohort rates by month ("exact" mode), month 0 = acquisition.
    ever : pandas.Series
        Average rates in "cumulative" mode.
    one_order_share : float
        Share of customers with exactly one order so far.
    lang : str

    Returns
    -------
    str
    """
    m1, m3, e3 = avg.get(1, math.nan), avg.get(3, math.nan), ever.get(3, math.nan)
    if not _ok(m1):
        text = _pick(lang, "The data spans too few months to follow cohorts into their second month. ",
                     "데이터 기간이 짧아 코호트를 두 번째 달까지 추적할 수 없습니다. ")
    else:
        text = _pick(lang, f"On average **{_pct(m1)} of a cohort orders again in its second month**",
                     f"평균적으로 **코호트의 {_pct(m1)}가 두 번째 달에 다시 주문**합니다")
        if _ok(m3):
            text += _pick(lang, f" and {_pct(m3)} in its fourth; counting anyone who orders in month 3 or later, "
                                f"{_pct(e3)} are still with us. ",
                          f". 네 번째 달에는 {_pct(m3)}, 3개월 차 이후 한 번이라도 주문한 고객은 {_pct(e3)}입니다. ")
        else:
            text += _pick(lang, ". ", ". ")
    text += _pick(lang, f"**{_pct(one_order_share)} of customers have ordered only once** so far",
                  f"지금까지 **고객의 {_pct(one_order_share)}가 한 번만 주문**했습니다")
    if one_order_share >= 0.3:
        text += _pick(lang, ": the step from the first to the second order is where customers are lost most, "
                            "so a welcome and second-order programme pays most there.",
                      ". 첫 주문에서 두 번째 주문으로 넘어가는 단계에서 고객을 가장 많이 잃으므로, 환영 및 재구매 "
                      "프로그램의 효과가 가장 큽니다.")
    else:
        text += _pick(lang, ": most customers come back at least once, so the second order is not the main "
                            "bottleneck.", ". 대부분의 고객이 한 번 이상 다시 오므로 두 번째 주문이 주된 병목은 아닙니다.")
    return text


def survival(km: Any, lang: str = "en") -> str:
    """What the forward survival table says, at the longest horizon it reports.

    Parameters
    ----------
    km : SurvivalResult
        From :func:`crmlab.retention.survival` (by segment).
    lang : str

    Returns
    -------
    str
    """
    cols = [c for c in km.table.columns if c.startswith("survival_")]
    text = ""
    if km.dropped_horizons:
        hs = ", ".join(f"{h:g}" for h in km.dropped_horizons)
        text = _pick(lang, f"The data follows these customers for at most {km.follow_up:,.0f} days after the "
                           f"cut-off, so survival at {hs} days is not reported. ",
                     f"데이터는 기준일 이후 최대 {km.follow_up:,.0f}일만 고객을 추적하므로 {hs}일 생존율은 "
                     "보고하지 않습니다. ")
    if not cols:
        return text + _pick(lang, "The follow-up is too short for any horizon of the table.",
                            "추적 기간이 너무 짧아 표에 보고할 기간이 없습니다.")
    col = cols[-1]
    days = col[len("survival_"):-1]
    s = km.table[col].dropna().sort_values()
    if len(s) == 0:
        return text
    hi, lo = segment_name(str(s.index[-1]), lang), segment_name(str(s.index[0]), lang)
    if km.by is None:
        return text + _pick(lang, f"{_pct(s.iloc[0])} of the customers active at the cut-off are still ordering "
                                  f"{days} days later; no segment has enough customers to compare.",
                            f"기준일에 활동 중이던 고객의 {_pct(s.iloc[0])}가 {days}일 후에도 주문하고 있습니다. "
                            "비교할 만큼 고객이 많은 세그먼트는 없습니다.")
    if len(s) == 1:
        return text + _pick(lang, f"Only {hi} is large enough to follow: {_pct(s.iloc[0])} of them are still "
                                  f"ordering {days} days after the cut-off.",
                            f"{hi}만 추적할 만큼 충분히 큽니다. 기준일 {days}일 후에도 {_pct(s.iloc[0])}가 주문하고 "
                            "있습니다.")
    text += _pick(lang, f"{days} days after the cut-off, **{_pct(s.iloc[-1])} of {hi}** are still ordering but "
                        f"only **{_pct(s.iloc[0])} of {lo}**. ",
                  f"기준일 {days}일 후 **{hi}의 {_pct(s.iloc[-1])}**는 여전히 주문하지만 **{lo}는 "
                  f"{_pct(s.iloc[0])}**에 그칩니다. ")
    if s.iloc[-1] - s.iloc[0] >= 0.1:
        text += _pick(lang, "The segment a customer is in predicts how long we keep them, so retention effort "
                            "should be planned per segment.",
                      "고객이 속한 세그먼트가 유지 기간을 예측하므로 유지 활동은 세그먼트별로 계획해야 합니다.")
    else:
        text += _pick(lang, "The segments differ little in how long they stay.",
                      "세그먼트 간 유지 기간의 차이는 크지 않습니다.")
    return text


_COVARIATES = {
    "log_first_order_value": ("first-order value (log)", "첫 주문 금액(로그)"),
    "first_order_lines": ("lines in the first order", "첫 주문 품목 수"),
    "domestic": ("domestic customer", "국내 고객"),
}


def covariate_label(name: str, lang: str = "en") -> str:
    """A Cox covariate as a reader names it.

    Parameters
    ----------
    name : str
    lang : str

    Returns
    -------
    str
    """
    en, ko = _COVARIATES.get(str(name), (str(name), str(name)))
    return _pick(lang, en, ko)


def _dropped_note(name: str, why: str, has_country: bool, lang: str) -> str:
    label = covariate_label(name, lang)
    if name == "domestic" and (why == "missing" or not has_country):
        return _pick(lang, "The data has no country column, so whether a customer is domestic is not a covariate.",
                     "데이터에 국가 열이 없어 국내 고객 여부는 공변량에서 제외했습니다.")
    if why == "constant":
        return _pick(lang, f"*{label}* does not vary in this data, so it is left out.",
                     f"*{label}*은(는) 이 데이터에서 변하지 않아 제외했습니다.")
    if why == "rare":
        return _pick(lang, f"*{label}* has too few customers or no churn in one of its values to be estimated, "
                           "so it is left out.",
                     f"*{label}*은(는) 한쪽 값의 고객이 너무 적거나 이탈이 없어 추정할 수 없으므로 제외했습니다.")
    return _pick(lang, f"*{label}* is not in the data, so it is left out.",
                 f"*{label}*은(는) 데이터에 없어 제외했습니다.")


def cox(hr: pd.DataFrame | None, dropped: Mapping[str, str], has_country: bool, lang: str = "en") -> str:
    """The Cox model's drivers, which are significant, and which covariates were left out and why.

    Parameters
    ----------
    hr : pandas.DataFrame or None
        ``CoxResult.table`` (hazard_ratio, lower, upper, p_value by covariate); None when no
        model could be fitted.
    dropped : mapping
        Covariate -> reason, from :func:`crmlab.retention.churn_covariates`.
    has_country : bool
        Whether the source declares a country column.
    lang : str

    Returns
    -------
    str
    """
    notes = [_dropped_note(k, v, has_country, lang) for k, v in dropped.items()]
    if hr is None or len(hr) == 0:
        return " ".join(notes + [_pick(lang, "No Cox model could be fitted on this data.",
                                       "이 데이터로는 Cox 모형을 적합할 수 없습니다.")])
    lines = [_pick(lang, f"- **{covariate_label(k, lang)}**: hazard ratio {v['hazard_ratio']:.2f} "
                         f"(95% CI {v['lower']:.2f} to {v['upper']:.2f})",
                   f"- **{covariate_label(k, lang)}**: 위험비 {v['hazard_ratio']:.2f} "
                   f"(95% 신뢰구간 {v['lower']:.2f} ~ {v['upper']:.2f})") for k, v in hr.iterrows()]
    sig = int((hr["p_value"] < 0.05).sum())
    text = "\n".join(lines) + "\n\n" + (
        _pick(lang, f"{sig} of {len(hr)} drivers are significant at 5%. ", f"{len(hr)}개 요인 중 {sig}개가 5% "
              "수준에서 유의합니다. ") if sig else _pick(lang, "No driver is significant at 5%. ",
                                                 "5% 수준에서 유의한 요인이 없습니다. "))
    effect = first_value_effect(hr)
    if effect == "protective":
        text += _pick(lang, "Customers with a larger first order churn more slowly: first-order value is worth "
                            "steering and worth using to prioritise onboarding. ",
                      "첫 주문 금액이 큰 고객일수록 이탈이 느립니다. 첫 주문 금액을 높이는 활동과 온보딩 우선순위에 "
                      "활용할 가치가 있습니다. ")
    elif effect == "harmful":
        text += _pick(lang, "Customers with a larger first order churn faster: a large first order is no sign of "
                            "a lasting customer here. ",
                      "첫 주문 금액이 큰 고객일수록 이탈이 빠릅니다. 여기서는 큰 첫 주문이 오래 남는 고객의 신호가 "
                      "아닙니다. ")
    elif "log_first_order_value" in hr.index:
        text += _pick(lang, "First-order value does not clearly separate lasting customers here. ",
                      "첫 주문 금액으로는 오래 남는 고객을 뚜렷이 구분할 수 없습니다. ")
    return (text + " ".join(notes)).strip()


def first_value_effect(hr: pd.DataFrame | None) -> str | None:
    """"protective" or "harmful" when the first-order value's interval excludes 1, else None.

    Parameters
    ----------
    hr : pandas.DataFrame or None
        ``CoxResult.table``.

    Returns
    -------
    str or None
    """
    if hr is None or "log_first_order_value" not in hr.index:
        return None
    row = hr.loc["log_first_order_value"]
    return "protective" if row["upper"] < 1 else "harmful" if row["lower"] > 1 else None


def best_retention(b: Mapping[str, Any], lang: str = "en") -> str:
    """Best-customer retention: the average, the last quarter, and which way it moved.

    Parameters
    ----------
    b : mapping
        ``BestCustomerResult.to_dict()`` (mean_retention, last_retention, periods).
    lang : str

    Returns
    -------
    str
    """
    mean, last = b.get("mean_retention"), b.get("last_retention")
    if not _ok(mean):
        return _pick(lang, "The data has no full quarter with best customers to follow.",
                     "최우수 고객을 추적할 완전한 분기가 없습니다.")
    text = _pick(lang, f"On average **{_pct(mean)} of our best customers order again within the quarter** "
                       f"({b.get('periods', 0)} quarters)",
                 f"평균적으로 **최우수 고객의 {_pct(mean)}가 분기 안에 다시 주문**합니다({b.get('periods', 0)}개 분기)")
    if _ok(last):
        move = last - mean
        trend = (_pick(lang, "above the average", "평균보다 높습니다") if move >= 0.03 else
                 _pick(lang, "below the average", "평균보다 낮습니다") if move <= -0.03 else
                 _pick(lang, "close to the average", "평균과 비슷합니다"))
        text += _pick(lang, f"; in the last full quarter it was {_pct(last)}, {trend}.",
                      f". 마지막 완전한 분기에는 {_pct(last)}로 {trend}.")
    else:
        text += "."
    return text


def models(comparison: Any, lang: str = "en", chosen: str | None = None) -> str:
    """Which purchase model is used, how close it came on the holdout, and what that means for CLV.

    Parameters
    ----------
    comparison : ComparisonResult
        From :func:`crmlab.ltv.compare_models`.
    lang : str
    chosen : str, optional
        The model picked elsewhere (the backtest's best purchase model); default the holdout's best.

    Returns
    -------
    str
    """
    tab, name = comparison.table, chosen or comparison.best_name
    check = comparison.checks[name]
    text = _pick(lang, f"**{name}** is chosen: per customer its holdout error is {check.mae:.2f} orders "
                       f"(correlation {check.correlation:.2f} between predicted and actual), and it predicted "
                       f"{check.total_predicted:,.0f} repeat orders in the holdout against "
                       f"{check.total_actual:,.0f} actual. ",
                 f"**{name}** 모형을 선택했습니다. 검증 기간의 고객별 오차는 {check.mae:.2f}회(예측과 실제의 "
                 f"상관계수 {check.correlation:.2f})이고, 검증 기간 재구매를 {check.total_predicted:,.0f}회로 "
                 f"예측했으며 실제는 {check.total_actual:,.0f}회였습니다. ")
    edge = [str(m) for m in tab.index[~tab["converged"].astype(bool)]]
    if edge:
        text += _pick(lang, f"The fits of {', '.join(edge)} ran to the edge of their parameter range. ",
                      f"{', '.join(edge)} 모형의 적합은 모수 범위의 경계에 도달했습니다. ")
    if len(tab) > 1 and tab["log_likelihood"].max() - tab["log_likelihood"].min() < 1.0:
        text += _pick(lang, "All models reach the same likelihood: the calibration period shows almost no sign of "
                            "customers dropping out for good, so the probability alive is a ranking more than a "
                            "forecast. ",
                      "모든 모형의 우도가 같습니다. 학습 기간에 고객이 완전히 떠나는 신호가 거의 없으므로 활동 확률은 "
                      "예측이라기보다 순위로 읽어야 합니다. ")
    if check.total_actual > 0:
        gap = check.total_predicted / check.total_actual - 1
        if gap <= -0.05:
            text += _pick(lang, f"It under-predicts the holdout by {_pct(-gap)} in total, so the CLV below is "
                                "conservative.",
                          f"검증 기간 전체를 {_pct(-gap)} 적게 예측하므로 아래 고객생애가치는 보수적입니다.")
        elif gap >= 0.05:
            text += _pick(lang, f"It over-predicts the holdout by {_pct(gap)} in total, so read the CLV below as "
                                "optimistic.",
                          f"검증 기간 전체를 {_pct(gap)} 많이 예측하므로 아래 고객생애가치는 낙관적으로 읽어야 합니다.")
        else:
            text += _pick(lang, "In total it predicts the holdout within 5%.",
                          "전체 예측은 실제와 5% 이내로 일치합니다.")
    return text


def clv(v: Mapping[str, Any], by_segment: pd.DataFrame, horizon_months: int, *, spend_correlation: float,
        converged: bool, lang: str = "en") -> str:
    """The value of the customer base, where it sits, and how far to trust it.

    Parameters
    ----------
    v : mapping
        ``CLVResult.to_dict()``.
    by_segment : pandas.DataFrame
        ``CLVResult.by(segments)`` (customers, clv_share; largest first).
    horizon_months : int
    spend_correlation : float
        Correlation of spend per order with order frequency (the Gamma-Gamma assumption is 0).
    converged : bool
        Whether both model fits converged.
    lang : str

    Returns
    -------
    str
    """
    interval = (_pick(lang, f" (90% interval {v['clv_total_lower']:,.0f} to {v['clv_total_upper']:,.0f})",
                      f"(90% 구간 {v['clv_total_lower']:,.0f} ~ {v['clv_total_upper']:,.0f})")
                if _ok(v.get("clv_total_lower")) and _ok(v.get("clv_total_upper")) else "")
    text = _pick(lang, f"The customer base is worth **{v['clv_total']:,.0f} in margin over the next "
                       f"{horizon_months} months**{interval}. ",
                 f"고객 기반의 가치는 **향후 {horizon_months}개월 이익 {v['clv_total']:,.0f}**입니다{interval}. ")
    top = by_segment.head(2)
    if len(top):
        names = [segment_name(str(s), lang) for s in top.index]
        share = float(top["clv_share"].sum())
        cust = float(top["customers"].sum() / by_segment["customers"].sum())
        text += _pick(lang, f"{' and '.join(names)} hold {_pct(share)} of it with {_pct(cust)} of the customers. ",
                      f"{', '.join(names)} 세그먼트가 고객의 {_pct(cust)}로 그중 {_pct(share)}를 차지합니다. ")
    if _ok(spend_correlation):
        strong = abs(spend_correlation) >= 0.3
        text += _pick(lang, f"Spend per order and order frequency correlate at {spend_correlation:.2f}"
                            + (": the spend model assumes independence, so read segment values with care. "
                               if strong else ", close enough to the spend model's assumption of independence. "),
                      f"주문당 지출과 주문 빈도의 상관계수는 {spend_correlation:.2f}"
                      + ("로, 지출 모형은 독립을 가정하므로 세그먼트별 가치는 주의해서 읽어야 합니다. " if strong else
                         "로 지출 모형의 독립 가정과 크게 어긋나지 않습니다. "))
    if not converged:
        text += _pick(lang, "A model fit ran to the edge of its parameter range, so read the totals as point "
                            "estimates.",
                      "모형 적합이 모수 범위의 경계에 도달했으므로 합계는 점추정으로 읽어야 합니다.")
    return text.strip()


def action_list(high_value: int, risk: Mapping[str, Any], shown: pd.DataFrame, *, p_alive_below: float,
                churn_days: int, lang: str = "en") -> str:
    """How many high-value customers are at risk, what they are worth, and what the list shows.

    Parameters
    ----------
    high_value : int
        High-value customers (rows of ``ltv.high_value_at_risk``).
    risk : mapping
        ``ltv.at_risk_summary(...)``.
    shown : pandas.DataFrame
        The rows shown (past_value, at_risk).
    p_alive_below : float
    churn_days : int
    lang : str

    Returns
    -------
    str
    """
    n, worth = int(risk["at_risk_value_customers"]), float(risk["at_risk_value_clv"])
    text = _pick(lang, f"Of the {high_value:,} high-value customers, **{n:,} are at risk** (probability alive "
                       f"below {p_alive_below:.0%} or no order for more than {churn_days} days), with "
                       f"{worth:,.0f} of expected margin between them. ",
                 f"우량 고객 {high_value:,}명 중 **{n:,}명이 이탈 위험**(활동 확률 {p_alive_below:.0%} 미만 또는 "
                 f"{churn_days}일 넘게 주문 없음)이며, 이들의 기대 이익은 {worth:,.0f}입니다. ")
    if len(shown):
        text += _pick(lang, f"The list shows the {len(shown)} with the lowest probability alive, "
                            f"{shown['past_value'].sum():,.0f} of past spend between them",
                      f"목록은 활동 확률이 가장 낮은 {len(shown)}명이며, 이들의 과거 지출은 "
                      f"{shown['past_value'].sum():,.0f}입니다")
        if n < len(shown):
            text += _pick(lang, "; fewer are at risk than the list holds, so treat the rest as the priority order "
                                "for a check-in, not as lost customers.",
                          ". 위험 고객이 목록보다 적으므로 나머지는 이탈 고객이 아니라 연락 우선순위로 보십시오.")
        else:
            text += "."
    return text


def recommendations(facts: Mapping[str, Any], lang: str = "en") -> str:
    """The closing recommendations, each built from a result of the report.

    Parameters
    ----------
    facts : mapping
        best_mean, best_last (best-customer retention), best_clv_share (CLV share of the best
        segments), at_risk (customers), at_risk_clv, high_value (customers), one_order_share,
        month1 (cohort return rate in month 2), first_value_effect (from :func:`first_value_effect`),
        model, mae, top_segment and top_share (largest CLV segment and its share).
    lang : str

    Returns
    -------
    str
        A numbered Markdown list, most urgent first.
    """
    f = facts
    recs = []
    if f["at_risk"] > 0:
        recs.append(_pick(lang, f"**Work the action list now.** {f['at_risk']:,} of the {f['high_value']:,} "
                                f"high-value customers are at risk, with {f['at_risk_clv']:,.0f} of expected margin: "
                                "contact them personally this month and re-score the list after every cut-off.",
                          f"**실행 목록을 지금 처리하십시오.** 우량 고객 {f['high_value']:,}명 중 {f['at_risk']:,}명이 "
                          f"이탈 위험이며 기대 이익은 {f['at_risk_clv']:,.0f}입니다. 이번 달에 직접 연락하고 기준일마다 "
                          "목록을 다시 계산하십시오."))
    else:
        recs.append(_pick(lang, f"**Keep watching the high-value customers.** None of the {f['high_value']:,} is at "
                                "risk today; re-score the list every month.",
                          f"**우량 고객을 계속 지켜보십시오.** 우량 고객 {f['high_value']:,}명 중 현재 이탈 위험 고객은 "
                          "없습니다. 매달 목록을 다시 계산하십시오."))
    if _ok(f.get("best_mean")):
        recs.append(_pick(lang, f"**Protect the best.** {_pct(f['best_mean'])} of the best customers order again "
                                f"within a quarter (last quarter {_pct(f.get('best_last'))}) and the best segments "
                                f"hold {_pct(f['best_clv_share'])} of the expected margin: track this number every "
                                "quarter.",
                          f"**최우수 고객을 지키십시오.** 최우수 고객의 {_pct(f['best_mean'])}가 분기 안에 다시 "
                          f"주문하고(지난 분기 {_pct(f.get('best_last'))}), 최우수 세그먼트가 기대 이익의 "
                          f"{_pct(f['best_clv_share'])}를 차지합니다. 이 수치를 분기마다 확인하십시오."))
    weight = {"protective": _pick(lang, ", weighted towards small first orders (they churn faster in the Cox model)",
                                  ", 첫 주문 금액이 작은 고객에게 집중(Cox 모형에서 이탈이 더 빠름)"),
              "harmful": _pick(lang, ", including large first orders (they churn faster in the Cox model)",
                               ", 첫 주문 금액이 큰 고객도 포함(Cox 모형에서 이탈이 더 빠름)")}.get(
        f.get("first_value_effect"), "")
    back = (_pick(lang, f" and {_pct(1 - f['month1'])} of a cohort does not order in its second month",
                  f" 코호트의 {_pct(1 - f['month1'])}는 두 번째 달에 주문하지 않습니다.") if _ok(f.get("month1")) else "")
    if f["one_order_share"] >= 0.3:
        recs.append(_pick(lang, f"**Win the second order.** {_pct(f['one_order_share'])} of customers have ordered "
                                f"only once{back}: a welcome sequence with a second-order incentive{weight}.",
                          f"**두 번째 주문을 확보하십시오.** 고객의 {_pct(f['one_order_share'])}가 한 번만 "
                          f"주문했습니다.{back} 재구매 혜택이 있는 환영 프로그램을 운영하십시오{weight}."))
    recs.append(_pick(lang, f"**Value decisions with CLV, not last year's revenue.** {f['model']} predicted the "
                            f"holdout within {f['mae']:.2f} orders per customer; {segment_name(f['top_segment'], lang)} "
                            f"holds {_pct(f['top_share'])} of the expected margin. Re-check the model on a fresh "
                            "holdout before each planning round.",
                      f"**작년 매출이 아니라 고객생애가치로 결정하십시오.** {f['model']} 모형의 검증 기간 고객별 오차는 "
                      f"{f['mae']:.2f}회이며, {segment_name(f['top_segment'], lang)} 세그먼트가 기대 이익의 "
                      f"{_pct(f['top_share'])}를 차지합니다. 계획 수립 전마다 새 검증 기간으로 모형을 다시 점검하십시오."))
    return "\n".join(f"{i}. {r}" for i, r in enumerate(recs, 1))


#: raw result columns -> the English headers a report shows (Korean in crmlab/i18n/ko/ltv.yml)
HEADERS = {
    "churned": "churned", "median_days": "median days to churn", "median_lower": "median: lower bound",
    "median_upper": "median: upper bound", "hazard_ratio": "hazard ratio", "lower": "95% CI lower",
    "upper": "95% CI upper", "p_value": "p-value", "top_customers": "best customers at start",
    "retained": "ordered again", "retention": "retention", "log_likelihood": "log-likelihood",
    "aic": "AIC", "bic": "BIC", "converged": "converged", "mae": "error per customer (MAE)",
    "rmse": "RMSE", "correlation": "correlation", "predicted_total": "predicted repeat orders",
    "actual_total": "actual repeat orders", "actual": "actual (mean)", "predicted": "predicted (mean)",
    "clv_mean": "average CLV", "clv_total": "total CLV", "p_alive_mean": "average probability alive",
    "expected_purchases": "expected orders", "clv_share": "share of CLV", "past_value": "past spend",
    "days_since_last": "days since last order", "frequency": "repeat orders", "recency": "recency",
    "T": "age", "p_alive": "probability alive", "clv": "CLV", "at_risk": "at risk",
    "frequency_cal": "repeat orders in calibration", "period_start": "quarter starting", "model": "model",
    "covariate": "covariate", "customer_id": "customer", "group": "segment", **CHURN_HEADERS,
}
_PERCENT = {"retention", "clv_share", "p_alive", "p_alive_mean", "churn_risk"}
_MONEY = {"clv_total", "past_value", "predicted_total", "actual_total", "expected_purchases"}
_INTEGER = {"customers", "churned", "top_customers", "retained", "days_since_last", "frequency"}


def table(df: pd.DataFrame, lang: str = "en", *, translate_index: bool = False) -> Any:
    """A result table as the report shows it: readable headers in ``lang``, shares as percentages,
    amounts with separators, yes/no for flags, survival columns named by their horizon.

    Parameters
    ----------
    df : pandas.DataFrame
        A table of this report (survival, Cox, best customers, models, CLV, action list).
    lang : str
    translate_index : bool
        Translate the index labels too (segment names).

    Returns
    -------
    crmlab.results.ReportTable
    """
    from crmlab.results import report_table

    d = df.copy()
    for c in d.columns:
        if pd.api.types.is_bool_dtype(d[c]):
            d[c] = d[c].map({True: _pick(lang, "yes", "예"), False: _pick(lang, "no", "아니오")})
    survival = {c: _pick(lang, f"still active after {c[9:-1]} days", f"{c[9:-1]}일 후 유지율")
                for c in d.columns if str(c).startswith("survival_")}
    names = {**{c: HEADERS.get(c, c) for c in d.columns}, **survival}
    if translate_index:  # here, so the index keeps its name
        d.index = pd.Index([t(str(v), lang) for v in d.index], name=d.index.name)
    if d.index.name in HEADERS:
        d.index.name = HEADERS[d.index.name]
    d = d.rename(columns=names)
    percent = [names[c] for c in df.columns if c in _PERCENT or c in survival]
    money = [names[c] for c in df.columns if c in _MONEY]
    integer = [names[c] for c in df.columns if c in _INTEGER]
    return report_table(d, percent=percent, money=money, integer=integer, lang=lang)


def translate_axes(ax: Any, lang: str = "en") -> Any:
    """Title and axis labels of a figure in ``lang`` (through :func:`crmlab.i18n.t`).

    Parameters
    ----------
    ax : matplotlib Axes
    lang : str

    Returns
    -------
    matplotlib Axes
    """
    if check_lang(lang) != "en":
        ax.set_title(_label(ax.get_title(), lang))
        ax.set_xlabel(_label(ax.get_xlabel(), lang))
        ax.set_ylabel(_label(ax.get_ylabel(), lang))
    return ax


def _label(text: str, lang: str) -> str:
    """A figure label in ``lang``, including the labels that carry a date or a number."""
    import re

    if m := re.fullmatch(r"days since (.+)", text):
        return f"{m.group(1)} 이후 경과일" if m.group(1) != "first purchase" else "첫 구매 후 경과일"
    if m := re.fullmatch(r"CLV over (\d+) months \(margin, discounted\)", text):
        return f"{m.group(1)}개월 고객생애가치(이익, 할인)"
    if text.startswith("Best-customer retention ("):
        names = text[len("Best-customer retention ("):-1].split(", ")
        return "최우수 고객 유지율(" + ", ".join(segment_name(n, lang) for n in names) + ")"
    if text.endswith(": holdout check"):
        return text.replace(": holdout check", ": 검증 기간 점검")
    if text == "quarter starting":
        return "분기 시작"
    return t(text, lang)
