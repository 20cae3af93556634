"""Share costly results between the notebooks of one render batch.

The reports of a batch read the same source and repeat some of the same work: every report
on a shop's orders loads and cleans them, and the strategy report compares the same churn
measures as the retention report. Each notebook runs in its own kernel, so nothing is shared
in memory; with :data:`ENV` naming a folder, the functions wrapped with :func:`shared` keep
their results there, keyed by what they were called with, and a later call with equal
arguments, in any process, reads the result instead of computing it again.

- Arguments are keyed by content, never by name or identity: a frame by its columns, types,
  index, ``attrs`` and the bytes of every column (:func:`fingerprint`); a source file by its
  declaration and the size and modification time of the file. Anything that cannot be keyed
  that way (a Spark frame, a database source, an arbitrary object) runs the function as usual.
- A call being computed holds a lock on its key: a second process asking for the same result
  waits for it instead of computing it twice. A call that fails stores nothing.
- Warnings the function raised are stored with the result and raised again on every read, so
  a report shows the same warnings whichever notebook computed the result first.
- Each read unpickles a fresh copy: a notebook that changes a result cannot change another's.

``crmlab render`` sets :data:`ENV` to a private folder for each batch and deletes it at the end
(``--no-shared-results`` turns sharing off); with :data:`ENV` unset (the default in JupyterLab)
the wrapped functions run as usual. The key holds crmlab's version, not its code: a folder kept
by hand must be emptied after changing crmlab.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import pickle
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["ENV", "Unkeyable", "fingerprint", "shared", "sharing"]

#: Environment variable naming the folder of shared results (unset: nothing is shared).
ENV = "CRMLAB_SHARED_RESULTS"

F = TypeVar("F", bound=Callable[..., Any])

#: POSIX file locks (not on Windows): without them nothing is shared.
_CAN_LOCK = importlib.util.find_spec("fcntl") is not None

#: Results are not written when the folder's disk has less free space than this.
_MIN_FREE = 1 << 30


class Unkeyable(TypeError):
    """An argument that cannot be keyed by content: the call is not shared."""


# numpy and pandas are imported where a key is computed: ``crmlab render`` imports this module
# in its parent process, which never needs them

def _arrow(h: Any, data: Any) -> None:
    """Feed an Arrow (chunked) array to ``h`` by its values: the same digest whatever its
    chunks, slice offsets or the spare bytes of its buffers."""
    import numpy as np
    import pyarrow as pa
    import xxhash

    kind = data.type
    h.update(f"arrow {kind} {len(data)} {data.null_count};".encode())
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind) \
        or pa.types.is_large_binary(kind)
    if not text and not (pa.types.is_primitive(kind) and not pa.types.is_boolean(kind)):
        raise Unkeyable(f"Arrow values of type {kind}")
    parts = [xxhash.xxh3_128() for _ in range(3)]  # valid flags, value lengths (or values), text bytes
    width = 8 if (pa.types.is_large_string(kind) or pa.types.is_large_binary(kind)) else 4
    for chunk in data.chunks:
        if data.null_count:
            parts[0].update(chunk.is_valid().to_numpy(zero_copy_only=False).view(np.uint8).data)
        bufs = chunk.buffers()
        if text:
            offsets = np.frombuffer(bufs[1], dtype=np.int64 if width == 8 else np.int32)
            offsets = offsets[chunk.offset:chunk.offset + len(chunk) + 1]
            parts[1].update(np.diff(offsets).astype(np.int64).data)
            if bufs[2] is not None and len(offsets):
                parts[2].update(memoryview(bufs[2])[int(offsets[0]):int(offsets[-1])])
        else:
            step = kind.bit_width // 8
            parts[1].update(memoryview(bufs[1])[chunk.offset * step:(chunk.offset + len(chunk)) * step])
    for part in parts:
        h.update(part.digest())


def _array(h: Any, values: Any) -> None:
    """Feed one column's values (type and content) to the hash ``h``."""
    import numpy as np
    import pandas as pd

    if isinstance(values, pd.arrays.ArrowExtensionArray):
        _arrow(h, values.__arrow_array__())
        return
    if isinstance(values, pd.Categorical):
        h.update(f"categorical ordered={values.ordered}".encode())  # "category" names both kinds
        _array(h, values.codes)
        _index(h, values.categories)
        return
    if isinstance(values, pd.api.extensions.ExtensionArray) and hasattr(values, "_mask"):
        h.update(f"masked {values.dtype}".encode())  # IntegerArray, BooleanArray, FloatingArray
        _array(h, values._data)
        _array(h, values._mask)
        return
    arr = values.to_numpy() if not isinstance(values, np.ndarray) else values
    if arr.dtype == object or arr.dtype.hasobject:
        raise Unkeyable(f"values of dtype {arr.dtype}")
    h.update(f"numpy {arr.dtype.str} {arr.shape};".encode())
    h.update(np.ascontiguousarray(arr).view(np.uint8).reshape(-1).data)


def _index(h: Any, index: Any) -> None:
    import pandas as pd

    if isinstance(index, pd.RangeIndex):
        h.update(f"range {index.start} {index.stop} {index.step} {index.name!r}".encode())
    elif isinstance(index, pd.MultiIndex):
        raise Unkeyable("a MultiIndex")
    else:
        h.update(f"index {index.dtype} {index.name!r}".encode())
        _array(h, index.array)


def _update(h: Any, obj: Any) -> None:
    """Feed ``obj`` to the hash ``h`` by content, or raise :class:`Unkeyable`."""
    import numpy as np
    import pandas as pd

    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
    elif isinstance(obj, (pd.Timestamp, pd.Timedelta)):
        h.update(f"{type(obj).__name__}:{obj.value}:{getattr(obj, 'tz', None)};".encode())
    elif isinstance(obj, (list, tuple)):
        h.update(f"{type(obj).__name__}[{len(obj)}".encode())
        for item in obj:
            _update(h, item)
        h.update(b"]")
    elif isinstance(obj, dict):
        h.update(f"dict[{len(obj)}".encode())
        for k in sorted(obj, key=repr):
            _update(h, k)
            _update(h, obj[k])
        h.update(b"]")
    elif isinstance(obj, pd.DataFrame):
        h.update(f"frame {obj.shape}".encode())
        _update(h, [str(c) for c in obj.columns])
        _update(h, [str(t) for t in obj.dtypes])
        _update(h, dict(obj.attrs))
        _index(h, obj.index)
        for i in range(obj.shape[1]):
            _array(h, obj.iloc[:, i].array)
    elif isinstance(obj, pd.Series):
        h.update(f"series {obj.name!r} {obj.dtype}".encode())
        _update(h, dict(obj.attrs))
        _index(h, obj.index)
        _array(h, obj.array)
    elif isinstance(obj, pd.Index):
        _index(h, obj)
    elif isinstance(obj, np.ndarray):
        _array(h, obj)
    elif isinstance(obj, np.generic):
        _update(h, obj.item())
    else:
        raise Unkeyable(f"an argument of type {type(obj).__name__}")


def fingerprint(*args: Any, **kwargs: Any) -> str:
    """A digest of the arguments by content: equal for equal values, different otherwise.

    Frames and series are keyed by column names, types, ``attrs``, index and the bytes of
    every column; numbers, text, timestamps, lists, tuples and dicts of them by value.

    Parameters
    ----------
    *args, **kwargs
        The values to key.

    Returns
    -------
    str
        Hex digest (XXH3, 128 bits: a non-cryptographic hash at memory speed; an accidental
        collision is vanishingly unlikely, and the folder is private to one batch).

    Raises
    ------
    Unkeyable
        A value that cannot be keyed by content (object columns, a Spark frame, other objects).
    """
    import xxhash

    h = xxhash.xxh3_128()
    _update(h, list(args))
    _update(h, dict(kwargs))
    return h.hexdigest()


def folder() -> Path | None:
    """The folder of shared results (:data:`ENV`), or None when sharing is off (also where
    there are no POSIX file locks to keep two processes from computing the same result)."""
    where = os.environ.get(ENV)
    return Path(where) if where and _CAN_LOCK else None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (released by the system if the process dies)."""
    import fcntl

    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _caught(seen: list[Any]) -> list[tuple[Any, ...]]:
    """Recorded warnings as the picklable ``(message, category, filename, lineno)`` of each."""
    return [(w.message, w.category, w.filename, w.lineno) for w in seen]


def _replay(caught: list[tuple[Any, ...]]) -> None:
    for message, category, filename, lineno in caught:
        warnings.warn_explicit(message, category, filename, lineno)


def _log(where: Path, line: str) -> None:
    """Append one line to the folder's ``calls.log`` (what was computed, what was read)."""
    with open(where / "calls.log", "a", encoding="utf-8") as handle:
        handle.write(f"{line} {os.getpid()}\n")


#: First bytes of a stored result (and the layout's version).
_MAGIC = b"CRMLABM1"
#: Large buffers start at multiples of this in the file (Arrow's and numpy's alignment).
_ALIGN = 64


def _load(path: Path) -> Any:
    """The stored ``(version, warnings, result)`` at ``path``, or None (absent or unreadable).

    The file is mapped copy-on-write, and the arrays of the result use its pages where they
    lie: nothing is copied until written to, and processes reading the same result share the
    memory (the page cache) instead of each holding a copy.
    """
    import mmap

    try:
        with open(path, "rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
        view = memoryview(mapped)
        if bytes(view[:8]) != _MAGIC:
            return None
        n_head, n_bufs = (int.from_bytes(view[i:i + 8], "little") for i in (8, 16))
        sizes = [int.from_bytes(view[24 + 8 * i:32 + 8 * i], "little") for i in range(n_bufs)]
        pos = 24 + 8 * n_bufs
        head, pos = view[pos:pos + n_head], pos + n_head
        buffers = []
        for size in sizes:
            pos = -(-pos // _ALIGN) * _ALIGN
            buffers.append(view[pos:pos + size])
            pos += size
        return pickle.loads(head, buffers=buffers)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a damaged file is computed again, and replaced
        return None


def _store(path: Path, payload: Any) -> None:
    """Write ``payload`` to ``path`` whole or not at all (a temporary file renamed into place).
    A result that does not pickle, or a full disk, leaves it unshared.

    Pickle protocol 5 hands the large buffers (Arrow and numpy column data) over out of band:
    they are written to the file as they are, aligned, not copied into the pickle (the 5.4 M
    line x10 frame: 6.5 s to pickle and write in band)."""
    import shutil

    if shutil.disk_usage(path.parent).free < _MIN_FREE:
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-")
    try:
        buffers: list[pickle.PickleBuffer] = []
        head = pickle.dumps(payload, protocol=5, buffer_callback=buffers.append)
        raws = [_raw(b) for b in buffers]
        with os.fdopen(fd, "wb") as handle:
            handle.write(_MAGIC + len(head).to_bytes(8, "little") + len(raws).to_bytes(8, "little"))
            handle.write(b"".join(r.nbytes.to_bytes(8, "little") for r in raws))
            handle.write(head)
            pos = 24 + 8 * len(raws) + len(head)
            for raw in raws:
                pad = -pos % _ALIGN
                handle.write(b"\0" * pad)
                handle.write(raw)
                pos += pad + raw.nbytes
        os.replace(tmp, path)
    except Exception:  # noqa: BLE001 - sharing is an optimisation: never fail the call for it
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _raw(buffer: pickle.PickleBuffer) -> memoryview:
    """A buffer's bytes as one flat view (copied only when not contiguous)."""
    try:
        return buffer.raw()
    except BufferError:
        return memoryview(memoryview(buffer).tobytes())


def _call(where: Path, name: str, key: str, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    from crmlab import __version__

    stem = f"{name}-{key}"
    path = where / f"{stem}.pkl"
    with _locked(where / f"{stem}.lock"):
        stored = _load(path)
        if stored is not None:
            version, caught, result = stored
            if version == __version__:
                _log(where, f"read {name}")
                _replay(caught)
                return result
        seen: list[Any] = []
        try:
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                result = fn(*args, **kwargs)
        except BaseException:
            _replay(_caught(seen))  # as without sharing
            raise
        caught = _caught(seen)
        _store(path, (__version__, caught, result))
        _log(where, f"computed {name}")
    _replay(caught)
    return result


def shared(name: str, key: Callable[..., Any] | None = None) -> Callable[[F], F]:
    """Share a function's results between the processes of a render batch (see the module).

    Parameters
    ----------
    name : str
        Short name of the result, part of the file name.
    key : callable, optional
        Called with the function's arguments; returns the values to key the call by (default:
        the arguments themselves). Returns None, or raises :class:`Unkeyable`, when the call
        must not be shared.

    Returns
    -------
    callable
        A decorator.
    """

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            where = folder()
            if where is None:
                return fn(*args, **kwargs)
            try:
                values = key(*args, **kwargs) if key is not None else (args, kwargs)
                digest = None if values is None else fingerprint(f"{fn.__module__}.{fn.__qualname__}", values)
            except Unkeyable:
                digest = None
            if digest is None:
                return fn(*args, **kwargs)
            return _call(where, name, digest, fn, args, kwargs)

        return call  # type: ignore[return-value]

    return wrap


def _base() -> str | None:
    """Where the batch's folder goes: shared memory (``/dev/shm``) when it has room, so storing a
    result costs a memory copy rather than a disk write (x10 Online Retail: 2.9 s to write its
    1.2 GB of frames to this machine's disk); else the temporary folder. Readers map the files,
    so a result read by several notebooks is held in memory once."""
    import shutil

    shm = "/dev/shm"
    try:
        if os.path.isdir(shm) and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free >= 4 * _MIN_FREE:
            return shm
    except OSError:
        pass
    return None


@contextlib.contextmanager
def sharing(enabled: bool = True) -> Iterator[Path | None]:
    """Share results in a new private folder while the block runs (removed afterwards).

    Sets :data:`ENV` for this process and the processes it starts; a folder already set
    (an outer batch) is kept. ``enabled=False`` turns sharing off inside the block, as does a
    system without POSIX file locks (Windows).

    Yields
    ------
    pathlib.Path or None
        The folder, or None when sharing is off.
    """
    import shutil

    enabled = enabled and _CAN_LOCK
    before = os.environ.get(ENV)
    if enabled and before:
        yield Path(before)
        return
    where = Path(tempfile.mkdtemp(prefix="crmlab-shared-", dir=_base())) if enabled else None
    if where is None:
        os.environ.pop(ENV, None)
    else:
        os.environ[ENV] = str(where)
    try:
        yield where
    finally:
        if before is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = before
        if where is not None:
            shutil.rmtree(where, ignore_errors=True)
