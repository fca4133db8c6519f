//! The mock's tables: rows in creation order, found by id, and bounded. A table holds at
//! most its limit of rows ([`super::MockConfig::store_limit`]); creating one more evicts the
//! oldest, which then answers as an object never created (404) and leaves the lists. A
//! long-lived mock (a soak test, a day-long sandbox) so keeps its memory and its latency flat.

use std::collections::{BTreeMap, HashMap};

/// Rows in creation order, found by id, at most `limit` of them.
#[derive(Debug)]
pub(crate) struct Table<T> {
    next: u64,
    rows: BTreeMap<u64, (String, T)>,
    /// foldhash rather than SipHash: every request hashes an id. Its seed is random, and
    /// a table holds at most `limit` rows, so the few keys a client chooses (the
    /// single-use processor tokens) cannot be made to collide, nor pile up.
    ids: HashMap<String, u64, foldhash::fast::RandomState>,
    limit: usize,
}

impl<T> Table<T> {
    /// An empty table that keeps at most `limit` rows (at least one).
    pub fn new(limit: usize) -> Self {
        Self {
            next: 0,
            rows: BTreeMap::new(),
            ids: HashMap::default(),
            limit: limit.max(1),
        }
    }

    /// Stores `row` under `id` (replacing a row with that id), evicting the oldest rows
    /// past the limit.
    pub fn insert(&mut self, id: String, row: T) {
        let seq = self.next;
        self.next += 1;
        if let Some(old) = self.ids.insert(id.clone(), seq) {
            self.rows.remove(&old);
        }
        self.rows.insert(seq, (id, row));
        while self.rows.len() > self.limit {
            if let Some((_, (evicted, _))) = self.rows.pop_first() {
                self.ids.remove(&evicted);
            }
        }
    }

    pub fn get(&self, id: &str) -> Option<&T> {
        self.ids
            .get(id)
            .and_then(|s| self.rows.get(s))
            .map(|(_, row)| row)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        self.ids
            .get(id)
            .and_then(|s| self.rows.get_mut(s))
            .map(|(_, row)| row)
    }

    pub fn remove(&mut self, id: &str) -> Option<T> {
        let seq = self.ids.remove(id)?;
        self.rows.remove(&seq).map(|(_, row)| row)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The rows, oldest first.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.rows.values().map(|(_, row)| row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_evicts_its_oldest_row_and_forgets_its_id() {
        let mut t = Table::new(2);
        t.insert("a".into(), 1);
        t.insert("b".into(), 2);
        t.insert("c".into(), 3);
        assert_eq!(t.len(), 2);
        assert_eq!(t.get("a"), None, "the oldest is gone");
        assert_eq!(t.values().copied().collect::<Vec<_>>(), [2, 3]);
        // Replacing a row makes it the newest: it outlives an older one.
        t.insert("b".into(), 20);
        t.insert("d".into(), 4);
        assert_eq!(t.get("c"), None);
        assert_eq!(t.values().copied().collect::<Vec<_>>(), [20, 4]);
        assert_eq!(t.remove("b"), Some(20));
        assert_eq!(t.remove("b"), None);
        assert_eq!(t.len(), 1);
        // Ids of evicted rows are not kept: the index is as small as the table.
        assert_eq!(t.ids.len(), 1);
        *t.get_mut("d").unwrap() = 5;
        assert_eq!(t.get("d"), Some(&5));
    }

    #[test]
    fn a_limit_of_zero_keeps_one_row() {
        let mut t = Table::new(0);
        t.insert("a".into(), 1);
        assert_eq!(t.get("a"), Some(&1));
    }
}
