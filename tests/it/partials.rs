//! Partial result files carry the SHA-256 digest of their content: `capsim merge` refuses a part
//! edited, cut short or otherwise damaged after its shard wrote it, naming the file, and writes
//! nothing. Each test damages a real part written by `capsim run --shard`.

use crate::cli::{assert_exit, assert_same_outputs, merge, run_small, shard, stderr, tempdir};
use std::path::{Path, PathBuf};

/// The two parts of a 2-shard run (7 replications of the small model, seed 3) in `dir`.
fn two_parts(dir: &Path) -> [PathBuf; 2] {
    [shard(dir, 1, 2), shard(dir, 2, 2)]
}

/// Rewrites `file` through `edit`.
fn damage(file: &Path, edit: impl FnOnce(Vec<u8>) -> Vec<u8>) {
    let bytes = std::fs::read(file).expect("a written part");
    std::fs::write(file, edit(bytes)).expect("a writable part");
}

/// Asserts that merging `parts` exits 1, names `bad` as modified or damaged, says to run its
/// shard again and what else `says`, and writes nothing into `out`.
fn assert_refused(parts: &[PathBuf], bad: &Path, out: &Path, says: &[&str]) {
    let o = merge(&parts.iter().collect::<Vec<_>>(), out);
    assert_exit(&o, 1);
    let err = stderr(&o);
    let named = format!("error: {}: ", bad.display());
    for text in [named.as_str(), "modified or damaged", "run its shard again"]
        .iter()
        .chain(says)
    {
        assert!(err.contains(text), "no `{text}` in:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists(), "nothing written by a refused merge");
}

/// The first `"latency_sum_s":` value of a part, multiplied by 1,000.
fn latency_sum_times_1000(bytes: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8(bytes).expect("a UTF-8 part");
    let key = "\"latency_sum_s\":";
    let start = text.find(key).expect("a latency sum") + key.len();
    let len = text[start..]
        .find([',', '}'])
        .expect("the end of the number");
    let value: f64 = text[start..start + len].parse().expect("a number");
    assert!(value > 0.0, "a latency sum worth editing");
    let edited = format!("{}{}{}", &text[..start], value * 1e3, &text[start + len..]);
    edited.into_bytes()
}

#[test]
fn two_sealed_parts_merge_to_the_unsharded_run() {
    let tmp = tempdir();
    let (full, merged) = (tmp.path().join("full"), tmp.path().join("merged"));
    run_small(&full, 7, 3, &[]);
    let parts = two_parts(&tmp.path().join("parts"));
    let header = std::fs::read(&parts[0]).expect("a part");
    assert!(
        header.starts_with(b"capsim-partial/2 sha256="),
        "a sealed part"
    );
    let o = merge(&[&parts[1], &parts[0]], &merged);
    assert_exit(&o, 0);
    assert_same_outputs(&full, &merged);
}

#[test]
fn a_part_whose_latency_sum_was_multiplied_by_1000_is_refused_naming_it_and_its_digest() {
    let tmp = tempdir();
    let parts = two_parts(&tmp.path().join("parts"));
    damage(&parts[1], latency_sum_times_1000);
    let out = tmp.path().join("merged");
    assert_refused(
        &parts,
        &parts[1],
        &out,
        &["does not match its sha256 digest"],
    );
}

#[test]
fn a_part_cut_to_half_its_bytes_or_short_of_its_last_byte_is_refused_naming_it() {
    let tmp = tempdir();
    for (name, keep) in [
        ("half", (|n| n / 2) as fn(usize) -> usize),
        ("last-byte", |n| n - 1),
        ("header", |_| 20),
        ("empty", |_| 0),
    ] {
        let parts = two_parts(&tmp.path().join(format!("parts-{name}")));
        damage(&parts[0], |mut b| {
            b.truncate(keep(b.len()));
            b
        });
        let out = tmp.path().join(format!("merged-{name}"));
        assert_refused(&parts, &parts[0], &out, &[]);
    }
}

#[test]
fn a_part_with_one_digit_of_its_digest_changed_is_refused_naming_it() {
    let tmp = tempdir();
    let parts = two_parts(&tmp.path().join("parts"));
    let last_digit = "capsim-partial/2 sha256=".len() + 63;
    damage(&parts[0], |mut b| {
        b[last_digit] = if b[last_digit] == b'0' { b'1' } else { b'0' };
        b
    });
    let out = tmp.path().join("merged");
    assert_refused(&parts, &parts[0], &out, &["digest"]);
}

#[test]
fn a_part_of_the_unsealed_format_1_is_refused_saying_its_format() {
    let tmp = tempdir();
    let parts = two_parts(&tmp.path().join("parts"));
    damage(&parts[0], |b| {
        let body = &b[b.iter().position(|&c| c == b'\n').expect("a header") + 2..];
        [br#"{"format":"capsim-partial/1","#.as_slice(), body].concat()
    });
    let o = merge(
        &parts.iter().collect::<Vec<_>>(),
        &tmp.path().join("merged"),
    );
    assert_exit(&o, 1);
    let err = stderr(&o);
    let says = format!(
        "{}: a partial result of format `capsim-partial/1`",
        parts[0].display()
    );
    assert!(err.contains(&says), "{err}");
    assert!(err.contains("reads `capsim-partial/2`"), "{err}");
}
