//! Studies: the same model run many times, with changes and at other loads, to answer the
//! questions a single run cannot: how far the system can go (the [`breaking`] point), what
//! each change buys (paired what-ifs), when growth breaks it (projections).
//!
//! A study is made of [`cell`]s: a subject (the model, or a variant of it, each validated and
//! compiled once) at a load level, all under one plan and one seed, so that every comparison
//! between cells is paired by common random numbers. The event loop is the one every run uses.

pub mod accounting;
pub mod breach;
pub mod breaking;
pub mod capacity;
pub mod cell;
pub mod cells;
pub mod outlook;
pub mod paired;
pub mod points;
pub mod progress;
pub mod run;
pub mod volume;
pub mod whatif;

pub use breaking::BreakingPoint;
pub use cell::{Cell, CellPlan, Holds, Subject};
pub use cells::Cells;
