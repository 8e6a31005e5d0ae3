//! Names of a flow's random streams, from what each step is rather than where it is.
//!
//! A step's stream is named by its endpoint, the blocks it sits in and its own kind and
//! resource, numbered among the steps of the same kind and resource in its block:
//! `ep:GET /api/releases/read mysql#2` is the second read on `mysql` of the flow,
//! `ep:GET /api/releases/repeat#1/compute flask#1` the first compute in its first repeat. A
//! labelled step is `ep:<endpoint>/<label>` wherever it sits, and takes no number. Inserting or
//! removing a step then renames only the later steps of the same kind and resource in the same
//! block, and none that is labelled: a what-if that edits a flow keeps the other steps' draws.

use crate::model::{QueryOp, Step};
use std::collections::BTreeMap;

/// The prefix of every stream of an endpoint's flow: `ep:<endpoint>`.
pub(super) fn flow(endpoint: &str) -> String {
    format!("ep:{endpoint}")
}

/// Numbers the steps of one block (a flow, a repeat's body, a branch's side, a cache miss's
/// steps) by kind and resource, in order.
#[derive(Debug, Default)]
pub(super) struct Block {
    seen: BTreeMap<String, u32>,
}

impl Block {
    /// The name of the next step `s` of the block named `block`, in the flow named `flow`.
    pub(super) fn name(&mut self, flow: &str, block: &str, s: &Step) -> String {
        if let Step::Labelled { label, .. } = s {
            return format!("{flow}/{label}");
        }
        let what = what(s);
        let n = self.seen.entry(what.clone()).or_insert(0);
        *n += 1;
        format!("{block}/{what}#{n}")
    }
}

/// A step's kind and resource as stream names say them: `read mysql`, `compute flask`, `repeat`.
fn what(s: &Step) -> String {
    match s {
        Step::Compute { app, .. } => format!("compute {app}"),
        Step::Visit { station, .. } => format!("visit {station}"),
        Step::Query { db, op, .. } => match op {
            QueryOp::Read => format!("read {db}"),
            QueryOp::Write => format!("write {db}"),
        },
        Step::CacheGet { cache, .. } => format!("get {cache}"),
        Step::Call { external, .. } => format!("call {external}"),
        Step::Enqueue { queue, .. } => format!("enqueue {queue}"),
        Step::Branch { .. } => "branch".to_string(),
        Step::Repeat { .. } => "repeat".to_string(),
        Step::Delay { .. } => "delay".to_string(),
        Step::Labelled { inner, .. } => what(inner),
    }
}
