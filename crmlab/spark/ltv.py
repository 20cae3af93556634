"""Buy-till-you-die models on Spark: summary in Spark, fit on the driver, scoring back in Spark.

1. :func:`summary`: frequency, recency, T and monetary value per customer, the definitions of
   :func:`crmlab.ltv.summary` (periods of one unit, several purchases in a period count as
   one), computed by Spark and left there.
2. :func:`compress`: the summary's distinct rows with their customer counts, the only table
   the driver sees. The likelihoods only need distinct rows: BG/NBD (and Pareto/NBD,
   MBG/NBD) the distinct (frequency, recency, T), Gamma-Gamma the distinct (frequency,
   monetary value) of repeat buyers.
3. :func:`fit`: the crmlab models fitted on those weighted rows (``weights=`` of
   :meth:`crmlab.ltv.PurchaseModel.fit`): the same likelihood as one row per customer.
4. :func:`clv`: every customer scored back in Spark with a pandas UDF that calls the models'
   own functions (P(alive), expected purchases, expected spend, CLV and, with intervals, the
   per-customer quantiles over the same parameter draws as pandas). The total's interval
   comes from the (frequency, recency, T) groups with their counts and monetary sums
   (expected spend is linear in the monetary value), so nothing per customer is collected.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from crmlab import dates
from crmlab.errors import ConvergenceWarning, DataError, ParameterError
from crmlab.ltv import BGNBD, CLVResult, GammaGamma, PurchaseModel
from crmlab.ltv.clv import _check_clv_inputs, _clv_core, _schedule
from crmlab.ltv.summaries import _check_unit

__all__ = ["summary", "compress", "fit", "fit_model", "clv", "SparkCLVResult"]

_DAY_US = 86_400 * 1_000_000
_SCORE_COLS = ("p_alive", "expected_purchases", "expected_spend", "clv")


def _period(ts_col, unit: str):
    """Integer period of a timestamp column: days, Monday-weeks or months since 1970."""
    from pyspark.sql import functions as F

    days = F.floor(F.unix_micros(ts_col) / F.lit(_DAY_US))
    if unit == "D":
        return days.cast("long")
    if unit == "W":
        return F.floor((days + 3) / 7).cast("long")
    return ((F.year(ts_col) - 1970) * 12 + F.month(ts_col) - 1).cast("long")


def _kahan_sum(values):
    """Compensated sum of an array column (pandas' groupby sum: Kahan summation)."""
    from pyspark.sql import functions as F

    zero = F.struct(F.lit(0.0).alias("s"), F.lit(0.0).alias("c"))

    def step(acc, x):
        y = x - acc["c"]
        t = acc["s"] + y
        return F.struct(t.alias("s"), ((t - acc["s"]) - y).alias("c"))

    return F.aggregate(values, zero, step)["s"]


def _end_period(end: pd.Timestamp, unit: str) -> int:
    from crmlab.ltv.summaries import _periods

    return int(_periods(np.array([np.datetime64(end, "ns")]), unit)[0])


def summary(transactions, *, unit: str = "D", observation_end: Any = None, as_of: Any = None,
            customer_col: str = "customer_id", date_col: str = "order_ts", amount_col: str | None = "amount"):
    """:func:`crmlab.ltv.summary` in Spark: one row per customer, left in Spark.

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
        Order lines.
    unit, observation_end, as_of, customer_col, date_col, amount_col
        As in :func:`crmlab.ltv.summary`.

    Returns
    -------
    pyspark.sql.DataFrame
        customer_id, frequency, recency, T (doubles) and monetary_value; ``attrs`` holds
        ``unit`` and ``observation_end``.
    """
    from pyspark.sql import functions as F

    from crmlab.spark.data import set_attrs

    unit = _check_unit(unit)
    for c in (customer_col, date_col, amount_col):
        if c is not None and c not in transactions.columns:
            raise DataError(f"the {c} column is missing", column=c, fix="pass customer_col=, date_col=, amount_col=")
    tx = transactions.where(F.col(customer_col).isNotNull())
    ts = dates.parse_as_of(as_of)
    if ts is not None:
        if observation_end is not None:
            raise ParameterError("pass either as_of or observation_end, not both", value=str(as_of))
        tx = tx.where(F.col(date_col) < F.lit(ts.to_pydatetime()))
        observation_end = dates.observation_end(ts)
    if observation_end is None:
        last = tx.agg(F.max(date_col)).first()[0]
        if last is None:
            raise DataError("no transactions with a customer id", column=customer_col)
        observation_end = pd.Timestamp(last)
    end = pd.Timestamp(observation_end).tz_localize(None)
    end_p = _end_period(end, unit)
    if amount_col is not None:
        bad = tx.where(F.col(amount_col).isNull() | F.isnan(amount_col)).limit(1).count()
        if bad:
            raise DataError("missing or non-numeric amount", column=amount_col, fix="fill or drop rows without an amount")
    money = F.col(amount_col) if amount_col else F.lit(0.0)
    per = tx.select(F.col(customer_col).alias("customer_id"), _period(F.col(date_col), unit).alias("p"),
                    money.alias("a")).where(F.col("p") <= end_p)
    per = per.groupBy("customer_id", "p").agg(_kahan_sum(F.collect_list("a")).alias("s"))
    # period sums added in period order, as pandas' reduceat: the same monetary value to the bit
    ordered = F.array_sort(F.collect_list(F.struct(F.col("p"), F.col("s"))))
    cust = per.groupBy("customer_id").agg(F.min("p").alias("p0"), F.max("p").alias("p1"),
                                          F.count(F.lit(1)).alias("k"), ordered.alias("ps"))
    cust = cust.select("*", F.aggregate("ps", F.lit(0.0), lambda acc, e: acc + e["s"]).alias("total"),
                       F.col("ps")[0]["s"].alias("s0"))
    freq = (F.col("k") - 1).cast("double")
    cols = [F.col("customer_id"), freq.alias("frequency"), (F.col("p1") - F.col("p0")).cast("double").alias("recency"),
            (F.lit(end_p) - F.col("p0")).cast("double").alias("T")]
    if amount_col is not None:
        cols.append(F.when(freq > 0, (F.col("total") - F.col("s0")) / freq).otherwise(0.0).alias("monetary_value"))
    return set_attrs(cust.select(*cols), unit=unit, observation_end=str(end))


def compress(spark_summary) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The distinct rows the likelihoods need, with their customer counts (``weights``).

    Parameters
    ----------
    spark_summary : pyspark.sql.DataFrame
        From :func:`summary`.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame or None)
        Distinct (frequency, recency, T) with ``weights``; distinct (frequency,
        monetary_value) of repeat buyers with positive spend, with ``weights`` (None without
        monetary values). Customers with zero or negative mean spend are left out of the
        second with the warning :class:`~crmlab.ltv.GammaGamma` gives.
    """
    from pyspark.sql import functions as F

    from crmlab.spark.data import attrs_of

    unit = attrs_of(spark_summary).get("unit")
    xtT = spark_summary.groupBy("frequency", "recency", "T").agg(F.count(F.lit(1)).cast("double").alias("weights"))
    purchases = xtT.toPandas().sort_values(["frequency", "recency", "T"], ignore_index=True)
    purchases.attrs["unit"] = unit
    if "monetary_value" not in spark_summary.columns:
        return purchases, None
    repeat = spark_summary.where(F.col("frequency") > 0)
    bad = repeat.where(F.col("monetary_value") <= 0).count()
    if bad:
        warnings.warn(
            f"Gamma-Gamma: {bad} repeat buyers with zero or negative mean spend left out of the spend fit "
            "(the model needs positive spend); clean returns and free orders first if that is not expected",
            UserWarning, stacklevel=2)
    spend = repeat.where(F.col("monetary_value") > 0).groupBy("frequency", "monetary_value").agg(
        F.count(F.lit(1)).cast("double").alias("weights")).toPandas()
    spend = spend.sort_values(["frequency", "monetary_value"], ignore_index=True)
    corr = repeat.where(F.col("monetary_value") > 0).agg(F.corr("frequency", "monetary_value")).first()[0]
    spend.attrs.update(unit=unit, spend_frequency_correlation=float("nan") if corr is None else float(corr))
    return purchases, spend


def fit(spark_summary, transaction_model: PurchaseModel | None = None,
        spend_model: GammaGamma | None = None) -> tuple[PurchaseModel, GammaGamma | None]:
    """Fit a purchase model (and Gamma-Gamma) on the driver from the compressed summary.

    Parameters
    ----------
    spark_summary : pyspark.sql.DataFrame
        From :func:`summary`.
    transaction_model : PurchaseModel, optional
        An unfitted crmlab model (default ``BGNBD()``); its settings are kept.
    spend_model : GammaGamma, optional
        Default ``GammaGamma()``; None-able only through a summary without monetary values.

    Returns
    -------
    (PurchaseModel, GammaGamma or None)
        Fitted, with ``n_`` the number of customers and ``n_rows_`` the distinct rows.
    """
    purchases, spend = compress(spark_summary)
    tm = transaction_model if transaction_model is not None else BGNBD()
    tm.fit(frequency=purchases["frequency"], recency=purchases["recency"], T=purchases["T"],
           weights=purchases["weights"], unit=purchases.attrs["unit"])
    gg = None
    if spend is not None:
        gg = spend_model if spend_model is not None else GammaGamma()
        gg.fit(frequency=spend["frequency"], monetary_value=spend["monetary_value"], weights=spend["weights"])
        gg.unit_ = spend.attrs["unit"]
        gg.spend_frequency_correlation_ = spend.attrs["spend_frequency_correlation"]  # per customer, not per row
    return tm, gg


def fit_model(model: PurchaseModel | GammaGamma, spark_summary):
    """Fit one crmlab model on a Spark summary (the dispatch target of ``model.fit(spark_frame)``).

    Parameters
    ----------
    model : PurchaseModel or GammaGamma
        Unfitted.
    spark_summary : pyspark.sql.DataFrame
        From :func:`summary`.

    Returns
    -------
    PurchaseModel or GammaGamma
        ``model``, fitted on the distinct rows with their counts.
    """
    if isinstance(model, GammaGamma):
        _, spend = compress(spark_summary)
        if spend is None:
            raise DataError("summary has no monetary value", column="monetary_value",
                            fix="build it with crmlab.spark.ltv.summary(..., amount_col='amount')")
        model.fit(frequency=spend["frequency"], monetary_value=spend["monetary_value"], weights=spend["weights"])
        model.unit_ = spend.attrs["unit"]
        model.spend_frequency_correlation_ = spend.attrs["spend_frequency_correlation"]
        return model
    from crmlab.spark.data import attrs_of, set_attrs

    counts_only = set_attrs(spark_summary.select("frequency", "recency", "T"), **attrs_of(spark_summary))
    return fit(counts_only, model)[0]


class SparkCLVResult(CLVResult):
    """:class:`crmlab.ltv.CLVResult` whose per-customer table stays in Spark.

    Parameters
    ----------
    spark_table : pyspark.sql.DataFrame
        customer_id, frequency, recency, T, monetary_value and the scores.
    horizon_months, margin, discount_rate, level
        As in :class:`~crmlab.ltv.CLVResult`.
    """

    def __init__(self, spark_table, horizon_months: int, margin: float, discount_rate: float, level: float):
        super().__init__(None, horizon_months, margin, discount_rate, level)
        self.spark_table = spark_table

    @property
    def table(self) -> pd.DataFrame:
        """Every customer collected to the driver (as pandas' ``clv(...).table``)."""
        if self._table is None:
            self._table = self.spark_table.toPandas().set_index("customer_id").sort_index()
        return self._table

    @table.setter
    def table(self, value) -> None:
        self._table = value

    @property
    def summary(self) -> pd.DataFrame:
        """Mean, median, 90th percentile, max and total of the scores (computed in Spark)."""
        from pyspark.sql import functions as F

        cols = list(_SCORE_COLS) + [c for c in ("clv_lower", "clv_upper") if c in self.spark_table.columns]
        aggs = []
        for c in cols:
            aggs += [F.avg(c).alias(f"{c}|mean"), F.percentile(c, 0.5).alias(f"{c}|50%"),
                     F.percentile(c, 0.9).alias(f"{c}|90%"), F.max(c).alias(f"{c}|max"),
                     F.sum(c).alias(f"{c}|total")]
        row = self.spark_table.agg(*aggs).first().asDict()
        stats = ["mean", "50%", "90%", "max", "total"]
        return pd.DataFrame([[float(row[f"{c}|{s}"]) for s in stats] for c in cols], index=cols, columns=stats)

    def to_dict(self) -> dict[str, Any]:
        from pyspark.sql import functions as F

        from crmlab.spark.data import not_nan

        r = self.spark_table.agg(F.count(F.lit(1)).alias("n"), F.sum(not_nan("clv")).alias("t"),
                                 F.avg(not_nan("clv")).alias("m"), F.avg(not_nan("p_alive")).alias("p")).first()
        out = {"customers": int(r["n"]), "clv_total": float(r["t"] or 0.0),
               "clv_mean": float("nan") if r["m"] is None else float(r["m"]),
               "p_alive_mean": float("nan") if r["p"] is None else float(r["p"])}
        if hasattr(self, "total_interval_"):
            out.update(clv_total_lower=float(self.total_interval_[0]), clv_total_upper=float(self.total_interval_[1]))
        return out


def _scorer(tm: PurchaseModel, gg: GammaGamma, steps, disc, margin: float, draws, level: float):
    """The pandas UDF body: scores (and interval bounds) of a batch of customers."""
    tp, gp = tm.params_.to_numpy(), gg.params_.to_numpy()
    lo, hi = (1 - level) / 2, (1 + level) / 2

    def score(batches):
        from crmlab.ltv.summaries import aggregate

        for b in batches:
            x, tx, T, m = (b[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "monetary_value"))
            rows, _, inv = aggregate(x, tx, T, m)
            with np.errstate(all="ignore"):
                value, purchases, spend = _clv_core(tm, tp, gg, gp, *rows, steps, disc, margin)
                out = b.assign(p_alive=tm._p_alive(*rows[:3], tp)[inv], expected_purchases=purchases[inv],
                               expected_spend=spend[inv], clv=value[inv])
                if draws is not None:
                    sims = np.stack([_clv_core(tm, d[0], gg, d[1], *rows, steps, disc, margin)[0] for d in draws])
                    q = np.nanquantile(sims, [lo, hi], axis=0)
                    out = out.assign(clv_lower=q[0][inv], clv_upper=q[1][inv])
            yield out
    return score


def _total_interval(spark_summary, tm, gg, draws, steps, disc, margin, level) -> tuple[float, float]:
    """Interval of the total CLV over the draws, from (frequency, recency, T) groups.

    Expected spend ``p (g + x m) / (p x + q - 1)`` is linear in m, so a group's total is
    its count and monetary sum times per-group factors.
    """
    from pyspark.sql import functions as F

    g = spark_summary.groupBy("frequency", "recency", "T").agg(
        F.count(F.lit(1)).cast("double").alias("n"), F.sum("monetary_value").alias("msum")).toPandas()
    x, tx, T = (g[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    n, msum = g["n"].to_numpy(float), g["msum"].to_numpy(float)
    totals = np.empty(len(draws))
    with np.errstate(all="ignore"):
        for i, (tp, (p, q, gam)) in enumerate(draws):
            cum = np.stack([tm._conditional_expected(s, x, tx, T, tp) for s in steps])
            inc = np.diff(np.vstack([np.zeros_like(cum[0]), cum]), axis=0)
            disc_purchases = (inc * disc[:, None]).sum(axis=0)
            spend_sum = p * (gam * n + x * msum) / (p * x + q - 1)
            totals[i] = np.nansum(margin * spend_sum * disc_purchases)
    return tuple(np.nanquantile(totals, [(1 - level) / 2, (1 + level) / 2]))


def clv(transaction_model: PurchaseModel, spend_model: GammaGamma, data, *, horizon_months: int = 12,
        margin: float = 1.0, discount_rate: float = 0.1, unit: str | None = None, intervals: bool = True,
        n_draws: int = 200, level: float = 0.9, random_state: Any = 0) -> SparkCLVResult:
    """:func:`crmlab.ltv.clv` with every customer scored in Spark (a pandas UDF).

    Parameters
    ----------
    transaction_model, spend_model
        Fitted models (e.g. from :func:`fit`).
    data : pyspark.sql.DataFrame
        The Spark summary (:func:`summary`).
    horizon_months, margin, discount_rate, unit, intervals, n_draws, level, random_state
        As in :func:`crmlab.ltv.clv` (the same parameter draws for the same seed).

    Returns
    -------
    SparkCLVResult
    """
    from crmlab.spark.data import attrs_of

    probe = pd.DataFrame({"monetary_value": []})
    probe.attrs["unit"] = attrs_of(data).get("unit")
    unit = _check_clv_inputs(transaction_model, spend_model, probe, unit, margin, discount_rate, horizon_months)
    steps, disc = _schedule(int(horizon_months), unit, discount_rate)
    if intervals and not (transaction_model.converged_ and spend_model.converged_):
        warnings.warn("CLV intervals left out: a model did not converge, so its parameter "
                      "uncertainty is not known", ConvergenceWarning, stacklevel=2)
        intervals = False
    draws = None
    if intervals:
        rng = np.random.default_rng(random_state)
        draws = list(zip(transaction_model.sample_params(n_draws, rng), spend_model.sample_params(n_draws, rng)))
    cols = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    base = data.select(*cols)
    schema = base.schema.simpleString()[len("struct<"):-1] + "," + ",".join(f"{c}:double" for c in _SCORE_COLS)
    if draws is not None:
        schema += ",clv_lower:double,clv_upper:double"
    scored = base.mapInPandas(_scorer(transaction_model, spend_model, steps, disc, margin, draws, level), schema)
    res = SparkCLVResult(scored, int(horizon_months), margin, discount_rate, level)
    if draws is not None:
        res.total_interval_ = _total_interval(base, transaction_model, spend_model, draws, steps, disc, margin, level)
    return res
