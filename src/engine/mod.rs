//! The discrete-event simulation engine.
//!
//! [`Program::compile`] turns a checked model into flat instructions and resources;
//! [`Program::verify`] checks a program before [`simulate`] trusts it, and [`simulate`] runs one
//! replication of one scenario and reports to an [`Observer`].

pub mod events;
pub mod observer;
pub mod parts;
pub mod program;
pub mod rng;
pub mod sampler;
pub mod sharing;
pub mod sim;
pub mod verify;
pub mod workload;

pub use observer::{ErrorKind, Observer, Outcome};
pub use parts::{Part, Spent};
pub use program::{Program, ResKind, ResourceInfo, UNLIMITED};
pub use sim::{RunInfo, SimError, simulate};
pub use verify::ProgramError;
pub use workload::{LevelFn, ScenarioPlan};
