"""campaign.load_experiment reads sources and CSVs like every other reader; slug keeps Hangul."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab import campaign, data
from crmlab.errors import DataError, ParameterError

from conftest import FIXTURES

SAMPLE = FIXTURES / "campaign_hillstrom_sample.csv.gz"
KOREAN = FIXTURES / "korean_campaign.yml"


def test_slug_keeps_hangul_and_other_letters():
    assert campaign.slug("Mens E-Mail") == "mens_e_mail"
    assert campaign.slug("1) $0 - $100") == "1_0_100"
    assert campaign.slug("남성 메일") == "남성_메일"
    assert campaign.slug("Café Crème") == "café_crème"
    assert campaign.slug(" -- ") == "blank"


def test_korean_arm_names_give_distinct_metric_keys():
    exp = pd.DataFrame({"그룹": ["남성 메일", "여성 메일", "미발송"] * 40,
                        "구매": [1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1] * 10})
    d = campaign.measure(exp, arm="그룹", control="미발송", outcomes=["구매"]).to_dict()
    assert d["n__남성_메일"] == d["n__여성_메일"] == d["n__미발송"] == 40
    assert "구매__남성_메일__lift_abs" in d and "구매__여성_메일__lift_abs" in d
    assert not any("blank" in k for k in d)


def test_load_experiment_from_a_shipped_source_equals_the_hillstrom_loader():
    exp = campaign.load_experiment("hillstrom")
    assert exp.equals(data.load_hillstrom())
    assert data.Source.from_attrs(exp.attrs["source_spec"]).control == "No E-Mail"


def test_load_experiment_reads_a_cp949_source_file_and_csv():
    """The Korean export is CP949: read through the source file or as a bare CSV path, it is
    the Hillstrom sample with Korean headers (pandas alone raises UnicodeDecodeError)."""
    exp = campaign.load_experiment(KOREAN)
    src = data.Source.from_attrs(exp.attrs["source_spec"])
    assert (src.arm, src.control, src.outcomes) == ("발송그룹", "미발송", ("방문", "구매", "구매금액"))
    raw = campaign.load_experiment(FIXTURES / "korean_campaign.csv.gz")
    assert raw.equals(exp)
    sample = campaign.load_experiment(SAMPLE)
    assert len(exp) == len(sample) == 12_000
    assert exp["구매금액"].sum() == pytest.approx(sample["spend"].sum())
    assert exp["발송그룹"].value_counts()["남성 메일"] == (sample["segment"] == "Mens E-Mail").sum()


def test_load_experiment_refuses_missing_files_and_non_experiment_sources(tmp_path):
    with pytest.raises(DataError, match="experiment file not found"):
        campaign.load_experiment(tmp_path / "nope.csv")
    with pytest.raises(ParameterError, match="not an experiment"):
        campaign.load_experiment("cdnow")
    with pytest.raises(ParameterError):
        campaign.load_experiment(tmp_path / "nope.yml")
    frame = pd.DataFrame({"a": [1]})
    assert campaign.load_experiment(frame) is frame
