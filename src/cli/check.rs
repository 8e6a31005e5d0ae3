//! `capsim check`: validate a model, print its topology and each resource's analytic load.

use super::args::CheckArgs;
use super::error::CliError;
use crate::analysis::capacity::{self, ScenarioLoad};
use crate::format::{fmt_duration, sig3};
use crate::model::{Checked, ResourceKind, Workload};
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
