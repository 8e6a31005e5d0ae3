//! The envelope of a partial result file, so that a part damaged or edited after it was written
//! is refused by `capsim merge` instead of being folded into the study.
//!
//! A partial file is one header line, then the body:
//!
//! ```text
//! capsim-partial/2 sha256=<64 lowercase hex digits>\n
//! <the partial result as JSON>
//! ```
//!
//! The digest is the SHA-256 of every byte after the header's `\n`, up to the end of the file.
//! It catches accidental damage (a truncated copy, a flipped bit) and silent edits; it is not a
//! signature: whoever edits the body can recompute the digest.

use sha2::{Digest, Sha256};
use std::fmt::Write;

/// The format tag that opens the header line of partial files.
pub const FORMAT: &str = "capsim-partial/2";

/// What opens every partial file (of this format or another): `capsim-partial/`.
const FAMILY: &str = "capsim-partial/";

/// Why bytes are not an intact partial file of this format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Neither a partial file of any format nor the beginning of one.
    NotPartial,
    /// A partial file of another format (its tag, e.g. `capsim-partial/1`).
    Format(String),
    /// The file is empty.
    Empty,
    /// The file ends inside its header line.
    CutShort,
    /// The header line is not the format tag, a space, `sha256=` and 64 lowercase hex digits.
    MalformedHeader,
    /// The body's digest differs from the header's.
    Mismatch,
}

/// The file's bytes: the header line with the body's digest, then the body.
pub fn seal(body: &[u8]) -> Vec<u8> {
    let mut out = format!("{FORMAT} sha256={}\n", sha256_hex(body)).into_bytes();
    out.extend_from_slice(body);
    out
}

/// The body of a sealed file, once its header and digest are checked.
///
/// # Errors
/// A [`Refusal`] saying why the bytes are not an intact partial file of [`FORMAT`].
pub fn open(bytes: &[u8]) -> Result<&[u8], Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    if let Some(tag) = json_format(bytes) {
        return Err(Refusal::Format(tag));
    }
    let opening = FAMILY.as_bytes();
    let Some(end) = bytes.iter().position(|&b| b == b'\n') else {
        let partial = bytes.starts_with(opening) || opening.starts_with(bytes);
        return Err(if partial {
            Refusal::CutShort
        } else {
            Refusal::NotPartial
        });
    };
    let (header, body) = (&bytes[..end], &bytes[end + 1..]);
    if !header.starts_with(opening) {
        return Err(Refusal::NotPartial);
    }
    let header = std::str::from_utf8(header).map_err(|_| Refusal::MalformedHeader)?;
    let (tag, digest) = header.split_once(' ').unwrap_or((header, ""));
    let version = &tag[FAMILY.len()..];
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::MalformedHeader);
    }
    if tag != FORMAT {
        return Err(Refusal::Format(tag.to_string()));
    }
    let hex = digest
        .strip_prefix("sha256=")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .ok_or(Refusal::MalformedHeader)?;
    if hex != sha256_hex(body) {
        return Err(Refusal::Mismatch);
    }
    Ok(body)
}

/// The format tag of a file of format 1, bare JSON written with `format` as its first field
/// (`{"format":"capsim-partial/1",...`).
fn json_format(bytes: &[u8]) -> Option<String> {
    let rest = bytes.strip_prefix(br#"{"format":""#)?;
    let end = rest.iter().position(|&b| b == b'"')?;
    let tag = std::str::from_utf8(&rest[..end]).ok()?;
    tag.starts_with(FAMILY).then(|| tag.to_string())
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"scenarios":[{"latency_sum_s":0.031}]}"#;

    #[test]
    fn a_sealed_body_opens_to_the_same_bytes() {
        let sealed = seal(BODY);
        assert!(sealed.starts_with(b"capsim-partial/2 sha256="));
        assert_eq!(open(&sealed), Ok(BODY));
    }

    #[test]
    fn the_digest_is_the_sha256_of_the_body() {
        // The SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(
            seal(b"abc"),
            format!("{FORMAT} sha256={abc}\nabc").into_bytes()
        );
    }

    #[test]
    fn an_edited_body_is_refused() {
        let sealed = seal(BODY);
        let edited = String::from_utf8(sealed)
            .unwrap()
            .replace("0.031", "31.0")
            .into_bytes();
        assert_eq!(open(&edited), Err(Refusal::Mismatch));
    }

    #[test]
    fn every_flipped_bit_is_refused() {
        let sealed = seal(BODY);
        for at in 0..sealed.len() {
            for bit in 0..8 {
                let mut damaged = sealed.clone();
                damaged[at] ^= 1 << bit;
                assert!(open(&damaged).is_err(), "bit {bit} of byte {at}");
            }
        }
    }

    #[test]
    fn every_truncation_is_refused_as_damage() {
        let sealed = seal(BODY);
        for len in 0..sealed.len() {
            let refusal = open(&sealed[..len]).expect_err("a truncated file");
            let damage = [Refusal::Empty, Refusal::CutShort, Refusal::Mismatch];
            assert!(damage.contains(&refusal), "cut at {len}: {refusal:?}");
        }
    }

    #[test]
    fn a_digest_with_a_changed_digit_is_refused() {
        let mut sealed = seal(BODY);
        let first_digit = FORMAT.len() + " sha256=".len();
        sealed[first_digit] = if sealed[first_digit] == b'0' {
            b'1'
        } else {
            b'0'
        };
        assert_eq!(open(&sealed), Err(Refusal::Mismatch));
        sealed[first_digit] = b'G';
        assert_eq!(open(&sealed), Err(Refusal::MalformedHeader));
    }

    #[test]
    fn other_files_are_not_partials() {
        assert_eq!(open(b"let m = model(\"x\");\n"), Err(Refusal::NotPartial));
        assert_eq!(open(b"{\"name\": \"x\"}"), Err(Refusal::NotPartial));
        assert_eq!(open(b"\x89PNG\r\n"), Err(Refusal::NotPartial));
    }

    #[test]
    fn files_of_other_formats_say_their_format() {
        let v1 = br#"{"format":"capsim-partial/1","capsim_version":"0.1.0"}"#;
        let v3 = b"capsim-partial/3 blake3=00\n{}";
        assert_eq!(open(v1), Err(Refusal::Format("capsim-partial/1".into())));
        assert_eq!(open(v3), Err(Refusal::Format("capsim-partial/3".into())));
        let v1_cut = &v1[..30];
        assert_eq!(
            open(v1_cut),
            Err(Refusal::Format("capsim-partial/1".into()))
        );
    }

    #[test]
    fn a_damaged_header_line_is_refused_as_damage() {
        let sealed = seal(BODY);
        let space = FORMAT.len();
        for (at, byte) in [(space, b'_'), (space - 1, b'x'), (space + 1, b'S')] {
            let mut damaged = sealed.clone();
            damaged[at] = byte;
            assert_eq!(open(&damaged), Err(Refusal::MalformedHeader), "byte {at}");
        }
    }
}
