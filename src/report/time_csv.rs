//! `bottlenecks.csv`: per scenario, the resource groups ranked by the utilization of their
//! busiest resource and by their share of the slowest requests' time (see
//! [`crate::analysis::timing`]).

use super::csv::{err, finish, num};
use super::{Exporter, Output, RenderError, Results};

pub struct BottlenecksCsv;

const FILE: &str = "bottlenecks.csv";

impl Exporter<Results> for BottlenecksCsv {
    /// One row per scenario x resource group with a limit, busiest first; nothing when no
    /// scenario split its response times.
    fn render(&self, r: &Results) -> Result<Vec<Output>, RenderError> {
        if r.scenarios.iter().all(|s| s.time.is_none()) {
            return Ok(Vec::new());
        }
        let e = err(FILE);
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "scenario",
            "group",
            "busiest_resource",
            "utilization_ratio",
            "utilization_ci_low_ratio",
            "utilization_ci_high_ratio",
            "rank_by_utilization",
            "time_share_ratio",
            "slow_time_share_ratio",
            "rank_by_slow_time_share",
        ])
        .map_err(&e)?;
        for s in &r.scenarios {
            let Some(t) = &s.time else { continue };
            for g in &t.bottlenecks {
                let u = g.utilization.as_ref();
                w.write_record([
                    s.name.clone(),
                    g.group.clone(),
                    g.busiest.clone(),
                    u.map_or(String::new(), |u| num(u.mean)),
                    u.map_or(String::new(), |u| num(u.ci_low)),
                    u.map_or(String::new(), |u| num(u.ci_high)),
                    g.rank_utilization.to_string(),
                    num(g.share),
                    num(g.slow_share),
                    g.rank_slow_share.map_or(String::new(), |k| k.to_string()),
                ])
                .map_err(&e)?;
            }
        }
        finish(FILE, w)
    }
}
