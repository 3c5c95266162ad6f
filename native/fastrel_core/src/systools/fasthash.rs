// SPDX-License-Identifier: Apache-2.0
//! Hash sets and maps of names (modules, applications, files) with FNV-1a instead of
//! std's SipHash. SipHash guards a server against collision floods from strangers; the
//! names here come from the user's own release, and SipHash's set-up and rounds cost
//! several times more than FNV on a ten-byte name, once per module per call.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a, 64 bits.
#[derive(Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A `HashSet` hashed with [`Fnv`].
pub(crate) type FastSet<T> = HashSet<T, BuildHasherDefault<Fnv>>;

/// A `HashMap` hashed with [`Fnv`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_find_what_was_put_in() {
        let mut s: FastSet<&str> = FastSet::default();
        for w in ["kernel", "stdlib", "sasl", ""] {
            assert!(s.insert(w));
        }
        assert!(!s.insert("kernel"));
        assert!(s.contains("sasl") && !s.contains("ssl"));
    }
}
