//! What a study tells whoever watches it: how many cells it expects, the step it is in, and
//! each cell as it settles. The command line draws a progress bar from it; the library draws
//! nothing.

/// A study's watcher. Every method does nothing by default.
pub trait Watch: Send + Sync {
    /// The study expects about `cells` cells in all (an upper estimate: a search that stops
    /// early, or a level seen twice, settles fewer).
    fn expect(&self, _cells: u64) {}
    /// The study starts the step `name` (`projections`, `what-ifs`, ...).
    fn step(&self, _name: &str) {}
    /// One more cell has settled its verdict.
    fn settled(&self) {}
}

/// Watches nothing.
pub struct Unwatched;

impl Watch for Unwatched {}
