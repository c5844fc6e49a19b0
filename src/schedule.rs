//! Orders work so that the calls in flight spread over the rate limiter's
//! buckets. Each (action, region) has its own limit, at the cloud and in the
//! client; work taken in its natural order would go through one bucket at a
//! time and leave the others idle.

use std::collections::{BTreeMap, VecDeque};

/// `items` reordered to take turns between the buckets `bucket` puts them
/// in; within a bucket the order is kept.
pub fn round_robin<T, K: Ord>(items: Vec<T>, bucket: impl Fn(&T) -> K) -> Vec<T> {
    let total = items.len();
    let mut queues: BTreeMap<K, VecDeque<T>> = BTreeMap::new();
    for item in items {
        queues.entry(bucket(&item)).or_default().push_back(item);
    }
    let mut order = Vec::with_capacity(total);
    while order.len() < total {
        for queue in queues.values_mut() {
            order.extend(queue.pop_front());
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_take_turns_and_keep_their_order() {
        let items = vec![("a", 1), ("a", 2), ("a", 3), ("b", 4), ("c", 5)];
        let order: Vec<i32> = round_robin(items, |(bucket, _)| *bucket)
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        assert_eq!(order, [1, 4, 5, 2, 3]);
    }
}
