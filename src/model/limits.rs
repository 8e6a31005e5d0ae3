//! The supported ranges of a model, in one place.
//!
//! A model file may come from anyone, and a number the engine cannot honour must be refused
//! where it is written rather than run into a wrong answer, a hang or unbounded memory. Each
//! constant says why it has the value it has; `docs/model-language.md` (Units, Limits) lists
//! them for users. Every count maximum stays below `u32::MAX`, which the engine uses as its
//! "unlimited" sentinel, so no finite count can silently become unlimited.

/// Longest duration, seconds (about 31.7 years). Event times are f64 seconds: at 1e9 s their
/// resolution is about 0.1 µs, and beyond it a microsecond service time is lost to rounding.
/// `sec(1e9)` itself is accepted: a step that never completes within any run is modelled so.
pub const MAX_DURATION_S: f64 = 1e9;

/// Shortest run, seconds: one nanosecond, the gap between arrivals at the highest rate. A run
/// is cut into up to 2000 windows (500 for the warm-up pilots); a length near the smallest
/// positive float makes them 0 s wide, and a window that never ends fills the memory.
pub const MIN_RUN_S: f64 = 1e-9;

/// Highest rate, events per second: one event per nanosecond. Beyond it inter-arrival gaps
/// fall below the resolution of event times late in a long run.
pub const MAX_RATE_PER_S: f64 = 1e9;

/// Most virtual users of a closed workload (and most users a scenario's level may ask for):
/// the engine keeps one record per user and schedules each start and stop.
pub const MAX_USERS: u32 = 1_000_000;

/// Most instances of one app: the engine lays out workers, cores and a pool per instance.
pub const MAX_INSTANCES: u32 = 1_000;

/// Most read replicas of one database: each is a node with its own queue.
pub const MAX_REPLICAS: u32 = 1_000;

/// Most units serving in parallel at one resource: servers, workers, cpus, connections, pool
/// size, an external's limit. Far above any real host, far below the engine's sentinel.
pub const MAX_PARALLEL: u32 = 1_000_000;

/// Largest finite waiting room (`queue`, `backlog`); leave the option out for unlimited.
pub const MAX_CAPACITY: u32 = 1_000_000_000;

/// Most repetitions of one `repeat` or `.times(n)`.
pub const MAX_TIMES: u32 = 1_000_000_000;

/// Most client retries of an endpoint.
pub const MAX_RETRIES: u32 = 1_000;

/// Most phases of an `erlang(k, mean)`: beyond it the distribution is a constant for every
/// purpose (its squared coefficient of variation is 1 / k).
pub const MAX_ERLANG_K: u32 = 1_000_000;

/// Highest `max_in_flight`: the engine keeps a record (on the order of 100 bytes) per request
/// alive, per thread, so this bounds a run's memory at about a gigabyte per thread.
pub const MAX_IN_FLIGHT: u32 = 10_000_000;

/// Most endpoints of a model.
pub const MAX_ENDPOINTS: usize = 1_000;

/// Most declared resources of a model.
pub const MAX_RESOURCES: usize = 1_000;

/// Most app instances over all apps of a model.
pub const MAX_TOTAL_INSTANCES: u64 = 1_000;

/// Most steps over all endpoints, nested steps included; a `repeat` body counts once.
pub const MAX_STEPS: usize = 100_000;

/// Most steps one request may run (repeat counts multiplied through their nesting, the longer
/// side of each branch): a request is simulated in one go, so more would look like a hang.
pub const MAX_STEPS_PER_REQUEST: f64 = 1e9;

/// Most scenarios of a model: each one's results (histograms per endpoint and resource) stay
/// in memory until the reports are written.
pub const MAX_SCENARIOS: usize = 100;

/// Most user starts and stops the stages of one closed scenario imply (a ramp from 0 to 1000
/// users is 1000): the engine computes them all before the run starts.
pub const MAX_USER_CHANGES: f64 = 10_000_000.0;

/// Most parts of one distribution as the engine expands it: 1 per distribution plus an
/// empirical's samples, a mixture's components counted each time they are used (a mixture of
/// two copies of a mixture of two copies of ... doubles at each level).
pub const MAX_DIST_PARTS: usize = 2_000_000;

/// Most distribution parts over all the uses in a model (steps, resources' default times, think
/// time, backoff, inter-arrival): the engine compiles a sampler, with its own copy of the
/// samples, for each use.
pub const MAX_MODEL_DIST_PARTS: usize = 10_000_000;

/// Most steps a script may build in all, copies included (`branch(p, steps)` copies `steps`):
/// values the script only holds are not yet in the model, so the model-wide maxima cannot
/// bound them.
pub const MAX_SCRIPT_STEPS: usize = 1_000_000;

/// Most objectives (`m.slo` calls) of a model.
pub const MAX_SLOS: usize = 10_000;

/// Longest name of a model, resource, endpoint or scenario, in characters: handles and steps
/// carry their resource's name, and a script may copy them many times.
pub const MAX_NAME_CHARS: usize = 200;

/// Longest a script may run, wall-clock seconds: the operation limit stops a loop of cheap
/// operations within seconds, this stops one whose operations are each slow (Rhai measures a
/// whole list each time it grows, so filling a long list one item at a time is quadratic).
pub const MAX_SCRIPT_SECONDS: u64 = 30;

/// Longest horizon of a growth hypothesis, and latest month of an event, in months (ten
/// years): each hypothesis stores a multiplier per month, and a capacity projection beyond a
/// decade is no longer a projection.
pub const MAX_HORIZON_MONTHS: u32 = 120;

/// Most growth hypotheses of a model: a study runs the model for each.
pub const MAX_GROWTH_HYPOTHESES: usize = 20;

/// Most exceptional load events of a model: a study runs the model at each one's peak.
pub const MAX_EVENTS: usize = 100;

/// Most what-if variants of a model: each is a whole copy of the model, and a study runs each.
pub const MAX_VARIANTS: usize = 100;

/// Most steps over all the variants' models together (each variant is a whole copy of the
/// model, so this bounds their memory: ten times [`MAX_STEPS`]).
pub const MAX_VARIANT_STEPS: usize = 1_000_000;

/// Highest monthly growth (of today's trend, users or traffic per user), as a fraction: +1000 %
/// a month. Lower bound: more than -1 (a decline of 100 % a month leaves no load at all).
pub const MAX_MONTHLY_GROWTH: f64 = 10.0;

/// Largest load multiplier (a growth hypothesis's at any month, an event's): a million times
/// today's load, the ratio of the largest closed workload (1 000 000 users) to the smallest.
pub const MAX_LOAD_MULTIPLIER: f64 = 1e6;

/// Largest byte size (a response, a write, a database): a petabyte, below 2^53 so that every
/// whole number of bytes is exact in a 64-bit float.
pub const MAX_BYTES: f64 = 1e15;

/// Deepest nesting of steps (a branch in a cache miss in a repeat) or of distributions (a
/// mixture of mixtures): a script loop can build any depth, and deeper trees would exhaust the
/// stack of the code that walks them.
pub const MAX_NESTING: usize = 32;

const _: () = assert!(
    MAX_USERS < u32::MAX
        && MAX_INSTANCES < u32::MAX
        && MAX_REPLICAS < u32::MAX
        && MAX_PARALLEL < u32::MAX
        && MAX_CAPACITY < u32::MAX
        && MAX_TIMES < u32::MAX
        && MAX_RETRIES < u32::MAX
        && MAX_ERLANG_K < u32::MAX
        && MAX_IN_FLIGHT < u32::MAX,
    "every count stays below the engine's `unlimited` sentinel"
);

/// [`MAX_DURATION_S`] as messages write it.
pub const MAX_DURATION_TEXT: &str = "1e9 s (about 31.7 years)";

/// [`MIN_RUN_S`] as messages write it.
pub const MIN_RUN_TEXT: &str = "1e-9 s (1 ns)";

/// [`MAX_RATE_PER_S`] as messages write it.
pub const MAX_RATE_TEXT: &str = "1e9 per second";
