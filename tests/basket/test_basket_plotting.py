"""crmlab.basket.plotting: every plot draws on the Axes it is given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from crmlab import basket  # noqa: E402

FIVE = [["a", "b", "c"], ["a", "b"], ["a", "c"], ["b", "c"], ["a", "b", "d"]]


def test_plots_draw_on_given_axes():
    import matplotlib.pyplot as plt

    m = basket.BasketModel(min_support=0.2, min_confidence=0.5).fit(FIVE)
    fig, axes = plt.subplots(1, 3)
    assert basket.plot_rules(m, ax=axes[0]) is axes[0]
    assert basket.plot_top_rules(m.rules_, n=5, ax=axes[1]) is axes[1]
    assert basket.plot_rule_network(m, n=5, ax=axes[2]) is axes[2]
    plt.close(fig)
    assert "Market-basket rules" in m._repr_html_()

