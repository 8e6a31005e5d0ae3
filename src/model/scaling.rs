//! What a model declares about how it can grow and what that costs: per resource, its scaling
//! options (horizontal: more instances, replicas, nodes or workers; vertical: more workers per
//! instance, a bigger pool, more concurrency per node, a bigger instance type), each node's
//! monthly price, the lead time of each kind of change; and model-wide, the currency and an
//! optional monthly budget cap.
//!
//! Today's configuration is the model as written: every option's current value is read off
//! the resource, so the declaration cannot disagree with the model it prices. The capacity
//! search ([`crate::study::capacity`]) walks the configurations these options span in order of
//! cost; [`super::config`] builds the model of one configuration.

use super::spec::SpecError;
use super::{Origin, ResourceKind};
use serde::{Deserialize, Serialize};

/// Days in an average month (365.25 / 12): lead times are given in days and months counted
/// from today.
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// What one scaling option changes on its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Knob {
    /// An app's instances (horizontal).
    Instances,
    /// A database's read replicas (horizontal).
    Replicas,
    /// A cache's or a station's servers (horizontal).
    Servers,
    /// A background queue's workers (horizontal), or an app's workers per instance
    /// (vertical).
    Workers,
    /// An app's pool size per instance (vertical).
    Pool,
    /// A database's queries at once per node, or a proxy's connections (vertical).
    Connections,
}

impl Knob {
    pub const ALL: [Knob; 6] = [
        Knob::Instances,
        Knob::Replicas,
        Knob::Servers,
        Knob::Workers,
        Knob::Pool,
        Knob::Connections,
    ];

    /// The key a script writes.
    pub fn word(self) -> &'static str {
        match self {
            Knob::Instances => "instances",
            Knob::Replicas => "replicas",
            Knob::Servers => "servers",
            Knob::Workers => "workers",
            Knob::Pool => "pool",
            Knob::Connections => "connections",
        }
    }

    /// The unit in a sentence: `instance`, `replica`, …
    pub fn unit(self, one: bool) -> &'static str {
        match (self, one) {
            (Knob::Instances, true) => "instance",
            (Knob::Instances, false) => "instances",
            (Knob::Replicas, true) => "replica",
            (Knob::Replicas, false) => "replicas",
            (Knob::Servers, true) => "server",
            (Knob::Servers, false) => "servers",
            (Knob::Workers, true) => "worker",
            (Knob::Workers, false) => "workers",
            (Knob::Pool, true) => "pooled connection",
            (Knob::Pool, false) => "pooled connections",
            (Knob::Connections, true) => "connection",
            (Knob::Connections, false) => "connections",
        }
    }
}

/// Whether a knob adds nodes (horizontal, each priced as a node) or grows each node
/// (vertical, priced per unit per node).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Horizontal,
    Vertical,
}

/// The knobs a resource of this kind offers, each with its direction.
pub fn knobs_of(kind: &ResourceKind) -> &'static [(Knob, Direction)] {
    use Direction::*;
    match kind {
        ResourceKind::App(_) => &[
            (Knob::Instances, Horizontal),
            (Knob::Workers, Vertical),
            (Knob::Pool, Vertical),
        ],
        ResourceKind::Database(_) => &[(Knob::Replicas, Horizontal), (Knob::Connections, Vertical)],
        ResourceKind::Cache(_) | ResourceKind::Station(_) => &[(Knob::Servers, Horizontal)],
        ResourceKind::Background(_) => &[(Knob::Workers, Horizontal)],
        ResourceKind::Proxy(_) => &[(Knob::Connections, Vertical)],
        ResourceKind::External(_) => &[],
    }
}

/// The direction of `knob` on a resource of this kind.
///
/// # Errors
/// The kind has no such knob; the message names the knobs it has.
pub fn direction(kind: &ResourceKind, knob: Knob) -> Result<Direction, SpecError> {
    let offered = knobs_of(kind);
    if let Some(&(_, dir)) = offered.iter().find(|(k, _)| *k == knob) {
        return Ok(dir);
    }
    let words: Vec<&str> = offered.iter().map(|(k, _)| k.word()).collect();
    let choices = if words.is_empty() {
        "none: give it a price only".to_string()
    } else {
        words.join(", ")
    };
    Err(SpecError::Invalid(format!(
        "{} has no `{}` to scale (options: {choices})",
        a_kind(kind),
        knob.word()
    )))
}

/// The current value of `knob` on a resource of this kind, if it has one.
pub fn current(kind: &ResourceKind, knob: Knob) -> Option<u32> {
    match (kind, knob) {
        (ResourceKind::App(a), Knob::Instances) => Some(a.instances),
        (ResourceKind::App(a), Knob::Workers) => Some(a.workers),
        (ResourceKind::App(a), Knob::Pool) => a.pool.as_ref().map(|p| p.size),
        (ResourceKind::Database(d), Knob::Replicas) => Some(d.replicas),
        (ResourceKind::Database(d), Knob::Connections) => Some(d.connections),
        (ResourceKind::Cache(c), Knob::Servers) => Some(c.servers),
        (ResourceKind::Station(s), Knob::Servers) => Some(s.servers),
        (ResourceKind::Background(b), Knob::Workers) => Some(b.workers),
        (ResourceKind::Proxy(p), Knob::Connections) => p.connections,
        _ => None,
    }
}

/// The nodes a resource of this kind runs on, each priced at the node price: an app's
/// instances, a database's primary and replicas, a cache's or a station's servers, a
/// background queue's workers; one for a proxy or an external service.
pub fn nodes(kind: &ResourceKind) -> u32 {
    match kind {
        ResourceKind::App(a) => a.instances,
        ResourceKind::Database(d) => 1 + d.replicas,
        ResourceKind::Cache(c) => c.servers,
        ResourceKind::Station(s) => s.servers,
        ResourceKind::Background(b) => b.workers,
        ResourceKind::Proxy(_) | ResourceKind::External(_) => 1,
    }
}

/// The kind with its article, for a message: `an app`, `a database`.
pub fn a_kind(kind: &ResourceKind) -> String {
    let name = kind.type_name();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

/// One scaling option: the values a knob may take, what a unit costs, how long a change takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingOption {
    pub knob: Knob,
    pub direction: Direction,
    pub min: u32,
    pub max: u32,
    /// Values go from `min` by `step` (today's value is always one of them).
    pub step: u32,
    /// Monthly price of one unit on each node (vertical options; 0 when free, e.g. workers
    /// bounded by memory). A horizontal unit is a node, priced as one.
    pub unit_price: f64,
    /// Time from the decision to the change in service, seconds.
    pub lead_time_s: f64,
}

impl ScalingOption {
    /// The values this option may take, ascending: `min`, `min + step`, … up to `max`, and
    /// `current`.
    pub fn values(&self, current: u32) -> Vec<u32> {
        let mut out: Vec<u32> = (self.min..=self.max).step_by(self.step as usize).collect();
        if !out.contains(&current) {
            out.push(current);
            out.sort_unstable();
        }
        out
    }
}

/// A named instance type: what one node of it offers and costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceSize {
    pub name: String,
    /// An app's cpus, a database node's queries at once.
    pub cores: Option<u32>,
    /// An app instance's RAM, MB.
    pub memory_mb: Option<f64>,
    /// An app's workers per instance on this size (gunicorn's 2 x cores + 1).
    pub workers: Option<u32>,
    /// Service times on this size relative to 1 (0.8: 20 % faster); the model's times are
    /// those of today's size.
    pub service_factor: f64,
    /// Monthly price of one node.
    pub price: f64,
}

/// Whether a resource can scale out, for the plan's table of horizontal scalability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleOut {
    Yes,
    Partial,
    No,
}

impl ScaleOut {
    pub fn word(self) -> &'static str {
        match self {
            ScaleOut::Yes => "yes",
            ScaleOut::Partial => "partial",
            ScaleOut::No => "no",
        }
    }

    pub fn parse(s: &str) -> Result<ScaleOut, SpecError> {
        match s {
            "yes" => Ok(ScaleOut::Yes),
            "partial" => Ok(ScaleOut::Partial),
            "no" => Ok(ScaleOut::No),
            _ => Err(SpecError::Choice {
                what: "horizontal",
                value: s.to_string(),
                choices: "yes, partial, no",
            }),
        }
    }
}

/// How one resource scales and what it costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    pub resource: String,
    pub options: Vec<ScalingOption>,
    /// The instance types a node may run on; empty when the node has one price.
    pub sizes: Vec<InstanceSize>,
    /// Today's size, an index into `sizes`.
    pub size: Option<usize>,
    /// Time to move the nodes to another size, seconds.
    pub resize_lead_time_s: f64,
    /// Monthly price of one node when no sizes are declared.
    pub price: Option<f64>,
    pub scale_out: ScaleOut,
    /// What bounds scaling out, in the author's words ("writes stay on the single primary").
    pub constraint: Option<String>,
    pub origin: Option<Origin>,
}

impl Scaling {
    /// The price of one node on size `size` (or the one price).
    pub fn node_price(&self, size: Option<usize>) -> f64 {
        match size.and_then(|i| self.sizes.get(i)) {
            Some(s) => s.price,
            None => self.price.unwrap_or(0.0),
        }
    }

    pub fn option(&self, knob: Knob) -> Option<&ScalingOption> {
        self.options.iter().find(|o| o.knob == knob)
    }

    /// The lead time of a change of option `knob`, or of a resize (`None`), seconds.
    pub fn lead_time_s(&self, knob: Option<Knob>) -> f64 {
        match knob {
            Some(k) => self.option(k).map_or(0.0, |o| o.lead_time_s),
            None => self.resize_lead_time_s,
        }
    }

    /// Checks the declaration against the resource it prices, as the model has it today.
    ///
    /// # Errors
    /// A knob this kind of resource has not, an option whose range excludes today's value,
    /// a size that disagrees with the resource, or a resource with no price.
    pub fn check(&self, kind: &ResourceKind) -> Result<(), SpecError> {
        let invalid = |m: String| Err(SpecError::Invalid(m));
        for o in &self.options {
            if direction(kind, o.knob)? != o.direction {
                return invalid(format!("`{}`: wrong direction", o.knob.word()));
            }
            let Some(now) = current(kind, o.knob) else {
                return invalid(format!(
                    "`{}`: the {} declares none today, so there is nothing to start from",
                    o.knob.word(),
                    kind.type_name()
                ));
            };
            if o.min > o.max {
                return invalid(format!(
                    "`{}`: min {} is above max {}",
                    o.knob.word(),
                    o.min,
                    o.max
                ));
            }
            if now < o.min || now > o.max {
                return invalid(format!(
                    "`{}`: today's {now} lies outside min {} .. max {}",
                    o.knob.word(),
                    o.min,
                    o.max
                ));
            }
            let most = match o.knob {
                Knob::Instances => super::MAX_INSTANCES,
                Knob::Replicas => super::MAX_REPLICAS,
                _ => super::MAX_PARALLEL,
            };
            if o.max > most {
                return invalid(format!(
                    "`{}`: max {} is beyond the {most} {} supports",
                    o.knob.word(),
                    o.max,
                    a_kind(kind)
                ));
            }
            if o.direction == Direction::Horizontal && self.scale_out == ScaleOut::No {
                return invalid(format!(
                    "`{}` scales out, but the declaration says `horizontal: \"no\"`",
                    o.knob.word()
                ));
            }
            if o.direction == Direction::Horizontal && o.unit_price != 0.0 {
                return invalid(format!(
                    "`{}` adds nodes, each at the node's price: give `price` (or sizes) instead of a price per {}",
                    o.knob.word(),
                    o.knob.unit(true)
                ));
            }
        }
        if self.sizes.is_empty() {
            if self.price.is_none() {
                return invalid(
                    "give `price`, the monthly price of one node, or `sizes`: the search needs every option's cost"
                        .to_string(),
                );
            }
            return Ok(());
        }
        if self.price.is_some() {
            return invalid(
                "give either `price` or `sizes` (each size has its price), not both".to_string(),
            );
        }
        let allows_sizes = matches!(
            kind,
            ResourceKind::App(_)
                | ResourceKind::Database(_)
                | ResourceKind::Cache(_)
                | ResourceKind::Station(_)
        );
        if !allows_sizes {
            return invalid(format!("{} has no instance sizes", a_kind(kind)));
        }
        let now = self.size.and_then(|i| self.sizes.get(i));
        let Some(now) = now else {
            return invalid("name today's size with `size`".to_string());
        };
        for s in &self.sizes {
            if s.cores.is_some()
                && !matches!(kind, ResourceKind::App(_) | ResourceKind::Database(_))
            {
                return invalid(format!(
                    "size `{}`: {} has no cores to set",
                    s.name,
                    a_kind(kind)
                ));
            }
            if (s.memory_mb.is_some() || s.workers.is_some())
                && !matches!(kind, ResourceKind::App(_))
            {
                return invalid(format!(
                    "size `{}`: only an app's size sets memory or workers",
                    s.name
                ));
            }
            if s.cores.is_some()
                && matches!(kind, ResourceKind::Database(_))
                && self.option(Knob::Connections).is_some()
            {
                return invalid(format!(
                    "size `{}` sets the queries at once (cores), and so does the `connections` option: keep one",
                    s.name
                ));
            }
            if s.workers.is_some() && self.option(Knob::Workers).is_some() {
                return invalid(format!(
                    "size `{}` sets the workers, and so does the `workers` option: keep one",
                    s.name
                ));
            }
        }
        if let ResourceKind::App(a) = kind {
            if let Some(z) = self
                .sizes
                .iter()
                .find(|z| z.memory_mb.is_some() && a.memory.is_none())
            {
                return invalid(format!(
                    "size `{}` sets memory, but the app declares none",
                    z.name
                ));
            }
            let agree = [
                ("cores", now.cores, Some(a.cpus)),
                ("workers", now.workers, Some(a.workers)),
            ];
            for (what, size, app) in agree {
                if size.is_some() && size != app {
                    return invalid(format!(
                        "today's size `{}` has {} {what}, the app {}",
                        now.name,
                        size.unwrap_or(0),
                        app.unwrap_or(0)
                    ));
                }
            }
            if let (Some(mb), Some(m)) = (now.memory_mb, &a.memory)
                && mb != m.ram_mb
            {
                return invalid(format!(
                    "today's size `{}` has {mb} MB, the app {} MB",
                    now.name, m.ram_mb
                ));
            }
        }
        if let (ResourceKind::Database(d), Some(c)) = (kind, now.cores)
            && c != d.connections
        {
            return invalid(format!(
                "today's size `{}` has {c} cores, the database runs {} queries at once",
                now.name, d.connections
            ));
        }
        if now.service_factor != 1.0 {
            return invalid(format!(
                "today's size `{}` has service_factor {}: the model's service times are today's, so its factor is 1",
                now.name, now.service_factor
            ));
        }
        Ok(())
    }
}

/// The model-wide side of costs: the currency every price is in and an optional cap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostPlan {
    pub currency: String,
    /// The most the infrastructure may cost per month.
    pub budget: Option<f64>,
    pub origin: Option<Origin>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AppSpec, DatabaseSpec, Policy, WorkerMode};

    fn app() -> ResourceKind {
        ResourceKind::App(AppSpec::new(3, 5, None, 2, WorkerMode::Sync, None, None).unwrap())
    }

    fn option(knob: Knob, min: u32, max: u32) -> ScalingOption {
        ScalingOption {
            knob,
            direction: Direction::Horizontal,
            min,
            max,
            step: 1,
            unit_price: 0.0,
            lead_time_s: 0.0,
        }
    }

    fn scaling(options: Vec<ScalingOption>) -> Scaling {
        Scaling {
            resource: "api".into(),
            options,
            sizes: Vec::new(),
            size: None,
            resize_lead_time_s: 0.0,
            price: Some(70.0),
            scale_out: ScaleOut::Yes,
            constraint: None,
            origin: None,
        }
    }

    #[test]
    fn values_run_by_step_and_keep_todays() {
        let o = ScalingOption {
            step: 2,
            ..option(Knob::Instances, 2, 7)
        };
        assert_eq!(o.values(3), vec![2, 3, 4, 6]);
        assert_eq!(o.values(4), vec![2, 4, 6]);
    }

    #[test]
    fn a_declaration_must_fit_its_resource() {
        assert!(
            scaling(vec![option(Knob::Instances, 3, 5)])
                .check(&app())
                .is_ok()
        );
        let e = scaling(vec![option(Knob::Replicas, 1, 2)]).check(&app());
        assert!(e.unwrap_err().to_string().contains("no `replicas`"));
        let e = scaling(vec![option(Knob::Instances, 4, 5)]).check(&app());
        assert!(e.unwrap_err().to_string().contains("today's 3"));
        let db = ResourceKind::Database(DatabaseSpec::new(1, 2, None, Policy::RoundRobin).unwrap());
        let mut s = scaling(vec![option(Knob::Replicas, 1, 3)]);
        s.price = None;
        assert!(s.check(&db).unwrap_err().to_string().contains("price"));
        s.sizes = vec![InstanceSize {
            name: "small".into(),
            cores: Some(4),
            memory_mb: None,
            workers: None,
            service_factor: 1.0,
            price: 100.0,
        }];
        s.size = Some(0);
        let e = s.check(&db).unwrap_err().to_string();
        assert!(e.contains("4 cores") && e.contains("2 queries"), "{e}");
        assert_eq!(nodes(&db), 2);
    }
}
