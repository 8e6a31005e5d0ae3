//! Peak memory against the number of endpoints: what a model's size costs.
//!
//! Writes one model per size (10, 100 and 1 000 endpoints, the supported maximum; an app of 4
//! instances, a database with 2 replicas, a cache; an open workload of 400 requests/s shared
//! evenly by the endpoints, 10 simulated minutes), runs the real binary on it with
//! `--replications R --threads 1 --timing` and prints the peak resident memory it reports
//! (`VmHWM`) and the wall time, as a Markdown table. One thread, so that the peak does not depend
//! on which replications happen to run at the same moment.
//!
//! `cargo bench --bench memory` (about a minute); see benches/README.md for the figures.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// The endpoint counts measured (the last is the supported maximum, `model::limits`).
const SIZES: [usize; 3] = [10, 100, 1000];
/// Replication counts: the quick one and the default precision's usual one.
const REPLICATIONS: [u32; 2] = [4, 24];

/// A model of `n` endpoints, each a compute step, a cache look-up whose miss reads a replica,
/// and every tenth a write to the primary.
fn model(n: usize) -> String {
    let mut s = String::from(
        r#"let m = model("endpoints");
let app = m.app("app", #{ instances: 4, workers: 8, cpus: 2 });
let db = m.database("db", #{ replicas: 2, connections: 4 });
let cache = m.cache("cache", #{ servers: 1, service: exponential(us(200)) });
"#,
    );
    for i in 0..n {
        let write = if i % 10 == 0 {
            ", db.write(exponential(ms(2)))"
        } else {
            ""
        };
        s.push_str(&format!(
            "m.endpoint(\"GET /e{i}\", 1, [app.compute(exponential(ms(2))), cache.get(0.9, [db.read(exponential(ms(3)))]){write}]);\n"
        ));
    }
    s.push_str(
        r#"m.arrivals(per_sec(400));
m.slo(#{ p95: ms(200) });
m.scenario("steady", #{ duration: minutes(10) });
"#,
    );
    s
}

/// Runs the binary; returns (peak RSS in MB as printed, wall seconds).
fn measure(model: &Path, out: &Path, replications: u32) -> (String, f64) {
    let start = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .arg("run")
        .arg(model)
        .args(["--replications", &replications.to_string()])
        .args(["--threads", "1", "--timing", "-q", "-o"])
        .arg(out)
        .output()
        .expect("the capsim binary runs");
    let wall = start.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "capsim failed:\n{err}");
    let peak = err
        .lines()
        .find_map(|l| l.strip_prefix("memory: peak_rss_mb="))
        .unwrap_or_else(|| panic!("no memory line in:\n{err}"))
        .to_string();
    (peak, wall)
}

fn main() {
    // `cargo test --benches` runs benches with `--test`-like arguments: nothing to check here.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("capsim-memory-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    println!("| endpoints | replications | peak RSS (MB) | wall (s) |");
    println!("| ---: | ---: | ---: | ---: |");
    for n in SIZES {
        let path = dir.join(format!("e{n}.rhai"));
        std::fs::write(&path, model(n)).expect("the model is written");
        for r in REPLICATIONS {
            let (peak, wall) = measure(&path, &dir.join(format!("out{n}-{r}")), r);
            println!("| {n} | {r} | {peak} | {wall:.1} |");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
