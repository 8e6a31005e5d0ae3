//! Configurations: one value for every scaling option a model declares, the model each one
//! gives, and what it costs.
//!
//! A [`Space`] lists the options as dimensions (one per option, one per resource with several
//! instance sizes); a [`Config`] picks a value in each. [`Space::apply`] returns the base model
//! changed to that configuration, ready to validate and run: "the model with this change" is
//! a plain value, so a study can build as many as it needs. Today's configuration is the model
//! as written ([`Space::today`]); [`Space::in_cost_order`] lists every configuration from the
//! cheapest, which is the order the capacity search proves its answer minimal in.

use super::scaling::{DAYS_PER_MONTH, Direction, Knob, Scaling, current, nodes};
use super::spec::SpecError;
use super::{Model, ResourceKind};
use serde::{Deserialize, Serialize};

/// Most configurations a model's options may span: the search lists them all (each is a few
/// numbers), so this bounds its memory and time.
pub const MAX_CONFIGURATIONS: usize = 100_000;

/// What one dimension of the space sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Setting {
    Knob(Knob),
    /// The instance size, as an index into the resource's sizes.
    Size,
}

/// One dimension: a resource's option and the values it may take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dim {
    /// Index into the model's `scaling`.
    pub scaling: usize,
    pub resource: String,
    pub setting: Setting,
    /// Ascending values (size indices in declared order for a size).
    pub values: Vec<u32>,
    pub today: u32,
}

/// A value for every dimension of a [`Space`], in its order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Config(pub Vec<u32>);

/// One component's monthly cost in a configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentCost {
    pub resource: String,
    /// Nodes (instances, primary and replicas, servers, workers).
    pub nodes: u32,
    /// The instance size, when the resource declares several.
    pub size: Option<String>,
    pub monthly: f64,
}

/// One difference between two configurations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub resource: String,
    pub setting: Setting,
    pub from: u32,
    pub to: u32,
    /// The change in words: `+1 mysql replica`, `flask c6i.large -> c6i.xlarge`.
    pub text: String,
    /// Time from the decision to the change in service, in months.
    pub lead_months: f64,
}

/// Why a space cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpaceError {
    #[error(
        "the scaling options span {0} configurations; at most {MAX_CONFIGURATIONS} are supported (narrow a min .. max or raise a step)"
    )]
    TooLarge(u128),
    #[error("`{0}` is declared in m.scaling but is not a resource of the model")]
    Unknown(String),
}

/// The scaling options of a model as dimensions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Space {
    pub dims: Vec<Dim>,
    pub currency: String,
    pub budget: Option<f64>,
}

fn kind_of<'a>(model: &'a Model, name: &str) -> Result<&'a ResourceKind, SpaceError> {
    model
        .resource(name)
        .map(|r| &r.kind)
        .ok_or_else(|| SpaceError::Unknown(name.to_string()))
}

impl Space {
    /// The space of `model`'s options; `None` when it declares none.
    ///
    /// # Errors
    /// A declaration naming a resource the model has not, or more than
    /// [`MAX_CONFIGURATIONS`] configurations.
    pub fn of(model: &Model) -> Result<Option<Space>, SpaceError> {
        if model.scaling.is_empty() {
            return Ok(None);
        }
        let mut dims = Vec::new();
        for (i, s) in model.scaling.iter().enumerate() {
            let kind = kind_of(model, &s.resource)?;
            for o in &s.options {
                let today = current(kind, o.knob).unwrap_or(o.min);
                dims.push(Dim {
                    scaling: i,
                    resource: s.resource.clone(),
                    setting: Setting::Knob(o.knob),
                    values: o.values(today),
                    today,
                });
            }
            if s.sizes.len() > 1 {
                dims.push(Dim {
                    scaling: i,
                    resource: s.resource.clone(),
                    setting: Setting::Size,
                    values: (0..s.sizes.len() as u32).collect(),
                    today: s.size.unwrap_or(0) as u32,
                });
            }
        }
        let total = dims
            .iter()
            .map(|d| d.values.len() as u128)
            .try_fold(1_u128, |a, n| a.checked_mul(n))
            .unwrap_or(u128::MAX);
        if total > MAX_CONFIGURATIONS as u128 {
            return Err(SpaceError::TooLarge(total));
        }
        let (currency, budget) = model.costs.as_ref().map_or(("EUR".to_string(), None), |c| {
            (c.currency.clone(), c.budget)
        });
        Ok(Some(Space {
            dims,
            currency,
            budget,
        }))
    }

    /// The model as written.
    pub fn today(&self) -> Config {
        Config(self.dims.iter().map(|d| d.today).collect())
    }

    /// The value `config` gives the dimension of resource `scaling` that sets `setting`.
    fn value(&self, config: &Config, scaling: usize, setting: Setting) -> Option<u32> {
        self.dims
            .iter()
            .position(|d| d.scaling == scaling && d.setting == setting)
            .map(|i| config.0[i])
    }

    /// The resource `s` as `config` sets it.
    fn kind_in(&self, model: &Model, si: usize, config: &Config) -> ResourceKind {
        let s = &model.scaling[si];
        let mut kind = kind_of(model, &s.resource)
            .expect("a space is built from existing resources")
            .clone();
        for o in &s.options {
            if let Some(v) = self.value(config, si, Setting::Knob(o.knob)) {
                set(&mut kind, o.knob, v);
            }
        }
        kind
    }

    fn size_of(&self, s: &Scaling, si: usize, config: &Config) -> Option<usize> {
        self.value(config, si, Setting::Size)
            .map(|v| v as usize)
            .or(s.size)
    }

    /// What each priced component costs per month in `config`.
    pub fn costs(&self, model: &Model, config: &Config) -> Vec<ComponentCost> {
        model
            .scaling
            .iter()
            .enumerate()
            .map(|(si, s)| {
                let kind = self.kind_in(model, si, config);
                let size = self.size_of(s, si, config);
                let n = nodes(&kind);
                let mut monthly = f64::from(n) * s.node_price(size);
                for o in s
                    .options
                    .iter()
                    .filter(|o| o.direction == Direction::Vertical)
                {
                    let v = current(&kind, o.knob).unwrap_or(0);
                    monthly += f64::from(v) * o.unit_price * f64::from(n);
                }
                ComponentCost {
                    resource: s.resource.clone(),
                    nodes: n,
                    size: size.and_then(|i| s.sizes.get(i)).map(|z| z.name.clone()),
                    monthly,
                }
            })
            .collect()
    }

    /// The monthly cost of `config`.
    pub fn cost(&self, model: &Model, config: &Config) -> f64 {
        self.costs(model, config).iter().map(|c| c.monthly).sum()
    }

    /// `model` changed to `config`, without variants or scaling options: a configuration is a
    /// model of its own, and the options describe the model as written.
    ///
    /// # Errors
    /// A size whose service factor cannot scale a service time.
    pub fn apply(&self, model: &Model, config: &Config) -> Result<Model, SpecError> {
        let mut m = model.clone();
        m.variants.clear();
        m.scaling.clear();
        m.costs = None;
        for (si, s) in model.scaling.iter().enumerate() {
            let kind = self.kind_in(model, si, config);
            let r = m
                .resources
                .iter_mut()
                .find(|r| r.name == s.resource)
                .expect("a space is built from existing resources");
            r.kind = kind;
            let (Some(now), Some(to)) = (s.size, self.size_of(s, si, config)) else {
                continue;
            };
            if now == to {
                continue;
            }
            let (a, b) = (&s.sizes[now], &s.sizes[to]);
            match &mut r.kind {
                ResourceKind::App(app) => {
                    if let Some(c) = b.cores {
                        app.cpus = c;
                    }
                    if let Some(w) = b.workers {
                        app.workers = w;
                    }
                    if let (Some(mb), Some(mem)) = (b.memory_mb, app.memory.as_mut()) {
                        mem.ram_mb = mb;
                    }
                }
                ResourceKind::Database(d) => {
                    if let Some(c) = b.cores {
                        d.connections = c;
                    }
                }
                _ => {}
            }
            let factor = b.service_factor / a.service_factor;
            if factor != 1.0 {
                m.scale_service_times(&s.resource, factor)?;
            }
        }
        Ok(m)
    }

    /// Every configuration within the budget, cheapest first (ties: fewer steps above each
    /// option's minimum first, then by value), with its cost; and how many lie above the budget.
    pub fn in_cost_order(&self, model: &Model) -> (Vec<(Config, f64)>, usize) {
        let mut all = Vec::new();
        let mut idx = vec![0_usize; self.dims.len()];
        loop {
            let c = Config(
                idx.iter()
                    .zip(&self.dims)
                    .map(|(&i, d)| d.values[i])
                    .collect(),
            );
            let steps: usize = idx.iter().sum();
            all.push((self.cost(model, &c), steps, c));
            // The next index vector, like an odometer.
            let mut k = 0;
            loop {
                if k == idx.len() {
                    break;
                }
                idx[k] += 1;
                if idx[k] < self.dims[k].values.len() {
                    break;
                }
                idx[k] = 0;
                k += 1;
            }
            if k == idx.len() {
                break;
            }
        }
        all.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then(a.1.cmp(&b.1))
                .then_with(|| a.2.cmp(&b.2))
        });
        let within = |cost: f64| self.budget.is_none_or(|b| cost <= b + 1e-9);
        let over = all.iter().filter(|(c, _, _)| !within(*c)).count();
        let keep = all
            .into_iter()
            .filter(|(c, _, _)| within(*c))
            .map(|(c, _, k)| (k, c))
            .collect();
        (keep, over)
    }

    /// `config` in words, resource by resource: `flask: 4 instances on c6i.large; mysql: 2 replicas`.
    pub fn describe(&self, model: &Model, config: &Config) -> String {
        let mut parts = Vec::new();
        for (si, s) in model.scaling.iter().enumerate() {
            let mut words = Vec::new();
            for (d, &v) in self.dims.iter().zip(&config.0) {
                if d.scaling != si {
                    continue;
                }
                if let Setting::Knob(k) = d.setting {
                    words.push(format!("{v} {}", k.unit(v == 1)));
                }
            }
            let size = self.size_of(s, si, config);
            let size = size.and_then(|i| s.sizes.get(i)).map(|z| z.name.as_str());
            let mut text = words.join(", ");
            if let Some(z) = size {
                if text.is_empty() {
                    text = z.to_string();
                } else {
                    text = format!("{text} on {z}");
                }
            }
            if !text.is_empty() {
                parts.push(format!("{}: {text}", s.resource));
            }
        }
        if parts.is_empty() {
            "as declared".to_string()
        } else {
            parts.join("; ")
        }
    }

    /// The changes from `from` to `to`, in dimension order.
    pub fn changes(&self, model: &Model, from: &Config, to: &Config) -> Vec<Change> {
        let mut out = Vec::new();
        for (i, d) in self.dims.iter().enumerate() {
            let (a, b) = (from.0[i], to.0[i]);
            if a == b {
                continue;
            }
            let s = &model.scaling[d.scaling];
            let (text, lead_s) = match d.setting {
                Setting::Knob(k) => {
                    let delta = i64::from(b) - i64::from(a);
                    let sign = if delta > 0 { "+" } else { "-" };
                    let n = delta.unsigned_abs();
                    let text = format!("{sign}{n} {} {}", s.resource, k.unit(n == 1));
                    (text, s.lead_time_s(Some(k)))
                }
                Setting::Size => {
                    let name = |v: u32| s.sizes[v as usize].name.clone();
                    let text = format!("{} {} -> {}", s.resource, name(a), name(b));
                    (text, s.lead_time_s(None))
                }
            };
            out.push(Change {
                resource: d.resource.clone(),
                setting: d.setting,
                from: a,
                to: b,
                text,
                lead_months: lead_s / 86_400.0 / DAYS_PER_MONTH,
            });
        }
        out
    }

    /// True when `a` has at least what `b` has in every option (a size at least as dear).
    pub fn at_least(&self, model: &Model, a: &Config, b: &Config) -> bool {
        self.dims.iter().enumerate().all(|(i, d)| match d.setting {
            Setting::Knob(_) => a.0[i] >= b.0[i],
            Setting::Size => {
                let s = &model.scaling[d.scaling];
                a.0[i] == b.0[i] || s.sizes[a.0[i] as usize].price >= s.sizes[b.0[i] as usize].price
            }
        })
    }

    /// The configurations one unit smaller than `config` in one dimension (one option a step
    /// down, or the next cheaper size), each with what was taken away; a dimension already at
    /// its lowest gives none.
    pub fn one_less(&self, model: &Model, config: &Config) -> Vec<(usize, Config)> {
        let mut out = Vec::new();
        for (i, d) in self.dims.iter().enumerate() {
            let v = config.0[i];
            let down = match d.setting {
                Setting::Knob(_) => d.values.iter().copied().filter(|&x| x < v).max(),
                Setting::Size => {
                    let s = &model.scaling[d.scaling];
                    let price = s.sizes[v as usize].price;
                    (0..s.sizes.len())
                        .filter(|&j| s.sizes[j].price < price)
                        .max_by(|&a, &b| s.sizes[a].price.total_cmp(&s.sizes[b].price))
                        .map(|j| j as u32)
                }
            };
            if let Some(x) = down {
                let mut c = config.clone();
                c.0[i] = x;
                out.push((i, c));
            }
        }
        out
    }
}

/// Sets `knob` of a resource to `v`.
fn set(kind: &mut ResourceKind, knob: Knob, v: u32) {
    match (kind, knob) {
        (ResourceKind::App(a), Knob::Instances) => a.instances = v,
        (ResourceKind::App(a), Knob::Workers) => a.workers = v,
        (ResourceKind::App(a), Knob::Pool) => {
            if let Some(p) = a.pool.as_mut() {
                p.size = v;
            }
        }
        (ResourceKind::Database(d), Knob::Replicas) => d.replicas = v,
        (ResourceKind::Database(d), Knob::Connections) => d.connections = v,
        (ResourceKind::Cache(c), Knob::Servers) => c.servers = v,
        (ResourceKind::Station(s), Knob::Servers) => s.servers = v,
        (ResourceKind::Background(b), Knob::Workers) => b.workers = v,
        (ResourceKind::Proxy(p), Knob::Connections) => p.connections = Some(v),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scaling::{InstanceSize, ScaleOut, ScalingOption};
    use crate::model::*;

    fn model() -> Model {
        let mut m = Model::new("m");
        let res = |name: &str, kind| Resource {
            name: name.into(),
            kind,
            origin: None,
        };
        m.resources = vec![
            res(
                "api",
                ResourceKind::App(
                    AppSpec::new(2, 3, None, 2, WorkerMode::Sync, None, None).unwrap(),
                ),
            ),
            res(
                "db",
                ResourceKind::Database(DatabaseSpec::new(1, 2, None, Policy::RoundRobin).unwrap()),
            ),
        ];
        m.endpoints = vec![Endpoint {
            name: "GET /".into(),
            weight: 1.0,
            steps: vec![
                Step::Compute {
                    app: "api".into(),
                    demand: Dist::constant(0.01).unwrap(),
                },
                Step::Query {
                    db: "db".into(),
                    op: QueryOp::Read,
                    service: Dist::constant(0.004).unwrap(),
                    bytes: None,
                },
            ],
            app: None,
            timeout_s: None,
            retry: None,
            origin: None,
            response_bytes: None,
        }];
        let horizontal = |knob, min, max| ScalingOption {
            knob,
            direction: Direction::Horizontal,
            min,
            max,
            step: 1,
            unit_price: 0.0,
            lead_time_s: 14.0 * 86_400.0,
        };
        let size = |name: &str, cores, factor, price| InstanceSize {
            name: name.into(),
            cores: Some(cores),
            memory_mb: None,
            workers: None,
            service_factor: factor,
            price,
        };
        m.scaling = vec![
            Scaling {
                resource: "api".into(),
                options: vec![horizontal(Knob::Instances, 2, 4)],
                sizes: Vec::new(),
                size: None,
                resize_lead_time_s: 0.0,
                price: Some(50.0),
                scale_out: ScaleOut::Yes,
                constraint: None,
                origin: None,
            },
            Scaling {
                resource: "db".into(),
                options: vec![horizontal(Knob::Replicas, 1, 2)],
                sizes: vec![size("small", 2, 1.0, 100.0), size("big", 4, 0.5, 180.0)],
                size: Some(0),
                resize_lead_time_s: 86_400.0,
                price: None,
                scale_out: ScaleOut::Partial,
                constraint: Some("writes on the primary".into()),
                origin: None,
            },
        ];
        m
    }

    #[test]
    fn today_costs_what_the_model_runs() {
        let m = model();
        let s = Space::of(&m).unwrap().unwrap();
        assert_eq!(s.today(), Config(vec![2, 1, 0]));
        // 2 x 50 + (1 primary + 1 replica) x 100
        assert_eq!(s.cost(&m, &s.today()), 300.0);
        assert_eq!(
            s.describe(&m, &s.today()),
            "api: 2 instances; db: 1 replica on small"
        );
    }

    #[test]
    fn configurations_come_cheapest_first() {
        let m = model();
        let s = Space::of(&m).unwrap().unwrap();
        let (all, over) = s.in_cost_order(&m);
        assert_eq!((all.len(), over), (12, 0));
        assert!(all.windows(2).all(|w| w[0].1 <= w[1].1));
        assert_eq!(all[0], (Config(vec![2, 1, 0]), 300.0));
        // 3 api instances (350) before a second replica (400) and before a big db (460).
        assert_eq!(all[1], (Config(vec![3, 1, 0]), 350.0));
        let capped = Space {
            budget: Some(400.0),
            ..s.clone()
        };
        let (within, over) = capped.in_cost_order(&m);
        assert!(within.iter().all(|(_, c)| *c <= 400.0));
        assert_eq!(within.len() + over, 12);
    }

    #[test]
    fn a_configuration_is_the_model_with_its_changes() {
        let m = model();
        let s = Space::of(&m).unwrap().unwrap();
        let c = Config(vec![3, 2, 1]);
        let changed = s.apply(&m, &c).unwrap();
        let ResourceKind::App(a) = &changed.resource("api").unwrap().kind else {
            panic!()
        };
        assert_eq!(a.instances, 3);
        let ResourceKind::Database(d) = &changed.resource("db").unwrap().kind else {
            panic!()
        };
        assert_eq!((d.replicas, d.connections), (2, 4));
        let Step::Query { service, .. } = &changed.endpoints[0].steps[1] else {
            panic!()
        };
        assert_eq!(service.mean(), 0.002);
        assert_eq!(s.cost(&m, &c), 3.0 * 50.0 + 3.0 * 180.0);
        let texts: Vec<String> = s
            .changes(&m, &s.today(), &c)
            .into_iter()
            .map(|c| c.text)
            .collect();
        assert_eq!(
            texts,
            ["+1 api instance", "+1 db replica", "db small -> big"]
        );
        let less: Vec<Config> = s.one_less(&m, &c).into_iter().map(|(_, c)| c).collect();
        assert_eq!(
            less,
            [
                Config(vec![2, 2, 1]),
                Config(vec![3, 1, 1]),
                Config(vec![3, 2, 0])
            ]
        );
    }
}
