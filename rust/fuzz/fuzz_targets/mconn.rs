//! MConnection receive side (`Reassembler::feed`): sized packets, channel
//! lookup, per-channel reassembly bounded by `recv_message_capacity`, the
//! connection's receive budget and the assembly start times.
//!
//! Invariant: `feed` yields events or a typed error (unknown channel,
//! message over capacity or budget, oversize packet), never panics, in any
//! cut of the stream; every delivered message fits its channel's capacity;
//! the bytes held never exceed the budget; an assembly start is known
//! exactly while some message is incomplete.
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
    // 0 (no budget) up to about 16 KiB, from the same byte that plans the cuts.
    let budget = usize::from(plan) * 64;
    let mut r = Reassembler::new(&CHANNELS, 1024 + 32)
        .expect("distinct channels")
        .with_budget(budget);
    let mut out = Vec::new();
    let mut now = 0.0;
    let _ = common::feed_in_pieces(rest, &[plan, plan / 3, 0], |piece| {
        now += 1.0;
        let fed = r.feed(piece, now, &mut out);
        assert!(budget == 0 || r.buffered() <= budget);
        assert_eq!(r.oldest_assembly().is_some(), r.assembling() > 0);
        fed
    });
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
