"""Logging for the ``peerwire`` command: ``key=value`` lines, and no key material ever.

Every line is ``ts=… level=… logger=… msg="…"`` followed by the record's context: any
attribute passed through ``extra={...}`` is rendered as ``key=value`` (logfmt), so
``log.info("peer added", extra={"peer": pid, "inbound": True})`` prints
``… msg="peer added" peer=ab12… inbound=true``.

:class:`RedactingFilter` rewrites records before any handler sees them:

* secrets registered with :func:`register_secret` (the node key, the RPC token) are
  replaced wherever they appear, in hex (either case, with or without ``0x``) and base64;
* context fields and ``name=value`` / ``"name": "value"`` text whose name says secret
  (``priv_key``, ``private_key``, ``nodekeyhex``, ``secret``, ``token``, ``password``,
  ``authorization``) lose their value;
* PEM private-key blocks and ``Bearer`` credentials are cut.

The formatter applies the same redaction to its final line (tracebacks included), so a
secret cannot leak through a handler that skipped the filter.
"""

from __future__ import annotations

import base64
import logging
import re
import sys
import threading
import time
from typing import Any, TextIO

__all__ = [
    "KeyValueFormatter",
    "RedactingFilter",
    "clear_secrets",
    "redact",
    "register_secret",
    "setup_logging",
]

REDACTED = "[REDACTED]"

#: Names of context fields / ``name=value`` pairs whose value is always hidden.
_SENSITIVE_NAME = (
    r"(?:priv(?:ate)?_?key|nodekey(?:hex)?|node_key|secret|seed|token|password|passwd|authorization)"
)
_SENSITIVE_NAME_RE = re.compile(rf"^{_SENSITIVE_NAME}$", re.IGNORECASE)
_PAIR_RE = re.compile(
    rf"""(?P<name>["']?\b[\w.-]*{_SENSITIVE_NAME}["']?\s*[:=]\s*)(?P<value>"[^"]*"|'[^']*'|[^\s,;}}\]]+)""",
    re.IGNORECASE,
)
_PEM_RE = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL
)
_BEARER_RE = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")

# The standard LogRecord attributes; anything else on a record is context.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime", "taskName"}
)

_secrets_lock = threading.Lock()
_secret_forms: list[str] = []
_MIN_SECRET_LEN = 8  # shorter "secrets" would redact ordinary text


def register_secret(secret: bytes | str) -> None:
    """Hide ``secret`` (and its hex / base64 forms for bytes) in every later log line."""
    forms: set[str] = set()
    if isinstance(secret, bytes):
        if not secret:
            return
        forms.update({secret.hex(), secret.hex().upper(), base64.b64encode(secret).decode()})
        forms.add(base64.urlsafe_b64encode(secret).decode().rstrip("="))
    else:
        forms.add(secret)
    with _secrets_lock:
        for f in forms:
            if len(f) >= _MIN_SECRET_LEN and f not in _secret_forms:
                _secret_forms.append(f)
        _secret_forms.sort(key=len, reverse=True)  # longest first: a form may contain another


def clear_secrets() -> None:
    """Forget every registered secret (tests)."""
    with _secrets_lock:
        _secret_forms.clear()


def redact(text: str) -> str:
    """``text`` with every registered secret and every secret-looking value replaced."""
    with _secrets_lock:
        forms = list(_secret_forms)
    for f in forms:
        if f in text:
            text = text.replace(f, REDACTED)
    text = _PEM_RE.sub(REDACTED, text)
    text = _BEARER_RE.sub(lambda m: m.group(1) + REDACTED, text)
    return _PAIR_RE.sub(lambda m: m.group("name") + REDACTED, text)


def _context(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")}


class RedactingFilter(logging.Filter):
    """Rewrites a record so that neither its message nor its context carries key material."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not kill logging
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        for key, value in _context(record).items():
            if _SENSITIVE_NAME_RE.match(key):
                setattr(record, key, REDACTED)
            elif isinstance(value, bytes | bytearray):
                setattr(record, key, redact(bytes(value).hex()))
            elif isinstance(value, str):
                setattr(record, key, redact(value))
        return True


_BARE_RE = re.compile(r"^[^\s\"=]+$")


def _fmt_value(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = bytes(value).hex() if isinstance(value, bytes | bytearray) else str(value)
    if text and _BARE_RE.match(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class KeyValueFormatter(logging.Formatter):
    """logfmt lines: ``ts=… level=… logger=… msg="…" key=value …``."""

    def format(self, record: logging.LogRecord) -> str:
        t = time.gmtime(record.created)
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{int(record.msecs):03d}Z"
        parts = [
            f"ts={ts}",
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
            f"msg={_fmt_value(record.getMessage())}",
        ]
        for key, value in _context(record).items():
            parts.append(f"{key}={_fmt_value(value)}")
        line = " ".join(parts)
        if record.exc_info:
            line += " error=" + _fmt_value(self.formatException(record.exc_info))
        return redact(line)


LEVELS = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}


def setup_logging(level: str = "info", stream: TextIO | None = None) -> logging.Handler:
    """Send ``peerwire`` logs (and the root logger's) to ``stream`` (stderr) as logfmt.

    Returns the installed handler. Raises ``ValueError`` for an unknown level name.
    """
    try:
        numeric = LEVELS[level.lower()]
    except KeyError:
        raise ValueError(f"unknown log level {level!r} (choose from {', '.join(LEVELS)})") from None
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_peerwire", False):
            root.removeHandler(old)
    handler._peerwire = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(numeric)
    return handler
