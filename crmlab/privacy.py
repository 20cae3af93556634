"""Pseudonymised customer identifiers for reports.

Rendered reports travel (workshops, e-mail), so customer identifiers in them are replaced by
stable pseudonyms: the same customer gets the same pseudonym in every report rendered with
the same key, so an action list can still be matched back by whoever holds the key.
"""

from __future__ import annotations

import hashlib
import os

import pandas as pd

DEFAULT_KEY_ENV = "CRMLAB_PSEUDONYM_KEY"


def _key(key: str | None) -> str:
    return key if key is not None else os.environ.get(DEFAULT_KEY_ENV, "crmlab")


def pseudonymise(ids: pd.Series | pd.Index, key: str | None = None, prefix: str = "C-") -> pd.Series:
    """Replace identifiers by keyed SHA-256 pseudonyms like ``C-3f9a1c0b2e``.

    Missing identifiers stay missing. The key comes from ``key``, else the environment
    variable ``CRMLAB_PSEUDONYM_KEY``, else a fixed default (pseudonymous, not anonymous:
    set a secret key when reports leave the team).

    Parameters
    ----------
    ids : pandas.Series or pandas.Index
        Customer identifiers (any type; compared as text, so Hangul IDs work too).
    key : str, optional
        The secret key.
    prefix : str
        Put before every pseudonym.

    Returns
    -------
    pandas.Series
        String dtype, same index as ``ids``.
    """
    k = _key(key).encode()
    values = pd.Series(ids, copy=False)
    uniques = pd.unique(values.dropna().astype(str))
    mapping = {
        u: prefix + hashlib.sha256(k + b"\x00" + u.encode()).hexdigest()[:10] for u in uniques
    }
    out = values.astype("string").map(mapping)
    out.index = values.index
    return out.astype("string")


def mask_ids(ids: pd.Series | pd.Index, show_pii: bool = False, key: str | None = None) -> pd.Series:
    """Identifiers as a report should show them: pseudonymised unless ``show_pii``.

    Parameters
    ----------
    ids : pandas.Series or pandas.Index
        Customer identifiers.
    show_pii : bool
        Show the raw identifiers (as text) instead of pseudonyms.
    key : str, optional
        The secret key (see :func:`pseudonymise`).

    Returns
    -------
    pandas.Series
        String dtype.
    """
    if show_pii:
        return pd.Series(ids, copy=False).astype("string")
    return pseudonymise(ids, key=key)
