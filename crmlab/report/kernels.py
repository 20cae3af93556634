"""One kernel for the notebooks of a batch worker, reset to a fresh state between them.

Every notebook of ``make report`` used to start its own kernel: Python, IPython, then pandas,
matplotlib, scikit-learn and crmlab imported again, 3-5 s of CPU per notebook before its first
line of analysis. Inside :func:`kept_kernels` (a batch worker's lifetime) the kernel of the
first notebook is kept, and before each further notebook it is put back to the state of a
kernel just started:

* the user namespace, input history and execution counter are cleared (IPython's
  ``reset(new_session=True)``: cell numbers in errors start at 1 again, and a notebook that
  uses a name it never defines fails as it would alone);
* figures are closed and matplotlib's settings, the warning filters, ``sys.path``, the
  environment and the working folder are restored to what they were when the kernel was
  new, then the job's own environment (where its tables go) is set; interactive mode is
  turned back on, as the inline backend does when a new kernel draws its first figure
  (without it the next notebook's figures are never shown);

Imported modules stay imported: that is the saving (a module's own caches are kept too;
crmlab keeps no state between calls other than caches of pure results). A notebook that
fails, times out or kills its kernel never hands its kernel on: the next notebook gets a new
one. Outside :func:`kept_kernels` every notebook has its own kernel, as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["done", "keep_for_worker", "kept_kernels", "kernel_for", "release"]

#: The kept kernel of this process: {"on": kernels kept, "km": its manager, "name": its kernel name}
_STATE: dict[str, Any] = {"on": False, "km": None}

#: Run once in a new kernel: what a fresh kernel looks like, to return to it later.
_SNAPSHOT = """
import os as _os, sys as _sys, warnings as _warnings
import matplotlib as _mpl
_sys._crmlab_fresh = {
    "rc": {k: v for k, v in _mpl.rcParams.items() if k not in ("backend", "interactive")},
    "warnings": list(_warnings.filters), "path": list(_sys.path), "environ": dict(_os.environ),
}
del _os, _sys, _warnings, _mpl
"""

#: Run before each further notebook (``{environ!r}``, ``{cwd!r}`` filled in).
_RESET = """
import os as _os, sys as _sys, warnings as _warnings
if "matplotlib.pyplot" in _sys.modules:
    _sys.modules["matplotlib.pyplot"].close("all")
import matplotlib as _mpl
_fresh = _sys._crmlab_fresh
_mpl.rcParams.update(_fresh["rc"])
# the inline backend turns interactive mode on when a new kernel draws its first figure; this
# kernel drew it already, so turn it on here (off, the next notebook's figures are not shown)
if "matplotlib.pyplot" in _sys.modules:
    _mpl.interactive("inline" in _mpl.get_backend())
_warnings.filters[:] = _fresh["warnings"]
getattr(_warnings, "_filters_mutated", lambda: None)()
_sys.path[:] = _fresh["path"]
_os.environ.clear()
_os.environ.update(_fresh["environ"])
_os.environ.update({environ!r})
_os.chdir({cwd!r})
get_ipython().reset(new_session=True)
"""


@contextlib.contextmanager
def kept_kernels() -> Iterator[None]:
    """Within this block, notebooks rendered by this process share one kernel, reset
    between them; the kernel is shut down when the block ends."""
    _STATE["on"] = True
    try:
        yield
    finally:
        _STATE["on"] = False
        release()


def keep_for_worker() -> None:
    """Keep kernels for the rest of this (batch worker) process: shut down when it exits."""
    from multiprocessing import util

    _STATE["on"] = True
    util.Finalize(None, release, exitpriority=10)


def release() -> None:
    """Shut the kept kernel down (nothing when there is none): at the end, and after a
    notebook that failed, whose kernel is never handed on."""
    _shutdown(_STATE.get("km"))
    _STATE["km"] = None


def _shutdown(km: Any) -> None:
    if km is None:
        return
    from jupyter_core.utils import run_sync

    with contextlib.suppress(Exception):
        run_sync(km.shutdown_kernel)(now=True)
    with contextlib.suppress(Exception):
        run_sync(km.cleanup_resources)()


def _execute(km: Any, code: str, timeout: float = 60) -> bool:
    """Run ``code`` in the kernel of ``km`` quietly; True when it ran without an error."""
    from jupyter_client import BlockingKernelClient

    kc = BlockingKernelClient()
    kc.load_connection_info(km.get_connection_info())
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=timeout)
        reply = kc.execute_interactive(code, timeout=timeout, store_history=False, allow_stdin=False,
                                       output_hook=lambda msg: None)
        return reply["content"]["status"] == "ok"
    except Exception:  # noqa: BLE001 - a kernel that does not answer is replaced, not reported
        return False
    finally:
        kc.stop_channels()


def kernel_for(name: str, cwd: str, environ: Mapping[str, str], start: Any) -> Any:
    """The kernel manager a notebook should run in, or None for a kernel of its own.

    Parameters
    ----------
    name : str
        The kernel's name (a kept kernel of another name is not reused).
    cwd : str
        The notebook's folder.
    environ : mapping
        Environment variables this notebook's kernel needs.
    start : callable
        ``start(km)`` starts a new kernel in ``km`` (with the job's stderr and environment).

    Returns
    -------
    kernel manager or None
        None when kernels are not kept (see :func:`kept_kernels`).
    """
    if not _STATE["on"]:
        return None
    from jupyter_core.utils import run_sync

    km = _STATE.get("km")
    if km is not None:
        alive = run_sync(km.is_alive)()
        if alive and _STATE.get("name") == name and _execute(km, _RESET.format(environ=dict(environ), cwd=cwd)):
            return km
        release()
    km = _manager_class()(kernel_name=name)
    start(km)
    if not _execute(km, _SNAPSHOT, timeout=120):
        _shutdown(km)
        return None
    _STATE.update(km=km, name=name)
    return km


def _manager_class() -> type:
    """nbclient's kernel manager, keeping count of the clients papermill opens on it (nbclient
    leaves a client open on a kernel it does not own: :func:`done` closes them)."""
    from jupyter_client.manager import AsyncKernelManager

    class KeptKernelManager(AsyncKernelManager):
        def client(self, **kwargs: Any) -> Any:
            kc = super().client(**kwargs)
            self.__dict__.setdefault("_opened", []).append(kc)
            return kc

    return KeptKernelManager


def done(km: Any) -> None:
    """A notebook finished in the kept kernel ``km``: close the clients it opened."""
    for kc in km.__dict__.pop("_opened", []):
        with contextlib.suppress(Exception):
            kc.stop_channels()
