from typing import Any, Literal, final

from peerwire._core.secp256k1 import Secp256k1SecretKey

MIN_PACKET_SIZE: int
MAX_PACKET_SIZE: int
MAX_REQUEST_ID: int
SESSION_CACHE_SIZE: int
MAX_PENDING_CHALLENGES: int
WHOAREYOU_SIZE: int

# A message is (kind, req_id, args); args per kind: PING (enr_seq,), PONG (enr_seq, ip, port),
# FINDNODE (distances,), NODES (total, records), TALKREQ (protocol, request), TALKRESP (response,).
_Message = tuple[int, bytes, tuple[Any, ...]]
_Decoded = tuple[Literal["message", "unknown", "whoareyou", "not_discv5"], bytes, bytes, Any, bytes | None]

def encode_message(kind: int, req_id: bytes, args: tuple[Any, ...]) -> bytes: ...
def decode_message(plaintext: bytes) -> _Message: ...
def encode_message_packet(
    dest_id: bytes,
    src_id: bytes,
    iv: bytes,
    nonce: bytes,
    key: bytes,
    kind: int,
    req_id: bytes,
    args: tuple[Any, ...],
) -> bytes: ...
def encode_whoareyou_packet(
    dest_id: bytes, iv: bytes, nonce: bytes, id_nonce: bytes, enr_seq: int
) -> bytes: ...
def encode_handshake_packet(
    local_key: bytes,
    dest_pubkey: bytes,
    challenge_data: bytes,
    eph_key: bytes,
    record: bytes | None,
    iv: bytes,
    nonce: bytes,
    kind: int,
    req_id: bytes,
    args: tuple[Any, ...],
) -> tuple[bytes, bytes, bytes]: ...
def ecdh(secret_key: bytes, public_key: bytes) -> bytes: ...
def derive_keys(
    eph_key: bytes, dest_pubkey: bytes, node_id_a: bytes, node_id_b: bytes, challenge_data: bytes
) -> tuple[bytes, bytes]: ...
def id_signature(static_key: bytes, challenge_data: bytes, eph_pubkey: bytes, dest_id: bytes) -> bytes: ...
def encrypt_gcm(key: bytes, nonce: bytes, pt: bytes, ad: bytes) -> bytes: ...

@final
class Codec:
    def __new__(cls, key: bytes | Secp256k1SecretKey, record: bytes) -> Codec: ...
    @property
    def local_id(self) -> bytes: ...
    def set_local_record(self, record: bytes) -> None: ...
    def set_whoareyou_limit(self, burst: float, per_second: float) -> None: ...
    def decode(self, data: bytes, addr: str, now: float) -> _Decoded: ...
    def encode(
        self, id: bytes, addr: str, kind: int, req_id: bytes, args: tuple[Any, ...]
    ) -> tuple[bytes, bytes]: ...
    def encode_handshake(
        self,
        id: bytes,
        addr: str,
        kind: int,
        req_id: bytes,
        args: tuple[Any, ...],
        challenge: tuple[bytes, bytes, int, bytes],
        remote: bytes,
        remote_is_key: bool = False,
    ) -> tuple[bytes, bytes]: ...
    def whoareyou(
        self, id: bytes, addr: str, nonce: bytes, known_record: bytes | None, trigger_len: int, now: float
    ) -> bytes | None: ...
    def has_session(self, id: bytes, addr: str) -> bool: ...
    def session_record(self, id: bytes, addr: str) -> bytes | None: ...
    def drop_session(self, id: bytes, addr: str) -> None: ...
    def store_session(
        self, id: bytes, addr: str, write_key: bytes, read_key: bytes, record: bytes
    ) -> None: ...
    def store_challenge(
        self, id: bytes, addr: str, challenge_data: bytes, record: bytes | None, now: float
    ) -> None: ...
    def session_count(self) -> int: ...
    def challenge_count(self) -> int: ...
