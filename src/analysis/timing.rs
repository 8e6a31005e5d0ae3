//! Where the time goes: a scenario's response times split by resource group into waiting and
//! service, over all requests and over the slowest 5 % (the requests that make the p95), the
//! resource groups ranked by utilization and by their share of the slow requests' time, and
//! the endpoints that visit a database many times per request (the N+1 pattern).
//!
//! Every time here is a simulated figure (`stats::breakdown`); the shares are ratios of their
//! means, computed here so that no report recomputes them.

use crate::analysis::results::FigureIndex;
use crate::engine::{Program, ResKind, UNLIMITED};
use crate::stats::{Estimate, Figure, Metric, PartMetric, RequestMetric, ResourceMetric, Scope};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Visits per request to one database from which an endpoint is called out as N+1: a
/// listing that queries once per item instead of once per page.
pub const N_PLUS_ONE_VISITS: f64 = 5.0;

/// One resource group's part of a scope's response time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupTime {
    /// `flask workers`, `mysql replicas`, `delay`.
    pub group: String,
    /// Mean milliseconds per successful request, over all requests and over the slowest 5 %
    /// (absent where the group has no such part: a held worker has no service of its own).
    pub waiting_ms: Option<Estimate>,
    pub in_service_ms: Option<Estimate>,
    pub slow_waiting_ms: Option<Estimate>,
    pub slow_in_service_ms: Option<Estimate>,
    /// Services begun per request.
    pub visits: Option<Estimate>,
    /// Its share of the scope's mean response time, and of the slowest 5 %'s; and the share of
    /// the slowest 5 %'s time spent waiting for it.
    pub share: f64,
    pub slow_share: f64,
    pub slow_waiting_share: f64,
}

/// An endpoint that visits a database many times per request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NPlusOne {
    pub database: String,
    pub visits: f64,
    /// Its share of that database's time (waits and services) over all endpoints, weighted by
    /// throughput.
    pub db_time_share: f64,
}

/// One scope (all endpoints, or one) split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeTime {
    /// The endpoint, or `None` for all endpoints together.
    pub endpoint: Option<String>,
    /// The sum of the parts' means: the mean response time of successful requests, and of the
    /// slowest 5 % of them, ms.
    pub mean_ms: f64,
    pub slow_mean_ms: f64,
    /// By slow share, largest first.
    pub groups: Vec<GroupTime>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub n_plus_one: Vec<NPlusOne>,
}

impl ScopeTime {
    /// The group with the largest share of the slowest requests' time.
    pub fn dominant(&self) -> Option<&GroupTime> {
        self.groups.first()
    }
}

/// A resource group ranked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupLoad {
    pub group: String,
    /// Its busiest resource (`mysql replica 1`) and that resource's utilization.
    pub busiest: String,
    pub utilization: Option<Estimate>,
    /// Its share of all endpoints' response time, and of the slowest 5 %'s.
    pub share: f64,
    pub slow_share: f64,
    /// 1-based ranks by utilization and by slow share (none for a group the slowest requests
    /// spend no time in).
    pub rank_utilization: usize,
    pub rank_slow_share: Option<usize>,
}

/// A scenario's time, split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeBreakdown {
    pub scopes: Vec<ScopeTime>,
    /// Groups with a limit, busiest first.
    pub bottlenecks: Vec<GroupLoad>,
}

impl TimeBreakdown {
    pub fn scope(&self, name: &str) -> Option<&ScopeTime> {
        self.scopes
            .iter()
            .find(|s| s.endpoint.as_deref() == Some(name))
    }
}

/// The split of a scenario's `figures` (none when the run did not track parts).
pub fn split(prog: &Program, figures: &[Figure]) -> Option<TimeBreakdown> {
    let parts: Vec<&Figure> = figures
        .iter()
        .filter(|f| matches!(f.key.metric, Metric::Part(_)))
        .collect();
    if parts.is_empty() {
        return None;
    }
    let other = FigureIndex::of(figures);
    // The resource groups, in resource order (as `stats::breakdown::PartLayout` has them).
    let mut groups: Vec<&str> = Vec::new();
    for r in &prog.resources {
        if !groups.contains(&r.group.as_str()) {
            groups.push(&r.group);
        }
    }
    let mut order: Vec<Option<String>> = Vec::new();
    let mut by_scope: HashMap<Option<String>, Vec<&Figure>> = HashMap::new();
    for f in parts {
        let Scope::Part { of, .. } = &f.key.scope else {
            continue;
        };
        if !by_scope.contains_key(of) {
            order.push(of.clone());
        }
        by_scope.entry(of.clone()).or_default().push(f);
    }
    let db_groups: Vec<&str> = groups
        .iter()
        .copied()
        .filter(|g| {
            prog.resources
                .iter()
                .any(|r| r.group == *g && matches!(r.kind, ResKind::DbPrimary | ResKind::DbReplica))
        })
        .collect();
    let mut scopes: Vec<ScopeTime> = order
        .iter()
        .map(|of| scope_time(of.clone(), &by_scope[of]))
        .collect();
    n_plus_one(&mut scopes, &db_groups, &other);
    let bottlenecks = match scopes.iter().find(|s| s.endpoint.is_none()) {
        Some(all) => ranked(prog, &groups, all, &other),
        None => Vec::new(),
    };
    Some(TimeBreakdown {
        scopes,
        bottlenecks,
    })
}

fn scope_time(endpoint: Option<String>, figures: &[&Figure]) -> ScopeTime {
    let mut groups: Vec<GroupTime> = Vec::new();
    for f in figures {
        let (Scope::Part { at, .. }, Metric::Part(m)) = (&f.key.scope, f.key.metric) else {
            continue;
        };
        let k = match groups.iter().position(|g| &g.group == at) {
            Some(k) => k,
            None => {
                groups.push(GroupTime {
                    group: at.clone(),
                    waiting_ms: None,
                    in_service_ms: None,
                    slow_waiting_ms: None,
                    slow_in_service_ms: None,
                    visits: None,
                    share: 0.0,
                    slow_share: 0.0,
                    slow_waiting_share: 0.0,
                });
                groups.len() - 1
            }
        };
        let g = &mut groups[k];
        let slot = match m {
            PartMetric::Waiting => &mut g.waiting_ms,
            PartMetric::InService => &mut g.in_service_ms,
            PartMetric::SlowWaiting => &mut g.slow_waiting_ms,
            PartMetric::SlowInService => &mut g.slow_in_service_ms,
            PartMetric::Visits => &mut g.visits,
        };
        *slot = Some(f.estimate);
    }
    let mean = |e: &Option<Estimate>| e.as_ref().map_or(0.0, |e| e.mean).max(0.0);
    // No successful response in any replication: no split (NaN, `null` in JSON).
    let timed = groups.iter().any(|g| {
        [&g.waiting_ms, &g.in_service_ms]
            .iter()
            .any(|e| e.as_ref().is_some_and(|e| e.mean.is_finite()))
    });
    let total: f64 = groups
        .iter()
        .map(|g| mean(&g.waiting_ms) + mean(&g.in_service_ms))
        .sum();
    let slow_total: f64 = groups
        .iter()
        .map(|g| mean(&g.slow_waiting_ms) + mean(&g.slow_in_service_ms))
        .sum();
    let share = |x: f64, of: f64| if of > 0.0 { x / of } else { 0.0 };
    for g in &mut groups {
        g.share = share(mean(&g.waiting_ms) + mean(&g.in_service_ms), total);
        g.slow_share = share(
            mean(&g.slow_waiting_ms) + mean(&g.slow_in_service_ms),
            slow_total,
        );
        g.slow_waiting_share = share(mean(&g.slow_waiting_ms), slow_total);
    }
    groups.sort_by(|a, b| {
        b.slow_share
            .total_cmp(&a.slow_share)
            .then(b.share.total_cmp(&a.share))
    });
    ScopeTime {
        endpoint,
        mean_ms: if timed { total } else { f64::NAN },
        slow_mean_ms: if timed { slow_total } else { f64::NAN },
        groups,
        n_plus_one: Vec::new(),
    }
}

/// Calls out, per endpoint, the databases it visits at least [`N_PLUS_ONE_VISITS`] times per
/// request, with its share of their time.
fn n_plus_one(scopes: &mut [ScopeTime], db_groups: &[&str], other: &FigureIndex<'_>) {
    let throughput = |name: &str| {
        let scope = Scope::Endpoint(name.to_string());
        other
            .get(&scope, Metric::Request(RequestMetric::Throughput))
            .map_or(0.0, |e| e.mean)
    };
    for db in db_groups {
        // Milliseconds of this database per second of run, per endpoint.
        let load: Vec<f64> = scopes
            .iter()
            .map(|s| {
                let Some(name) = &s.endpoint else {
                    return 0.0;
                };
                s.groups.iter().find(|g| g.group == *db).map_or(0.0, |g| {
                    let ms = g.waiting_ms.as_ref().map_or(0.0, |e| e.mean)
                        + g.in_service_ms.as_ref().map_or(0.0, |e| e.mean);
                    ms * throughput(name)
                })
            })
            .collect();
        let total: f64 = load.iter().sum();
        for (s, l) in scopes.iter_mut().zip(load) {
            let Some(visits) = s
                .groups
                .iter()
                .find(|g| g.group == *db)
                .and_then(|g| g.visits.as_ref())
                .map(|e| e.mean)
            else {
                continue;
            };
            if s.endpoint.is_some() && visits >= N_PLUS_ONE_VISITS {
                s.n_plus_one.push(NPlusOne {
                    database: db.to_string(),
                    visits,
                    db_time_share: if total > 0.0 { l / total } else { 0.0 },
                });
            }
        }
    }
}

/// The groups with a limit, by the utilization of their busiest resource.
fn ranked(
    prog: &Program,
    groups: &[&str],
    all: &ScopeTime,
    other: &FigureIndex<'_>,
) -> Vec<GroupLoad> {
    let mut out: Vec<GroupLoad> = groups
        .iter()
        .filter_map(|&g| {
            let busiest = prog
                .resources
                .iter()
                .filter(|r| r.group == g && r.units != UNLIMITED)
                .filter_map(|r| {
                    let scope = Scope::Resource(r.name.clone());
                    let u = other.get(&scope, Metric::Resource(ResourceMetric::Utilization))?;
                    Some((r.name.clone(), *u))
                })
                .max_by(|a, b| a.1.mean.total_cmp(&b.1.mean))?;
            let time = all.groups.iter().find(|t| t.group == g);
            Some(GroupLoad {
                group: g.to_string(),
                busiest: busiest.0,
                utilization: Some(busiest.1),
                share: time.map_or(0.0, |t| t.share),
                slow_share: time.map_or(0.0, |t| t.slow_share),
                rank_utilization: 0,
                rank_slow_share: None,
            })
        })
        .collect();
    let util = |g: &GroupLoad| g.utilization.as_ref().map_or(0.0, |e| e.mean);
    out.sort_by(|a, b| b.slow_share.total_cmp(&a.slow_share));
    for (k, g) in out.iter_mut().enumerate() {
        g.rank_slow_share = (g.slow_share > 0.0).then_some(k + 1);
    }
    out.sort_by(|a, b| util(b).total_cmp(&util(a)));
    for (k, g) in out.iter_mut().enumerate() {
        g.rank_utilization = k + 1;
    }
    out
}
