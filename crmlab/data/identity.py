"""One customer, one identity: channels stacked, channel IDs linked to a master ID."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from crmlab.data.schema import REQUIRED
from crmlab.errors import DataError, ParameterError

def combine_channels(sources: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Stack canonical tables from several channels, labelling each row's ``channel``.

    ``combine_channels({"online": web_tx, "store": pos_tx})``. Order numbers are prefixed
    with the channel where two channels use the same number, so orders never merge across
    channels by accident.

    Parameters
    ----------
    sources : mapping of str to pandas.DataFrame
        Channel name -> canonical transactions (output of ``load_transactions``).

    Returns
    -------
    pandas.DataFrame
        All rows, with a ``channel`` column; ``attrs["source"]`` lists each channel's source.

    Raises
    ------
    ParameterError
        When no channel is given.
    DataError
        When a table lacks a required canonical column (customer_id, order_id, order_ts).
    """
    if not sources:
        raise ParameterError("no channels given", expected="a dict {channel name: transactions}")
    frames = []
    seen: set[str] = set()
    for name, df in sources.items():
        missing = [c for c in REQUIRED if c not in df.columns]
        if missing:
            raise DataError(f"channel {name!r} is not a canonical table: missing {missing}",
                            expected="output of load_transactions")
        f = df.copy()
        f["channel"] = pd.Series(name, index=f.index, dtype="string")
        ids = set(f["order_id"].dropna().unique())
        if ids & seen:
            f["order_id"] = (name + ":" + f["order_id"]).astype("string")
        seen |= set(f["order_id"].dropna().unique())
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    out.attrs["source"] = " + ".join(f"{k}: {v.attrs.get('source', '?')}" for k, v in sources.items())
    return out


def unify_identities(tx: pd.DataFrame, id_map: pd.DataFrame, *, source_col: str = "source_id",
                     master_col: str = "customer_id") -> pd.DataFrame:
    """One customer, one identity: map channel-specific IDs to a master customer ID.

    ``id_map`` has one row per known link (e.g. loyalty card number -> web account), columns
    ``source_id`` and ``customer_id``. IDs absent from the map keep their own value. The
    original ID is kept in ``source_customer_id``. A source ID linked to two different
    master IDs is an error, since the merge would be ambiguous.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical transactions whose ``customer_id`` holds channel-specific IDs.
    id_map : pandas.DataFrame
        The known links; rows with a missing value are ignored.
    source_col : str
        Column of ``id_map`` with the channel-specific ID.
    master_col : str
        Column of ``id_map`` with the master customer ID.

    Returns
    -------
    pandas.DataFrame
        A copy of ``tx`` with ``customer_id`` mapped to the master ID (string dtype) and the
        original ID in ``source_customer_id``.

    Raises
    ------
    DataError
        When ``id_map`` lacks ``source_col`` or ``master_col``, or a source ID is linked to
        more than one master ID.
    """
    for c in (source_col, master_col):
        if c not in id_map.columns:
            raise DataError(f"identity map has no {c!r} column", column=c,
                            expected=f"columns {source_col!r} and {master_col!r}")
    links = id_map[[source_col, master_col]].dropna().astype("string").drop_duplicates()
    dup = links[links[source_col].duplicated(keep=False)]
    if len(dup):
        first = dup.iloc[0]
        raise DataError("a source ID is linked to more than one customer", column=source_col,
                        row=int(dup.index[0]) + 2, value=str(first[source_col]),
                        fix="keep one link per source ID in the identity map")
    mapping = pd.Series(links[master_col].to_numpy(), index=links[source_col].to_numpy())
    out = tx.copy()
    out["source_customer_id"] = tx["customer_id"]
    mapped = tx["customer_id"].map(mapping)
    out["customer_id"] = mapped.fillna(tx["customer_id"]).astype("string")
    return out
