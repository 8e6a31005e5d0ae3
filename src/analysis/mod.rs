//! Analyses on top of the model and the simulation results: closed-form queueing results
//! ([`queueing`]), offered load and bounds for `capsim check` ([`capacity`]), and service-level
//! objectives judged against estimates ([`slo`]).

pub mod breaks;
pub mod capacity;
pub mod queueing;
pub mod slo;
