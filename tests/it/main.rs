//! capsim's integration tests: one binary, one module per concern.

mod analytic;
mod breakdown;
mod breaks;
mod capacity;
mod capacity_cli;
mod cli;
mod conservation;
mod corpus;
mod determinism;
mod errors;
mod fuzz;
mod memory;
mod models;
mod partials;
mod rigor;
mod sharing;
mod streams;
mod study;
mod support;
mod trust;
