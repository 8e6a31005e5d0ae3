//! Shards: a study's replications split across machines (a Kubernetes Indexed Job, a Slurm
//! array), each writing a partial result that `capsim merge` combines.

use super::envelope::{self, Refusal};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Shard `index` of `count` (0-based): runs a contiguous block of the replications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum ShardError {
    #[error("`{0}` is not a shard: write K/N with 1 <= K <= N (e.g. 2/7), or `auto`")]
    Syntax(String),
    #[error(
        "--shard auto found no batch index: set JOB_COMPLETION_INDEX (a Kubernetes Indexed Job, with --shard-count N) or SLURM_ARRAY_TASK_ID (a Slurm array)"
    )]
    NoEnvironment,
    #[error(
        "--shard auto under a Kubernetes Indexed Job needs the shard count: pass --shard-count N (the Job's completions)"
    )]
    NoCount,
    #[error("environment variable {name}=`{value}` is not a whole number")]
    BadEnv { name: &'static str, value: String },
    #[error("shard index {index} is outside 0..{count} ({origin})")]
    OutOfRange {
        /// Wider than the variables it is computed from: `ID - MIN` of two i64 never overflows.
        index: i128,
        count: i64,
        origin: String,
    },
    #[error(
        "the Slurm array is not contiguous (SLURM_ARRAY_TASK_MIN {min}, SLURM_ARRAY_TASK_MAX {max}, SLURM_ARRAY_TASK_COUNT {count}): submit it as --array=MIN-MAX without a step or gaps"
    )]
    SlurmGaps { min: i64, max: i64, count: i64 },
}

impl Shard {
    /// The replications of this shard among `total`: a contiguous block, sizes differing by at
    /// most one.
    pub fn range(&self, total: u64) -> std::ops::Range<u64> {
        let (k, n) = (u64::from(self.index), u64::from(self.count));
        (total * k / n)..(total * (k + 1) / n)
    }

    /// True when this shard gets none of `total` replications (more shards than replications).
    pub fn is_empty(&self, total: u64) -> bool {
        self.range(total).is_empty()
    }

    /// Parses `K/N` (1-based, as people count shards).
    pub fn parse(s: &str) -> Result<Shard, ShardError> {
        let err = || ShardError::Syntax(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(err)?;
        let k: u32 = k.trim().parse().map_err(|_| err())?;
        let n: u32 = n.trim().parse().map_err(|_| err())?;
        if k == 0 || n == 0 || k > n {
            return Err(err());
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }

    /// Reads the shard from a batch system's environment: a Kubernetes Indexed Job
    /// (`JOB_COMPLETION_INDEX`, 0-based, with the count given by the caller) or a Slurm array
    /// (`SLURM_ARRAY_TASK_ID` relative to `SLURM_ARRAY_TASK_MIN`, `SLURM_ARRAY_TASK_COUNT`).
    pub fn from_env(
        get: impl Fn(&str) -> Option<String>,
        count: Option<u32>,
    ) -> Result<Shard, ShardError> {
        let num = |name: &'static str| -> Result<Option<i64>, ShardError> {
            get(name)
                .map(|v| {
                    v.trim().parse::<i64>().map_err(|_| ShardError::BadEnv {
                        name,
                        value: v.clone(),
                    })
                })
                .transpose()
        };
        if let Some(index) = num("JOB_COMPLETION_INDEX")? {
            let count = i64::from(count.ok_or(ShardError::NoCount)?);
            return checked(i128::from(index), count, "JOB_COMPLETION_INDEX");
        }
        let Some(id) = num("SLURM_ARRAY_TASK_ID")? else {
            return Err(ShardError::NoEnvironment);
        };
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let n = match num("SLURM_ARRAY_TASK_COUNT")? {
            Some(n) => n,
            None => i64::from(count.ok_or(ShardError::NoCount)?),
        };
        // In i128: any two i64 values (`MAX=9223372036854775807 MIN=-1`) subtract exactly.
        if let Some(max) = num("SLURM_ARRAY_TASK_MAX")?
            && i128::from(max) - i128::from(min) + 1 != i128::from(n)
        {
            return Err(ShardError::SlurmGaps { min, max, count: n });
        }
        let index = i128::from(id) - i128::from(min);
        checked(index, n, "SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN")
    }
}

fn checked(index: i128, count: i64, origin: &str) -> Result<Shard, ShardError> {
    if count < 1 || index < 0 || index >= i128::from(count) || count > i64::from(u32::MAX) {
        return Err(ShardError::OutOfRange {
            index,
            count,
            origin: origin.to_string(),
        });
    }
    Ok(Shard {
        index: index as u32,
        count: count as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn shards_cover_every_replication_once() {
        for n in 1..=9 {
            let mut seen = Vec::new();
            for k in 0..n {
                seen.extend(Shard { index: k, count: n }.range(20));
            }
            assert_eq!(seen, (0..20).collect::<Vec<u64>>(), "{n} shards");
        }
    }

    #[test]
    fn k_of_n_is_one_based() {
        assert_eq!(Shard::parse("2/7"), Ok(Shard { index: 1, count: 7 }));
        assert!(Shard::parse("0/7").is_err());
        assert!(Shard::parse("8/7").is_err());
        assert!(Shard::parse("x").is_err());
    }

    #[test]
    fn kubernetes_indexed_jobs_are_zero_based() {
        let s = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "3")]), Some(4)).unwrap();
        assert_eq!(s, Shard { index: 3, count: 4 });
        assert_eq!(
            Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "3")]), None),
            Err(ShardError::NoCount)
        );
    }

    #[test]
    fn slurm_arrays_may_start_above_zero() {
        let e = env(&[
            ("SLURM_ARRAY_TASK_ID", "12"),
            ("SLURM_ARRAY_TASK_MIN", "10"),
            ("SLURM_ARRAY_TASK_MAX", "14"),
            ("SLURM_ARRAY_TASK_COUNT", "5"),
        ]);
        assert_eq!(
            Shard::from_env(e, None).unwrap(),
            Shard { index: 2, count: 5 }
        );
    }

    #[test]
    fn a_part_whose_content_differs_from_its_digest_is_refused_naming_it() {
        let mut bytes = envelope::seal(br#"{"capsim_version":"0.1.0"}"#);
        *bytes.last_mut().unwrap() = b' ';
        let e = Partial::parse("parts/partial-2-of-3.json", &bytes).unwrap_err();
        assert!(matches!(e, MergeError::Damaged { .. }), "{e:?}");
        let message = e.to_string();
        for says in [
            "parts/partial-2-of-3.json: ",
            "digest",
            "modified or damaged",
        ] {
            assert!(message.contains(says), "no `{says}` in {message}");
        }
    }

    #[test]
    fn a_sealed_part_that_is_not_a_partial_says_so_after_its_digest() {
        let e = Partial::parse("p.json", &envelope::seal(b"[1, 2]")).unwrap_err();
        assert!(matches!(e, MergeError::Parse { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("p.json: not a capsim partial result (its digest matches")
        );
    }

    #[test]
    fn a_slurm_array_with_a_step_is_refused() {
        let e = env(&[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "8"),
            ("SLURM_ARRAY_TASK_COUNT", "5"),
        ]);
        assert!(matches!(
            Shard::from_env(e, None),
            Err(ShardError::SlurmGaps { .. })
        ));
    }

    /// Found by the `shard_env` fuzz target: `ID - MIN` and `MAX - MIN + 1` overflowed i64
    /// (a panic with overflow checks, a wrapped index without).
    #[test]
    fn extreme_slurm_variables_are_refused_without_overflow() {
        let e = env(&[
            ("SLURM_ARRAY_TASK_ID", "5127308593342709540"),
            ("SLURM_ARRAY_TASK_MIN", "-7115969826819932211"),
        ]);
        assert_eq!(
            Shard::from_env(e, Some(4294967040)),
            Err(ShardError::OutOfRange {
                index: 12243278420162641751,
                count: 4294967040,
                origin: "SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN".into(),
            })
        );
        let e = env(&[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_MIN", "-9223372036854775808"),
            ("SLURM_ARRAY_TASK_MAX", "9223372036854775807"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ]);
        assert!(matches!(
            Shard::from_env(e, None),
            Err(ShardError::SlurmGaps { .. })
        ));
    }
}

/// A shard's partial result: its replications' summaries and its pooled histograms, with the
/// model and parameters that must match across the shards being merged. Its file is the JSON
/// of this struct sealed with its digest (see [`super::envelope`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    pub capsim_version: String,
    pub model: crate::model::Model,
    pub run: super::RunParams,
    pub shard: Shard,
    pub scenarios: Vec<PartialScenario>,
}

/// One scenario of a partial result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialScenario {
    pub name: String,
    pub description: Option<String>,
    pub horizon_s: f64,
    pub window_s: f64,
    pub warmup: super::WarmupInfo,
    pub pooled: crate::stats::figures::Pooled,
    pub replications: Vec<crate::stats::RepSummary>,
}

#[derive(Debug, Error)]
pub enum MergeError {
    #[error("{path}: not a capsim partial result ({message})")]
    Parse { path: String, message: String },
    #[error(
        "{path}: a partial result of format `{found}`, which this capsim ({version}) does not read (it reads `{reads}`): merge it with the capsim that wrote it, or run its shard again with this one",
        version = env!("CARGO_PKG_VERSION"),
        reads = envelope::FORMAT
    )]
    Format { path: String, found: String },
    #[error(
        "{path}: {what}: the file was modified or damaged after it was written; run its shard again (`capsim run ... --shard K/N`) and merge the new file"
    )]
    Damaged { path: String, what: &'static str },
    #[error("{path}: {what} differs from {first}'s; only shards of one run can be merged")]
    Mismatch {
        path: String,
        first: String,
        what: &'static str,
    },
    #[error("replication {index} of scenario `{scenario}` appears in more than one part")]
    Duplicate { scenario: String, index: u64 },
    #[error("scenario `{scenario}` lacks replications {missing} of {total}: a shard is missing")]
    Missing {
        scenario: String,
        missing: String,
        total: u64,
    },
    #[error("no partial results given")]
    Empty,
    #[error("{0}")]
    Model(String),
}

impl Partial {
    /// Builds the partial result of shard `shard` from its finished scenarios (run with
    /// [`crate::stats::Aggregate::keep_replications`]).
    pub fn new(
        model: &crate::model::Model,
        run: &super::RunParams,
        shard: Shard,
        runs: Vec<super::ScenarioRun>,
    ) -> Partial {
        let scenarios = runs
            .into_iter()
            .map(|r| PartialScenario {
                name: r.name,
                description: r.description,
                horizon_s: r.horizon_s,
                window_s: r.window_s,
                warmup: r.warmup,
                pooled: r.aggregate.pooled,
                replications: r.aggregate.kept.unwrap_or_default(),
            })
            .collect();
        Partial {
            capsim_version: env!("CARGO_PKG_VERSION").to_string(),
            model: model.clone(),
            run: run.clone(),
            shard,
            scenarios,
        }
    }

    pub fn file_name(&self) -> String {
        format!(
            "partial-{}-of-{}.json",
            self.shard.index + 1,
            self.shard.count
        )
    }

    /// The bytes of this partial's file: its JSON, sealed with its digest.
    pub fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        Ok(envelope::seal(&serde_json::to_vec(self)?))
    }

    /// Reads a partial file, refusing one that is not intact (see [`super::envelope`]).
    ///
    /// # Errors
    /// [`MergeError::Damaged`], [`MergeError::Format`] or [`MergeError::Parse`], naming `path`.
    pub fn parse(path: &str, bytes: &[u8]) -> Result<Partial, MergeError> {
        let body = envelope::open(bytes).map_err(|r| refused(path, r))?;
        serde_json::from_slice(body).map_err(|e| MergeError::Parse {
            path: path.to_string(),
            message: format!("its digest matches but its content does not read: {e}"),
        })
    }
}

/// The error of a partial file that is not intact.
fn refused(path: &str, refusal: Refusal) -> MergeError {
    let path = path.to_string();
    let damaged = |what| MergeError::Damaged {
        path: path.clone(),
        what,
    };
    match refusal {
        Refusal::NotPartial => MergeError::Parse {
            message: format!(
                "it does not start with a `{} sha256=<digest>` line",
                envelope::FORMAT
            ),
            path,
        },
        Refusal::Format(found) => MergeError::Format { path, found },
        Refusal::Empty => damaged("it is empty"),
        Refusal::CutShort => {
            damaged("it ends inside its header line, before its digest and content")
        }
        Refusal::MalformedHeader => damaged(
            "its header line is not the format, a space, `sha256=` and a 64-digit hex digest",
        ),
        Refusal::Mismatch => damaged("its content does not match its sha256 digest"),
    }
}

/// Merges partial results (in any order) into the scenario runs the unsharded run would have
/// produced: replications are folded in index order, histograms added.
pub fn merge(
    parts: &[(String, Partial)],
    prog: &crate::engine::Program,
    closed: bool,
) -> Result<Vec<super::ScenarioRun>, MergeError> {
    let (first_path, first) = parts.first().ok_or(MergeError::Empty)?;
    for (path, p) in &parts[1..] {
        let mismatch = |what| MergeError::Mismatch {
            path: path.clone(),
            first: first_path.clone(),
            what,
        };
        if p.model != first.model {
            return Err(mismatch("the model"));
        }
        if p.run != first.run || p.capsim_version != first.capsim_version {
            return Err(mismatch("the run parameters or capsim version"));
        }
    }
    let total = match first.run.replications {
        super::Replications::Fixed { n } => u64::from(n),
        super::Replications::Precision(_) => {
            return Err(MergeError::Model(
                "sharded runs have a fixed replication count".into(),
            ));
        }
    };
    first
        .scenarios
        .iter()
        .enumerate()
        .map(|(k, s)| merge_scenario(parts, k, s, total, prog, closed))
        .collect()
}

fn merge_scenario(
    parts: &[(String, Partial)],
    k: usize,
    s: &PartialScenario,
    total: u64,
    prog: &crate::engine::Program,
    closed: bool,
) -> Result<super::ScenarioRun, MergeError> {
    let mut reps: Vec<&crate::stats::RepSummary> = Vec::new();
    let mut agg =
        crate::stats::Aggregate::new(crate::stats::Schema::with_parts(prog, closed), prog);
    for (_, p) in parts {
        let ps = &p.scenarios[k];
        agg.pooled.merge(&ps.pooled);
        reps.extend(&ps.replications);
    }
    reps.sort_by_key(|r| r.index);
    if let Some(w) = reps.windows(2).find(|w| w[0].index == w[1].index) {
        return Err(MergeError::Duplicate {
            scenario: s.name.clone(),
            index: w[0].index,
        });
    }
    let have: std::collections::BTreeSet<u64> = reps.iter().map(|r| r.index).collect();
    let missing: Vec<String> = (0..total)
        .filter(|i| !have.contains(i))
        .take(10)
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() || have.len() as u64 != total {
        return Err(MergeError::Missing {
            scenario: s.name.clone(),
            missing: missing.join(", "),
            total,
        });
    }
    for r in reps {
        agg.fold(r);
    }
    Ok(super::ScenarioRun {
        name: s.name.clone(),
        description: s.description.clone(),
        horizon_s: s.horizon_s,
        window_s: s.window_s,
        warmup: s.warmup,
        aggregate: agg,
        precision: None,
        wall_s: 0.0,
    })
}
