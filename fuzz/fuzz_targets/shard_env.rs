//! `--shard K/N` and `--shard auto`'s batch environment -> `Shard::parse` / `Shard::from_env`:
//! every answer is an error or a shard inside its count.
#![no_main]

use arbitrary::Arbitrary;
use capsim::montecarlo::Shard;
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 5] = [
    "JOB_COMPLETION_INDEX",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_COUNT",
];

/// A variable's value: any text, or a whole number written out (random text rarely spells
/// the extreme numbers that reach the arithmetic).
#[derive(Debug, Arbitrary)]
enum Value {
    Text(String),
    Number(i64),
}

impl Value {
    fn text(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Number(n) => n.to_string(),
        }
    }
}

#[derive(Debug, Arbitrary)]
struct Input {
    text: String,
    env: [Option<Value>; 5],
    count: Option<u32>,
}

fn valid(s: Shard) {
    assert!(s.count >= 1 && s.index < s.count, "{s:?}");
}

fuzz_target!(|input: Input| {
    if let Ok(s) = Shard::parse(&input.text) {
        valid(s);
    }
    let get = |name: &str| {
        let i = NAMES.iter().position(|n| *n == name)?;
        input.env[i].as_ref().map(Value::text)
    };
    if let Ok(s) = Shard::from_env(get, input.count) {
        valid(s);
        for total in [0, 1, 7, 10_000] {
            let r = s.range(total);
            assert!(r.start <= r.end && r.end <= total);
        }
    }
});
