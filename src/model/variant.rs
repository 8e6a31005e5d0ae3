//! What-if variants: named changes of a model, each held as the whole changed model.
//!
//! A study compares the model with a change to the model without it ("add a read replica",
//! "eager loading"), so each [`Variant`] carries its own [`Model`], validated like the base and
//! ready to run: [`Model::variant`] returns it. The script builds a variant by running its
//! closure on a copy of the finished base model; the edits below are the ones the language
//! offers besides everything it can already declare. Each edit checks its arguments and fails
//! with a message naming what is wrong.

use super::spec::{SpecError, probability};
use super::{Endpoint, Model, Origin, ResourceKind, Step};
use serde::{Deserialize, Serialize};

/// The effort a change costs, as the template's optimisation table rates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effort {
    /// Small: hours to a day.
    S,
    /// Medium: days.
    M,
    /// Large: weeks.
    L,
}

impl Effort {
    /// The letter a script writes.
    pub fn word(self) -> &'static str {
        match self {
            Effort::S => "S",
            Effort::M => "M",
            Effort::L => "L",
        }
    }

    pub fn parse(s: &str) -> Result<Effort, SpecError> {
        match s {
            "S" => Ok(Effort::S),
            "M" => Ok(Effort::M),
            "L" => Ok(Effort::L),
            _ => Err(SpecError::Choice {
                what: "effort",
                value: s.to_string(),
                choices: "S, M, L",
            }),
        }
    }
}

/// A named what-if change and the model it gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub name: String,
    pub effort: Option<Effort>,
    /// Why the change should help, in the author's words.
    pub rationale: Option<String>,
    /// Where `m.variant(…)` was called.
    pub origin: Option<Origin>,
    /// The base model with the change applied; it has no variants of its own.
    pub model: Box<Model>,
}

/// Calls `f` on every step of a list, nested ones included, stopping at the first error.
fn visit_mut(
    steps: &mut [Step],
    f: &mut dyn FnMut(&mut Step) -> Result<(), SpecError>,
) -> Result<(), SpecError> {
    for s in steps {
        f(s)?;
        match s {
            Step::CacheGet { miss, .. } => visit_mut(miss, f)?,
            Step::Branch {
                then, otherwise, ..
            } => {
                visit_mut(then, f)?;
                visit_mut(otherwise, f)?;
            }
            Step::Repeat { steps, .. } => visit_mut(steps, f)?,
            _ => {}
        }
    }
    Ok(())
}

fn invalid(msg: String) -> SpecError {
    SpecError::Invalid(msg)
}

fn scale(d: &mut super::Dist, factor: f64) -> Result<(), SpecError> {
    *d = d.scaled(factor).map_err(|e| invalid(e.to_string()))?;
    Ok(())
}

impl Model {
    /// The names of the resources, for a message: `` `api`, `db` ``.
    fn resource_names(&self) -> String {
        names(self.resources.iter().map(|r| r.name.as_str()))
    }

    fn endpoint_names(&self) -> String {
        names(self.endpoints.iter().map(|e| e.name.as_str()))
    }

    /// Multiplies every service time on resource `name` by `factor` (0.7: 30 % faster): its
    /// own (a station's, a proxy's, a cache's, an external's delay) and every step's on it (a
    /// compute on an app, a query on a database, a visit, a call, a job enqueued on a
    /// background queue). Returns how many distributions were scaled.
    ///
    /// # Errors
    /// An unknown resource, a factor not > 0, a scaled mean beyond the longest duration, or a
    /// resource with no service time at all.
    pub fn scale_service_times(&mut self, name: &str, factor: f64) -> Result<usize, SpecError> {
        let known = self.resource_names();
        let r = self
            .resources
            .iter_mut()
            .find(|r| r.name == name)
            .ok_or_else(|| invalid(format!("no resource `{name}` (resources: {known})")))?;
        let own = match &mut r.kind {
            ResourceKind::Station(s) => s.service.as_mut(),
            ResourceKind::Proxy(p) => Some(&mut p.service),
            ResourceKind::Cache(c) => Some(&mut c.service),
            ResourceKind::External(x) => Some(&mut x.delay),
            _ => None,
        };
        let mut n = 0;
        if let Some(d) = own {
            scale(d, factor)?;
            n += 1;
        }
        for e in &mut self.endpoints {
            visit_mut(&mut e.steps, &mut |s| {
                let d = match s {
                    Step::Compute { app, demand } if app == name => Some(demand),
                    Step::Query { db, service, .. } if db == name => Some(service),
                    Step::Visit { station, service } if station == name => service.as_mut(),
                    Step::Call { external, delay } if external == name => delay.as_mut(),
                    Step::Enqueue { queue, service } if queue == name => Some(service),
                    _ => None,
                };
                if let Some(d) = d {
                    scale(d, factor)?;
                    n += 1;
                }
                Ok(())
            })?;
        }
        if n == 0 {
            return Err(invalid(format!(
                "`{name}` has no service time to scale: no step uses it"
            )));
        }
        Ok(n)
    }

    /// Sets the hit ratio of every `get` on cache `cache` to `p` (of those in `endpoint` only,
    /// when given). Returns how many were set.
    ///
    /// # Errors
    /// `cache` not a cache, `p` not a probability, an unknown endpoint, or no `get` on it.
    pub fn set_hit_ratio(
        &mut self,
        cache: &str,
        p: f64,
        endpoint: Option<&str>,
    ) -> Result<usize, SpecError> {
        if !matches!(
            self.resource(cache).map(|r| &r.kind),
            Some(ResourceKind::Cache(_))
        ) {
            return Err(invalid(format!(
                "`{cache}` is not a cache (resources: {})",
                self.resource_names()
            )));
        }
        let p = probability("hit_ratio", p)?;
        if let Some(e) = endpoint
            && self.endpoint(e).is_none()
        {
            return Err(invalid(format!(
                "no endpoint `{e}` (endpoints: {})",
                self.endpoint_names()
            )));
        }
        let mut n = 0;
        let chosen = self
            .endpoints
            .iter_mut()
            .filter(|e| endpoint.is_none_or(|name| e.name == name));
        for e in chosen {
            visit_mut(&mut e.steps, &mut |s| {
                if let Step::CacheGet {
                    cache: c,
                    hit_ratio,
                    ..
                } = s
                    && c == cache
                {
                    *hit_ratio = p;
                    n += 1;
                }
                Ok(())
            })?;
        }
        if n == 0 {
            let scope = endpoint.map_or(String::new(), |e| format!(" in endpoint `{e}`"));
            return Err(invalid(format!("no step gets from cache `{cache}`{scope}")));
        }
        Ok(n)
    }

    /// Replaces the steps of endpoint `name`; its weight, options and name stay. Returns the
    /// endpoint.
    ///
    /// # Errors
    /// An unknown endpoint, or no steps.
    pub fn replace_steps(
        &mut self,
        name: &str,
        steps: Vec<Step>,
    ) -> Result<&mut Endpoint, SpecError> {
        if steps.is_empty() {
            return Err(invalid(
                "give at least one step: an endpoint without steps would answer in no time"
                    .to_string(),
            ));
        }
        let known = self.endpoint_names();
        let e = self
            .endpoints
            .iter_mut()
            .find(|e| e.name == name)
            .ok_or_else(|| invalid(format!("no endpoint `{name}` (endpoints: {known})")))?;
        e.steps = steps;
        Ok(e)
    }
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<String> = it.map(|n| format!("`{n}`")).collect();
    if all.is_empty() {
        "none".to_string()
    } else {
        all.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn d(s: f64) -> Dist {
        Dist::constant(s).unwrap()
    }

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
                    AppSpec::new(1, 1, None, 1, WorkerMode::Sync, None, None).unwrap(),
                ),
            ),
            res(
                "db",
                ResourceKind::Database(DatabaseSpec::new(0, 1, None, Policy::RoundRobin).unwrap()),
            ),
            res(
                "redis",
                ResourceKind::Cache(CacheSpec::new(1, d(0.001)).unwrap()),
            ),
        ];
        let read = Step::Query {
            db: "db".into(),
            op: QueryOp::Read,
            service: d(0.004),
            bytes: None,
        };
        let steps = vec![
            Step::Compute {
                app: "api".into(),
                demand: d(0.01),
            },
            Step::CacheGet {
                cache: "redis".into(),
                hit_ratio: 0.8,
                miss: vec![Step::Repeat {
                    times: 2,
                    steps: vec![read],
                }],
            },
        ];
        m.endpoints = vec![Endpoint {
            name: "GET /".into(),
            weight: 1.0,
            steps,
            app: None,
            timeout_s: None,
            retry: None,
            origin: None,
            response_bytes: None,
        }];
        m
    }

    #[test]
    fn service_times_scale_on_the_resource_and_in_nested_steps() {
        let mut m = model();
        assert_eq!(m.scale_service_times("db", 0.5), Ok(1));
        let Step::CacheGet { miss, .. } = &m.endpoints[0].steps[1] else {
            panic!()
        };
        let Step::Repeat { steps, .. } = &miss[0] else {
            panic!()
        };
        let Step::Query { service, .. } = &steps[0] else {
            panic!()
        };
        assert_eq!(service.mean(), 0.002);
        assert_eq!(m.scale_service_times("redis", 2.0), Ok(1));
        let err = m.scale_service_times("nope", 2.0).unwrap_err().to_string();
        assert!(err.contains("resources: `api`, `db`, `redis`"), "{err}");
        assert!(m.scale_service_times("api", 0.0).is_err());
    }

    #[test]
    fn hit_ratios_change_on_that_cache_only_and_need_a_get() {
        let mut m = model();
        assert_eq!(m.set_hit_ratio("redis", 0.95, None), Ok(1));
        assert_eq!(m.set_hit_ratio("redis", 0.9, Some("GET /")), Ok(1));
        let Step::CacheGet { hit_ratio, .. } = &m.endpoints[0].steps[1] else {
            panic!()
        };
        assert_eq!(*hit_ratio, 0.9);
        assert!(m.set_hit_ratio("db", 0.9, None).is_err());
        assert!(m.set_hit_ratio("redis", 1.5, None).is_err());
        assert!(m.set_hit_ratio("redis", 0.9, Some("GET /x")).is_err());
    }

    #[test]
    fn steps_are_replaced_whole_on_a_known_endpoint() {
        let mut m = model();
        let one = vec![Step::Delay { delay: d(0.001) }];
        assert!(m.replace_steps("GET /", one.clone()).is_ok());
        assert_eq!(m.endpoints[0].steps, one);
        assert!(m.replace_steps("GET /", vec![]).is_err());
        let err = m.replace_steps("GET /x", one).unwrap_err().to_string();
        assert!(err.contains("endpoints: `GET /`"), "{err}");
    }

    #[test]
    fn efforts_are_the_templates_letters() {
        for e in [Effort::S, Effort::M, Effort::L] {
            assert_eq!(Effort::parse(e.word()), Ok(e));
        }
        assert!(Effort::parse("XL").is_err());
    }
}
