//! capsim: capacity planning by discrete-event simulation.
//!
//! Data flows one way: [`script`] -> [`model`] -> [`engine`] -> [`stats`] -> [`analysis`] ->
//! [`report`]. The Rhai script builds a plain [`model::Model`] once; the engine never calls back
//! into it.

pub mod model;
