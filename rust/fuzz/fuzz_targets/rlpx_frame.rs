//! RLPx frames: header (size, MAC) and body (code, payload, snappy), as
//! `Session::feed` reads them from the socket in arbitrary pieces.
//!
//! Input: flags byte, piece plan byte, then records `len(1) || frame-data`
//! that a peer session seals as raw frame data (so MACs are valid and the
//! fuzzer reaches the code/snappy decoders), followed by any raw trailing
//! bytes (bad MACs, truncated frames).
//! Invariant: `feed` never panics; it returns messages or a typed error, and
//! after an error the session stays failed. Without snappy, every decoded
//! message is exactly `split_code(frame-data)` of a sealed record. The bytes
//! buffered for a partial frame never exceed what was received (memory
//! follows the bytes, not the declared length).
#![no_main]
#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use peerwire_core::rlpx::frame::{split_code, Message};

fuzz_target!(|data: &[u8]| {
    let [flags, plan, rest @ ..] = data else {
        return;
    };
    let (mut tx, mut rx) = common::rlpx_pair();
    let snappy = flags & 1 == 1;
    rx.set_snappy(snappy);
    if flags & 2 == 2 {
        rx.set_max_frame_size(usize::from(flags >> 2) * 16);
    }
    let mut wire = Vec::new();
    let mut sealed = Vec::new();
    let mut rest = rest;
    while let Some((&len, tail)) = rest.split_first() {
        if len == 0xff {
            // Raw trailing bytes: whatever follows goes on the wire as is.
            wire.extend_from_slice(tail);
            break;
        }
        let n = usize::from(len).min(tail.len());
        let (frame_data, tail) = tail.split_at(n);
        tx.seal_frame_data(frame_data, &mut wire)
            .expect("small frames seal");
        sealed.push(frame_data.to_vec());
        rest = tail;
    }
    let mut out: Vec<Message> = Vec::new();
    let mut received = 0usize;
    let res = common::feed_in_pieces(&wire, &[*plan, *plan, 0], |piece| {
        received += piece.len();
        let r = rx.feed(piece, &mut out);
        assert!(rx.buffered() <= received, "buffered more than received");
        r
    });
    if res.is_err() {
        assert!(
            rx.feed(b"x", &mut out).is_err(),
            "a failed session stays failed"
        );
    }
    if !snappy {
        for (msg, frame_data) in out.iter().zip(&sealed) {
            let (code, payload) = split_code(frame_data).expect("decoded means valid code");
            assert_eq!(msg.code, code);
            assert_eq!(msg.payload, payload);
        }
    }
});
