//! A fixed-capacity history: the oldest entry makes room for the newest, so a week-long run
//! holds no more than a short one.

use std::collections::VecDeque;

#[derive(Clone, Debug)]
pub struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
}

impl<T> Ring<T> {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            items: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    pub fn push(&mut self, item: T) {
        if self.items.len() == self.capacity {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }

    /// Inserts keeping the ring ordered by `key`, for entries that may arrive late. An entry
    /// older than everything in a full ring is dropped, as it would be the next to go.
    pub fn insert_ordered_by<K: Ord>(&mut self, item: T, key: impl Fn(&T) -> K) {
        let k = key(&item);
        let position = self
            .items
            .iter()
            .rposition(|existing| key(existing) <= k)
            .map_or(0, |i| i + 1);
        if self.items.len() == self.capacity {
            if position == 0 {
                return;
            }
            self.items.pop_front();
            self.items.insert(position - 1, item);
        } else {
            self.items.insert(position, item);
        }
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn last(&self) -> Option<&T> {
        self.items.back()
    }

    pub fn last_mut(&mut self) -> Option<&mut T> {
        self.items.back_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;

    #[test]
    fn keeps_only_the_newest_entries() {
        let mut ring = Ring::new(3);
        for i in 1..=5 {
            ring.push(i);
        }
        assert_eq!(ring.iter().copied().collect::<Vec<_>>(), [3, 4, 5]);
        assert_eq!(ring.len(), 3);
    }

    #[test]
    fn late_entries_are_inserted_in_order() {
        let mut ring = Ring::new(4);
        for i in [1, 2, 4, 3] {
            ring.insert_ordered_by(i, |x| *x);
        }
        assert_eq!(ring.iter().copied().collect::<Vec<_>>(), [1, 2, 3, 4]);
        ring.insert_ordered_by(5, |x| *x);
        assert_eq!(ring.iter().copied().collect::<Vec<_>>(), [2, 3, 4, 5]);
        // Older than everything kept: it would be evicted first, so it is not kept.
        ring.insert_ordered_by(1, |x| *x);
        assert_eq!(ring.iter().copied().collect::<Vec<_>>(), [2, 3, 4, 5]);
        ring.insert_ordered_by(3, |x| *x);
        assert_eq!(ring.iter().copied().collect::<Vec<_>>(), [3, 3, 4, 5]);
    }
}
