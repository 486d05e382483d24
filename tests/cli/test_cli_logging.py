"""logfmt formatting and key-material redaction (mirrors python/peerwire/cli/_logging.py)."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterator

import pytest

from peerwire.cli._logging import REDACTED, clear_secrets, redact, register_secret, setup_logging
from peerwire.devp2p import PrivateKey


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = setup_logging("debug", stream)
    yield logging.getLogger("peerwire.test"), stream
    logging.getLogger().removeHandler(handler)
    clear_secrets()


def test_logfmt_line(captured: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = captured
    log.info(
        "peer %s added",
        "x1",
        extra={"inbound": True, "addr": "127.0.0.1:1", "note": 'say "hi"', "raw": b"\x01\x02", "none": None},
    )
    line = stream.getvalue().strip()
    assert line.startswith("ts=")
    assert ' level=info logger=peerwire.test msg="peer x1 added" inbound=true addr=127.0.0.1:1 ' in line
    assert 'note="say \\"hi\\""' in line and "raw=0102" in line and "none=nil" in line


def test_registered_secret_is_redacted_in_every_form(captured: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = captured
    key = PrivateKey.generate()
    secret = key.to_bytes()
    register_secret(secret)
    log.warning("loaded %s", key.to_hex())
    log.warning("upper %s and 0x%s", secret.hex().upper(), secret.hex())
    log.warning("b64", extra={"blob": base64.b64encode(secret).decode(), "raw": secret})
    try:
        raise ValueError(f"bad key {key.to_hex()}")
    except ValueError:
        log.exception("failed")
    out = stream.getvalue()
    assert secret.hex() not in out and secret.hex().upper() not in out
    assert base64.b64encode(secret).decode() not in out
    assert out.count(REDACTED) >= 5
    assert "Traceback" in out  # the traceback is kept, only the key is cut


def test_sensitive_names_and_patterns(captured: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = captured
    log.info("cfg", extra={"nodekeyhex": "deadbeef", "token": "t0k", "private_key": "pk", "peer": "ok-value"})
    log.info('json {"priv_key": "QUJDRA==", "id": "g1abc"} and nodekeyhex=cafe1234 auth: Bearer abc.def')
    log.info("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----")
    out = stream.getvalue()
    for leaked in ("deadbeef", "t0k", "=pk", "QUJDRA==", "cafe1234", "abc.def", "MHcCAQEE"):
        assert leaked not in out, leaked
    assert "peer=ok-value" in out and "g1abc" in out


def test_redact_keeps_ordinary_text() -> None:
    node_id = "ab" * 32
    text = f"peer {node_id} tokens=5 seeds=3 node_key_file=secrets/node_key.json"
    assert redact(text) == text


def test_bad_level() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        setup_logging("loud")


def test_broken_format_args_do_not_crash(captured: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = captured
    log.info("two %s %s", "args-only-one")
    assert "two %s %s" in stream.getvalue()
