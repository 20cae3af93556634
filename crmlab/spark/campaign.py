"""Campaign read-outs from sufficient statistics aggregated in Spark.

:func:`measure` is :func:`crmlab.campaign.measure` for a Spark DataFrame (one row per
customer). Every test there is computed from per-arm counts, sums, sums of squares and cubes
(and cross-products with a CUPED covariate); Spark aggregates those in two passes and the
driver runs crmlab's own tests on them, so the result is the same :class:`MeasureResult`.
The arm order is the pandas one (control first, then the treatments in order of first
appearance, read from the row order Spark reads the file in). Only when an amount is too
skewed for the t-test are its non-zero values of the two arms collected, in row order, for
the bootstrap (the same draws as pandas for the same seed).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from crmlab.campaign.design import split_shares, srm_readout
from crmlab.campaign.io import _check_arms
from crmlab.campaign.moments import Moments
from crmlab.campaign.readout import MeasureResult, _adjust, _Bootstrap, _compare_arms, _cuped_lift
from crmlab.errors import DataError, ParameterError
from crmlab.stats import check_correction

__all__ = ["measure"]


def _moments(n, s1, s2, s3, shift: float) -> Moments:
    m = object.__new__(Moments)
    m.shift, m.n, m.s1, m.s2, m.s3, m.yc = float(shift), n, s1, s2, s3, None
    return m


class _SparkBootstrap(_Bootstrap):
    """The pandas bootstrap, fed with an arm's non-zero values collected from Spark in row order."""

    def __init__(self, frame, outcome: str, n, n_boot, rng):
        super().__init__(None, None, n, n_boot, rng)
        self.frame, self.outcome = frame, outcome

    def _means(self, j: int) -> np.ndarray:
        from pyspark.sql import functions as F

        from crmlab.campaign.moments import bootstrap_means

        rows = (self.frame.where((F.col("_code") == j) & (F.col(self.outcome) != 0))
                .orderBy("_row").select(self.outcome).toPandas())
        return bootstrap_means(rows[self.outcome].to_numpy(float), int(self.n[j]), self.n_boot, self.rng)


def _arms(sdf, arm: str, control: Any, treatments, intended):
    """Arm labels in first-appearance order, codes (control 0) and the analysed rows."""
    from pyspark.sql import functions as F

    if arm not in sdf.columns:
        raise DataError("the arm column is missing", column=arm, fix="pass arm= with the name of the arm column")
    rows = sdf.withColumn("_row", F.monotonically_increasing_id())
    g = rows.groupBy(arm).agg(F.count(F.lit(1)).alias("n"), F.min("_row").alias("first")).toPandas()
    if g[arm].isna().any():
        raise DataError(f"{int(g.loc[g[arm].isna(), 'n'].sum())} rows have no arm label", column=arm,
                        fix="drop or label the rows with a missing arm")
    g = g.sort_values("first")
    labels = g[arm].tolist()
    order = _check_arms(labels, g["n"].to_numpy(), arm, control, treatments, intended)
    code = F.create_map(*[x for i, lab in enumerate(order) for x in (F.lit(lab), F.lit(i))])[F.col(arm)]
    coded = rows.withColumn("_code", code).where(F.col("_code").isNotNull())
    return coded, order


def _check_numeric(sdf, columns: Sequence[str], role_of: Mapping[str, str]) -> None:
    from pyspark.sql import types as T

    for c in columns:
        if c not in sdf.columns:
            raise DataError(f"the {role_of[c]} column is missing", column=c,
                            fix=f"pass the name of the {role_of[c]} column")
        dtype = sdf.schema[c].dataType
        if not isinstance(dtype, (T.NumericType, T.BooleanType)):
            raise DataError(f"{role_of[c]} is not numeric", column=c, value=dtype.simpleString(),
                            expected="numbers (0/1 for yes/no outcomes, amounts for revenue)",
                            fix="convert the column to numbers")


def _overall(coded, columns: list[str]) -> dict[str, dict[str, float]]:
    """Pass 1: mean, bounds, the 0/1 test and the count of missing values of each column."""
    from pyspark.sql import functions as F

    aggs = []
    for c in columns:
        y = F.col(c).cast("double")
        aggs += [F.avg(y).alias(f"{c}|mean"), F.min(y).alias(f"{c}|min"), F.max(y).alias(f"{c}|max"),
                 F.sum(y * (1.0 - y)).alias(f"{c}|bin"),
                 F.sum((y.isNull() | F.isnan(y) | (F.abs(y) == float("inf"))).cast("long")).alias(f"{c}|bad")]
    row = coded.agg(*aggs).first()
    out = {c: {k: row[f"{c}|{k}"] for k in ("mean", "min", "max", "bin", "bad")} for c in columns}
    for c, v in out.items():
        if v["bad"]:
            raise DataError(f"outcome has {v['bad']} missing or infinite values", column=c,
                            fix="fill them (0 for no response) or drop those rows")
    return out


def _per_arm(coded, k: int, specs: dict[str, tuple[float, bool]], covariate: str | None,
             outcomes: list[str]) -> dict[str, Any]:
    """Pass 2: per arm count and the shifted sums, squares, cubes (and CUPED cross-products)."""
    from pyspark.sql import functions as F

    aggs = [F.count(F.lit(1)).alias("n")]
    for c, (shift, third) in specs.items():
        yc = F.col(c).cast("double") - F.lit(shift)
        aggs += [F.sum(yc).alias(f"{c}|s1"), F.sum(yc * yc).alias(f"{c}|s2")]
        if third:
            aggs.append(F.sum(yc * yc * yc).alias(f"{c}|s3"))
    if covariate is not None:
        xc = F.col(covariate).cast("double") - F.lit(specs[covariate][0])
        for o in outcomes:
            aggs.append(F.sum((F.col(o).cast("double") - F.lit(specs[o][0])) * xc).alias(f"{o}|sxy"))
    g = coded.groupBy("_code").agg(*aggs).toPandas().set_index("_code").reindex(range(k)).fillna(0.0)
    return {c: g[c].to_numpy(dtype=float) for c in g.columns}


def _cuped(ym: Moments, xm: Moments, sxy: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """:func:`crmlab.campaign.readout._cuped_fit` from the aggregated cross-products."""
    n = ym.n
    cxy = sxy - ym.s1 * xm.s1 / n
    sxx = xm.ss
    theta = cxy.sum() / sxx.sum() if sxx.sum() > 0 else 0.0
    x_bar = xm.mean @ n / n.sum()
    adj_mean = ym.mean - theta * (xm.mean - x_bar)
    adj_var = np.maximum(ym.var - 2 * theta * cxy / (n - 1) + theta**2 * xm.var, 0.0)
    return theta, adj_mean, adj_var


def measure(data, arm: str = "segment", outcomes: Sequence[str] = ("visit", "conversion", "spend"),
            control: Any = "No E-Mail", *, treatments: Sequence | None = None, binary: Sequence[str] | None = None,
            intended_split: Mapping | Sequence[float] | None = None, covariate: str | None = None,
            correction: str | None = "holm", alpha: float = 0.05, n_boot: int = 2000,
            random_state: int | np.random.Generator | None = 0) -> MeasureResult:
    """:func:`crmlab.campaign.measure` on a Spark DataFrame (sufficient statistics from Spark).

    Parameters
    ----------
    data : pyspark.sql.DataFrame
        One row per customer.
    arm, outcomes, control, treatments, binary, intended_split, covariate, correction, alpha, n_boot, random_state
        As in :func:`crmlab.campaign.measure`.

    Returns
    -------
    MeasureResult
    """
    if not 0 < alpha < 1:
        raise ParameterError("alpha must be between 0 and 1", value=alpha)
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    if not outcomes:
        raise ParameterError("no outcomes given", fix='pass outcomes=["conversion", ...]')
    check_correction(correction)
    binary = list(binary or [])
    for b in binary:
        if b not in outcomes:
            raise ParameterError("binary outcome is not among the outcomes", value=b, expected=f"one of {outcomes}")
    if n_boot is None or n_boot < 0:
        raise ParameterError("n_boot must be a non-negative number of resamples", value=n_boot)
    roles = {**{o: "outcome" for o in outcomes}, **({covariate: "covariate"} if covariate else {})}
    _check_numeric(data, list(roles), roles)
    rng = np.random.default_rng(random_state)
    coded, labels = _arms(data, arm, control, treatments, intended_split)
    coded = coded.cache()
    overall = _overall(coded, list(roles))
    kinds = {}
    for o in outcomes:
        v = overall[o]
        is_bin = v["min"] is not None and v["min"] >= 0 and v["max"] <= 1 and v["bin"] == 0.0
        if not is_bin and o in binary:
            raise DataError("a proportion test was asked for but the outcome is not binary", column=o,
                            expected="only 0 and 1", fix="recode the outcome to 0/1 or drop it from binary=")
        kinds[o] = "binary" if is_bin else "amount"
    specs = {o: (0.0 if kinds[o] == "binary" else float(overall[o]["mean"]), kinds[o] != "binary") for o in outcomes}
    if covariate:
        specs[covariate] = (float(overall[covariate]["mean"]), False)
    sums = _per_arm(coded, len(labels), specs, covariate, outcomes)
    n = sums["n"]
    shares = split_shares(intended_split, labels)
    srm = srm_readout(n, labels, shares)
    notes = [srm["message"]]
    xm = None
    if covariate:
        xm = _moments(n, sums[f"{covariate}|s1"], sums[f"{covariate}|s2"], None, specs[covariate][0])
    arms_tab = pd.DataFrame({"n": n.astype(np.int64), "share": n / n.sum(), "intended_share": shares},
                            index=pd.Index(labels, name=arm))
    rows = []
    for o in outcomes:
        is_bin = kinds[o] == "binary"
        s1 = sums[f"{o}|s1"]
        ym = _moments(n, s1, s1 if is_bin else sums[f"{o}|s2"], None if is_bin else sums[f"{o}|s3"], specs[o][0])
        boot = _SparkBootstrap(coded, o, n, n_boot, rng)
        o_rows = _compare_arms(o, kinds[o], labels, ym, None, None, boot, alpha, notes)
        if xm is not None:
            cuped = _cuped(ym, xm, sums[f"{o}|sxy"])
            for j, r in enumerate(o_rows, start=1):
                r.update(_cuped_lift(cuped, ym.var, n, j, alpha))
        arms_tab[o] = ym.mean
        rows += o_rows
    coded.unpersist()
    comp = _adjust(pd.DataFrame(rows), correction, alpha, covariate, notes)
    return MeasureResult(arm=arm, control=control, outcomes=outcomes, kinds=kinds, arms=arms_tab, srm=srm,
                         comparisons=comp, covariate=covariate, correction=correction, alpha=alpha, notes=notes)

