//! Latency histograms with bounded memory whatever the run length, sized by what they hold.
//!
//! [`Latency`] counts durations in the bucket layout of an HDR histogram (1 µs resolution, 3
//! significant digits: at most 0.1 % relative error per value) but stores only the range of
//! buckets between the smallest and the largest value recorded: a histogram of responses
//! between 1 ms and 1 s holds about 10 000 counts, one of an endpoint that never ran holds none,
//! where a full HDR histogram allocates all 28 672 (229 KB) whatever it holds. That is what makes
//! a model with a thousand endpoints fit in memory. Its quantiles, maxima and counts are those of
//! the `hdrhistogram` crate for the same values (the crate is the oracle of its tests). Merging
//! is integer addition, so histograms pooled from replications or shards are identical in any
//! order.
//!
//! The event loop records into a [`LatencyRecorder`]: the same layout with 16-bit counts, grown
//! a whole HDR bucket (one octave) at a time as values arrive, so a record is a few shifts, a
//! compare and an add, and the part of the array a run touches stays in the L1 cache; it becomes
//! a [`Latency`] exactly when the replication ends.
//! [`Coarse`] is a small log-linear histogram (at most 1.6 % error) for per-window percentiles of
//! time series, where thousands of windows must stay cheap, and for the [`CdfBand`]s that the
//! intervals of pooled percentiles need from each replication.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Largest recordable value, µs (about 27.8 h); larger values are clamped to it.
const MAX_US: u64 = 100_000_000_000;
/// `log2` of half the sub-buckets per bucket of an HDR histogram with 3 significant digits:
/// 2 x 10^3 values need 2^11 sub-buckets.
const HALF_MAGNITUDE: u32 = 10;
const HALF_COUNT: u64 = 1 << HALF_MAGNITUDE;
const SUB_MASK: u64 = (2 << HALF_MAGNITUDE) - 1;
/// Buckets needed to reach [`MAX_US`]: 2048 x 2^26 > 10^11.
const BUCKETS: usize = 27;
const COUNTS: usize = (BUCKETS + 1) << HALF_MAGNITUDE;

/// Significant decimal digits of [`Latency`].
pub const SIGNIFICANT_DIGITS: u8 = 3;
/// Relative error of one value in a [`Latency`] histogram.
pub const LATENCY_RELATIVE_ERROR: f64 = 1e-3;

/// Durations in seconds, counted in HDR buckets of microseconds; only the buckets that hold a
/// value are stored, as `(index, count)` in increasing index order (a replication of an endpoint
/// with a few thousand responses holds a few thousand pairs, not the tens of thousands of
/// buckets its range spans).
#[derive(Debug, Clone, Default)]
pub struct Latency {
    buckets: Vec<(u32, u64)>,
    total: u64,
}

impl Latency {
    pub fn new() -> Latency {
        Latency::default()
    }

    #[inline]
    pub fn record(&mut self, seconds: f64) {
        self.record_index_n(hdr_index(to_us(seconds)), 1);
    }

    /// Adds `n` values to HDR bucket `index` (appending is the fast path: buckets usually
    /// arrive in increasing order).
    fn record_index_n(&mut self, index: usize, n: u64) {
        if n == 0 {
            return;
        }
        self.total += n;
        insert_count(&mut self.buckets, index as u32, n, |a, b| a + b);
    }

    pub fn add(&mut self, other: &Latency) {
        merge_counts(&mut self.buckets, &other.buckets, |a, b| a + b);
        self.total += other.total;
    }

    /// The sum of many histograms at once: every pair gathered, sorted and coalesced, so that
    /// pooling a thousand endpoints costs a sort of their buckets, not a thousand merges into a
    /// growing list.
    pub fn sum<'a>(parts: impl IntoIterator<Item = &'a Latency>) -> Latency {
        let mut pairs = Vec::new();
        let mut total = 0;
        for p in parts {
            pairs.extend_from_slice(&p.buckets);
            total += p.total;
        }
        pairs.sort_unstable_by_key(|b| b.0);
        let mut buckets: Vec<(u32, u64)> = Vec::with_capacity(pairs.len());
        for (i, n) in pairs {
            match buckets.last_mut() {
                Some(last) if last.0 == i => last.1 += n,
                _ => buckets.push((i, n)),
            }
        }
        Latency { buckets, total }
    }

    /// Removes `other`'s values, which must all be in `self` (e.g. a part added before).
    pub fn subtract(&mut self, other: &Latency) {
        for &(i, n) in &other.buckets {
            let k = self
                .buckets
                .binary_search_by_key(&i, |b| b.0)
                .expect("a bucket of the part");
            self.buckets[k].1 -= n;
            self.total -= n;
        }
        self.buckets.retain(|b| b.1 > 0);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The non-empty buckets as `(index, count)`, in increasing order.
    fn buckets(&self) -> impl Iterator<Item = (usize, &u64)> {
        self.buckets.iter().map(|(i, n)| (*i as usize, n))
    }

    /// The HDR index of the bucket holding the `rank`-th smallest value (1-based).
    fn index_of_rank(&self, rank: u64) -> usize {
        let mut seen = 0u64;
        for (i, &n) in self.buckets() {
            seen += n;
            if seen >= rank {
                return i;
            }
        }
        self.buckets.last().map_or(0, |b| b.0 as usize)
    }

    /// The `q` quantile (0..=1), seconds; 0 when empty. Uses the median of the bucket, so the
    /// error is at most half a bucket either way.
    ///
    /// # Formula
    /// The bucket of the `max(1, ceil(q n))`-th smallest value (HdrHistogram's
    /// `value_at_quantile`), read at its median value.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((q.min(1.0) * self.total as f64).ceil() as u64).max(1);
        self.at_rank(rank)
    }

    /// The `rank`-th smallest value (1-based; the largest beyond the count), seconds, read at
    /// the median of its bucket; 0 when empty.
    pub fn at_rank(&self, rank: u64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        median_us(self.index_of_rank(rank)) as f64 * 1e-6
    }

    /// The largest value recorded (the top of its bucket), seconds; 0 when empty.
    pub fn max(&self) -> f64 {
        match self.buckets().last() {
            Some((i, _)) => highest_us(i) as f64 * 1e-6,
            None => 0.0,
        }
    }

    pub fn reset(&mut self) {
        *self = Latency::default();
    }

    /// The count of values at or below `seconds` (to the histogram's resolution).
    pub fn count_below(&self, seconds: f64) -> u64 {
        let us = (seconds * 1e6).round().clamp(0.0, MAX_US as f64) as u64;
        let i = hdr_index(us);
        self.buckets()
            .take_while(|(k, _)| *k <= i)
            .map(|(_, n)| n)
            .sum()
    }

    /// The fraction of values at or below `seconds`.
    pub fn fraction_below(&self, seconds: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        self.count_below(seconds) as f64 / self.total as f64
    }

    /// The values as `(median value in seconds, count)` per non-empty bucket.
    pub(crate) fn medians(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        self.buckets()
            .map(|(i, &n)| (median_us(i) as f64 * 1e-6, n))
    }
}

impl PartialEq for Latency {
    /// Equal counts in every bucket.
    fn eq(&self, other: &Latency) -> bool {
        self.total == other.total && self.buckets == other.buckets
    }
}

/// The count at `index` in a range-stored array of counts starting at index `first`, the range
/// widened to include it (new slots hold `zero`).
#[inline]
fn grow_to<'a, T: Copy>(
    first: &mut u32,
    counts: &'a mut Vec<T>,
    index: usize,
    zero: T,
) -> &'a mut T {
    let f = *first as usize;
    if counts.is_empty() {
        *first = index as u32;
        counts.push(zero);
    } else if index < f {
        counts.splice(0..0, std::iter::repeat_n(zero, f - index));
        *first = index as u32;
    } else if index - f >= counts.len() {
        counts.resize(index - f + 1, zero);
    }
    &mut counts[index - *first as usize]
}

/// A duration in seconds as whole microseconds, rounded and clamped to the histogram's range.
#[inline]
fn to_us(seconds: f64) -> u64 {
    // `as` saturates: negative and NaN values become 0, huge ones the clamp. The signed
    // conversion is the one x86 has an instruction for.
    // `max` also turns a NaN into 0, so the value is in range for the unchecked conversion.
    let us = (seconds * 1e6 + 0.5).max(0.0).min(MAX_US as f64);
    // SAFETY: `us` is finite and within [0, MAX_US], which fits an i64.
    unsafe { us.to_int_unchecked::<i64>() as u64 }
}

/// HDR's index of a value (unit magnitude 0, 3 significant digits).
///
/// # Formula
/// `bucket = 64 - lz(v | mask) - (half_magnitude + 1)`, `sub = v >> bucket`,
/// `index = (bucket << half_magnitude) + sub` (HdrHistogram's `countsArrayIndex`).
#[inline]
fn hdr_index(v: u64) -> usize {
    let bucket = 64 - (v | SUB_MASK).leading_zeros() - (HALF_MAGNITUDE + 1);
    let sub = v >> bucket;
    ((bucket as usize) << HALF_MAGNITUDE) + sub as usize
}

/// The lowest value of HDR bucket `index` (the inverse of [`hdr_index`]).
fn hdr_value(index: usize) -> u64 {
    let bucket = (index >> HALF_MAGNITUDE) as i64 - 1;
    let sub = (index as u64 & (HALF_COUNT - 1)) + HALF_COUNT;
    if bucket < 0 {
        sub - HALF_COUNT
    } else {
        sub << bucket
    }
}

/// How many microseconds bucket `index` spans (HdrHistogram's `equivalent_range`).
fn width_us(index: usize) -> u64 {
    1 << ((index >> HALF_MAGNITUDE) as u32).saturating_sub(1)
}

/// The middle of bucket `index`, rounded up (HdrHistogram's `median_equivalent`).
fn median_us(index: usize) -> u64 {
    hdr_value(index) + (width_us(index) >> 1)
}

/// The top of bucket `index` (HdrHistogram's `highest_equivalent`).
fn highest_us(index: usize) -> u64 {
    hdr_value(index) + width_us(index) - 1
}

/// Records durations in the event loop; becomes a [`Latency`] when the replication ends.
#[derive(Debug, Clone, Default)]
pub struct LatencyRecorder {
    /// The HDR index of `low[0]`; the range grows a whole HDR bucket at a time.
    first: u32,
    /// The low 16 bits of each count: 2 bytes a bucket, so the octaves a run's values span stay
    /// in the L1 cache.
    low: Vec<u16>,
    /// The carries out of `low`: `(index, multiples of 2^16)`, touched once every 65 536
    /// records of one bucket.
    carries: Vec<(u32, u64)>,
    total: u64,
}

impl LatencyRecorder {
    #[inline]
    pub fn record(&mut self, seconds: f64) {
        let i = hdr_index(to_us(seconds));
        let k = i.wrapping_sub(self.first as usize);
        let c = if k < self.low.len() {
            &mut self.low[k]
        } else {
            self.widen(i)
        };
        *c = c.wrapping_add(1);
        if *c == 0 {
            self.carry(i);
        }
        self.total += 1;
    }

    /// Widens the range to the whole HDR bucket (octave) holding index `i`; returns its count.
    #[cold]
    fn widen(&mut self, i: usize) -> &mut u16 {
        let size = 1usize << HALF_MAGNITUDE;
        let start = i & !(size - 1);
        let end = (start + size - 1).min(COUNTS - 1);
        grow_to(&mut self.first, &mut self.low, start, 0);
        grow_to(&mut self.first, &mut self.low, end, 0);
        &mut self.low[i - self.first as usize]
    }

    #[cold]
    fn carry(&mut self, i: usize) {
        match self.carries.iter_mut().find(|(k, _)| *k as usize == i) {
            Some((_, n)) => *n += 1,
            None => self.carries.push((i as u32, 1)),
        }
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn reset(&mut self) {
        self.low.fill(0);
        self.carries.clear();
        self.total = 0;
    }

    /// The same histogram as recording every value into a [`Latency`].
    pub fn to_latency(&self) -> Latency {
        let mut h = Latency::new();
        for (k, &n) in self.low.iter().enumerate() {
            h.record_index_n(self.first as usize + k, u64::from(n));
        }
        for &(i, n) in &self.carries {
            h.record_index_n(i as usize, n << 16);
        }
        h
    }
}

impl Serialize for Latency {
    /// As `[[value_us, count], ...]` over recorded buckets (each at the top of its bucket, as
    /// HdrHistogram iterates them): exact, compact, order-independent.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let pairs: Vec<(u64, u64)> = self.buckets().map(|(i, &n)| (highest_us(i), n)).collect();
        pairs.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Latency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pairs = Vec::<(u64, u64)>::deserialize(d)?;
        let mut h = Latency::new();
        for (v, n) in pairs {
            if h.total.checked_add(n).is_none() {
                return Err(serde::de::Error::custom("histogram counts overflow"));
            }
            h.record_index_n(hdr_index(v.min(MAX_US)), n);
        }
        Ok(h)
    }
}

/// Sub-bins per power of two in [`Coarse`] (5 mantissa bits: bins at most 3.2 % wide).
const SUB_BITS: u32 = 5;
/// Smallest binned exponent: 2^-20 s, about 1 µs (smaller values share the first bin).
const MIN_EXP: i32 = -20;
/// Powers of two covered: up to 2^20 s, about 12 days.
const OCTAVES: usize = 40;
const BINS: usize = OCTAVES << SUB_BITS;

/// A small log-linear histogram of durations for time-series windows and interval bands,
/// stored as its non-empty bins only, `(bin, count)` in increasing bin order: a window of a few
/// dozen responses holds a few dozen pairs, and an idle endpoint's window none. Recording in the
/// event loop goes through a [`CoarseRecorder`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Coarse {
    bins: Vec<(u16, u32)>,
    total: u64,
}

impl Coarse {
    /// The bin of a duration, from the bits of the `f64`: the biased exponent and the top
    /// mantissa bits, read as one integer, are exactly `octave << SUB_BITS | sub` up to an
    /// offset. Zero and tiny values fall in the first bin, huge and non-finite ones in the last,
    /// negative ones (which the engine never produces) in the first.
    #[inline]
    fn bin(seconds: f64) -> usize {
        let bits = seconds.to_bits();
        if bits >> 63 != 0 {
            return 0;
        }
        let top = (bits >> (52 - SUB_BITS)) as i64;
        let offset = i64::from(1023 + MIN_EXP) << SUB_BITS;
        (top - offset).clamp(0, BINS as i64 - 1) as usize
    }

    /// The lower and upper edge of a bin, seconds.
    fn edges(bin: usize) -> (f64, f64) {
        let octave = 2f64.powi((bin >> SUB_BITS) as i32 + MIN_EXP);
        let sub = (bin & ((1 << SUB_BITS) - 1)) as f64;
        let width = 1.0 / f64::from(1u32 << SUB_BITS);
        (
            octave * (1.0 + sub * width),
            octave * (1.0 + (sub + 1.0) * width),
        )
    }

    /// The geometric middle of a bin, seconds.
    fn middle(bin: usize) -> f64 {
        let (lo, hi) = Coarse::edges(bin);
        (lo * hi).sqrt()
    }

    /// One value (the tests' way in; the event loop records through a [`CoarseRecorder`]).
    #[cfg(test)]
    pub fn record(&mut self, seconds: f64) {
        self.record_n(Coarse::bin(seconds), 1);
    }

    /// Adds `n` values to `bin` (appending is the fast path).
    fn record_n(&mut self, bin: usize, n: u64) {
        if n == 0 {
            return;
        }
        self.total += n;
        let n32 = u32::try_from(n).unwrap_or(u32::MAX);
        insert_count(&mut self.bins, bin as u16, n32, u32::saturating_add);
    }

    pub fn add(&mut self, other: &Coarse) {
        merge_counts(&mut self.bins, &other.bins, u32::saturating_add);
        self.total += other.total;
    }

    /// The same values binned coarsely (each HDR bucket at its median value).
    pub fn from_latency(h: &Latency) -> Coarse {
        let mut c = Coarse::default();
        for (seconds, n) in h.medians() {
            c.record_n(Coarse::bin(seconds), n);
        }
        c
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The `q` quantile (0..=1), seconds, or `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for &(b, c) in &self.bins {
            seen += u64::from(c);
            if seen >= rank {
                return Some(Coarse::middle(usize::from(b)));
            }
        }
        self.bins.last().map(|b| Coarse::middle(usize::from(b.0)))
    }
}

/// Adds `n` to `key`'s count in the sorted `(key, count)` pairs `into`, joining with `add`
/// (appending is the fast path: keys usually arrive in increasing order).
fn insert_count<K: Ord + Copy, V: Copy>(
    into: &mut Vec<(K, V)>,
    key: K,
    n: V,
    add: impl Fn(V, V) -> V,
) {
    match into.last_mut() {
        Some(last) if last.0 == key => last.1 = add(last.1, n),
        Some(last) if last.0 > key => match into.binary_search_by_key(&key, |x| x.0) {
            Ok(k) => into[k].1 = add(into[k].1, n),
            Err(k) => into.insert(k, (key, n)),
        },
        _ => into.push((key, n)),
    }
}

/// Adds the sorted `(key, count)` pairs `from` into the sorted pairs `into`, joining equal keys
/// with `add`: an append when `from` lies past `into`'s last key (replications and windows
/// usually arrive so), else one merge pass.
fn merge_counts<K: Ord + Copy, V: Copy>(
    into: &mut Vec<(K, V)>,
    from: &[(K, V)],
    add: impl Fn(V, V) -> V,
) {
    let Some(first) = from.first() else {
        return;
    };
    if into.last().is_none_or(|l| l.0 < first.0) {
        into.extend_from_slice(from);
        return;
    }
    let mut merged = Vec::with_capacity(into.len() + from.len());
    let (mut a, mut b) = (into.iter().peekable(), from.iter().peekable());
    while let (Some(&&x), Some(&&y)) = (a.peek(), b.peek()) {
        match x.0.cmp(&y.0) {
            std::cmp::Ordering::Less => merged.push(*a.next().expect("peeked")),
            std::cmp::Ordering::Greater => merged.push(*b.next().expect("peeked")),
            std::cmp::Ordering::Equal => {
                merged.push((x.0, add(x.1, y.1)));
                a.next();
                b.next();
            }
        }
    }
    merged.extend(a);
    merged.extend(b);
    *into = merged;
}

/// Records durations into [`Coarse`] bins in the event loop: a plain array over the range of
/// bins seen so far (a record is a compare and an add), turned into a [`Coarse`] when its span
/// closes.
#[derive(Debug, Clone, Default)]
pub struct CoarseRecorder {
    /// The bin of `counts[0]`.
    first: u32,
    counts: Vec<u32>,
}

impl CoarseRecorder {
    #[inline]
    pub fn record(&mut self, seconds: f64) {
        let c = grow_to(&mut self.first, &mut self.counts, Coarse::bin(seconds), 0);
        *c = c.saturating_add(1);
    }

    /// The values recorded, and an empty recorder left behind (its array kept for reuse).
    pub fn take(&mut self) -> Coarse {
        let mut c = Coarse::default();
        for (k, n) in self.counts.iter_mut().enumerate() {
            c.record_n(self.first as usize + k, u64::from(std::mem::take(n)));
        }
        c
    }
}

/// Octaves a [`CdfBand`] spans on each side of the quantile it is built around.
const BAND_OCTAVES: usize = 2;

/// One replication's distribution function near one of its quantiles: its values counted in
/// [`Coarse`] bins from a quarter to four times the quantile, and how many lie below that.
///
/// Why: the confidence interval of a pooled quantile is read from each replication's fraction
/// of values below the pooled point (see [`super::ci::inverted_quantile`]), and that point is
/// known only once every replication is in. Keeping the full histogram of every replication
/// would make memory grow with the replication count; this band (at most 129 counts) holds
/// what the interval needs, since the pooled quantile lies within a factor of four of every
/// replication's own but in pathological runs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CdfBand {
    /// The [`Coarse`] bin of `counts[0]`.
    first: u32,
    /// Values below bin `first`.
    below: u64,
    counts: Vec<u32>,
    total: u64,
}

impl CdfBand {
    /// The band of `h` around its `q` quantile (empty for an empty histogram).
    #[cfg(test)]
    pub fn around(h: &Coarse, q: f64) -> CdfBand {
        CdfBand::spanning(h, q, q)
    }

    /// The band of `h` from a quarter of its `low` quantile to four times its `high` one: one
    /// band serves every percentile read from a histogram (empty for an empty histogram).
    pub fn spanning(h: &Coarse, low: f64, high: f64) -> CdfBand {
        let (Some(from), Some(to)) = (h.quantile(low), h.quantile(high)) else {
            return CdfBand::default();
        };
        let span = (1 << BAND_OCTAVES) as f64;
        let (lo, hi) = (Coarse::bin(from / span), Coarse::bin(to * span));
        let mut band = CdfBand {
            first: lo as u32,
            below: 0,
            counts: Vec::new(),
            total: h.total,
        };
        for &(b, c) in &h.bins {
            let b = usize::from(b);
            if b < lo {
                band.below += u64::from(c);
            } else if b <= hi {
                *grow_to(&mut band.first, &mut band.counts, b, 0) += c;
            }
        }
        band
    }

    /// The fraction of the replication's values at or below `seconds` (linear within a bin;
    /// outside the band, the band's edge value); NaN for an empty replication.
    pub fn fraction_below(&self, seconds: f64) -> f64 {
        if self.total == 0 {
            return f64::NAN;
        }
        let b = Coarse::bin(seconds);
        let first = self.first as usize;
        let mut below = self.below as f64;
        if b >= first {
            let k = b - first;
            below += self.counts[..k.min(self.counts.len())]
                .iter()
                .map(|&c| f64::from(c))
                .sum::<f64>();
            if let Some(&c) = self.counts.get(k) {
                let (lo, hi) = Coarse::edges(b);
                below += f64::from(c) * ((seconds - lo) / (hi - lo)).clamp(0.0, 1.0);
            }
        }
        below / self.total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_quantiles_are_within_the_stated_error() {
        let mut h = Latency::new();
        for i in 1..=10_000 {
            h.record(f64::from(i) * 1e-4); // 0.1 ms .. 1 s, uniform
        }
        for q in [0.5, 0.95, 0.99] {
            let exact = q;
            assert!(
                (h.quantile(q) - exact).abs() <= exact * LATENCY_RELATIVE_ERROR + 1e-4,
                "q {q}"
            );
        }
        assert_eq!(h.count(), 10_000);
    }

    #[test]
    fn a_band_reads_the_fraction_below_points_near_its_quantile() {
        let mut h = Latency::new();
        for i in 1..=10_000 {
            h.record(f64::from(i) * 1e-4); // uniform on 0.1 ms .. 1 s
        }
        let band = CdfBand::around(&Coarse::from_latency(&h), 0.5);
        // Within the band (0.125 s .. 2 s), the empirical CDF within a bin's resolution.
        for x in [0.2, 0.45, 0.5, 0.61, 0.99] {
            let f = band.fraction_below(x);
            assert!((f - x).abs() < 2e-3, "F({x}) = {f}");
        }
        // Below the band: the count below it; above: everything.
        let low = band.fraction_below(0.01);
        assert!(low <= 0.125 + 1e-3 && low > 0.1, "{low}");
        assert_eq!(band.fraction_below(10.0), 1.0);
        assert!(band.counts.len() <= 2 * (BAND_OCTAVES << SUB_BITS) + 1);
        assert!(
            CdfBand::around(&Coarse::default(), 0.5)
                .fraction_below(1.0)
                .is_nan()
        );
    }

    #[test]
    fn the_fast_recorder_builds_exactly_the_crates_histogram() {
        let mut direct = Latency::new();
        let mut fast = LatencyRecorder::default();
        let mut x = 0x2545_F491_4F6C_DD1D_u64;
        for i in 0..200_000u64 {
            // Values over every bucket: 0, tiny, and up to past the clamp.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let seconds = match i % 4 {
                0 => (x % 2048) as f64 * 1e-6,
                1 => (x % 1_000_000_000) as f64 * 1e-6,
                2 => f64::from((x >> 40) as u32) * 1e-3,
                _ => (x % 200_000_000_000) as f64 * 1e-6,
            };
            direct.record(seconds);
            fast.record(seconds);
        }
        assert_eq!(fast.to_latency(), direct);
        assert_eq!(fast.count(), 200_000);
    }

    #[test]
    fn a_sum_of_parts_is_their_successive_additions() {
        let values = spread_values(30_000);
        // Parts that overlap, interleave and include empty ones, in no particular order.
        let parts: Vec<Latency> = (0..7)
            .map(|k| {
                let mut h = Latency::new();
                for v in values.iter().skip(k).step_by(3 + k) {
                    h.record(*v);
                }
                h
            })
            .chain([Latency::new()])
            .collect();
        let mut added = Latency::new();
        for p in parts.iter().rev() {
            added.add(p);
        }
        let summed = Latency::sum(&parts);
        assert_eq!(summed, added);
        assert_eq!(
            summed.count(),
            parts.iter().map(Latency::count).sum::<u64>()
        );
        let mut back = summed.clone();
        back.subtract(&parts[2]);
        let mut without = Latency::new();
        for (k, p) in parts.iter().enumerate() {
            if k != 2 {
                without.add(p);
            }
        }
        assert_eq!(back, without);
    }

    /// Values over every bucket: 0, tiny, and up to past the clamp.
    fn spread_values(n: u64) -> Vec<f64> {
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                match i % 5 {
                    0 => (x % 2048) as f64 * 1e-6,
                    1 => (x % 1_000_000) as f64 * 1e-6,
                    2 => (x % 1_000_000_000) as f64 * 1e-6,
                    3 => f64::from((x >> 40) as u32) * 1e-3,
                    _ => (x % 200_000_000_000) as f64 * 1e-6,
                }
            })
            .collect()
    }

    #[test]
    fn quantiles_maxima_and_counts_are_the_hdrhistogram_crates() {
        let mut oracle = hdrhistogram::Histogram::<u64>::new_with_bounds(1, MAX_US, 3).unwrap();
        let mut h = Latency::new();
        for v in spread_values(50_000) {
            oracle.saturating_record(to_us(v));
            h.record(v);
        }
        for k in 0..=1000 {
            let q = f64::from(k) / 1000.0;
            let want = oracle.median_equivalent(oracle.value_at_quantile(q)) as f64 * 1e-6;
            assert_eq!(h.quantile(q), want, "q {q}");
        }
        for q in [0.999_9, 0.999_99, 1.0] {
            let want = oracle.median_equivalent(oracle.value_at_quantile(q)) as f64 * 1e-6;
            assert_eq!(h.quantile(q), want, "q {q}");
        }
        assert_eq!(
            h.max(),
            oracle.highest_equivalent(oracle.max()) as f64 * 1e-6
        );
        assert_eq!(h.count(), oracle.len());
        for s in [0.0, 1e-6, 0.0015, 0.3, 1.0, 99.0, 3600.0, 1e6] {
            let us = (s * 1e6_f64).round() as u64;
            assert_eq!(h.count_below(s), oracle.count_between(0, us), "{s} s");
        }
        let pairs: Vec<(u64, u64)> = oracle
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect();
        assert_eq!(
            serde_json::to_value(&h).unwrap(),
            serde_json::to_value(&pairs).unwrap()
        );
        for (i, (v, _)) in pairs.iter().enumerate() {
            let (m, _) = h.medians().nth(i).unwrap();
            assert_eq!(m, oracle.median_equivalent(*v) as f64 * 1e-6);
        }
    }

    #[test]
    fn a_histogram_stores_only_its_range_and_subtracts_exactly() {
        let mut a = Latency::new();
        a.record(0.010);
        a.record(0.020);
        // Two values, two buckets (a dense layout would hold 28 672).
        assert_eq!(a.buckets.len(), 2);
        assert!(Latency::new().buckets.is_empty());
        let mut b = Latency::new();
        b.record(0.020);
        let mut whole = a.clone();
        whole.add(&b);
        whole.subtract(&b);
        assert_eq!(whole, a);
        assert_eq!(whole.count(), 2);
    }

    #[test]
    fn a_recorder_grows_an_octave_at_a_time() {
        let mut r = LatencyRecorder::default();
        assert!(r.low.is_empty());
        r.record(0.005);
        assert_eq!(r.low.len(), 1024);
        r.record(0.0051);
        assert_eq!(r.low.len(), 1024);
        r.record(0.5);
        assert!(r.low.len() <= 8 * 1024, "{}", r.low.len());
    }

    #[test]
    fn counts_carry_past_sixteen_bits() {
        let mut fast = LatencyRecorder::default();
        let mut direct = Latency::new();
        for _ in 0..200_000 {
            fast.record(0.0123);
            direct.record(0.0123);
        }
        assert_eq!(fast.to_latency(), direct);
    }

    #[test]
    fn hdr_index_and_value_are_inverse() {
        for i in 0..COUNTS {
            assert_eq!(hdr_index(hdr_value(i)), i, "index {i}");
        }
        assert!(hdr_index(MAX_US) < COUNTS);
    }

    #[test]
    fn merging_in_any_order_gives_the_same_histogram() {
        let parts: Vec<Latency> = (0..5)
            .map(|k| {
                let mut h = Latency::new();
                (0..1000).for_each(|i| h.record(f64::from(i * (k + 1)) * 1e-5));
                h
            })
            .collect();
        let mut fwd = Latency::new();
        parts.iter().for_each(|p| fwd.add(p));
        let mut back = Latency::new();
        parts.iter().rev().for_each(|p| back.add(p));
        assert_eq!(fwd, back);
        let json = serde_json::to_string(&fwd).unwrap();
        let again: Latency = serde_json::from_str(&json).unwrap();
        assert_eq!(again, fwd);
    }

    #[test]
    fn coarse_quantiles_are_within_two_percent() {
        let mut h = Coarse::default();
        for i in 1..=100_000 {
            h.record(f64::from(i) * 1e-5);
        }
        for q in [0.5, 0.95, 0.99] {
            let got = h.quantile(q).unwrap();
            assert!((got - q).abs() / q < 0.02, "q {q}: {got}");
        }
        assert_eq!(Coarse::default().quantile(0.5), None);
    }

    #[test]
    fn coarse_stores_only_its_range_and_pools_in_any_order() {
        let values = [[0.5, 0.002, 3.0], [40.0, 0.0001, 0.7], [0.01, 0.01, 0.01]];
        let parts: Vec<Coarse> = values
            .iter()
            .map(|vs| {
                let mut c = Coarse::default();
                vs.iter().for_each(|&v| c.record(v));
                c
            })
            .collect();
        let mut fwd = Coarse::default();
        parts.iter().for_each(|p| fwd.add(p));
        let mut rev = Coarse::default();
        parts.iter().rev().for_each(|p| rev.add(p));
        assert_eq!(fwd, rev);
        assert_eq!(fwd.count(), 9);
        // Only the non-empty bins are stored.
        assert!(fwd.bins.len() <= 9, "{}", fwd.bins.len());
        let mut direct = Coarse::default();
        values.iter().flatten().for_each(|&v| direct.record(v));
        assert_eq!(fwd, direct);
        assert_eq!(fwd.quantile(1.0), direct.quantile(1.0));
        assert!(parts[2].bins.len() == 1 && parts[2].quantile(0.5).is_some());
        let mut rec = CoarseRecorder::default();
        values.iter().flatten().for_each(|&v| rec.record(v));
        assert_eq!(rec.take(), direct);
        assert_eq!(rec.take(), Coarse::default());
    }
}
