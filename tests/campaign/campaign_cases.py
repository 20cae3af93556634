"""Shared cases of the campaign tests: the Hillstrom arms and a two-arm toy experiment."""

from __future__ import annotations

import pandas as pd

ARMS = ["No E-Mail", "Womens E-Mail", "Mens E-Mail"]


def two_arm(n_c, x_c, n_t, x_t):
    """A toy experiment with given sizes and conversions per arm."""
    arm = ["control"] * n_c + ["treatment"] * n_t
    conv = [1] * x_c + [0] * (n_c - x_c) + [1] * x_t + [0] * (n_t - x_t)
    return pd.DataFrame({"arm": arm, "conversion": conv})
