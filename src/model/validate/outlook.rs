//! The rules of a model's capacity-study declarations that span several items: a load profile
//! or target in the workload's unit, unique names of growth hypotheses and events, and events
//! within the hypotheses' horizons (a warning).

use super::{Validator, duplicates, first_declared};
use crate::model::*;

/// Checks the load profile, the target, the growth hypotheses and the events.
pub(super) fn check_outlook(v: &mut Validator, workload: Option<&Workload>) {
    let m = v.model;
    if let Some(w) = workload {
        let want = LoadUnit::of(w);
        if let Some(p) = &m.load_profile {
            check_unit(v, "load profile", p.unit, want, &p.origin);
        }
        if let Some(t) = &m.load_target {
            check_unit(v, "load target", t.unit, want, &t.origin);
        }
    }
    for g in &m.growth {
        if g.months.len() != g.horizon_months as usize + 1
            || g.months.first().is_none_or(|m0| m0.load() != 1.0)
        {
            let msg = "needs one multiplier per month from 0 (today: 1) to its horizon";
            v.error(format!("growth hypothesis `{}`", g.name), &g.origin, msg);
        }
    }
    let growth = m.growth.iter().map(|g| (g.name.as_str(), &g.origin));
    for (i, first) in duplicates(growth) {
        let g = &m.growth[i];
        let msg = format!("declared twice{}", first_declared(first, &g.origin));
        v.error(format!("growth hypothesis `{}`", g.name), &g.origin, msg);
    }
    for (i, first) in duplicates(m.events.iter().map(|e| (e.name.as_str(), &e.origin))) {
        let e = &m.events[i];
        let msg = format!("declared twice{}", first_declared(first, &e.origin));
        v.error(format!("event `{}`", e.name), &e.origin, msg);
    }
    warn_events_beyond_the_horizons(v);
}

fn check_unit(v: &mut Validator, item: &str, got: LoadUnit, want: LoadUnit, at: &Option<Origin>) {
    if got == want {
        return;
    }
    let msg = match want {
        LoadUnit::Users => format!(
            "is in {}, but the workload is closed (m.users): give its levels as plain numbers \
             of users",
            got.word()
        ),
        LoadUnit::RequestsPerSecond => format!(
            "is in {}, but the workload is open (m.arrivals): give its levels as rates like \
             per_sec(50)",
            got.word()
        ),
    };
    v.error(item.to_string(), at, msg);
}

/// An event later than every hypothesis's horizon has no projected load to multiply.
fn warn_events_beyond_the_horizons(v: &mut Validator) {
    let m = v.model;
    let Some(longest) = m.growth.iter().map(|g| g.horizon_months).max() else {
        return;
    };
    for e in &m.events {
        if e.month > longest {
            let msg = format!(
                "happens at month {}, beyond every growth hypothesis's horizon (at most {longest} \
                 months): a study cannot project the load it multiplies",
                e.month
            );
            v.warn(format!("event `{}`", e.name), &e.origin, msg);
        }
    }
}
