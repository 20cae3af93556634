"""crmlab.i18n: Korean labels and a Hangul font that really draws Hangul."""

from __future__ import annotations

import pytest

from crmlab import i18n
from crmlab.errors import ParameterError
from crmlab.segments import SEGMENTS


def test_every_segment_has_a_korean_name():
    assert set(i18n.SEGMENT_NAMES_KO) == set(SEGMENTS)
    assert i18n.segment_name("At Risk", "ko") == "이탈 위험"
    assert i18n.segment_name("At Risk", "en") == "At Risk"
    assert i18n.t("findings", "ko") == "핵심 발견 다섯 가지"
    with pytest.raises(ParameterError, match="unsupported report language 'jp'"):
        i18n.t("title", "jp")


def test_hangul_font_renders_glyphs():
    """With the font set, Hangul text draws real glyphs (no missing-glyph warnings, ink on canvas)."""
    import warnings

    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    family = i18n.setup_figures("ko")
    assert family and "Nanum" in family
    fig = Figure(figsize=(2, 1), dpi=50)
    FigureCanvasAgg(fig)
    fig.text(0.05, 0.3, "챔피언", fontsize=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" would raise here
        fig.canvas.draw()
    ink = (np.asarray(fig.canvas.buffer_rgba())[..., :3] < 128).sum()
    assert ink > 50
    import matplotlib

    matplotlib.rcdefaults()
