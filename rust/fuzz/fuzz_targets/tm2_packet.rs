//! MConnection packets (amino `Any`: Ping, Pong, Msg) and the sized framing
//! around them (`split_packets`, `decode_packet`).
//!
//! Invariant: both return packets or a typed error, never panic; the byte
//! count `split_packets` reports never exceeds the buffer; a decoded Msg
//! re-encodes with `put_msg` to a packet that decodes to the same Msg.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::tm2::packet::{decode_packet, put_msg, split_packets, Packet};

fuzz_target!(|data: &[u8]| {
    let Some((&max, rest)) = data.split_first() else {
        return;
    };
    if let Ok((packets, used)) = split_packets(rest, usize::from(max) * 8 + 1) {
        assert!(used <= rest.len());
        for p in packets {
            if let Packet::Msg {
                channel_id,
                eof,
                bytes,
            } = p
            {
                let mut out = Vec::new();
                put_msg(&mut out, channel_id, eof, bytes);
                let (again, n) = split_packets(&out, usize::MAX).expect("own packet decodes");
                assert_eq!(n, out.len());
                assert_eq!(again, vec![p]);
            }
        }
    }
    let _ = decode_packet(rest);
});
