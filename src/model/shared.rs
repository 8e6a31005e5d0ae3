//! [`Shared`]: an immutable list that clones in O(1).
//!
//! A script may use one distribution of a million samples in a thousand steps; if each use
//! copied the samples, a few lines of script would take gigabytes. The samples of an empirical
//! distribution and the components of a mixture are therefore shared, not copied. Serialised,
//! a `Shared` is a plain JSON array.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// An immutable, cheaply cloned list (an `Arc<[T]>`) that reads as a slice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "Vec<T>", into = "Vec<T>")]
#[serde(bound(
    serialize = "T: Clone + Serialize",
    deserialize = "T: Deserialize<'de>"
))]
pub struct Shared<T>(Arc<[T]>);

impl<T> From<Vec<T>> for Shared<T> {
    fn from(v: Vec<T>) -> Shared<T> {
        Shared(v.into())
    }
}

impl<T: Clone> From<Shared<T>> for Vec<T> {
    fn from(s: Shared<T>) -> Vec<T> {
        s.0.to_vec()
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: Clone> Shared<T> {
    /// An owned copy, for a consumer that keeps its own (the engine's samplers).
    pub fn into_boxed_slice(self) -> Box<[T]> {
        self.0.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_their_items_and_serialise_as_an_array() {
        let a = Shared::from(vec![1.0, 2.0]);
        let b = a.clone();
        assert!(std::ptr::eq(a.as_ptr(), b.as_ptr()));
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, "[1.0,2.0]");
        let back: Shared<f64> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        assert_eq!(&*back.into_boxed_slice(), &[1.0, 2.0]);
    }
}
