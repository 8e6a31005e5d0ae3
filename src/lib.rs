//! capsim: capacity planning by discrete-event simulation.
//!
//! Data flows one way: [`script`] -> [`model`] -> [`engine`] -> [`stats`] -> [`montecarlo`]
//! -> [`study`] -> [`analysis`] -> [`report`]; [`format`] says every number the same way.
//! The Rhai script builds a plain [`model::Model`] once; the engine never calls back into it.

pub mod analysis;
pub mod cli;
pub mod engine;
pub mod format;
pub mod model;
pub mod montecarlo;
pub mod report;
pub mod script;
pub mod stats;
pub mod study;
