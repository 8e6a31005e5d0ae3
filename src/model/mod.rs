//! The model as written: plain, serialisable data that a script builds once.
//!
//! The script layer fills these types through their validating constructors (so a bad number is
//! reported at the line that wrote it); [`validate`] then checks the whole-model rules (names that
//! must exist, weights that must not sum to zero, ...) and derives the [`Checked`] model that the
//! engine and the analyses consume. Durations are seconds (`_s`), rates are per second.

pub mod config;
pub mod dist;
pub mod limits;
pub mod outlook;
pub mod scaling;
pub mod shared;
pub mod spec;
pub mod validate;
pub mod variant;
pub mod volume;

pub use dist::{Component, Dist, DistError};
pub use limits::*;
pub use outlook::{
    Growth, GrowthMonth, GrowthRule, LoadEvent, LoadProfile, LoadShape, LoadTarget, LoadUnit,
};
pub use shared::Shared;
pub use spec::*;
pub use validate::{Checked, ModelError, ModelWarning, ValidationErrors, validate};
pub use variant::{Effort, Variant};

use serde::{Deserialize, Serialize};

/// Where in a script an item was declared, for error messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl Origin {
    /// Where this earlier declaration was, as seen from `now`: `line 4` in the same file,
    /// else `models/shop.rhai:4:3`.
    pub fn seen_from(&self, now: &Origin) -> String {
        if self.file == now.file {
            format!("line {}", self.line)
        } else {
            self.to_string()
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A whole system model: resources, endpoints, workload, objectives and scenarios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub name: String,
    /// The script it came from, if any.
    pub source: Option<String>,
    pub resources: Vec<Resource>,
    pub endpoints: Vec<Endpoint>,
    pub workload: Option<Workload>,
    /// Where the workload was declared.
    #[serde(default)]
    pub workload_origin: Option<Origin>,
    pub slos: Vec<Slo>,
    pub scenarios: Vec<Scenario>,
    pub settings: Settings,
    /// Where `model(name)` was called: model-wide errors (no workload, no endpoint) point here.
    #[serde(default)]
    pub origin: Option<Origin>,
    /// Today's load, for capacity studies (see [`outlook`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_profile: Option<LoadProfile>,
    /// The peak load the system must hold (the plan's production objective).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_target: Option<LoadTarget>,
    /// Growth hypotheses, in declaration order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub growth: Vec<Growth>,
    /// Exceptional load events, in declaration order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<LoadEvent>,
    /// What-if variants, each a whole changed copy of this model (without variants).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<Variant>,
    /// The currency of every price and the monthly budget cap, for the capacity search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub costs: Option<scaling::CostPlan>,
    /// How each priced resource can scale and what it costs, in declaration order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scaling: Vec<scaling::Scaling>,
}

impl Model {
    pub fn new(name: impl Into<String>) -> Model {
        Model {
            name: name.into(),
            source: None,
            resources: Vec::new(),
            endpoints: Vec::new(),
            workload: None,
            workload_origin: None,
            slos: Vec::new(),
            scenarios: Vec::new(),
            settings: Settings::default(),
            origin: None,
            load_profile: None,
            load_target: None,
            growth: Vec::new(),
            events: Vec::new(),
            variants: Vec::new(),
            costs: None,
            scaling: Vec::new(),
        }
    }

    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name == name)
    }

    pub fn endpoint(&self, name: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.name == name)
    }

    /// The model with the what-if change named `name` applied, if the model declares it.
    pub fn variant(&self, name: &str) -> Option<&Model> {
        self.variants
            .iter()
            .find(|v| v.name == name)
            .map(|v| &*v.model)
    }

    /// The growth hypothesis named `name`.
    pub fn growth_hypothesis(&self, name: &str) -> Option<&Growth> {
        self.growth.iter().find(|g| g.name == name)
    }

    /// A file-system friendly form of the model's name (`ebook-scene-packer-v2`).
    pub fn slug(&self) -> String {
        let mut out = String::new();
        for c in self.name.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.ends_with('-') {
                out.push('-');
            }
        }
        let out = out.trim_matches('-').to_string();
        if out.is_empty() {
            "model".to_string()
        } else {
            out
        }
    }
}

/// A named queueing resource of the system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub name: String,
    pub kind: ResourceKind,
    pub origin: Option<Origin>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResourceKind {
    Station(StationSpec),
    Proxy(ProxySpec),
    App(AppSpec),
    Database(DatabaseSpec),
    Cache(CacheSpec),
    External(ExternalSpec),
    Background(BackgroundSpec),
}

impl ResourceKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            ResourceKind::Station(_) => "station",
            ResourceKind::Proxy(_) => "proxy",
            ResourceKind::App(_) => "app",
            ResourceKind::Database(_) => "database",
            ResourceKind::Cache(_) => "cache",
            ResourceKind::External(_) => "external",
            ResourceKind::Background(_) => "background",
        }
    }
}

/// A request class: a name, a weight in the mix and the steps it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub name: String,
    /// Relative weight in the mix (Locust's `@task(5)`); 0 for an endpoint only run on start.
    pub weight: f64,
    pub steps: Vec<Step>,
    /// The app serving it; inferred by [`validate`] when the model has one app.
    pub app: Option<String>,
    /// Client-side timeout (nginx `proxy_read_timeout`), seconds.
    pub timeout_s: Option<f64>,
    pub retry: Option<RetrySpec>,
    pub origin: Option<Origin>,
    /// Bytes of one response, when the model says (for bandwidth projections; the engine does
    /// not read it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_bytes: Option<f64>,
}

/// Client retries after an error or a timeout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrySpec {
    /// Retries after the first attempt.
    pub count: u32,
    /// Wait before each retry.
    pub backoff: Dist,
}

/// One step of an endpoint's flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// CPU work on the serving app instance: waits for a core, holds it for `demand`.
    Compute { app: String, demand: Dist },
    /// A visit to a generic station; `service` overrides the station's own service time.
    Visit {
        station: String,
        service: Option<Dist>,
    },
    /// A database query: reads go to a replica (or the primary without one), writes to the primary.
    Query {
        db: String,
        op: QueryOp,
        service: Dist,
        /// Bytes a write adds to the database, when the model says (for data-volume
        /// projections; the engine does not read it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bytes: Option<f64>,
    },
    /// A cache lookup: hits with `hit_ratio`; a miss runs `miss` and then a cache set.
    CacheGet {
        cache: String,
        hit_ratio: f64,
        miss: Vec<Step>,
    },
    /// A call to an external dependency; `delay` overrides its own delay distribution.
    Call {
        external: String,
        delay: Option<Dist>,
    },
    /// Fire-and-forget: a job of `service` for a background queue; the request does not wait.
    Enqueue { queue: String, service: Dist },
    /// With `probability` runs `then`, otherwise `otherwise`.
    Branch {
        probability: f64,
        then: Vec<Step>,
        otherwise: Vec<Step>,
    },
    /// Runs `steps` `times` times in a row (the N+1 query pattern).
    Repeat { times: u32, steps: Vec<Step> },
    /// A pure delay that holds whatever the request holds (a sleep, an unmodelled call).
    Delay { delay: Dist },
    /// `inner` under a name of its own: its random streams are named by the label rather than
    /// by what it is and where (see the engine's `rng` module), so a variant that edits the steps
    /// around it keeps its draws (common random numbers). Unique within an endpoint.
    Labelled {
        label: String,
        inner: Box<Step>,
        /// Where the label was given.
        #[serde(default)]
        origin: Option<Origin>,
    },
}

/// Endpoint-level stream names a label would take over (`ep:<endpoint>/proxy` is its proxy's
/// work, `ep:<endpoint>/backoff` its retries' waits).
pub const RESERVED_LABELS: [&str; 2] = ["proxy", "backoff"];

/// Checks a step label: one name, without the `/` and `#` that separate and number the
/// generated stream names, and none of the [`RESERVED_LABELS`]. Then no label can name the
/// same stream as another step of its endpoint.
pub fn check_label(label: &str) -> Result<(), SpecError> {
    let why = if label.trim().is_empty() {
        "is empty"
    } else if label.contains(['/', '#']) {
        "contains `/` or `#`, which separate and number generated stream names"
    } else if RESERVED_LABELS.contains(&label) {
        "names one of the endpoint's own streams (`proxy`, `backoff`)"
    } else {
        return Ok(());
    };
    Err(SpecError::Invalid(format!(
        "the step label `{label}` {why}; choose a short name such as \"serialise\""
    )))
}

impl Step {
    /// A labelled `inner` (see [`Step::Labelled`]); a label on a labelled step replaces its
    /// label.
    ///
    /// # Errors
    /// A label [`check_label`] refuses.
    pub fn labelled(label: String, inner: Step, origin: Option<Origin>) -> Result<Step, SpecError> {
        check_label(&label)?;
        let inner = match inner {
            Step::Labelled { inner, .. } => inner,
            other => Box::new(other),
        };
        Ok(Step::Labelled {
            label,
            inner,
            origin,
        })
    }

    /// The step lists nested in this step: a cache miss's steps, a branch's two sides, a
    /// repeat's body, a labelled step's step (empty slices for a step with none).
    pub fn nested(&self) -> [&[Step]; 2] {
        match self {
            Step::CacheGet { miss, .. } => [miss, &[]],
            Step::Branch {
                then, otherwise, ..
            } => [then, otherwise],
            Step::Repeat { steps, .. } => [steps, &[]],
            Step::Labelled { inner, .. } => [std::slice::from_ref(&**inner), &[]],
            _ => [&[], &[]],
        }
    }

    /// Steps in a list, nested ones included (a repeat's body once), counted no further than
    /// just past `limit`: a script can build lists that would take long to count in full.
    pub fn count_within(steps: &[Step], limit: usize) -> usize {
        let mut total = 0_usize;
        for s in steps {
            total += 1;
            for inner in s.nested() {
                total = total.saturating_add(Step::count_within(inner, limit));
            }
            if total > limit {
                break;
            }
        }
        total
    }

    /// How deeply steps nest in it: 1 for a step with none inside.
    pub fn depth(&self) -> usize {
        let inner = self.nested().into_iter().flatten().map(Step::depth).max();
        1 + inner.unwrap_or(0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryOp {
    Read,
    Write,
}

/// How the system is loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Workload {
    /// Locust/k6-style virtual users: pick an endpoint by weight, wait for it, think, repeat.
    Closed {
        users: u32,
        think: Dist,
        /// Endpoint each user runs once when it starts (a login).
        on_start: Option<String>,
    },
    /// Requests arrive on their own, whatever the response times.
    Open { arrivals: Arrivals },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "process", rename_all = "snake_case")]
pub enum Arrivals {
    /// A Poisson process.
    Poisson { rate_per_s: f64 },
    /// A renewal process with this inter-arrival distribution.
    Renewal { interarrival: Dist },
}

impl Arrivals {
    pub fn rate_per_s(&self) -> f64 {
        match self {
            Arrivals::Poisson { rate_per_s } => *rate_per_s,
            Arrivals::Renewal { interarrival } => 1.0 / interarrival.mean(),
        }
    }
}

impl Workload {
    /// The load level a stage target scales: users (closed) or arrivals per second (open).
    pub fn base_level(&self) -> f64 {
        match self {
            Workload::Closed { users, .. } => f64::from(*users),
            Workload::Open { arrivals } => arrivals.rate_per_s(),
        }
    }

    pub fn is_closed(&self) -> bool {
        matches!(self, Workload::Closed { .. })
    }
}

/// A service-level objective, global (over all endpoints) or for one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    pub endpoint: Option<String>,
    pub targets: Vec<Target>,
    /// Apdex threshold T for this scope, seconds (else the global one, else the settings').
    pub apdex_t_s: Option<f64>,
    pub origin: Option<Origin>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "metric", rename_all = "snake_case")]
pub enum Target {
    /// The `percentile` (e.g. 95, 99.9) of the response time stays below `max_s`.
    Latency { percentile: f64, max_s: f64 },
    /// Failed requests / all requests stays below `max`.
    ErrorRate { max: f64 },
    /// Successful requests / all requests stays at or above `min`.
    Availability { min: f64 },
    /// The Apdex score (with the scope's threshold T) stays at or above `min`.
    Apdex { min: f64 },
}

/// A named run of the model: its load profile over time and how to report it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    /// Load level (users or arrivals/s) at time 0; defaults to the workload's own level when
    /// there are no stages, 0 otherwise (as in k6).
    pub start_level: Option<f64>,
    /// k6-style stages: each moves the level linearly to `target` over `duration_s`.
    pub stages: Vec<Stage>,
    /// Length of a stage-less (steady-state) run, seconds.
    pub duration_s: Option<f64>,
    pub warmup: Warmup,
    pub origin: Option<Origin>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub duration_s: f64,
    pub target: f64,
}

/// Which initial part of a run the steady-state figures leave out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Warmup {
    /// Stage-less scenarios: MSER-5 truncation; scenarios with stages: the whole run (as k6).
    Auto,
    /// Leave out this many seconds.
    Fixed { seconds: f64 },
    /// Report the whole run.
    None,
}

/// Run-wide settings that bound the simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Cap on requests alive at once (queued or in service); arrivals beyond it are refused and
    /// counted, so an overloaded open workload keeps bounded memory.
    pub max_in_flight: u32,
    /// Width of a time-series window, seconds; `None` picks one from the run length.
    pub window_s: Option<f64>,
    /// Length of a steady-state run when a scenario gives none, seconds.
    pub default_duration_s: f64,
    /// Apdex threshold T for endpoints without an Apdex objective, seconds.
    pub apdex_t_s: f64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            max_in_flight: 100_000,
            window_s: None,
            default_duration_s: 3600.0,
            apdex_t_s: 0.5,
        }
    }
}
