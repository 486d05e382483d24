//! A small bounded LRU map (O(log n) per operation) for the session cache.
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

pub(crate) struct Lru<K, V> {
    cap: usize,
    tick: u64,
    map: HashMap<K, (V, u64)>,
    order: BTreeMap<u64, K>,
}

impl<K: Hash + Eq + Clone, V> Lru<K, V> {
    pub(crate) fn new(cap: usize) -> Self {
        Lru {
            cap: cap.max(1),
            tick: 0,
            map: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    fn touch(&mut self, key: &K) {
        self.tick += 1;
        if let Some((_, t)) = self.map.get_mut(key) {
            self.order.remove(t);
            *t = self.tick;
            self.order.insert(self.tick, key.clone());
        }
    }

    /// Look up and mark as most recently used.
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.touch(key);
        self.map.get_mut(key).map(|(v, _)| v)
    }

    /// Look up without changing the order.
    pub(crate) fn peek(&self, key: &K) -> Option<&V> {
        self.map.get(key).map(|(v, _)| v)
    }

    /// Insert (or replace), evicting the least recently used entry when full.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        if let Some((_, t)) = self.map.remove(&key) {
            self.order.remove(&t);
        }
        while self.map.len() >= self.cap {
            let Some((_, old)) = self.order.pop_first() else {
                break;
            };
            self.map.remove(&old);
        }
        self.tick += 1;
        self.order.insert(self.tick, key.clone());
        self.map.insert(key, (value, self.tick));
    }

    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        let (v, t) = self.map.remove(key)?;
        self.order.remove(&t);
        Some(v)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::Lru;

    #[test]
    fn evicts_least_recently_used() {
        let mut l = Lru::new(2);
        l.insert(1, "a");
        l.insert(2, "b");
        assert!(l.get_mut(&1).is_some());
        l.insert(3, "c");
        assert_eq!(l.len(), 2);
        assert!(l.peek(&2).is_none());
        assert!(l.peek(&1).is_some() && l.peek(&3).is_some());
    }
}
