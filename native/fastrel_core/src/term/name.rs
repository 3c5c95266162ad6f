// SPDX-License-Identifier: Apache-2.0
//! An atom's characters, as [`crate::term::Term::Atom`] holds them.
//!
//! Release files are mostly atoms: module, application and registered names, repeated in
//! a boot script's `primLoad` lists and again in each `{application, load, ...}`. Nearly
//! all are shorter than 23 bytes. Kept inline, they are made, cloned, compared and dropped
//! without the allocator; as owned `String`s they were a third of `make_script`'s time.
//! Longer names (rare: `erts_dirty_process_signal_handler`) live on the heap.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// The longest name kept inline, in bytes: what fits beside the tag and the length in
/// the 24 bytes a `String` would take.
const INLINE: usize = 22;

/// An atom's name: UTF-8 text, compared, ordered and hashed as its `str`.
#[derive(Clone)]
pub struct Name(Repr);

#[derive(Clone)]
enum Repr {
    Inline(u8, [u8; INLINE]),
    Heap(Box<str>),
}

impl Name {
    /// The name as text.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // SAFETY: an inline buffer's first `len` bytes are a whole `&str` copied in by
            // `From<&str>`, so they are valid UTF-8; nothing else writes them.
            Repr::Inline(len, buf) => unsafe { std::str::from_utf8_unchecked(&buf[..*len as usize]) },
            Repr::Heap(s) => s,
        }
    }
}

impl From<&str> for Name {
    #[inline]
    fn from(s: &str) -> Name {
        if s.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            Name(Repr::Inline(s.len() as u8, buf))
        } else {
            Name(Repr::Heap(s.into()))
        }
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        if s.len() <= INLINE {
            Name::from(s.as_str())
        } else {
            Name(Repr::Heap(s.into_boxed_str()))
        }
    }
}

impl From<&String> for Name {
    fn from(s: &String) -> Name {
        Name::from(s.as_str())
    }
}

impl Deref for Name {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Name {
    #[inline]
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_names_read_back_and_compare_as_text() {
        let words = ["", "a", "kernel", "application_controller", "erts_dirty_process_signal_handler", "å∂ç"];
        for w in words {
            let n = Name::from(w);
            assert_eq!(n.as_str(), w);
            assert_eq!(Name::from(w.to_string()), n);
            assert_eq!(n, w);
        }
        // Exactly at the inline limit and one past it.
        let at = "x".repeat(INLINE);
        let past = "x".repeat(INLINE + 1);
        assert_eq!(Name::from(at.as_str()).as_str(), at);
        assert_eq!(Name::from(past.as_str()).as_str(), past);
        let (a, b) = (Name::from(at.as_str()), Name::from(past.as_str()));
        assert!(a < b);
        assert_eq!(std::mem::size_of::<Name>(), std::mem::size_of::<String>());
    }

    #[test]
    fn a_multibyte_name_that_fills_the_buffer_stays_whole() {
        // 7 three-byte characters: 21 bytes inline; 8 would be 24, on the heap.
        let seven = "∂".repeat(7);
        let eight = "∂".repeat(8);
        assert_eq!(Name::from(seven.as_str()).chars().count(), 7);
        assert_eq!(Name::from(eight.as_str()).chars().count(), 8);
    }
}
