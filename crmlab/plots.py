"""Shared plotting conventions: every figure goes on an axis you pass in."""

from __future__ import annotations

from typing import Any


def get_ax(ax: Any = None, figsize: tuple[float, float] = (7, 4), layout: str | None = "constrained"):
    """Return ``ax``, or the Axes of a new figure (shown by the notebook's inline backend).

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        The axis to draw on; None makes a new figure.
    figsize : tuple of float
        Width and height in inches of a new figure.
    layout : str or None
        Matplotlib layout engine of a new figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout=layout)
    return ax
