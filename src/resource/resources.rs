//! The resources of an inventory: one list sorted by key, a resource a
//! key, found by binary search. Not a map: a `BTreeMap` of 1,000,000
//! resources held each key twice (in the map and in the resource) in nodes
//! of about 130 bytes a resource, against the list's 88; and a list can be
//! handed back a slice at a time while a plan is made from its end
//! ([`Resources::release_from`]), so that the inventory and the plan's
//! changes are never held whole at once.

use super::{Resource, ResourceKey};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources(Vec<Resource>);

/// How much room at the end of the list [`Resources::release_from`] lets
/// pile up before giving it back: small beside a large inventory, large
/// enough that it is given back a few dozen times at most.
const RELEASE_STEP: usize = 32_768;

impl Resources {
    /// The resources read, in any order; of two with one key, either is
    /// kept (a resource read twice is the same resource).
    pub fn from_list(mut list: Vec<Resource>) -> Resources {
        // In place: a stable sort would borrow room for half the list.
        list.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        list.dedup_by(|a, b| a.key == b.key);
        list.shrink_to_fit();
        Resources(list)
    }

    /// Where the resource of `key` is in [`Resources::as_slice`].
    pub fn position(&self, key: &ResourceKey) -> Option<usize> {
        self.0.binary_search_by(|r| r.key.cmp(key)).ok()
    }

    pub fn get(&self, key: &ResourceKey) -> Option<&Resource> {
        self.position(key).map(|at| &self.0[at])
    }

    pub fn get_mut(&mut self, key: &ResourceKey) -> Option<&mut Resource> {
        self.position(key).map(|at| &mut self.0[at])
    }

    /// In key order.
    pub fn values(&self) -> std::slice::Iter<'_, Resource> {
        self.0.iter()
    }

    /// In key order; a key must not be changed.
    pub fn values_mut(&mut self) -> std::slice::IterMut<'_, Resource> {
        self.0.iter_mut()
    }

    /// In key order.
    pub fn as_slice(&self) -> &[Resource] {
        &self.0
    }

    /// Drops the resources from `at` on, once no longer needed, giving
    /// their room back to the system as it adds up (a list this large has
    /// its own mapping, which shrinking returns page by page).
    pub fn release_from(&mut self, at: usize) {
        if self.0.len() > at && self.0.capacity() - at >= RELEASE_STEP {
            self.0.truncate(at);
            self.0.shrink_to_fit();
        }
    }
}

/// What only the tests use: they build inventories from pairs and read
/// them as maps.
#[cfg(test)]
impl Resources {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains_key(&self, key: &ResourceKey) -> bool {
        self.position(key).is_some()
    }

    /// Each resource under its key, in key order, as a map's `iter`.
    pub fn iter(&self) -> impl Iterator<Item = (&ResourceKey, &Resource)> {
        self.0.iter().map(|r| (&r.key, r))
    }
}

#[cfg(test)]
impl std::ops::Index<&ResourceKey> for Resources {
    type Output = Resource;

    fn index(&self, key: &ResourceKey) -> &Resource {
        self.get(key).expect("a resource of the inventory")
    }
}

/// As a map would be collected: of two pairs with one key, the later.
#[cfg(test)]
impl FromIterator<(ResourceKey, Resource)> for Resources {
    fn from_iter<I: IntoIterator<Item = (ResourceKey, Resource)>>(pairs: I) -> Resources {
        let map: std::collections::BTreeMap<ResourceKey, Resource> = pairs.into_iter().collect();
        Resources(map.into_values().collect())
    }
}

/// Each resource under its key, in key order, as a map's `into_iter`.
#[cfg(test)]
impl IntoIterator for Resources {
    type Item = (ResourceKey, Resource);
    type IntoIter = std::iter::Map<std::vec::IntoIter<Resource>, fn(Resource) -> Self::Item>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter().map(|r| (r.key.clone(), r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::ResourceType;

    fn resource(id: &str, name: &str) -> Resource {
        Resource {
            key: ResourceKey {
                rtype: ResourceType::Instance,
                region: "cn-hangzhou".into(),
                id: id.into(),
            },
            name: name.into(),
            group_id: "rg-1".into(),
            tags: crate::resource::Tags::default(),
        }
    }

    fn ids(resources: &Resources) -> Vec<&str> {
        resources.values().map(|r| &*r.key.id).collect()
    }

    #[test]
    fn resources_are_held_in_key_order_one_a_key_and_found_by_key() {
        let list = Resources::from_list(vec![
            resource("i-c", "c"),
            resource("i-a", "a"),
            resource("i-b", "b"),
            resource("i-a", "a"),
        ]);
        assert_eq!(ids(&list), ["i-a", "i-b", "i-c"], "sorted, once each");
        let b = resource("i-b", "").key;
        assert_eq!(list.position(&b), Some(1), "found where it is");
        assert_eq!(&*list[&b].name, "b", "indexed by key");
        assert!(
            !list.contains_key(&resource("i-d", "").key),
            "an absent key is not found"
        );
    }

    #[test]
    fn collected_from_pairs_the_later_of_one_key_wins_as_in_a_map() {
        let pairs = [
            resource("i-b", "first"),
            resource("i-a", "a"),
            resource("i-b", "second"),
        ]
        .into_iter()
        .map(|r| (r.key.clone(), r));
        let list: Resources = pairs.collect();
        assert_eq!(ids(&list), ["i-a", "i-b"], "sorted, once each");
        assert_eq!(&*list.values().nth(1).unwrap().name, "second", "the later");
    }

    #[test]
    fn released_room_is_given_back_once_it_adds_up() {
        let count = RELEASE_STEP * 2;
        let mut list = Resources::from_list(
            (0..count)
                .map(|n| resource(&format!("i-{n:06}"), ""))
                .collect(),
        );
        list.release_from(count - 1);
        assert_eq!(list.len(), count, "a little is kept until it adds up");
        list.release_from(RELEASE_STEP);
        assert_eq!(list.len(), RELEASE_STEP, "the end is dropped");
        assert!(
            list.0.capacity() < count,
            "and its room given back: capacity {}",
            list.0.capacity()
        );
        assert_eq!(
            &*list.values().last().unwrap().key.id,
            format!("i-{:06}", RELEASE_STEP - 1),
            "the start is kept"
        );
    }
}
