//! A strict streaming reader for token headers and claims: it reads a few named members of a
//! JSON object straight from the decoded bytes and walks every other value without building it,
//! refusing exactly what [`crate::parse_json_object`] refuses (syntax, a non-object top level,
//! duplicate keys at any depth, serde_json's nesting limit).
//!
//! Keys and strings borrow from the input where they have no escapes. What allocates: a captured
//! string with escapes, a captured array, and one key list per object that has members not
//! named (a tree instead of a list for an object of many keys).

use alloc::borrow::Cow;
use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::json::{self, JsonError, DUPLICATE};

/// A captured member value: just enough of its shape for the typed checks that follow.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Member<'de> {
    /// A JSON string.
    Str(Cow<'de, str>),
    /// A non-negative JSON integer that fits a `u64`.
    U64(u64),
    /// An array whose elements are all strings (possibly none).
    Strs(Vec<Cow<'de, str>>),
    /// Anything else (walked and checked, not kept).
    Other,
}

/// Reads the JSON object in `bytes`, capturing the members named in `names` (in that order) and
/// walking every other value. Refuses what [`json::parse_object`] refuses, with the same
/// [`JsonError`]: the first problem in the text wins, as when the whole object is built.
pub(crate) fn read_object<'de, const N: usize>(
    bytes: &'de [u8],
    names: &[&'static str; N],
) -> Result<[Option<Member<'de>>; N], JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let top = de
        .deserialize_any(Object { names })
        .and_then(|v| de.end().map(|()| v));
    match top {
        Ok(Some(members)) => Ok(members),
        Ok(None) => Err(JsonError::NotAnObject),
        Err(e) => Err(json::error_kind(&e)),
    }
}

/// An object key, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(String::from(v))))
    }
    fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v)))
    }
}

/// The keys one object has named so far: a short list, then a tree once the object is large
/// (so a hostile object of many keys costs `n log n` comparisons, not `n²`).
enum Keys<'de> {
    Few(Vec<Cow<'de, str>>),
    Many(BTreeSet<Cow<'de, str>>),
}

/// Above this many keys an object's keys move from a list to a tree.
const FEW_KEYS: usize = 16;

impl<'de> Keys<'de> {
    const fn new() -> Self {
        Keys::Few(Vec::new())
    }

    /// Records `key`; `false` when the object already named it.
    fn insert(&mut self, key: Cow<'de, str>) -> bool {
        match self {
            Keys::Few(list) => {
                if list.contains(&key) {
                    return false;
                }
                list.push(key);
                if list.len() > FEW_KEYS {
                    // One by one rather than `collect()`, which sorts first: the same set, without
                    // a sort routine in the wasm builds (about 4 KB).
                    let mut set = BTreeSet::new();
                    for key in list.drain(..) {
                        set.insert(key);
                    }
                    *self = Keys::Many(set);
                }
                true
            }
            Keys::Many(set) => set.insert(key),
        }
    }
}

fn duplicate<E: de::Error>() -> E {
    E::custom(DUPLICATE)
}

/// The top-level value: `Some` captured members for an object, `None` for any other (valid,
/// walked) JSON value.
struct Object<'n, const N: usize> {
    names: &'n [&'static str; N],
}

impl<'de, const N: usize> Visitor<'de> for Object<'_, N> {
    type Value = Option<[Option<Member<'de>>; N]>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members: [Option<Member<'de>>; N] = core::array::from_fn(|_| None);
        // Only the keys of unnamed members: a named member's slot says whether it was seen.
        let mut others = Keys::new();
        while let Some(Key(key)) = map.next_key()? {
            match self.names.iter().position(|n| *n == key) {
                Some(i) => {
                    if members[i].is_some() {
                        return Err(duplicate());
                    }
                    members[i] = Some(map.next_value()?);
                }
                None => {
                    if !others.insert(key) {
                        return Err(duplicate());
                    }
                    map.next_value::<Walked>()?;
                }
            }
        }
        Ok(Some(members))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Walk.visit_seq(seq).map(|()| None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// Any JSON value, walked to its end and checked for duplicate keys, never built.
struct Walked;

impl<'de> Deserialize<'de> for Walked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Walk).map(|()| Walked)
    }
}

struct Walk;

impl<'de> Visitor<'de> for Walk {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = Keys::new();
        while let Some(Key(key)) = map.next_key()? {
            if !keys.insert(key) {
                return Err(duplicate());
            }
            map.next_value::<Walked>()?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<Walked>()?.is_some() {}
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Member<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Capture)
    }
}

/// Captures a named member's value as a [`Member`].
struct Capture;

impl<'de> Visitor<'de> for Capture {
    type Value = Member<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Member<'de>, E> {
        Ok(Member::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Member<'de>, E> {
        Ok(Member::Str(Cow::Owned(String::from(v))))
    }
    fn visit_string<E>(self, v: String) -> Result<Member<'de>, E> {
        Ok(Member::Str(Cow::Owned(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Member<'de>, E> {
        Ok(Member::U64(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Member<'de>, A::Error> {
        // Every element is read to the end, even after one that is not a string: a duplicate
        // key further on must still be refused.
        let mut strings = Some(Vec::new());
        while let Some(item) = seq.next_element()? {
            match (&mut strings, item) {
                (Some(list), Member::Str(s)) => list.push(s),
                _ => strings = None,
            }
        }
        Ok(strings.map_or(Member::Other, Member::Strs))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Member<'de>, A::Error> {
        Walk.visit_map(map).map(|()| Member::Other)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Member<'de>, E> {
        Ok(Member::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Member<'de>, E> {
        Ok(Member::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Member<'de>, E> {
        Ok(Member::Other)
    }
    fn visit_unit<E>(self) -> Result<Member<'de>, E> {
        Ok(Member::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `>` → `==`, `<`, `>=` in `Keys::insert`: an object's keys stay a list up to `FEW_KEYS`
    /// and move to a tree with the next one (so a hostile object of many keys costs `n log n`),
    /// and duplicates are found either way.
    #[test]
    fn keys_move_to_a_tree_after_few_keys() {
        let mut keys = Keys::new();
        for i in 0..FEW_KEYS {
            assert!(keys.insert(Cow::Owned(alloc::format!("k{i}"))));
            assert!(
                matches!(&keys, Keys::Few(list) if list.len() == i + 1),
                "{i}"
            );
        }
        assert!(!keys.insert(Cow::Borrowed("k0")));
        assert!(matches!(&keys, Keys::Few(_)));
        assert!(keys.insert(Cow::Borrowed("one more")));
        assert!(matches!(&keys, Keys::Many(set) if set.len() == FEW_KEYS + 1));
        assert!(!keys.insert(Cow::Borrowed("k0")));
        assert!(!keys.insert(Cow::Borrowed("one more")));
        assert!(keys.insert(Cow::Borrowed("and another")));
    }
}
