//! The discrete-event simulation engine.
//!
//! [`Program::compile`] turns a checked model into flat instructions and resources;
//! [`simulate`] runs one replication of one scenario and reports to an [`Observer`].

pub mod events;
pub mod observer;
pub mod program;
pub mod rng;
pub mod sampler;
pub mod sharing;
pub mod sim;
pub mod workload;

pub use observer::{ErrorKind, Observer, Outcome};
pub use program::{Program, ResKind, ResourceInfo, UNLIMITED};
pub use sim::{RunInfo, SimError, simulate};
pub use workload::{LevelFn, ScenarioPlan};
