//! Analyses on top of the model and the simulation results: closed-form queueing results
//! ([`queueing`]), offered load and bounds for `capsim check` ([`capacity`]), and service-level
//! objectives judged against estimates ([`slo`]) with their error [`budget`], and a run's [`results`]: the document every
//! report renders, with everything computed.

pub mod breaks;
pub mod budget;
pub mod capacity;
pub mod queueing;
pub mod results;
pub mod slo;
pub mod timing;
