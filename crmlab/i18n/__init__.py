"""Report language: English by default, Korean on request (``lang="ko"``).

Translations live in ``crmlab/i18n/ko/*.yml``, one file per area (segments, strategy,
customers, basket, ltv, campaign, report, common), each a mapping from a key or the English
text to Korean, so the owner of a notebook edits only its own file. :func:`t` looks a text up;
a text without a translation stays as it is. :func:`setup_figures` gives matplotlib a Hangul
font (NanumGothic, shipped inside the ``koreanize-matplotlib`` package, so nothing is
downloaded at run time) as a fallback in every language: Korean product names draw in an
English report too.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml

from crmlab.errors import ParameterError

LANGS = ("en", "ko")
_HERE = Path(__file__).resolve().parent

__all__ = ["LANGS", "check_lang", "t", "pick", "segment_name", "translations", "SEGMENT_NAMES_KO",
           "hangul_font", "setup_figures", "columns"]


@functools.cache
def translations(lang: str = "ko") -> dict[str, str]:
    """Every translation for ``lang``: the merged ``crmlab/i18n/<lang>/*.yml`` files.

    Parameters
    ----------
    lang : str

    Returns
    -------
    dict
        Key or English text -> translated text.
    """
    out: dict[str, str] = {}
    for path in sorted((_HERE / lang).glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out.update({str(k): str(v) for k, v in doc.items()})
    return out


SEGMENT_NAMES_KO: dict[str, str] = yaml.safe_load((_HERE / "ko" / "segments.yml").read_text(encoding="utf-8"))


def check_lang(lang: str) -> str:
    """Return ``lang`` when crmlab can write reports in it.

    Parameters
    ----------
    lang : str

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        For a language other than :data:`LANGS`.
    """
    if lang not in LANGS:
        raise ParameterError(f"unsupported report language {lang!r}", value=lang,
                             expected="one of " + ", ".join(LANGS))
    return lang


def t(key: Any, lang: str = "en") -> str:
    """The text for ``key`` in ``lang`` (the key itself when there is no translation).

    Parameters
    ----------
    key : str
        A key (``"findings"``) or an English text.
    lang : str

    Returns
    -------
    str
    """
    if check_lang(lang) == "en":
        from crmlab.i18n.en import ENGLISH

        return ENGLISH.get(str(key), str(key))
    return translations(lang).get(str(key), str(key))


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def pick(lang: str, en: str, ko: str) -> str:
    """The sentence in the report language: ``en`` or ``ko``.

    Markdown closes ``**bold**`` only before a space or punctuation, and Korean particles
    follow a word directly, so Korean bold is written as ``<b>...</b>``.

    Parameters
    ----------
    lang : str
    en, ko : str
        The sentence in English and in Korean (Markdown).

    Returns
    -------
    str
    """
    return _BOLD.sub(r"<b>\1</b>", ko) if check_lang(lang) == "ko" else en


def segment_name(name: str, lang: str = "en") -> str:
    """An RFM segment's name in ``lang``.

    Parameters
    ----------
    name : str
    lang : str

    Returns
    -------
    str
    """
    return SEGMENT_NAMES_KO.get(name, name) if check_lang(lang) == "ko" else name


def columns(frame, lang: str = "en"):
    """A copy of ``frame`` with its column headers (and index name) in ``lang``.

    Parameters
    ----------
    frame : pandas.DataFrame
    lang : str

    Returns
    -------
    pandas.DataFrame
    """
    out = frame.rename(columns=lambda c: t(c, lang))
    if out.index.name is not None:
        out.index.name = t(out.index.name, lang)
    return out


def hangul_font() -> Path:
    """Path of the NanumGothic TrueType font shipped with koreanize-matplotlib.

    Returns
    -------
    pathlib.Path
    """
    import importlib.util

    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise ParameterError("Korean output needs the koreanize-matplotlib package",
                             fix="pip install koreanize-matplotlib")
    return Path(list(spec.submodule_search_locations)[0]) / "fonts" / "NanumGothic.ttf"


def setup_figures(lang: str = "en") -> str:
    """Make this session's figures able to show Hangul in any report language.

    Registers NanumGothic: for ``ko`` it becomes the first font; for ``en`` it is the
    fallback after DejaVu Sans, so Korean product or arm names still draw.

    Parameters
    ----------
    lang : str

    Returns
    -------
    str
        The Hangul font's family name.
    """
    import matplotlib
    from matplotlib import font_manager

    check_lang(lang)
    path = hangul_font()
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    fonts = [family, "DejaVu Sans"] if lang == "ko" else ["DejaVu Sans", family]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = fonts + [f for f in matplotlib.rcParams["font.sans-serif"]
                                                      if f not in fonts]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return family
