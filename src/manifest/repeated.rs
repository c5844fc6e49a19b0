//! Finding a resource that the manifest names twice, in one group or in
//! two, without a hash map of every entry: a hash map of 1,000,000 entries
//! and their locations, grown by rehashing, took 230 MB; this sorts a list
//! of 12-byte places instead (12 MB) and reads each entry's identity from
//! the entries themselves.
//!
//! The answer is the one an in-order walk would give: the first place, in
//! the manifest's order, that names a resource already named, with the
//! place that named it first.

use std::cmp::Ordering;

/// One naming of a resource: its entry (group, then entry within the
/// group, in the manifest's order) and which of the entry's regions. A
/// manifest is at most [`super::MAX_MANIFEST_BYTES`] (128 MiB), so it has
/// far fewer than 2^32 of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    pub group: u32,
    pub entry: u32,
    pub region: u32,
}

/// A resource named again: where, and where it was named first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeat {
    pub again: Place,
    pub first: Place,
}

/// The first repeat among `places` in the manifest's order, where
/// `identity` says which resource a place names (places with equal
/// identities name the same resource).
pub fn first_repeat<K: Ord>(
    mut places: Vec<Place>,
    identity: impl Fn(&Place) -> K,
) -> Option<Repeat> {
    // Each resource's places together, each run in the manifest's order;
    // with the place as the tie-break every element is distinct, so the
    // unstable sort (which needs no scratch buffer) gives one order.
    places.sort_unstable_by(|a, b| match identity(a).cmp(&identity(b)) {
        Ordering::Equal => a.cmp(b),
        other => other,
    });
    let mut earliest: Option<Repeat> = None;
    let mut run_start = 0;
    for index in 1..places.len() {
        if identity(&places[index]) != identity(&places[run_start]) {
            run_start = index;
            continue;
        }
        // Only the run's second place can be the first repeat of it.
        if index == run_start + 1 && earliest.is_none_or(|e| places[index] < e.again) {
            earliest = Some(Repeat {
                again: places[index],
                first: places[run_start],
            });
        }
    }
    earliest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(group: u32, entry: u32, region: u32) -> Place {
        Place {
            group,
            entry,
            region,
        }
    }

    /// The answer that `again` (group, entry, region) names what `first`
    /// named.
    fn repeat(again: (u32, u32, u32), first: (u32, u32, u32)) -> Option<Repeat> {
        Some(Repeat {
            again: place(again.0, again.1, again.2),
            first: place(first.0, first.1, first.2),
        })
    }

    /// The places of `names` (group, entry, region, resource) and their
    /// first repeat, the resource read from the names.
    fn repeat_of(names: &[(u32, u32, u32, &str)]) -> Option<Repeat> {
        let places = names.iter().map(|n| place(n.0, n.1, n.2)).collect();
        let identity = |p: &Place| {
            names
                .iter()
                .find(|n| place(n.0, n.1, n.2) == *p)
                .map(|n| n.3)
        };
        first_repeat(places, identity)
    }

    /// What walking in order and remembering what was seen would answer.
    fn walked(names: &[(u32, u32, u32, &str)]) -> Option<Repeat> {
        let mut in_order = names.to_vec();
        in_order.sort();
        for (index, name) in in_order.iter().enumerate() {
            if let Some(first) = in_order[..index].iter().find(|n| n.3 == name.3) {
                return Some(Repeat {
                    again: place(name.0, name.1, name.2),
                    first: place(first.0, first.1, first.2),
                });
            }
        }
        None
    }

    #[test]
    fn distinct_resources_repeat_nothing() {
        let names = [(0, 0, 0, "a"), (0, 1, 0, "b"), (1, 0, 0, "c")];
        assert_eq!(repeat_of(&names), None, "no resource is named twice");
    }

    #[test]
    fn a_repeat_is_found_with_its_first_place() {
        let names = [(0, 0, 0, "a"), (0, 1, 0, "b"), (1, 0, 0, "a")];
        assert_eq!(
            repeat_of(&names),
            repeat((1, 0, 0), (0, 0, 0)),
            "`a` again in group 1, first in group 0"
        );
    }

    #[test]
    fn the_earliest_repeat_in_the_manifest_order_wins_over_an_earlier_identity() {
        // `z` sorts last but repeats first in the manifest; `a` sorts
        // first but repeats later.
        let names = [
            (0, 0, 0, "z"),
            (0, 1, 0, "a"),
            (0, 2, 0, "z"),
            (1, 0, 0, "a"),
        ];
        assert_eq!(
            repeat_of(&names),
            repeat((0, 2, 0), (0, 0, 0)),
            "the walk meets `z` again before `a`"
        );
    }

    #[test]
    fn a_third_naming_points_back_to_the_first_not_the_second() {
        let names = [(2, 5, 0, "a"), (0, 3, 0, "a"), (1, 0, 0, "a")];
        assert_eq!(
            repeat_of(&names),
            repeat((1, 0, 0), (0, 3, 0)),
            "given out of order, still the first two in the manifest's order"
        );
    }

    #[test]
    fn one_entry_naming_a_region_twice_repeats_itself() {
        let names = [(0, 0, 0, "a"), (0, 0, 1, "a")];
        assert_eq!(
            repeat_of(&names),
            repeat((0, 0, 1), (0, 0, 0)),
            "the entry's second region names it again"
        );
    }

    #[test]
    fn agrees_with_an_in_order_walk_on_many_mixed_manifests() {
        // Every manifest of 3 groups × 3 entries × 2 regions whose resources
        // come from a small alphabet, picked by a simple generator.
        let alphabet = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"];
        let mut state: u32 = 7;
        for round in 0..500usize {
            let mut names = Vec::new();
            for group in 0..3 {
                for entry in 0..3 {
                    for region in 0..2 {
                        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                        let letter = alphabet[(state >> 16) as usize % (4 + round % 9)];
                        names.push((group, entry, region, letter));
                    }
                }
            }
            // Given in a scrambled order: the answer must not depend on it.
            let shift = round % names.len();
            names.rotate_left(shift);
            assert_eq!(
                repeat_of(&names),
                walked(&names),
                "round {round}: {names:?}"
            );
        }
    }
}
