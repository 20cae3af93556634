"""crmlab.ltv loads its submodules on first use: a summary-and-fit job imports neither
scikit-learn nor plotting, and every public name still resolves."""

from __future__ import annotations

import json
import subprocess
import sys

from crmlab import config, ltv

JOB = """
import json, sys, warnings
import pandas as pd
from crmlab import ltv
warnings.simplefilter("ignore")
days = [0, 30, 4, 1, 60, 90, 2, 45, 3, 20, 70, 5]
tx = pd.DataFrame({"customer_id": [1, 1, 2, 3, 3, 3, 4, 4, 5, 5, 5, 6], "amount": [5.0 + d % 7 for d in days],
                   "order_ts": pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D")})
s = ltv.summary(tx, unit="W")
ltv.BGNBD(max_iter=5).fit(s)
ltv.GammaGamma(max_iter=5).fit(s)
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_summary_and_fit_import_no_sklearn_or_plotting():
    out = subprocess.run([sys.executable, "-c", JOB], capture_output=True, text=True, check=True,
                         cwd=str(config.ROOT))
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert {"pandas", "scipy", "crmlab"} <= loaded
    assert not loaded & {"sklearn", "matplotlib", "statsmodels", "pyspark", "threadpoolctl"}


def test_every_public_name_resolves():
    """Each name of __all__ is there; ``backtest`` and ``clv`` are the functions, also after their
    modules were imported directly (importing a submodule binds it on the package)."""
    import crmlab.ltv.backtest  # noqa: F401
    import crmlab.ltv.clv  # noqa: F401
    from crmlab.ltv import backtest, clv

    assert all(hasattr(ltv, name) for name in ltv.__all__)
    assert set(ltv.__all__) <= set(dir(ltv))
    assert callable(backtest) and backtest.__module__ == "crmlab.ltv.backtest" and ltv.backtest is backtest
    assert callable(clv) and clv.__module__ == "crmlab.ltv.clv" and ltv.clv is clv
    assert ltv.summary.__module__ == "crmlab.ltv.summaries"
