//! Regression tests for issue 12 (hardening): limits a hostile peer hits.
use peerwire_core::discv4;
use peerwire_core::hash::{Digest, Keccak256};
use peerwire_core::rlpx::frame::Session;

fn rlpx_pair() -> (Session, Session) {
    let mut e = Keccak256::new();
    Digest::update(&mut e, b"e");
    let mut i = Keccak256::new();
    Digest::update(&mut i, b"i");
    let a = Session::with_macs(&[7; 32], &[9; 32], e.clone(), i.clone(), [1; 64]);
    let b = Session::with_macs(&[7; 32], &[9; 32], i, e, [2; 64]);
    (a, b)
}

/// Item 2: a header declaring a 16 MiB body, followed by a trickle, must not
/// make the reader reserve the declared size.
#[test]
fn partial_frame_memory_follows_received_bytes() {
    let (mut a, mut b) = rlpx_pair();
    let mut wire = Vec::new();
    a.seal(0x10, &vec![0x5a; 16 * 1024 * 1024 - 64], &mut wire)
        .unwrap();
    let mut out = Vec::new();
    // header + MAC + a few body bytes, then 1 KiB at a time
    b.feed(&wire[..40], &mut out).unwrap();
    assert!(b.mid_frame());
    assert!(
        b.buffered_capacity() < 64 * 1024,
        "{}",
        b.buffered_capacity()
    );
    let mut fed = 40;
    for _ in 0..512 {
        b.feed(&wire[fed..fed + 1024], &mut out).unwrap();
        fed += 1024;
    }
    assert!(out.is_empty());
    assert!(
        b.buffered_capacity() <= 2 * fed + 64 * 1024,
        "reserved {} for {fed} received bytes",
        b.buffered_capacity()
    );
    b.feed(&wire[fed..], &mut out).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].payload.len(), 16 * 1024 * 1024 - 64);
}

/// A big snappy message (either way) must not leave its scratch buffer held.
#[test]
fn big_snappy_messages_leave_no_scratch_behind() {
    let (mut a, mut b) = rlpx_pair();
    a.set_snappy(true);
    b.set_snappy(true);
    let mut wire = Vec::new();
    let noise: Vec<u8> = (0..8 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    a.seal(0x10, &noise, &mut wire).unwrap();
    assert!(
        a.buffered_capacity() < 2 * 1024 * 1024,
        "{}",
        a.buffered_capacity()
    );
    let mut out = Vec::new();
    b.feed(&wire, &mut out).unwrap();
    assert_eq!(out[0].payload, noise);
    assert!(
        b.buffered_capacity() < 2 * 1024 * 1024,
        "{}",
        b.buffered_capacity()
    );
}

/// discv4 detail: geth reads expiry as int64, so ts >= 2^63 is in the past.
#[test]
fn discv4_expiry_is_signed_like_geth() {
    let now = 1_700_000_000i64;
    assert!(!discv4::expired(now as u64 + 20, now));
    assert!(!discv4::expired(now as u64, now));
    assert!(discv4::expired(now as u64 - 1, now));
    assert!(discv4::expired(1 << 63, now));
    assert!(discv4::expired(u64::MAX, now));
    assert!(discv4::expired((1 << 63) + now as u64 + 20, now));
    assert!(!discv4::expired((1 << 63) - 1, now));
}
