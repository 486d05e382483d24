//! The STS handshake state machine: ephemeral X25519 keys, HKDF, the signed challenge.
use ed25519_dalek::{Signer, Verifier};
use x25519_dalek::{PublicKey as XPublic, StaticSecret};

use super::{derive_secrets, has_small_order, Session, AUTH_MSG_SIZE, EPHEMERAL_MSG_SIZE};
use crate::error::{CoreError, CoreResult};

/// Where the handshake is.
pub(super) enum Stage {
    /// Waiting for the peer's 35-byte ephemeral message.
    Ephemeral,
    /// Keys derived; waiting for the peer's auth message.
    Auth {
        session: Box<Session>,
        challenge: [u8; 32],
    },
    /// Finished (or failed); the session was handed out.
    Done,
}

/// The handshake state machine.
pub struct Handshake {
    pub(super) node: ed25519_dalek::SigningKey,
    eph_secret: StaticSecret,
    eph_pub: [u8; 32],
    pub(super) stage: Stage,
    /// Decrypted bytes received during the auth stage.
    plain: Vec<u8>,
}

/// What the handshake yields.
#[derive(Debug)]
pub struct Established {
    pub session: Session,
    pub remote_public_key: [u8; 32],
    /// Plaintext that arrived after the auth message (start of the data stream).
    pub leftover: Vec<u8>,
}

impl Handshake {
    /// Start with a node key seed; `ephemeral` injects the X25519 secret (tests only),
    /// otherwise one is drawn from the OS RNG.
    pub fn new(node_seed: &[u8], ephemeral: Option<[u8; 32]>) -> CoreResult<Self> {
        Ok(Self::with_key(
            crate::keys::ed25519_from_seed(node_seed)?,
            ephemeral,
        ))
    }

    /// Start with a node key the caller already holds (no seed bytes cross a boundary).
    pub fn with_key(node: crate::keys::Ed25519SigningKey, ephemeral: Option<[u8; 32]>) -> Self {
        let eph_secret = match ephemeral {
            Some(b) => StaticSecret::from(b),
            None => StaticSecret::random_from_rng(rand::rngs::OsRng),
        };
        let eph_pub = XPublic::from(&eph_secret).to_bytes();
        Handshake {
            node,
            eph_secret,
            eph_pub,
            stage: Stage::Ephemeral,
            plain: Vec::new(),
        }
    }

    /// The 35-byte message to send first, in plaintext.
    pub fn ephemeral_message(&self) -> [u8; EPHEMERAL_MSG_SIZE] {
        let mut m = [0u8; EPHEMERAL_MSG_SIZE];
        m[..3].copy_from_slice(&[0x22, 0x0a, 0x20]);
        m[3..].copy_from_slice(&self.eph_pub);
        m
    }

    /// Process the peer's ephemeral message; returns the sealed auth frame to send.
    pub fn read_ephemeral(&mut self, msg: &[u8]) -> CoreResult<Vec<u8>> {
        if !matches!(self.stage, Stage::Ephemeral) {
            return Err(CoreError::local("ephemeral key already received"));
        }
        self.stage = Stage::Done;
        if msg.len() != EPHEMERAL_MSG_SIZE || msg[..3] != [0x22, 0x0a, 0x20] {
            return Err(CoreError::handshake(format!(
                "ephemeral key message must be 35 bytes 22 0a 20 <key>, got {} bytes starting {:02x?}",
                msg.len(),
                &msg[..msg.len().min(3)]
            )));
        }
        let mut rem = [0u8; 32];
        rem.copy_from_slice(&msg[3..]);
        if has_small_order(&rem) {
            return Err(CoreError::handshake(
                "detected low order point from remote peer",
            ));
        }
        let dh = self.eph_secret.diffie_hellman(&XPublic::from(rem));
        if !dh.was_contributory() {
            return Err(CoreError::handshake(
                "bad X25519 remote ECDH input: low order point",
            ));
        }
        let loc_is_least = self.eph_pub <= rem;
        let secrets = derive_secrets(dh.as_bytes(), loc_is_least);
        let mut session = Session::new(&secrets);
        let sig = self.node.sign(&secrets.challenge).to_bytes();
        let mut auth = Vec::with_capacity(AUTH_MSG_SIZE);
        auth.extend_from_slice(&[0x64, 0x0a, 0x20]);
        auth.extend_from_slice(self.node.verifying_key().as_bytes());
        auth.extend_from_slice(&[0x12, 0x40]);
        auth.extend_from_slice(&sig);
        let frame = session.seal(&auth)?;
        self.stage = Stage::Auth {
            session: Box::new(session),
            challenge: secrets.challenge,
        };
        Ok(frame)
    }

    /// Feed ciphertext received after the ephemeral message. `Ok(None)` means
    /// more bytes are needed; `Ok(Some(..))` means the peer is authenticated.
    pub fn read_auth(&mut self, data: &[u8]) -> CoreResult<Option<Established>> {
        let Stage::Auth { session, .. } = &mut self.stage else {
            return Err(CoreError::local("auth message not expected now"));
        };
        if let Err(e) = session.open_into(data, &mut self.plain) {
            self.stage = Stage::Done;
            return Err(e);
        }
        if self.plain.is_empty() {
            return Ok(None);
        }
        if self.plain[0] != 0x64 {
            self.stage = Stage::Done;
            return Err(CoreError::handshake(format!(
                "auth message must be 101 bytes (prefix 0x64), got prefix 0x{:02x}",
                self.plain[0]
            )));
        }
        if self.plain.len() < AUTH_MSG_SIZE {
            return Ok(None);
        }
        let Stage::Auth { session, challenge } = std::mem::replace(&mut self.stage, Stage::Done)
        else {
            return Err(CoreError::local("unreachable handshake stage"));
        };
        let m = &self.plain[..AUTH_MSG_SIZE];
        if m[1..3] != [0x0a, 0x20] || m[35..37] != [0x12, 0x40] {
            return Err(CoreError::handshake(
                "auth message must be 64 0a 20 <key> 12 40 <signature>",
            ));
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&m[3..35]);
        let sig = ed25519_dalek::Signature::from_slice(&m[37..101])
            .map_err(|_| CoreError::handshake("challenge verification failed"))?;
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&key)
            .map_err(|_| CoreError::handshake("remote public key is not a valid ed25519 point"))?;
        vk.verify(&challenge, &sig)
            .map_err(|_| CoreError::handshake("challenge verification failed"))?;
        let leftover = self.plain.split_off(AUTH_MSG_SIZE);
        self.plain.clear();
        Ok(Some(Established {
            session: *session,
            remote_public_key: key,
            leftover,
        }))
    }

    /// Our ephemeral public key.
    pub fn ephemeral_public(&self) -> [u8; 32] {
        self.eph_pub
    }
}
