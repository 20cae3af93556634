"""A Korean report read in a real browser: 01-customer-analysis on the Korean shop export.

The report is rendered with ``source=tests/fixtures/korean_shop.yml`` and ``lang=ko`` and
opened in Debian's headless Chromium with the Korean font ``make browser`` installs
(fonts-nanum). A screenshot is saved; Hangul must be drawn with a Korean font (not boxes),
and no heading (h1-h3) or table header is left in English: each has Hangul, or is a number
or a code (``RFM``, ``C-3f9a1c0b2e``, ``85123A``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crmlab import config, report
from test_browser import CHROMIUM, FLAGS, needs_chromium

FIXTURES = Path(__file__).parents[1] / "fixtures"
NOTEBOOK = config.ROOT / "notebooks" / "01-customer-analysis.ipynb"
HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
#: A run of Latin letters and digits: an English word when it is letters only, at least two,
#: not all capitals ("Mon", "customer", "id"); a code otherwise ("RFM", "85123A", "412cbf70").
TOKEN = re.compile(r"[A-Za-z0-9]+")
KOREAN_FONTS = ("Nanum", "Noto Sans CJK", "Noto Sans KR", "Malgun", "Apple SD Gothic")

pytestmark = [pytest.mark.browser, needs_chromium]


def english_only(text: str) -> bool:
    """Whether a heading or table header is English: no Hangul and an English word.

    Parameters
    ----------
    text : str

    Returns
    -------
    bool
    """
    words = [w for w in TOKEN.findall(text) if w.isalpha() and len(w) > 1 and not w.isupper()]
    return not HANGUL.search(text) and bool(words)


def test_english_only_tells_words_from_codes():
    assert english_only("Mon") and english_only("customer_id") and english_only("Key figures")
    assert not any(english_only(t) for t in ("RFM", "85123A", "C-3f9a1c0b2e", "2011-12-09",
                                             "1. 데이터 품질", "RFM 세그먼트", "", "%"))


@pytest.fixture(scope="module")
def korean_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("korean")
    result = report.render(NOTEBOOK, {"source": str(FIXTURES / "korean_shop.yml"), "lang": "ko"},
                           output_root=root)
    assert result.ok, result.error
    return result


@pytest.fixture(scope="module")
def page(korean_report):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(korean_report.html.as_uri(), wait_until="load")
        page.errors = errors
        yield page
        browser.close()


def test_the_korean_report_renders_in_chromium_with_a_korean_font(page, tmp_path):
    assert page.errors == []
    assert page.evaluate("document.documentElement.lang") == "ko"
    shot = tmp_path / "01-customer-analysis-ko.png"
    page.screenshot(path=str(shot), full_page=True)
    from PIL import Image

    with Image.open(shot) as image:
        assert image.width >= 600 and image.height >= 1500  # the whole report, not a blank tab
        colours = image.convert("L").resize((200, 600)).getcolors(maxcolors=256 * 256) or []
        assert len(colours) > 20  # text and figures, not one flat colour
    assert shot.stat().st_size > 50_000
    # which fonts Chromium really drew the first Korean heading with (not boxes)
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h2"})["nodeId"]
    fonts = [f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode",
                                               {"nodeId": node})["fonts"]]
    assert any(k in f for f in fonts for k in KOREAN_FONTS), fonts


def test_no_heading_or_table_header_is_left_in_english(page):
    texts = page.evaluate(
        "Array.from(document.querySelectorAll('h1, h2, h3, th'))"
        ".map(e => e.tagName.toLowerCase() + ': ' + e.innerText.trim())")
    english = [t for t in texts if english_only(t.split(": ", 1)[1])]
    assert not english, "left in English: " + " | ".join(english)
