"""Databricks job parameters (widgets) over a notebook's parameters cell. Databricks is not
available here: ``dbutils`` is a small stand-in with its ``widgets.get`` behaviour (a widget
that is not defined raises)."""

from __future__ import annotations

import pytest

from crmlab.errors import ParameterError
from crmlab.widgets import job_parameters


class _Widgets:
    def __init__(self, values):
        self.values = values

    def get(self, name):
        if name not in self.values:
            raise ValueError(f"InputWidgetNotDefined: No input widget named {name} is defined")
        return self.values[name]


class _DBUtils:
    def __init__(self, **values):
        self.widgets = _Widgets(values)


def _cell():
    return {"source": "online_retail", "as_of": "", "lang": "en", "show_pii": False, "top_countries": 10,
            "margin": 0.3, "campaign_design": None, "__name__": "__main__"}


def test_outside_databricks_nothing_changes():
    ns = _cell()
    assert job_parameters(ns) == {} and ns == _cell()


def test_widgets_override_the_cell_typed_like_its_defaults():
    ns = {**_cell(), "dbutils": _DBUtils(source="s3a://bucket/lake.yml", show_pii="false", top_countries="5",
                                         margin="0.25", lang="en", campaign_design="", unknown="x")}
    changed = job_parameters(ns)
    assert changed == {"source": "s3a://bucket/lake.yml", "top_countries": 5, "margin": 0.25}
    assert ns["top_countries"] == 5 and isinstance(ns["top_countries"], int)
    assert ns["show_pii"] is False and ns["campaign_design"] is None and "unknown" not in ns


@pytest.mark.parametrize(("name", "text", "expected"), [("show_pii", "maybe", "true or false"),
                                                         ("top_countries", "ten", "a number")])
def test_a_widget_of_the_wrong_type_names_the_parameter(name, text, expected):
    ns = {**_cell(), "dbutils": _DBUtils(**{name: text})}
    with pytest.raises(ParameterError, match=expected) as err:
        job_parameters(ns)
    assert name in str(err.value) and text in str(err.value)
    assert ns[name] == _cell()[name]  # nothing half-applied
