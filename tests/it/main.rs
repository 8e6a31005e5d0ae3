//! capsim's integration tests: one binary, one module per concern.

mod analytic;
mod conservation;
mod determinism;
mod support;
