"""Sentences and tables of notebook 03 about the backtest that picks the purchase model and
the churn measure proven on a holdout (English and Korean, written from the results)."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from crmlab.i18n import pick as _pick

__all__ = ["backtest", "churn", "measure_label", "backtest_table", "churn_table", "CHURN_HEADERS"]

#: raw result columns -> English headers (Korean in crmlab/i18n/ko/ltv.yml); merged into narrative.HEADERS
CHURN_HEADERS = {
    "rank": "rank", "abs_aggregate_error": "total error (absolute)", "auc_buy_again": "AUC (buys again)",
    "converged_share": "share of fits converged", "wins": "cut-offs won", "purchase_model": "purchase model",
    "auc": "AUC", "brier": "Brier score", "churners_in_riskiest_10": "non-buyers in riskiest 10%",
    "churners_in_riskiest_20": "non-buyers in riskiest 20%", "buyers_in_riskiest_10": "buyers in riskiest 10%",
    "buyers_in_riskiest_20": "buyers in riskiest 20%", "measure": "measure", "churn_risk": "churn risk",
    "mae": "error per customer (MAE)", "rmse": "RMSE", "model": "model",
}
CHURN_PERCENT = {"abs_aggregate_error", "converged_share", "churners_in_riskiest_10", "churners_in_riskiest_20",
                 "buyers_in_riskiest_10", "buyers_in_riskiest_20", "churn_risk"}


def measure_label(name: str, lang: str = "en") -> str:
    """A candidate's name in the report language ("BG/NBD P(alive)" -> "BG/NBD 활동 확률").

    Parameters
    ----------
    name : str
    lang : str

    Returns
    -------
    str
    """
    if lang != "ko":
        return name
    fixed = {"gradient boosting": "그래디언트 부스팅", "naive past rate": "단순 과거 구매율"}
    if name in fixed:
        return fixed[name]
    if m := re.fullmatch(r"(.+) P\(active (\d+)d\)", name):
        return f"{m.group(1)} {m.group(2)}일 내 구매 확률"
    return name.replace(" P(alive)", " 활동 확률")


def backtest(bt: Any, lang: str = "en") -> str:
    """What the rolling-origin backtest chose and why.

    Parameters
    ----------
    bt : BacktestResult
    lang : str

    Returns
    -------
    str
    """
    lb = bt.leaderboard
    cuts = bt.per_cutoff["cutoff"].drop_duplicates()
    chosen, best = bt.best_purchase_model, bt.best
    others = lb.loc[lb["purchase_model"] & (lb.index != chosen), "mae"]
    text = _pick(lang, f"Backtest over {len(cuts)} cut-offs ({cuts.min().date()} to {cuts.max().date()}), each "
                       f"predicting the next {bt.horizon_days} days: **{chosen}** has the lowest per-customer error "
                       f"among the purchase models ({lb.loc[chosen, 'mae']:.3f} orders",
                 f"{len(cuts)}개 기준일({cuts.min().date()}~{cuts.max().date()})에서 각각 다음 {bt.horizon_days}일을 "
                 f"예측한 백테스트에서 구매 모형 중 <b>{chosen}</b>의 고객별 오차가 가장 작습니다"
                 f"({lb.loc[chosen, 'mae']:.3f}회")
    if len(others):
        text += _pick(lang, f" vs {others.min():.3f} for the next best), and it is the model used below. ",
                      f", 차순위 {others.min():.3f}회). 아래에서는 이 모형을 씁니다. ")
    else:
        text += _pick(lang, "), and it is the model used below. ", "). 아래에서는 이 모형을 씁니다. ")
    if best != chosen:
        text += _pick(lang, f"The {best} ranks first overall ({lb.loc[best, 'mae']:.3f}): on this data no purchase "
                            "model beats it customer by customer, so read the CLV below as a ranking; it still "
                            f"uses {chosen}, because a CLV needs purchases over the whole horizon.",
                      f"전체 1위는 {measure_label(best, lang)}({lb.loc[best, 'mae']:.3f}회)입니다. 이 데이터에서는 "
                      "어떤 구매 모형도 고객별로 이를 넘지 못하므로 아래 고객생애가치는 순위로 읽으십시오. 고객생애가치는 "
                      f"전체 기간의 구매가 필요하므로 여전히 {chosen}을 씁니다.")
    else:
        text += _pick(lang, "It also beats the gradient-boosting regressor and the naive past-rate baseline.",
                      "그래디언트 부스팅 회귀와 단순 과거 구매율 기준선보다도 낫습니다.")
    return text


def churn(res: Any, lang: str = "en") -> str:
    """Which churn measure is used, its holdout evidence, and the models that see no drop-out.

    Parameters
    ----------
    res : ChurnRiskResult
    lang : str

    Returns
    -------
    str
    """
    row = res.comparison.loc[res.measure]
    z = (res.auc - 0.5) / res.auc_null_se
    text = _pick(lang, f"Churn risk comes from **{res.measure}**: on the holdout ({res.info['holdout_customers']:,} "
                       f"customers, {res.info['window_days']} days after {res.info['holdout_cutoff'].date()}) it "
                       f"ranks who buys again with AUC {res.auc:.2f}, against 0.50 for a random ranking ({z:.0f} "
                       f"standard errors above it), the best of the {len(res.comparison)} measures; its riskiest "
                       f"20% hold {row['churners_in_riskiest_20']:.0%} of those who did not buy. ",
                 f"이탈 위험은 <b>{measure_label(res.measure, lang)}</b>에서 가져옵니다. 검증 기간"
                 f"({res.info['holdout_cutoff'].date()} 이후 {res.info['window_days']}일, "
                 f"{res.info['holdout_customers']:,}명)에서 재구매 여부를 AUC {res.auc:.2f}로 가려내며, 무작위 순위"
                 f"(0.50)보다 표준오차의 {z:.0f}배 높고 {len(res.comparison)}개 지표 중 가장 좋습니다. 위험 상위 20%에 "
                 f"재구매하지 않은 고객의 {row['churners_in_riskiest_20']:.0%}가 들어 있습니다. ")
    flat = [k for k, v in res.notes_by_model.items() if v]
    if flat:
        ev = res.notes_by_model[flat[0]].split(": ", 1)[1]
        text += _pick(lang, f"{', '.join(flat)}: no dropout visible in this data ({ev}), so their probability alive "
                            "is not used as churn risk.",
                      f"{', '.join(flat)}: 이 데이터에서는 이탈 신호가 보이지 않습니다({_ko_evidence(ev)}). 따라서 "
                      "이들의 활동 확률은 이탈 위험으로 쓰지 않습니다.")
    return text


def _ko_evidence(ev: str) -> str:
    out = re.sub(r"P\(alive\) is ([\d.]+) or more for (\d+%) of customers", r"고객의 \2가 활동 확률 \1 이상", ev)
    out = out.replace("the drop-out parameter runs to zero", "이탈 모수가 0으로 수렴")
    return out.replace("the fit did not converge", "적합이 수렴하지 않음").replace("; ", ", ")


def _report(df: pd.DataFrame, lang: str, percent: set[str]) -> Any:
    from crmlab.results import report_table

    d = df.copy()
    for c in d.columns:
        if pd.api.types.is_bool_dtype(d[c]):
            d[c] = d[c].map({True: _pick(lang, "yes", "예"), False: _pick(lang, "no", "아니오")})
    d.index = pd.Index([measure_label(str(v), lang) for v in d.index],
                       name=CHURN_HEADERS.get(d.index.name, d.index.name))
    names = {c: CHURN_HEADERS.get(c, c) for c in d.columns}
    return report_table(d.rename(columns=names), percent=[names[c] for c in df.columns if c in percent],
                        integer=[names[c] for c in df.columns if c in ("rank", "wins")], lang=lang)


def backtest_table(bt: Any, lang: str = "en") -> Any:
    """The leaderboard as the report shows it.

    Parameters
    ----------
    bt : BacktestResult
    lang : str

    Returns
    -------
    crmlab.results.ReportTable
    """
    cols = ["rank", "mae", "rmse", "abs_aggregate_error", "auc_buy_again", "wins", "purchase_model"]
    lb = bt.leaderboard[cols]
    lb.index.name = "model"
    return _report(lb, lang, CHURN_PERCENT)


def churn_table(res: Any, lang: str = "en") -> Any:
    """The holdout comparison of churn measures as the report shows it.

    Parameters
    ----------
    res : ChurnRiskResult
    lang : str

    Returns
    -------
    crmlab.results.ReportTable
    """
    cols = ["auc", "brier", "churners_in_riskiest_10", "churners_in_riskiest_20", "buyers_in_riskiest_10",
            "buyers_in_riskiest_20"]
    return _report(res.comparison[cols], lang, CHURN_PERCENT)
