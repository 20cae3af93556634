"""memo.experiment_setup: what notebook 04 measures, from the source file and the data."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab.campaign import memo, narrative
from crmlab.campaign.texts import TEXTS, text
from crmlab.errors import ParameterError
from crmlab.i18n import translations

from conftest import FIXTURES


def test_setup_takes_roles_from_the_source_and_chooses_outcomes_from_the_data():
    s = memo.experiment_setup(FIXTURES / "korean_campaign.yml", segment_by="신규고객, newbie",
                              covariate="history")
    assert (s.arm, s.control, s.outcomes) == ("발송그룹", "미발송", ["방문", "구매", "구매금액"])
    assert s.outcome == "구매" and s.revenue == "구매금액"
    assert s.segments == ["신규고객"] and s.missing_segments == ["newbie"]
    assert s.covariate is None and s.missing_covariate == "history"
    assert s.name == "이메일 캠페인 실험"
    ko = narrative.data_sentence(s, "ko")
    assert "고객 12,000명" in ko and "`newbie` 열이 없어" in ko and "`history` 열이 없어" in ko


def test_setup_parameters_override_and_csv_needs_them():
    exp = pd.DataFrame({"g": ["a", "b"] * 10, "buy": [0, 1] * 10, "amt": [0.0, 5.0] * 10})
    s = memo.experiment_setup(exp, arm="g", control="a", outcomes="buy,amt", revenue="none", covariate="none")
    assert s.outcome == "buy" and s.revenue is None and s.covariate is None and s.segments == []
    with pytest.raises(ParameterError, match="no arm column"):
        memo.experiment_setup(FIXTURES / "campaign_hillstrom_sample.csv.gz")
    with pytest.raises(ParameterError, match="not among the outcomes"):
        memo.experiment_setup(exp, arm="g", control="a", outcomes="buy", outcome="amt")


def test_every_memo_text_has_korean_with_the_same_fields():
    import string

    ko = translations("ko")
    for key, english in TEXTS.items():
        assert f"campaign.{key}" in ko, key
        fields = {f for _, f, _, _ in string.Formatter().parse(english) if f}
        assert fields == {f for _, f, _, _ in string.Formatter().parse(ko[f"campaign.{key}"]) if f}, key
    assert text("points", "ko", v="0.50") == "0.50%p"


def test_p_values_and_numbers_never_in_scientific_notation():
    assert narrative.p_text(5.2e-20) == "p<0.0001"
    assert narrative.p_text(0.004591) == "p=0.004591"
    assert "e-" not in narrative.num(1.9e-7)
