//! The Kademlia routing table (go-ethereum `table.go`, `table_reval.go`).
//!
//! Nodes are identified by their 32-byte ID plus an IP; the Python driver
//! keeps the full node objects. All timing (revalidation, refresh) takes the
//! caller's `now` in seconds; randomness comes from a seeded RNG.
use std::net::IpAddr;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::{dist_cmp, log_distance};

/// Nodes per bucket (k).
pub const BUCKET_SIZE: usize = 16;
/// `256 / 15`: distances ≤ 240 share bucket 0, one bucket each for 241..=256.
pub const N_BUCKETS: usize = 17;
/// Distances at or below this land in bucket 0.
pub const BUCKET_MIN_DISTANCE: u16 = 256 - N_BUCKETS as u16;
/// Replacement candidates kept per bucket (most recent first).
pub const MAX_REPLACEMENTS: usize = 10;
/// Nodes per /24 in one bucket: one operator cannot take over a bucket
/// (eclipse attack) from a single subnet.
pub const BUCKET_IP_LIMIT: usize = 2;
/// Nodes per /24 in the whole table, for the same reason.
pub const TABLE_IP_LIMIT: usize = 10;
/// Prefix length of the subnets counted by the IP limits.
pub const SUBNET_BITS: u32 = 24;
/// Mean revalidation interval of the fast list (seconds).
pub const REVALIDATE_INTERVAL: f64 = 3.0;
/// The slow list fires this many times less often.
pub const SLOW_REVALIDATION_FACTOR: f64 = 3.0;
/// Refresh fires at a random time in [min, max) after the previous one.
pub const REFRESH_MIN: f64 = 15.0 * 60.0;
pub const REFRESH_MAX: f64 = 30.0 * 60.0;

/// Outcome of [`Table::add`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddResult {
    Added,
    Updated,
    Replacement,
    Rejected(&'static str),
}

#[derive(Debug, Clone)]
struct Entry {
    id: [u8; 32],
    ip: IpAddr,
    added_at: f64,
    liveness: u32,
    fast: bool,
}

#[derive(Debug, Default, Clone)]
struct Bucket {
    entries: Vec<Entry>,
    replacements: Vec<Entry>,
    subnets: Vec<([u8; 16], usize)>,
}

/// Is `ip` exempt from IP limits (loopback, private, link-local)?
pub fn is_lan(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_lan(&IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

fn subnet(ip: &IpAddr) -> [u8; 16] {
    let mut out = [0u8; 16];
    match ip {
        IpAddr::V4(v4) => {
            out[0] = 4;
            out[1..4].copy_from_slice(&v4.octets()[..(SUBNET_BITS / 8) as usize]);
        }
        IpAddr::V6(v6) => {
            out[0] = 6;
            out[1..4].copy_from_slice(&v6.octets()[..(SUBNET_BITS / 8) as usize]);
        }
    }
    out
}

fn net_add(set: &mut Vec<([u8; 16], usize)>, ip: &IpAddr, limit: usize) -> bool {
    if is_lan(ip) {
        return true;
    }
    let key = subnet(ip);
    match set.iter_mut().find(|(k, _)| *k == key) {
        Some((_, n)) if *n >= limit => false,
        Some((_, n)) => {
            *n += 1;
            true
        }
        None => {
            set.push((key, 1));
            true
        }
    }
}

fn net_remove(set: &mut Vec<([u8; 16], usize)>, ip: &IpAddr) {
    if is_lan(ip) {
        return;
    }
    let key = subnet(ip);
    if let Some(i) = set.iter().position(|(k, _)| *k == key) {
        set[i].1 -= 1;
        if set[i].1 == 0 {
            set.swap_remove(i);
        }
    }
}

/// The routing table.
#[derive(Debug)]
pub struct Table {
    self_id: [u8; 32],
    buckets: Vec<Bucket>,
    subnets: Vec<([u8; 16], usize)>,
    rng: StdRng,
    bucket_size: usize,
    max_replacements: usize,
    bucket_ip_limit: usize,
    table_ip_limit: usize,
    init_done: bool,
    next_refresh: f64,
    fast_next: f64,
    slow_next: f64,
}

impl Table {
    pub fn new(self_id: [u8; 32], seed: u64) -> Self {
        Table::with_limits(
            self_id,
            seed,
            BUCKET_SIZE,
            MAX_REPLACEMENTS,
            BUCKET_IP_LIMIT,
            TABLE_IP_LIMIT,
        )
    }

    pub fn with_limits(
        self_id: [u8; 32],
        seed: u64,
        bucket_size: usize,
        max_replacements: usize,
        bucket_ip_limit: usize,
        table_ip_limit: usize,
    ) -> Self {
        Table {
            self_id,
            buckets: vec![Bucket::default(); N_BUCKETS],
            subnets: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
            bucket_size,
            max_replacements,
            bucket_ip_limit,
            table_ip_limit,
            init_done: false,
            next_refresh: 0.0,
            fast_next: 0.0,
            slow_next: 0.0,
        }
    }

    pub fn self_id(&self) -> [u8; 32] {
        self.self_id
    }

    /// Bucket index of `id` (None for our own ID).
    pub fn bucket_index(&self, id: &[u8; 32]) -> Option<usize> {
        let d = log_distance(&self.self_id, id);
        if d == 0 {
            None
        } else if d <= BUCKET_MIN_DISTANCE {
            Some(0)
        } else {
            Some(usize::from(d - BUCKET_MIN_DISTANCE - 1))
        }
    }

    fn add_ip(&mut self, b: usize, ip: &IpAddr) -> bool {
        if !net_add(&mut self.buckets[b].subnets, ip, self.bucket_ip_limit) {
            return false;
        }
        if !net_add(&mut self.subnets, ip, self.table_ip_limit) {
            net_remove(&mut self.buckets[b].subnets, ip);
            return false;
        }
        true
    }

    fn remove_ip(&mut self, b: usize, ip: &IpAddr) {
        net_remove(&mut self.buckets[b].subnets, ip);
        net_remove(&mut self.subnets, ip);
    }

    /// Add or update a node. `inbound` marks contact that came from the
    /// node itself (a Ping); such nodes wait for the first refresh.
    pub fn add(&mut self, id: [u8; 32], ip: IpAddr, now: f64, inbound: bool) -> AddResult {
        let Some(b) = self.bucket_index(&id) else {
            return AddResult::Rejected("own id");
        };
        if ip.is_unspecified() || ip.is_multicast() {
            return AddResult::Rejected("invalid ip");
        }
        if inbound && !self.init_done {
            return AddResult::Rejected("table not initialised");
        }
        if let Some(i) = self.buckets[b].entries.iter().position(|e| e.id == id) {
            let old = self.buckets[b].entries[i].ip;
            if old != ip {
                self.remove_ip(b, &old);
                if !self.add_ip(b, &ip) {
                    let restored = self.add_ip(b, &old);
                    debug_assert!(restored);
                    return AddResult::Rejected("ip limit");
                }
                let e = &mut self.buckets[b].entries[i];
                e.ip = ip;
                // An endpoint change needs a fresh liveness proof.
                e.fast = true;
            }
            return AddResult::Updated;
        }
        if self.buckets[b].entries.len() >= self.bucket_size {
            return self.add_replacement(b, id, ip, now);
        }
        if !self.add_ip(b, &ip) {
            return AddResult::Rejected("ip limit");
        }
        // A node that was waiting as a replacement is promoted.
        if let Some(i) = self.buckets[b].replacements.iter().position(|e| e.id == id) {
            let old = self.buckets[b].replacements.remove(i);
            self.remove_ip(b, &old.ip);
        }
        self.buckets[b].entries.push(Entry {
            id,
            ip,
            added_at: now,
            liveness: 0,
            fast: true,
        });
        AddResult::Added
    }

    fn add_replacement(&mut self, b: usize, id: [u8; 32], ip: IpAddr, now: f64) -> AddResult {
        if let Some(i) = self.buckets[b].replacements.iter().position(|e| e.id == id) {
            let e = self.buckets[b].replacements.remove(i);
            self.remove_ip(b, &e.ip);
        }
        if !self.add_ip(b, &ip) {
            return AddResult::Rejected("ip limit");
        }
        self.buckets[b].replacements.insert(
            0,
            Entry {
                id,
                ip,
                added_at: now,
                liveness: 0,
                fast: true,
            },
        );
        if self.buckets[b].replacements.len() > self.max_replacements {
            if let Some(last) = self.buckets[b].replacements.pop() {
                self.remove_ip(b, &last.ip);
            }
        }
        AddResult::Replacement
    }

    /// Remove a node; a random replacement takes its place. Returns the
    /// promoted replacement's ID.
    pub fn remove(&mut self, id: &[u8; 32]) -> Option<[u8; 32]> {
        let b = self.bucket_index(id)?;
        let i = self.buckets[b].entries.iter().position(|e| &e.id == id)?;
        let e = self.buckets[b].entries.remove(i);
        self.remove_ip(b, &e.ip);
        if self.buckets[b].replacements.is_empty() {
            return None;
        }
        let r = self.rng.gen_range(0..self.buckets[b].replacements.len());
        let mut rep = self.buckets[b].replacements.remove(r);
        rep.fast = true;
        let rid = rep.id;
        // The replacement's IP is already counted.
        self.buckets[b].entries.push(rep);
        Some(rid)
    }

    pub fn contains(&self, id: &[u8; 32]) -> bool {
        self.bucket_index(id)
            .is_some_and(|b| self.buckets[b].entries.iter().any(|e| &e.id == id))
    }

    pub fn len(&self) -> usize {
        self.buckets.iter().map(|b| b.entries.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every node in the table (bucket order).
    pub fn nodes(&self) -> Vec<[u8; 32]> {
        self.buckets
            .iter()
            .flat_map(|b| b.entries.iter().map(|e| e.id))
            .collect()
    }

    /// The replacement list of the bucket `id` falls in.
    pub fn replacements(&self, id: &[u8; 32]) -> Vec<[u8; 32]> {
        self.bucket_index(id)
            .map(|b| self.buckets[b].replacements.iter().map(|e| e.id).collect())
            .unwrap_or_default()
    }

    /// Up to `k` nodes closest to `target`, closest first. With
    /// `prefer_live`, nodes that passed a liveness check are used whenever
    /// any exist (geth `preferLive`).
    pub fn closest(&self, target: &[u8; 32], k: usize, prefer_live: bool) -> Vec<[u8; 32]> {
        let all = self.buckets.iter().flat_map(|b| b.entries.iter());
        let live = prefer_live && all.clone().any(|e| e.liveness > 0);
        let mut ids: Vec<[u8; 32]> = all
            .filter(|e| !live || e.liveness > 0)
            .map(|e| e.id)
            .collect();
        ids.sort_by(|a, b| dist_cmp(target, a, b));
        ids.truncate(k);
        ids
    }

    /// Up to `n` distinct random nodes.
    pub fn random_nodes(&mut self, n: usize) -> Vec<[u8; 32]> {
        let mut ids = self.nodes();
        ids.shuffle(&mut self.rng);
        ids.truncate(n);
        ids
    }

    fn entry_mut(&mut self, id: &[u8; 32]) -> Option<&mut Entry> {
        let b = self.bucket_index(id)?;
        self.buckets[b].entries.iter_mut().find(|e| &e.id == id)
    }

    /// Liveness checks passed by `id` (None if absent).
    pub fn liveness(&self, id: &[u8; 32]) -> Option<u32> {
        let b = self.bucket_index(id)?;
        self.buckets[b]
            .entries
            .iter()
            .find(|e| &e.id == id)
            .map(|e| e.liveness)
    }

    /// When `id` entered the table.
    pub fn added_at(&self, id: &[u8; 32]) -> Option<f64> {
        let b = self.bucket_index(id)?;
        self.buckets[b]
            .entries
            .iter()
            .find(|e| &e.id == id)
            .map(|e| e.added_at)
    }

    /// A revalidation ping was answered: count it, move to the slow list.
    pub fn mark_live(&mut self, id: &[u8; 32]) -> bool {
        match self.entry_mut(id) {
            Some(e) => {
                e.liveness += 1;
                e.fast = false;
                true
            }
            None => false,
        }
    }

    /// A revalidation ping went unanswered: divide the liveness count by 3;
    /// at zero the node is removed. Returns (removed, promoted replacement).
    pub fn mark_dead(&mut self, id: &[u8; 32]) -> (bool, Option<[u8; 32]>) {
        let Some(e) = self.entry_mut(id) else {
            return (false, None);
        };
        e.liveness /= 3;
        if e.liveness > 0 {
            e.fast = true;
            return (false, None);
        }
        (true, self.remove(id))
    }

    fn pick(&mut self, fast: bool) -> Option<[u8; 32]> {
        let ids: Vec<[u8; 32]> = self
            .buckets
            .iter()
            .flat_map(|b| b.entries.iter())
            .filter(|e| e.fast == fast)
            .map(|e| e.id)
            .collect();
        ids.choose(&mut self.rng).copied()
    }

    /// Nodes due for a revalidation ping at `now`: at most one from the
    /// fast list and one from the slow list, each list firing at a random
    /// time within its interval.
    pub fn due_revalidations(&mut self, now: f64) -> Vec<[u8; 32]> {
        let mut out = Vec::new();
        if now >= self.fast_next {
            self.fast_next = now + self.rng.gen_range(0.0..REVALIDATE_INTERVAL);
            out.extend(self.pick(true));
        }
        if now >= self.slow_next {
            let slow = REVALIDATE_INTERVAL * SLOW_REVALIDATION_FACTOR;
            self.slow_next = now + self.rng.gen_range(0.0..slow);
            out.extend(self.pick(false));
        }
        out
    }

    /// The earliest time a revalidation may be due.
    pub fn next_revalidation(&self) -> f64 {
        self.fast_next.min(self.slow_next)
    }

    /// Is a refresh due? (The first one is due immediately.)
    pub fn refresh_due(&self, now: f64) -> bool {
        !self.init_done || now >= self.next_refresh
    }

    /// Record a finished refresh and schedule the next one at a random time
    /// in [15 min, 30 min). The first refresh opens the table to inbound
    /// contacts.
    pub fn refresh_done(&mut self, now: f64) -> f64 {
        self.init_done = true;
        self.next_refresh = now + self.rng.gen_range(REFRESH_MIN..REFRESH_MAX);
        self.next_refresh
    }

    pub fn init_done(&self) -> bool {
        self.init_done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn id_at(self_id: &[u8; 32], d: u16, salt: u8) -> [u8; 32] {
        // Flip bit (d-1) counted from the right, then vary low bits.
        let mut id = *self_id;
        let bit = usize::from(d - 1);
        id[31 - bit / 8] ^= 1 << (bit % 8);
        if bit >= 8 {
            id[31] ^= salt;
        }
        id
    }

    fn pub_ip(a: u8, b: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(8, a, b, 1))
    }

    #[test]
    fn buckets_and_ip_limits() {
        let me = [0x11u8; 32];
        let mut t = Table::new(me, 1);
        assert_eq!(t.bucket_index(&id_at(&me, 256, 0)), Some(16));
        assert_eq!(t.bucket_index(&id_at(&me, 241, 0)), Some(1));
        assert_eq!(t.bucket_index(&id_at(&me, 240, 0)), Some(0));
        assert_eq!(t.bucket_index(&me), None);
        // 2 per /24 per bucket
        assert_eq!(
            t.add(id_at(&me, 256, 1), pub_ip(1, 1), 0.0, false),
            AddResult::Added
        );
        assert_eq!(
            t.add(id_at(&me, 256, 2), pub_ip(1, 1), 0.0, false),
            AddResult::Added
        );
        assert_eq!(
            t.add(id_at(&me, 256, 3), pub_ip(1, 1), 0.0, false),
            AddResult::Rejected("ip limit")
        );
        // LAN exempt
        let lan = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(t.add(id_at(&me, 256, 3), lan, 0.0, false), AddResult::Added);
        // inbound only after the first refresh
        assert!(matches!(
            t.add(id_at(&me, 255, 1), pub_ip(2, 2), 0.0, true),
            AddResult::Rejected(_)
        ));
        t.refresh_done(0.0);
        assert_eq!(
            t.add(id_at(&me, 255, 1), pub_ip(2, 2), 0.0, true),
            AddResult::Added
        );
    }

    #[test]
    fn full_bucket_replacements_and_removal() {
        let me = [0u8; 32];
        let mut t = Table::new(me, 7);
        for s in 0..16u8 {
            assert_eq!(
                t.add(id_at(&me, 256, s), pub_ip(s, 0), 0.0, false),
                AddResult::Added
            );
        }
        for s in 16..30u8 {
            assert_eq!(
                t.add(id_at(&me, 256, s), pub_ip(s, 0), 0.0, false),
                AddResult::Replacement
            );
        }
        assert_eq!(t.replacements(&id_at(&me, 256, 0)).len(), MAX_REPLACEMENTS);
        let promoted = t.remove(&id_at(&me, 256, 0)).unwrap();
        assert!(t.contains(&promoted));
        assert_eq!(t.len(), 16);
        // liveness
        let x = id_at(&me, 256, 1);
        t.mark_live(&x);
        t.mark_live(&x);
        t.mark_live(&x);
        assert_eq!(t.mark_dead(&x), (false, None));
        assert!(t.mark_dead(&x).0);
        assert!(!t.contains(&x));
    }

    #[test]
    fn closest_and_refresh() {
        let me = [0u8; 32];
        let mut t = Table::new(me, 3);
        for s in 0..10u8 {
            t.add(id_at(&me, 250 - u16::from(s), s), pub_ip(s, 9), 0.0, false);
        }
        let target = id_at(&me, 241, 0);
        let c = t.closest(&target, 3, false);
        assert_eq!(c.len(), 3);
        assert!(c
            .windows(2)
            .all(|w| dist_cmp(&target, &w[0], &w[1]).is_le()));
        assert!(t.refresh_due(0.0));
        let next = t.refresh_done(100.0);
        assert!((100.0 + REFRESH_MIN..100.0 + REFRESH_MAX).contains(&next));
        assert!(!t.refresh_due(101.0));
        assert!(t.refresh_due(next));
    }
}
