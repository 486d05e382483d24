//! MConnection receive side (`Reassembler::feed`): sized packets, channel
//! lookup, per-channel reassembly bounded by `recv_message_capacity`.
//!
//! Invariant: `feed` yields events or a typed error (unknown channel,
//! message over capacity, oversize packet), never panics, in any cut of the
//! stream; every delivered message fits its channel's capacity.
#![no_main]
#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use peerwire_core::tm2::mconn::{Event, Reassembler};

const CHANNELS: [(u8, usize); 3] = [(0x00, 64), (0x20, 4096), (0x30, 22020096)];

fuzz_target!(|data: &[u8]| {
    let Some((&plan, rest)) = data.split_first() else {
        return;
    };
    let mut r = Reassembler::new(&CHANNELS, 1024 + 32).expect("distinct channels");
    let mut out = Vec::new();
    let _ = common::feed_in_pieces(rest, &[plan, plan / 3, 0], |piece| r.feed(piece, &mut out));
    for ev in out {
        if let Event::Message(ch, msg) = ev {
            let cap = CHANNELS
                .iter()
                .find(|c| c.0 == ch)
                .expect("known channel")
                .1;
            assert!(msg.len() <= cap);
        }
    }
});
