//! `capsim check`: validate a model, print its topology and each resource's analytic load.

use super::args::CheckArgs;
use super::error::CliError;
use crate::analysis::capacity::{self, ScenarioLoad};
use crate::format::{fmt_bytes, fmt_duration, sig3};
use crate::model::{Checked, GrowthRule, Model, ResourceKind, Workload};
use std::fmt::Write;

pub fn check(a: &CheckArgs, short: bool) -> Result<u8, CliError> {
    let (c, _prog) = super::load(&a.model, short)?;
    let loads = capacity::analyse(&c);
    if a.json {
        let doc = serde_json::json!({ "model": c.model, "capacity": loads });
        let json =
            serde_json::to_string_pretty(&doc).map_err(|e| CliError::Usage(e.to_string()))?;
        super::emit(&format!("{json}\n"));
    } else {
        super::emit(&render(&c, &loads));
    }
    let impossible: Vec<&str> = loads
        .iter()
        .filter(|l| l.steady_state_impossible)
        .map(|l| l.scenario.as_str())
        .collect();
    if impossible.is_empty() {
        return Ok(0);
    }
    Err(CliError::Saturated(format!(
        "scenario(s) {} load a resource at or above 100 %: they cannot reach a steady state (the run would report them saturated)",
        impossible.join(", ")
    )))
}

fn render(c: &Checked, loads: &[ScenarioLoad]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "model `{}`: valid", c.model.name);
    topology(&mut out, c);
    outlook(&mut out, &c.model);
    data_volume(&mut out, c);
    variants(&mut out, &c.model);
    scaling(&mut out, &c.model);
    for l in loads {
        scenario(&mut out, c, l);
    }
    out
}

fn topology(out: &mut String, c: &Checked) {
    let _ = writeln!(out, "\nresources");
    for r in &c.model.resources {
        let what = match &r.kind {
            ResourceKind::Station(s) => format!("{} server(s), queue {}", s.servers, cap(s.queue)),
            ResourceKind::Proxy(p) => format!(
                "-> {} ({}), {} connections, {} worker(s)",
                p.upstream,
                p.policy.word(),
                cap(p.connections),
                p.workers
            ),
            ResourceKind::App(a) => format!(
                "{} instance(s) x {} {} worker(s), {} cpu(s) ({}), backlog {}{}",
                a.instances,
                a.workers,
                a.mode.word(),
                a.cpus,
                a.scheduling.word(),
                cap(a.backlog),
                a.pool.as_ref().map_or(String::new(), |p| format!(
                    ", pool {} ({} scope)",
                    p.size,
                    p.scope.word()
                ))
            ),
            ResourceKind::Database(d) => format!(
                "primary + {} replica(s), {} concurrent queries each",
                d.replicas, d.connections
            ),
            ResourceKind::Cache(k) => format!("{} server(s), {}", k.servers, k.service.describe()),
            ResourceKind::External(e) => format!("{}, limit {}", e.delay.describe(), cap(e.limit)),
            ResourceKind::Background(b) => {
                format!("{} worker(s), queue {}", b.workers, cap(b.queue))
            }
        };
        let _ = writeln!(out, "  {:<12} {:<22} {what}", r.kind.type_name(), r.name);
    }
    let _ = writeln!(out, "\nendpoints (share of the mix)");
    for (i, e) in c.model.endpoints.iter().enumerate() {
        let on_start = if c.on_start == Some(i) {
            " (on start)"
        } else {
            ""
        };
        let _ = writeln!(out, "  {:>6.1}%  {}{on_start}", 100.0 * c.mix[i], e.name);
    }
    let w = match &c.workload {
        Workload::Closed { users, think, .. } => {
            format!("closed: {users} users, think {}", think.describe())
        }
        Workload::Open { arrivals } => format!("open: {} req/s", sig3(arrivals.rate_per_s())),
    };
    let _ = writeln!(out, "\nworkload {w}");
}

/// A monthly fraction as `+4 %/month`.
fn per_month(x: f64) -> String {
    let sign = if x >= 0.0 { "+" } else { "" };
    format!("{sign}{} %/month", sig3(100.0 * x))
}

/// The capacity-study declarations about load, when the model has any.
fn outlook(out: &mut String, m: &Model) {
    let declared = m.load_profile.is_some() || m.load_target.is_some();
    if !declared && m.growth.is_empty() && m.events.is_empty() {
        return;
    }
    let _ = writeln!(out, "\noutlook");
    if let Some(p) = &m.load_profile {
        let (u, how) = (
            p.unit.word(),
            if p.shape.is_some() {
                " (from its shape)"
            } else {
                ""
            },
        );
        let _ = writeln!(
            out,
            "  today       average {} {u}, daily peak {}, weekly peak {}{how}; trend {}",
            sig3(p.average),
            sig3(p.daily_peak),
            sig3(p.weekly_peak),
            per_month(p.monthly_trend)
        );
    }
    if let Some(t) = &m.load_target {
        let by = t
            .by_month
            .map_or(String::new(), |b| format!(" by month {b}"));
        let data = t
            .data_size_bytes
            .map_or(String::new(), |b| format!(", holding {}", fmt_bytes(b)));
        let _ = writeln!(
            out,
            "  target      peak {} {}{by}{data}",
            sig3(t.peak),
            t.unit.word()
        );
    }
    for g in &m.growth {
        let how = match g.rule {
            GrowthRule::Compound {
                users_per_month: u,
                traffic_per_user_per_month: t,
            } => format!("users {}, traffic per user {}", per_month(u), per_month(t)),
            GrowthRule::Curve => "a curve".to_string(),
        };
        let h = g.horizon_months;
        let end = g.load(h).unwrap_or(1.0);
        let _ = writeln!(
            out,
            "  growth      {}: {how}; load x{} at month {h}",
            g.name,
            sig3(end)
        );
    }
    for e in &m.events {
        let _ = writeln!(
            out,
            "  event       {}: month {}, load x{} for {}",
            e.name,
            e.month,
            sig3(e.multiplier),
            fmt_duration(e.duration_s)
        );
    }
}

/// The declared byte sizes, as the studies read them: per request of the mix.
fn data_volume(out: &mut String, c: &Checked) {
    let sizes: Vec<(&str, f64)> = c
        .model
        .resources
        .iter()
        .filter_map(|r| Some((r.name.as_str(), c.model.database_size_bytes(&r.name)?)))
        .collect();
    let response = c.response_bits_per_s(1.0).map(|bits| bits / 8.0);
    let written = c.bytes_written_per_s(1.0, None);
    if sizes.is_empty() && response.is_none() && written == 0.0 {
        return;
    }
    let _ = writeln!(out, "\ndata (per request of the mix)");
    if let Some(r) = response {
        let _ = writeln!(out, "  responses   {}", fmt_bytes(r));
    }
    let _ = writeln!(out, "  written     {}", fmt_bytes(written));
    for (db, bytes) in sizes {
        let _ = writeln!(out, "  database    {db} holds {} today", fmt_bytes(bytes));
    }
}

fn variants(out: &mut String, m: &Model) {
    if m.variants.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nvariants (what-if)");
    for v in &m.variants {
        let effort = v
            .effort
            .map_or(String::new(), |e| format!(" [{}]", e.word()));
        let why = v
            .rationale
            .as_ref()
            .map_or(String::new(), |r| format!(": {r}"));
        let _ = writeln!(out, "  {}{effort}{why}", v.name);
    }
}

/// The scaling options and prices the capacity search may use, and today's cost.
fn scaling(out: &mut String, m: &Model) {
    let Ok(Some(space)) = crate::model::config::Space::of(m) else {
        return;
    };
    let cur = &space.currency;
    let budget = space
        .budget
        .map_or(String::new(), |b| format!(", budget {b} {cur}/month"));
    let _ = writeln!(out, "\nscaling options (prices in {cur}/month{budget})");
    for s in &m.scaling {
        let mut parts: Vec<String> = s
            .options
            .iter()
            .map(|o| {
                let price = if o.unit_price > 0.0 {
                    format!(" at {} each per node", o.unit_price)
                } else {
                    String::new()
                };
                let lead = if o.lead_time_s > 0.0 {
                    format!(", lead time {}", fmt_duration(o.lead_time_s))
                } else {
                    String::new()
                };
                format!("{} {}..{}{price}{lead}", o.knob.word(), o.min, o.max)
            })
            .collect();
        if s.sizes.is_empty() {
            parts.push(format!("{} a node", s.price.unwrap_or(0.0)));
        } else {
            let sizes: Vec<String> = s
                .sizes
                .iter()
                .enumerate()
                .map(|(i, z)| {
                    let today = if Some(i) == s.size { " (today)" } else { "" };
                    format!("{}{today} {} a node", z.name, z.price)
                })
                .collect();
            parts.push(format!("sizes {}", sizes.join(", ")));
        }
        let constraint = s
            .constraint
            .as_ref()
            .map_or(String::new(), |c| format!("; {c}"));
        let _ = writeln!(
            out,
            "  {:<11} scales out: {}; {}{constraint}",
            s.resource,
            s.scale_out.word(),
            parts.join("; ")
        );
    }
    let today = space.today();
    let (within, over) = space.in_cost_order(m);
    let _ = writeln!(
        out,
        "  today       {}: {} {cur}/month; {} configurations within the budget, {over} above it",
        space.describe(m, &today),
        space.cost(m, &today),
        within.len()
    );
}

fn cap(x: Option<u32>) -> String {
    x.map_or("unlimited".to_string(), |v| v.to_string())
}

fn scenario(out: &mut String, c: &Checked, l: &ScenarioLoad) {
    let unit = if c.workload.is_closed() {
        "users"
    } else {
        "req/s"
    };
    let _ = writeln!(
        out,
        "\nscenario `{}` at its peak of {} {unit}",
        l.scenario,
        sig3(l.peak_level)
    );
    if let (Some(b), Some(n)) = (&l.bounds, l.saturation_users) {
        let _ = writeln!(
            out,
            "  throughput <= {} req/s (asymptotic bounds); response time >= {}; the bottleneck saturates beyond ~{} users",
            sig3(b.throughput_upper),
            fmt_duration(b.response_lower_s),
            sig3(n)
        );
    } else {
        let _ = writeln!(out, "  offered {} req/s", sig3(l.throughput_rps));
    }
    let _ = writeln!(
        out,
        "  {:<26} {:>8} {:>10} {:>13} {:>12}",
        "resource", "servers", "visits/req", "demand/req", "utilization"
    );
    for r in &l.resources {
        let u = match r.utilization {
            Some(u) => format!(
                "{}{:.1}%",
                if r.lower_bound { ">= " } else { "" },
                100.0 * u
            ),
            None => format!("{} busy", sig3(r.concurrency)),
        };
        let flag = match (r.saturated, r.lower_bound, c.workload.is_closed()) {
            (false, _, _) => "",
            (true, false, false) => "  << bottleneck: at or above 100 %, no steady state",
            (true, false, true) => "  << bottleneck: saturated, throughput capped at its bound",
            (true, true, _) => "  << saturated",
        };
        let srv = r.servers.map_or("∞".to_string(), |s| s.to_string());
        let _ = writeln!(
            out,
            "  {:<26} {:>8} {:>10} {:>13} {:>12}{flag}",
            r.name,
            srv,
            sig3(r.visits),
            fmt_duration(r.demand_s),
            u
        );
    }
    if let Some(b) = &l.bottleneck {
        let _ = writeln!(out, "  bottleneck: {b}");
    }
}
