//! Everything shipped loads, validates and runs: the models in `models/` (and their README
//! table), the modules in `scripts/` (and their README's example), and the peer-benchmark
//! models in `benches/peers/`.

use crate::cli::{FILES, arg, assert_exit, capsim, read_json, repo, tempdir};
use capsim::engine::Program;
use capsim::model::{Checked, validate};
use capsim::script::{load_file, load_str};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const SUMMARY_HEADER: &str = "scenario,scope,name,metric,unit,mean,ci_low,ci_high,replications,estimator,upper,target,verdict";

/// The `.rhai` files of a repository folder, sorted; at least one.
fn rhai_files(folder: &str) -> Vec<PathBuf> {
    let dir = repo().join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a folder entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .rhai file in {folder}/");
    files
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

fn load_and_validate(path: &Path) -> Result<Checked, String> {
    let model = load_file(path).map_err(|e| e.to_string())?;
    validate(model).map_err(|e| format!("{}: {e}", path.display()))
}

/// Asserts that every file of `folder` loads and validates, listing all that do not.
fn assert_all_valid(folder: &str) {
    let failures: Vec<String> = rhai_files(folder)
        .iter()
        .filter_map(|p| load_and_validate(p).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The ```rhai blocks of a Markdown text (not ```rhai,ignore).
fn rhai_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match current.as_mut() {
            None if line.trim_end() == "```rhai" => current = Some(String::new()),
            None => {}
            Some(block) if line.trim_end() == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    blocks
}

#[test]
fn every_model_in_models_loads_and_validates() {
    assert_all_valid("models");
}

#[test]
fn every_peer_benchmark_model_loads_and_validates() {
    assert_all_valid("benches/peers");
}

/// `simulate` refuses a program that fails `Program::verify`: whatever the compiler makes of a
/// shipped model must pass it.
#[test]
fn every_shipped_model_compiles_to_a_program_that_verifies() {
    let mut files = rhai_files("models");
    files.extend(rhai_files("benches/peers"));
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let c = match load_and_validate(path) {
                Ok(c) => c,
                Err(e) => return Some(e),
            };
            let e = Program::compile(&c).verify().err()?;
            Some(format!("{}: {e}", path.display()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_model_is_listed_in_the_models_readme() {
    let readme =
        std::fs::read_to_string(repo().join("models/README.md")).expect("models/README.md");
    for path in rhai_files("models") {
        let link = format!("({}.rhai)", stem(&path));
        assert!(
            readme.contains(&link),
            "models/README.md does not link {link}"
        );
    }
}

#[test]
fn every_script_module_imports_into_a_model() {
    let models = repo().join("models");
    for path in rhai_files("scripts") {
        let name = stem(&path);
        let src = format!(
            "import \"{name}\" as s;\n\
             let m = model(\"uses {name}\");\n\
             let server = m.station(\"server\", #{{ service: ms(5) }});\n\
             m.endpoint(\"job\", 1, [server.visit()]);\n\
             m.arrivals(per_sec(1));\n"
        );
        let model = load_str(&src, "models/uses-module.rhai", &models)
            .unwrap_or_else(|e| panic!("importing {}: {e}", path.display()));
        assert_eq!(model.name, format!("uses {name}"));
        validate(model).unwrap_or_else(|e| panic!("importing {}: {e}", path.display()));
    }
}

#[test]
fn the_examples_in_the_scripts_readme_load_and_validate() {
    let readme =
        std::fs::read_to_string(repo().join("scripts/README.md")).expect("scripts/README.md");
    let blocks = rhai_blocks(&readme);
    assert!(
        !blocks.is_empty(),
        "scripts/README.md has no ```rhai example"
    );
    for src in blocks {
        let model = load_str(&src, "scripts/README.md", &repo().join("models"))
            .unwrap_or_else(|e| panic!("{e}\n{src}"));
        let checked = validate(model).unwrap_or_else(|e| panic!("{e}\n{src}"));
        assert!(
            checked.model.scenarios.len() > 1,
            "the example declares its scenarios"
        );
    }
}

/// Arguments that keep a model's run short besides `--duration`, which only shortens
/// stage-less scenarios: ebook's staged load tests last hours, so only its `normal` one runs.
fn quick_args(stem: &str) -> &'static [&'static str] {
    if stem == "ebook" {
        &["--scenario", "normal"]
    } else {
        &[]
    }
}

#[test]
fn every_model_in_models_runs_briefly_and_writes_parseable_outputs() {
    let tmp = tempdir();
    for path in rhai_files("models") {
        let name = stem(&path);
        let out = tmp.path().join(&name);
        let mut args = vec![
            "run",
            arg(&path),
            "--replications",
            "2",
            "--duration",
            "600",
        ];
        args.extend(quick_args(&name));
        args.extend(["-o", arg(&out), "-q"]);
        let o = capsim(&args);
        assert_exit(&o, 0);
        for f in FILES {
            assert!(out.join(f).is_file(), "{name}: {f} was written");
        }
        let scenarios = results_scenarios(&out.join("results.json"), &name);
        assert_eq!(
            summary_scenarios(&out.join("summary.csv"), &name),
            scenarios
        );
        assert_eq!(
            timeseries_scenarios(&out.join("timeseries.csv"), &name),
            scenarios
        );
    }
}

/// The scenario names of a results.json, after checking its run parameters.
fn results_scenarios(path: &Path, model: &str) -> BTreeSet<String> {
    let json = read_json(path);
    assert_eq!(
        json["run"]["replications"]["n"], 2,
        "{model}: results.json run"
    );
    let scenarios = json["scenarios"]
        .as_array()
        .unwrap_or_else(|| panic!("{model}: results.json has no `scenarios` array"));
    assert!(
        !scenarios.is_empty(),
        "{model}: results.json has no scenario"
    );
    scenarios
        .iter()
        .map(|s| s["name"].as_str().expect("a scenario name").to_string())
        .collect()
}

/// The scenario names of a summary.csv, after checking its header and every row.
fn summary_scenarios(path: &Path, model: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).expect("summary.csv");
    assert_eq!(
        text.lines().next(),
        Some(SUMMARY_HEADER),
        "{model}: summary.csv header"
    );
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut scenarios = BTreeSet::new();
    for row in reader.records() {
        let row = row.unwrap_or_else(|e| panic!("{model}: summary.csv: {e}"));
        let mean: f64 = row[5]
            .parse()
            .unwrap_or_else(|_| panic!("{model}: mean in {row:?}"));
        assert!(mean.is_finite(), "{model}: summary.csv row {row:?}");
        assert_eq!(&row[8], "2", "{model}: replications in {row:?}");
        if &row[1] == "objective" {
            assert!(row[11].parse::<f64>().is_ok(), "{model}: target in {row:?}");
            assert!(
                ["pass", "fail", "inconclusive"].contains(&&row[12]),
                "{model}: verdict in {row:?}"
            );
        }
        scenarios.insert(row[0].to_string());
    }
    assert!(!scenarios.is_empty(), "{model}: summary.csv has no row");
    scenarios
}

/// The scenario names of a timeseries.csv, after checking that it parses and that its windows
/// are well formed.
fn timeseries_scenarios(path: &Path, model: &str) -> BTreeSet<String> {
    let mut reader = csv::Reader::from_path(path).expect("timeseries.csv");
    let headers = reader.headers().expect("a header").clone();
    let first: Vec<&str> = headers.iter().take(3).collect();
    assert_eq!(
        first,
        ["scenario", "window_start_s", "window_end_s"],
        "{model}"
    );
    let mut scenarios = BTreeSet::new();
    for row in reader.records() {
        let row = row.unwrap_or_else(|e| panic!("{model}: timeseries.csv: {e}"));
        let at = |i: usize| -> f64 {
            row[i]
                .parse()
                .unwrap_or_else(|_| panic!("{model}: window in {row:?}"))
        };
        assert!(at(1) < at(2), "{model}: window {row:?}");
        scenarios.insert(row[0].to_string());
    }
    assert!(
        !scenarios.is_empty(),
        "{model}: timeseries.csv has no window"
    );
    scenarios
}
