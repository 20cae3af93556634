"""Pseudonymised customer identifiers, and error text without customer data, for reports.

Rendered reports travel (workshops, e-mail), so customer identifiers in them are replaced by
pseudonyms: HMAC-SHA-256 of the identifier under a secret key. The key is the project's own
random secret, made on first use in ``.crmlab/secret`` (mode 0600, kept out of git), or
``CRMLAB_PII_KEY`` when set. The same key gives the same pseudonym in every run, so period
comparisons line up, and nobody without the key can recompute a pseudonym from a candidate
identifier.

Error messages quote the offending value (a customer ID, a line of a file); a report shows
them only when rendered with ``--show-pii`` (:func:`redact_error`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from crmlab.errors import CrmlabError

if TYPE_CHECKING:  # pandas loads when identifiers are masked, not for redacting error text
    import pandas as pd

#: The environment variable that holds the key (any text; a long random one).
KEY_ENV = "CRMLAB_PII_KEY"
#: Read when ``CRMLAB_PII_KEY`` is unset: the variable's name before the key became secret.
LEGACY_KEY_ENV = "CRMLAB_PSEUDONYM_KEY"
#: The project's key, made on first use: ``<project>/.crmlab/secret``.
SECRET_DIR = ".crmlab"
SECRET_FILE = "secret"
_MIN_FILE_KEY = 32  # hex characters of a key file crmlab wrote (it writes 64)


def secret_path() -> Path:
    """Where the project's pseudonym key lives: ``<project>/.crmlab/secret``.

    Returns
    -------
    pathlib.Path
    """
    from crmlab import config

    return config.ROOT / SECRET_DIR / SECRET_FILE


def _no_key(path: Path, why: str) -> CrmlabError:
    return CrmlabError(
        f"no pseudonym key: {why}", file=path,
        fix=f"set {KEY_ENV} to a long random secret (the same one for every run whose reports "
            f"are compared), or make {path.parent} writable so crmlab can create the key")


def _read_key_file(path: Path) -> str | None:
    """The key in ``path``; None when the file does not exist."""
    for _ in range(50):  # another process may be between creating and renaming (never seen half)
        try:
            text = path.read_text(encoding="ascii").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise _no_key(path, f"cannot read the key file ({getattr(exc, 'strerror', None) or exc})") from None
        if len(text) >= _MIN_FILE_KEY:
            return text
        time.sleep(0.01)
    raise _no_key(path, "the key file is empty or too short; delete it only if no report made "
                        "with it must be matched again")


def _create_key_file(path: Path) -> None:
    """Write a new random key to ``path``, atomically and without replacing another's."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{SECRET_FILE}.tmp-{uuid.uuid4().hex[:8]}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # fails if another process made the key first: keep theirs
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    except OSError as exc:
        raise _no_key(path, f"cannot create the key file ({exc.strerror or exc})") from None
    ignore = path.parent / ".gitignore"
    if not ignore.exists():
        try:
            ignore.write_text("*\n", encoding="ascii")  # the folder stays out of git anywhere
        except OSError:
            pass


def project_key() -> str:
    """The pseudonym key: ``CRMLAB_PII_KEY``, else the project's ``.crmlab/secret``.

    The key file is created with a random 256-bit key on first use (mode 0600).

    Returns
    -------
    str

    Raises
    ------
    CrmlabError
        No key is set and the key file can neither be read nor created.
    """
    for name in (KEY_ENV, LEGACY_KEY_ENV):
        value = os.environ.get(name)
        if value:
            return value
    path = secret_path()
    key = _read_key_file(path)
    if key is None:
        _create_key_file(path)
        key = _read_key_file(path)
        if key is None:
            raise _no_key(path, "the key file vanished after it was created")
    return key


def pseudonymise(ids: pd.Series | pd.Index, key: str | None = None, prefix: str = "C-") -> pd.Series:
    """Replace identifiers by keyed pseudonyms like ``C-3f9a1c0b2e`` (HMAC-SHA-256).

    Missing identifiers stay missing. Pseudonymous, not anonymous: whoever holds the key can
    match a pseudonym back to a candidate identifier; nobody else can.

    Parameters
    ----------
    ids : pandas.Series or pandas.Index
        Customer identifiers (any type; compared as text, so Hangul IDs work too).
    key : str, optional
        The secret key; default :func:`project_key`.
    prefix : str
        Put before every pseudonym.

    Returns
    -------
    pandas.Series
        String dtype, same index as ``ids``.

    Raises
    ------
    CrmlabError
        No key given and none can be read or created (see :func:`project_key`).
    """
    import pandas as pd

    k = (project_key() if key is None else key).encode()
    values = pd.Series(ids, copy=False)
    uniques = pd.unique(values.dropna().astype(str))
    mapping = {u: prefix + hmac.new(k, u.encode(), hashlib.sha256).hexdigest()[:10] for u in uniques}
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
        import pandas as pd

        return pd.Series(ids, copy=False).astype("string")
    return pseudonymise(ids, key=key)


# --------------------------------------------------------------------------- error text

#: Error types whose message follows :class:`crmlab.errors.CrmlabError`'s form.
CRMLAB_ERRORS = frozenset({"CrmlabError", "DataError", "ParameterError", "RenderError"})
HIDDEN = "[hidden: render with --show-pii to see it]"
_FOUND = " (found "
_AFTER_VALUE = ("; expected ", ". Fix: ")
#: Text a reader quotes from the file: a whole line after "got N:", the file's header.
_QUOTED_LINE = re.compile(r"(got \d+( fields| columns)?):\s.*?(?=; expected |\. Fix: |$)")
_FILE_HAS = re.compile(r"the file has .*?(?=; map |; expected |\. Fix: |$)")


def _drop_value(text: str) -> str:
    """``text`` without the `` (found ...)`` part of a CrmlabError message."""
    start = text.find(_FOUND)
    if start < 0:
        return text
    ends = [i for i in (text.rfind(m) for m in _AFTER_VALUE) if i > start]
    end = min(ends) if ends else len(text)
    return text[:start] + f" (found {HIDDEN})" + text[end:]


def redact_error(ename: str, evalue: str, show_pii: bool = False) -> str:
    """An error message as a report may show it: no customer data unless ``show_pii``.

    For crmlab's own errors the offending value (`` (found ...)``), a line quoted from the
    file and the list of the file's own column names are replaced by a note; any other
    error's message (it may quote anything, a customer ID in a ``KeyError`` for one) is
    hidden entirely. The error's type and, for crmlab's errors, the file, column, row,
    problem, what was expected and the fix stay.

    Parameters
    ----------
    ename : str
        The exception's class name (``DataError``).
    evalue : str
        Its message.
    show_pii : bool
        Return ``evalue`` unchanged.

    Returns
    -------
    str
    """
    if show_pii:
        return evalue
    if ename not in CRMLAB_ERRORS:
        return HIDDEN if evalue else ""
    text = _drop_value(evalue)
    text = _QUOTED_LINE.sub(lambda m: f"{m.group(1)} {HIDDEN}", text)
    return _FILE_HAS.sub(f"the file has other columns {HIDDEN}", text)
