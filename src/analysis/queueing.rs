//! Closed-form and exact-algorithm queueing results.
//!
//! These are the oracles: `capsim check` compares a model's offered load against them, and the
//! engine's validation tests compare simulated numbers with them. Everything here is a pure
//! function of its inputs. Rates are per second, times in seconds, throughputs in requests per
//! second. Constructors and free functions validate their inputs and return [`QueueingError`]
//! for invalid or unstable ones; accessors of a validated value never fail and never return NaN.
//!
//! References cited in the `# Formula` sections:
//! - **Kleinrock**: L. Kleinrock, *Queueing Systems, Vol. 1: Theory*, Wiley, 1975.
//! - **Gross & Harris**: D. Gross, C. M. Harris, *Fundamentals of Queueing Theory*, 3rd ed.,
//!   Wiley, 1998.
//! - **QSP**: E. D. Lazowska, J. Zahorjan, G. S. Graham, K. C. Sevcik, *Quantitative System
//!   Performance*, Prentice-Hall, 1984.
//! - **Menascé**: D. A. Menascé, V. A. F. Almeida, L. W. Dowdy, *Performance by Design*,
//!   Prentice Hall, 2004.

use thiserror::Error;

/// Relative width of the bracket at which [`MMc::response_quantile`] stops bisecting.
pub const QUANTILE_REL_TOL: f64 = 1e-12;

/// Largest number of values (2^m networks times their state) that [`mva`] will allocate.
pub const MVA_MAX_STATE_VALUES: usize = 1 << 24;

/// Slack when checking that routing rows sum to at most one and entry fractions to one.
const PROB_SUM_SLACK: f64 = 1e-9;

/// A pivot below this magnitude makes the traffic equations singular (their entries are O(1)).
const SINGULAR_PIVOT: f64 = 1e-12;

/// Bisection steps are capped; 200 halvings shrink any finite bracket below 1e-12 relative.
const MAX_BISECTIONS: u32 = 200;

/// Doublings of the upper bracket of a quantile; the tail decays exponentially, so few are used.
const MAX_DOUBLINGS: u32 = 2_000;

/// Why a queueing result cannot be computed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum QueueingError {
    /// A rate, time or load is negative, zero where it must be positive, NaN or infinite.
    #[error("{name} = {value} is invalid: it must be {expected}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        expected: &'static str,
    },
    /// A queue needs at least one server.
    #[error("the number of servers c is 0: a queue needs at least one server")]
    NoServers,
    /// The offered load reaches the capacity: no steady state exists.
    #[error("unstable queue: utilisation rho = {rho} >= 1; the arrival rate must be below c * mu")]
    Unstable { rho: f64 },
    /// M/M/c/K with a capacity smaller than the number of servers.
    #[error(
        "capacity K = {k} is below the number of servers c = {c}; \
         K counts customers in service too, so K >= c"
    )]
    CapacityBelowServers { c: u32, k: u32 },
    /// A probability argument outside its range.
    #[error("probability p = {0} is invalid: it must be in [0, 1)")]
    InvalidProbability(f64),
    /// The routing matrix or entry vector of a Jackson network is malformed.
    #[error("invalid routing: {0}")]
    InvalidRouting(String),
    /// Some customers can never leave the open network.
    #[error(
        "the traffic equations are singular: some customers can never leave the network; \
         give every routing cycle an exit probability"
    )]
    SingularRouting,
    /// Exact MVA costs 2^m networks for m multi-server stations.
    #[error(
        "exact MVA would need {values} state values for {multi_server} multi-server stations \
         (limit {limit}); merge stations or use an approximation such as Seidmann's"
    )]
    MvaTooLarge {
        multi_server: usize,
        values: usize,
        limit: usize,
    },
    /// One station of a network failed validation.
    #[error("station {index}: {error}")]
    AtStation {
        index: usize,
        error: Box<QueueingError>,
    },
}

fn invalid(name: &'static str, value: f64, expected: &'static str) -> QueueingError {
    QueueingError::InvalidParameter {
        name,
        value,
        expected,
    }
}

fn non_negative(name: &'static str, value: f64) -> Result<f64, QueueingError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(invalid(name, value, "finite and >= 0"))
    }
}

fn positive(name: &'static str, value: f64) -> Result<f64, QueueingError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(invalid(name, value, "finite and > 0"))
    }
}

fn servers(c: u32) -> Result<u32, QueueingError> {
    if c == 0 {
        Err(QueueingError::NoServers)
    } else {
        Ok(c)
    }
}

fn probability(p: f64) -> Result<f64, QueueingError> {
    if (0.0..1.0).contains(&p) {
        Ok(p)
    } else {
        Err(QueueingError::InvalidProbability(p))
    }
}

fn at_station(index: usize) -> impl Fn(QueueingError) -> QueueingError {
    move |error| QueueingError::AtStation {
        index,
        error: Box::new(error),
    }
}

// ---------------------------------------------------------------------------------------------
// Erlang B and C
// ---------------------------------------------------------------------------------------------

/// Erlang B: the probability that an arrival to an M/M/c/c loss system finds all `c` servers busy.
///
/// `offered_load` is `a = lambda / mu` in Erlangs.
///
/// # Formula
///
/// `B(0, a) = 1`, `B(k, a) = a B(k-1, a) / (k + a B(k-1, a))` (Kleinrock §3.7; Gross & Harris,
/// M/M/c/c). Every step divides a positive number by a larger positive one, so the recursion
/// cannot overflow or cancel, unlike the textbook `(a^c / c!) / sum_k a^k / k!`.
///
/// # Errors
///
/// [`QueueingError::NoServers`] if `c == 0`; [`QueueingError::InvalidParameter`] if `a` is
/// negative or not finite.
///
/// # Examples
///
/// ```
/// use capsim::analysis::queueing::erlang_b;
/// let b = erlang_b(10, 5.0).unwrap();
/// assert!((b - 0.018_384_6).abs() < 5e-8);
/// ```
pub fn erlang_b(c: u32, offered_load: f64) -> Result<f64, QueueingError> {
    let c = servers(c)?;
    let a = non_negative("offered load a", offered_load)?;
    Ok(erlang_b_unchecked(c, a))
}

fn erlang_b_unchecked(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
        if b == 0.0 {
            break; // every later step keeps it at zero
        }
    }
    b
}

/// Erlang C: the probability that an arrival to an M/M/c queue has to wait.
///
/// # Formula
///
/// `C(c, a) = c B / (c - a (1 - B))` with `B = B(c, a)` from [`erlang_b`] (Gross & Harris,
/// M/M/c; Kleinrock §3.5 gives the direct sum). The denominator exceeds `c - a > 0`.
///
/// # Errors
///
/// As [`erlang_b`], and [`QueueingError::Unstable`] if `a >= c`.
pub fn erlang_c(c: u32, offered_load: f64) -> Result<f64, QueueingError> {
    let c = servers(c)?;
    let a = non_negative("offered load a", offered_load)?;
    let rho = a / f64::from(c);
    if rho >= 1.0 {
        return Err(QueueingError::Unstable { rho });
    }
    Ok(erlang_c_unchecked(c, a))
}

fn erlang_c_unchecked(c: u32, a: f64) -> f64 {
    let b = erlang_b_unchecked(c, a);
    let c = f64::from(c);
    c * b / (c - a * (1.0 - b))
}

// ---------------------------------------------------------------------------------------------
// M/M/c
// ---------------------------------------------------------------------------------------------

/// A stable M/M/c FCFS queue: Poisson arrivals at `lambda` per second, `c` servers, each
/// exponential at `mu` per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MMc {
    lambda: f64,
    mu: f64,
    c: u32,
    prob_wait: f64,
}

impl MMc {
    /// Validates the parameters and precomputes the Erlang C probability.
    ///
    /// # Errors
    ///
    /// [`QueueingError::InvalidParameter`] if `lambda < 0` or `mu <= 0` (or either is not finite),
    /// [`QueueingError::NoServers`] if `c == 0`, [`QueueingError::Unstable`] if
    /// `lambda >= c * mu`.
    pub fn new(lambda: f64, mu: f64, c: u32) -> Result<Self, QueueingError> {
        let lambda = non_negative("arrival rate lambda", lambda)?;
        let mu = positive("service rate mu", mu)?;
        let c = servers(c)?;
        let rho = lambda / (f64::from(c) * mu);
        if rho >= 1.0 {
            return Err(QueueingError::Unstable { rho });
        }
        Ok(Self {
            lambda,
            mu,
            c,
            prob_wait: erlang_c_unchecked(c, lambda / mu),
        })
    }

    /// Arrival rate, per second.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// Service rate of one server, per second.
    pub fn mu(&self) -> f64 {
        self.mu
    }

    /// Number of servers.
    pub fn servers(&self) -> u32 {
        self.c
    }

    /// Utilisation of each server, `rho = lambda / (c mu)`, in `[0, 1)`.
    pub fn rho(&self) -> f64 {
        self.lambda / (f64::from(self.c) * self.mu)
    }

    /// Probability of waiting (Erlang C), see [`erlang_c`].
    pub fn prob_wait(&self) -> f64 {
        self.prob_wait
    }

    /// Decay rate of the waiting-time tail, `theta = c mu - lambda > 0`, per second.
    fn theta(&self) -> f64 {
        f64::from(self.c) * self.mu - self.lambda
    }

    /// Mean time in queue before service, `Wq`, in seconds.
    ///
    /// # Formula
    ///
    /// `Wq = C / (c mu - lambda)` (Kleinrock §3.5; Gross & Harris, M/M/c).
    pub fn mean_wait(&self) -> f64 {
        self.prob_wait / self.theta()
    }

    /// Mean response (sojourn) time `W = Wq + 1/mu`, in seconds.
    ///
    /// # Formula
    ///
    /// `W = C / (c mu - lambda) + 1 / mu` (Kleinrock §3.5).
    pub fn mean_response(&self) -> f64 {
        self.mean_wait() + 1.0 / self.mu
    }

    /// Mean number waiting, not in service: `Lq = lambda Wq` (Little's law).
    pub fn mean_queue_len(&self) -> f64 {
        self.lambda * self.mean_wait()
    }

    /// Mean number in the system, including those in service: `L = lambda W` (Little's law).
    pub fn mean_in_system(&self) -> f64 {
        self.lambda * self.mean_response()
    }

    /// `P(Wq > t)`, the probability of waiting longer than `t` seconds before service.
    ///
    /// # Formula
    ///
    /// `P(Wq > t) = C e^(-(c mu - lambda) t)` for `t >= 0`, and 1 for `t < 0` (Gross & Harris,
    /// M/M/c waiting-time distribution). A NaN `t` propagates.
    pub fn wait_ccdf(&self, t: f64) -> f64 {
        if t < 0.0 {
            1.0
        } else {
            self.prob_wait * (-self.theta() * t).exp()
        }
    }

    /// The `p` quantile of the waiting time in queue, in seconds (0 when `p <= 1 - C`).
    ///
    /// # Formula
    ///
    /// The inverse of [`MMc::wait_ccdf`]: `t_p = ln(C / (1 - p)) / (c mu - lambda)` if
    /// `1 - p < C`, else 0.
    ///
    /// # Errors
    ///
    /// [`QueueingError::InvalidProbability`] unless `0 <= p < 1`.
    pub fn wait_quantile(&self, p: f64) -> Result<f64, QueueingError> {
        let tail = 1.0 - probability(p)?;
        if tail >= self.prob_wait {
            return Ok(0.0);
        }
        Ok((self.prob_wait / tail).ln() / self.theta())
    }

    /// `P(T > t)`, the probability that the response time exceeds `t` seconds.
    ///
    /// # Formula
    ///
    /// With `theta = c mu - lambda` and `phi(x) = (1 - e^(-x)) / x`, `phi(0) = 1`:
    ///
    /// `P(T > t) = e^(-mu t) + C mu t e^(-min(mu, theta) t) phi(|theta - mu| t)`
    ///
    /// This is the convolution of the service time Exp(mu) with the wait (0 with probability
    /// `1 - C`, else Exp(theta)), Gross & Harris M/M/c. The textbook writes the second term as
    /// `C mu (e^(-mu t) - e^(-theta t)) / (theta - mu)`, which divides by zero at `theta = mu`
    /// and cancels near it; the form above factors out the slower exponential and never divides
    /// by `theta - mu`. For `c = 1` it reduces to `e^(-(mu - lambda) t)`. Returns 1 for `t <= 0`;
    /// a NaN `t` propagates.
    pub fn response_ccdf(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 1.0;
        }
        let (mu, theta) = (self.mu, self.theta());
        let tail =
            self.prob_wait * mu * t * (-mu.min(theta) * t).exp() * phi((theta - mu).abs() * t);
        ((-mu * t).exp() + tail).min(1.0)
    }

    /// The `p` quantile of the response time, in seconds, by bisection on
    /// [`MMc::response_ccdf`] to a relative bracket width of [`QUANTILE_REL_TOL`].
    ///
    /// # Errors
    ///
    /// [`QueueingError::InvalidProbability`] unless `0 <= p < 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use capsim::analysis::queueing::MMc;
    /// let q = MMc::new(2.55, 1.0, 3).unwrap();
    /// assert!((q.response_quantile(0.99).unwrap() - 10.863).abs() < 5e-4);
    /// ```
    pub fn response_quantile(&self, p: f64) -> Result<f64, QueueingError> {
        let tail = 1.0 - probability(p)?;
        if p == 0.0 {
            return Ok(0.0);
        }
        let mut hi = self.mean_response();
        for _ in 0..MAX_DOUBLINGS {
            if self.response_ccdf(hi) <= tail {
                break;
            }
            hi *= 2.0;
        }
        Ok(bisect(|t| self.response_ccdf(t) > tail, 0.0, hi))
    }
}

/// `(1 - e^(-x)) / x` for `x >= 0`, with its limit 1 at 0; accurate for tiny `x` via `expm1`.
fn phi(x: f64) -> f64 {
    if x == 0.0 { 1.0 } else { -(-x).exp_m1() / x }
}

/// Shrinks `[lo, hi]` around the point where `above` turns false, to [`QUANTILE_REL_TOL`].
fn bisect(above: impl Fn(f64) -> bool, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..MAX_BISECTIONS {
        if hi - lo <= QUANTILE_REL_TOL * hi {
            break;
        }
        let mid = 0.5 * (lo + hi);
        if above(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

// ---------------------------------------------------------------------------------------------
// M/G/1
// ---------------------------------------------------------------------------------------------

/// Mean wait in queue of an M/G/1 FCFS queue (Pollaczek-Khinchine), in seconds.
///
/// `lambda` per second, `mean_s` the mean service time, `scv` its squared coefficient of
/// variation (variance / mean^2: 0 deterministic, 1 exponential).
///
/// # Formula
///
/// `Wq = rho mean_s (1 + scv) / (2 (1 - rho))`, `rho = lambda mean_s` (Kleinrock ch. 5, the
/// P-K mean-value formula `Wq = lambda E[S^2] / (2 (1 - rho))` with `E[S^2] = (1 + scv) mean^2`).
///
/// # Errors
///
/// [`QueueingError::InvalidParameter`] for a negative `lambda` or `scv`, a non-positive
/// `mean_s`; [`QueueingError::Unstable`] if `rho >= 1`.
pub fn mg1_mean_wait(lambda: f64, mean_s: f64, scv: f64) -> Result<f64, QueueingError> {
    let lambda = non_negative("arrival rate lambda", lambda)?;
    let mean_s = positive("mean service time", mean_s)?;
    let scv = non_negative("squared coefficient of variation", scv)?;
    let rho = lambda * mean_s;
    if rho >= 1.0 {
        return Err(QueueingError::Unstable { rho });
    }
    Ok(rho * mean_s * (1.0 + scv) / (2.0 * (1.0 - rho)))
}

/// Mean response time of an M/G/1 queue: [`mg1_mean_wait`] plus `mean_s`, in seconds.
///
/// # Errors
///
/// As [`mg1_mean_wait`].
pub fn mg1_mean_response(lambda: f64, mean_s: f64, scv: f64) -> Result<f64, QueueingError> {
    Ok(mg1_mean_wait(lambda, mean_s, scv)? + mean_s)
}

/// Mean wait in queue of an M/D/1 queue: [`mg1_mean_wait`] with `scv = 0`, in seconds.
///
/// # Formula
///
/// `Wq = rho mean_s / (2 (1 - rho))` (Kleinrock ch. 5).
///
/// # Errors
///
/// As [`mg1_mean_wait`].
pub fn md1_mean_wait(lambda: f64, service_s: f64) -> Result<f64, QueueingError> {
    mg1_mean_wait(lambda, service_s, 0.0)
}

/// Mean response time of an M/D/1 queue, in seconds.
///
/// # Errors
///
/// As [`mg1_mean_wait`].
pub fn md1_mean_response(lambda: f64, service_s: f64) -> Result<f64, QueueingError> {
    mg1_mean_response(lambda, service_s, 0.0)
}

// ---------------------------------------------------------------------------------------------
// M/M/c/K
// ---------------------------------------------------------------------------------------------

/// An M/M/c/K queue: `c` servers and room for `K >= c` customers in total (in service plus
/// waiting); arrivals finding `K` present are blocked and lost. Stable for any load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MMcK {
    lambda: f64,
    mu: f64,
    c: u32,
    k: u32,
    moments: ChainMoments,
}

/// Normalised sums over the birth-death chain of an M/M/c/K queue.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ChainMoments {
    /// `p_K`.
    full: f64,
    /// `1 - p_K`, summed directly so that it keeps its precision under overload.
    not_full: f64,
    /// `sum_n n p_n`.
    in_system: f64,
    /// `sum_n max(n - c, 0) p_n`.
    queued: f64,
}

impl MMcK {
    /// Validates the parameters and solves the chain once, in `O(K)`.
    ///
    /// # Formula
    ///
    /// `p_n = p_0 prod_{i=1..n} a / min(i, c)`, `a = lambda / mu`, `n = 0..K` (Kleinrock §3.6
    /// and §3.10; Gross & Harris, M/M/c/K). The products are kept in log space and summed
    /// relative to the largest one seen, so `K` in the thousands and heavy overload neither
    /// overflow nor underflow where it matters.
    ///
    /// # Errors
    ///
    /// [`QueueingError::InvalidParameter`] unless `lambda > 0` and `mu > 0` are finite,
    /// [`QueueingError::NoServers`] if `c == 0`, [`QueueingError::CapacityBelowServers`] if
    /// `k < c`.
    pub fn new(lambda: f64, mu: f64, c: u32, k: u32) -> Result<Self, QueueingError> {
        let lambda = positive("arrival rate lambda", lambda)?;
        let mu = positive("service rate mu", mu)?;
        let c = servers(c)?;
        if k < c {
            return Err(QueueingError::CapacityBelowServers { c, k });
        }
        let a = positive("offered load lambda / mu", lambda / mu)?;
        Ok(Self {
            lambda,
            mu,
            c,
            k,
            moments: ChainMoments::solve(a, c, k),
        })
    }

    /// Arrival rate offered (before blocking), per second.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// Service rate of one server, per second.
    pub fn mu(&self) -> f64 {
        self.mu
    }

    /// Number of servers `c`.
    pub fn servers(&self) -> u32 {
        self.c
    }

    /// Total capacity `K`.
    pub fn capacity(&self) -> u32 {
        self.k
    }

    /// Probability that an arrival is blocked, `p_K` (PASTA). For `K = c` this is Erlang B.
    pub fn blocking_prob(&self) -> f64 {
        self.moments.full
    }

    /// Rate of accepted (and completed) customers, `lambda (1 - p_K)`, per second.
    pub fn throughput(&self) -> f64 {
        self.lambda * self.moments.not_full
    }

    /// Mean number in the system, `L = sum_n n p_n`.
    pub fn mean_in_system(&self) -> f64 {
        self.moments.in_system
    }

    /// Mean number waiting, not in service, `Lq = sum_n max(n - c, 0) p_n`.
    pub fn mean_queue_len(&self) -> f64 {
        self.moments.queued
    }

    /// Mean response time of accepted customers, `W = L / (lambda (1 - p_K))`, in seconds.
    pub fn mean_response(&self) -> f64 {
        self.mean_in_system() / self.throughput()
    }

    /// Mean wait in queue of accepted customers, `Wq = Lq / (lambda (1 - p_K))`, in seconds
    /// (exactly 0 when `K = c`).
    pub fn mean_wait(&self) -> f64 {
        self.mean_queue_len() / self.throughput()
    }
}

impl ChainMoments {
    fn solve(a: f64, c: u32, k: u32) -> Self {
        let ln_a = a.ln();
        let (mut log_term, mut log_scale) = (0.0_f64, 0.0_f64);
        let (mut below, mut in_system, mut queued, mut term) = (0.0, 0.0, 0.0, 1.0);
        for n in 1..=k {
            below += term; // the previous state, n - 1 < K
            log_term += ln_a - f64::from(n.min(c)).ln();
            if log_term > log_scale {
                let shrink = (log_scale - log_term).exp();
                (below, in_system, queued) = (below * shrink, in_system * shrink, queued * shrink);
                log_scale = log_term;
            }
            term = (log_term - log_scale).exp();
            in_system += f64::from(n) * term;
            queued += f64::from(n - n.min(c)) * term;
        }
        let total = below + term;
        Self {
            full: term / total,
            not_full: below / total,
            in_system: in_system / total,
            queued: queued / total,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Open Jackson networks
// ---------------------------------------------------------------------------------------------

/// Visit ratios of an open Jackson network: the mean number of visits to each station per
/// external arrival.
///
/// `routing[i][j]` is the probability that a customer leaving station `i` goes to station `j`;
/// `1 - sum_j routing[i][j]` is the probability that it leaves the network. `entry[j]` is the
/// probability that an external arrival enters at station `j` (the entries sum to 1).
///
/// # Formula
///
/// The traffic equations `v_j = entry_j + sum_i v_i routing[i][j]`, i.e. `(I - P^T) v = entry`
/// (Kleinrock §4.8; Gross & Harris, Jackson networks), solved by Gaussian elimination with
/// partial pivoting. Station `j` then sees Poisson traffic at `lambda_ext v_j`.
///
/// # Errors
///
/// [`QueueingError::InvalidRouting`] if the matrix is not square with one row per entry, an
/// entry is outside `[0, 1]`, a row sums above 1 or the entries do not sum to 1;
/// [`QueueingError::SingularRouting`] if some cycle has no exit.
pub fn jackson_visits(routing: &[Vec<f64>], entry: &[f64]) -> Result<Vec<f64>, QueueingError> {
    check_routing(routing, entry)?;
    let n = entry.len();
    let width = n + 1;
    let mut system = vec![0.0; n * width];
    for (i, row) in system.chunks_exact_mut(width).enumerate() {
        for (j, cell) in row[..n].iter_mut().enumerate() {
            *cell = f64::from(u8::from(i == j)) - routing[j][i];
        }
        row[n] = entry[i];
    }
    let visits = solve_augmented(&mut system, n)?;
    Ok(visits.into_iter().map(|v| v.max(0.0)).collect())
}

fn check_routing(routing: &[Vec<f64>], entry: &[f64]) -> Result<(), QueueingError> {
    let bad = |message: String| Err(QueueingError::InvalidRouting(message));
    let n = entry.len();
    if routing.len() != n {
        return bad(format!(
            "{} routing rows for {} entry fractions; give one row per station",
            routing.len(),
            n
        ));
    }
    let is_prob = |p: f64| (0.0..=1.0).contains(&p);
    for (i, row) in routing.iter().enumerate() {
        if row.len() != n {
            return bad(format!(
                "row {i} has {} columns; it needs one per station ({n})",
                row.len()
            ));
        }
        if let Some(j) = row.iter().position(|&p| !is_prob(p)) {
            return bad(format!(
                "routing[{i}][{j}] = {} is not a probability in [0, 1]",
                row[j]
            ));
        }
        let sum: f64 = row.iter().sum();
        if sum > 1.0 + PROB_SUM_SLACK {
            return bad(format!(
                "row {i} sums to {sum} > 1; the exit probability is 1 minus the row sum"
            ));
        }
    }
    if let Some(j) = entry.iter().position(|&p| !is_prob(p)) {
        return bad(format!(
            "entry[{j}] = {} is not a probability in [0, 1]",
            entry[j]
        ));
    }
    let sum: f64 = entry.iter().sum();
    if (sum - 1.0).abs() > PROB_SUM_SLACK {
        return bad(format!("entry fractions sum to {sum}; they must sum to 1"));
    }
    Ok(())
}

/// Solves the `n x n` system stored row-major with its right-hand side as column `n`.
fn solve_augmented(system: &mut [f64], n: usize) -> Result<Vec<f64>, QueueingError> {
    let width = n + 1;
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&r, &s| {
                system[r * width + col]
                    .abs()
                    .total_cmp(&system[s * width + col].abs())
            })
            .unwrap_or(col);
        if system[pivot * width + col].abs() < SINGULAR_PIVOT {
            return Err(QueueingError::SingularRouting);
        }
        for j in 0..width {
            system.swap(col * width + j, pivot * width + j);
        }
        eliminate_below(system, n, col);
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let known: f64 = (row + 1..n).map(|j| system[row * width + j] * x[j]).sum();
        x[row] = (system[row * width + n] - known) / system[row * width + row];
    }
    Ok(x)
}

fn eliminate_below(system: &mut [f64], n: usize, col: usize) {
    let width = n + 1;
    let (upper, lower) = system.split_at_mut((col + 1) * width);
    let pivot_row = &upper[col * width..];
    for row in lower.chunks_exact_mut(width) {
        let factor = row[col] / pivot_row[col];
        if factor != 0.0 {
            for (cell, &p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *cell -= factor * p;
            }
        }
    }
}

/// Mean response time of an open Jackson network of M/M/c stations, per external arrival, in
/// seconds.
///
/// `stations[i] = (visits, mu, c)`: visits per external arrival (see [`jackson_visits`]), the
/// service rate of one server per second, and the number of servers.
///
/// # Formula
///
/// `W = sum_i v_i W_i`, where `W_i` is [`MMc::mean_response`] at arrival rate
/// `lambda_ext v_i` (Jackson's theorem: each station behaves as an independent M/M/c;
/// Kleinrock §4.8, Menascé ch. on open networks). Stations with zero visits contribute 0.
///
/// # Errors
///
/// [`QueueingError::InvalidParameter`] for a negative or non-finite arrival rate;
/// [`QueueingError::AtStation`] wrapping the error of the first invalid or unstable station.
pub fn jackson_mean_response(
    lambda_ext_total: f64,
    stations: &[(f64, f64, u32)],
) -> Result<f64, QueueingError> {
    let lambda = non_negative("external arrival rate", lambda_ext_total)?;
    stations
        .iter()
        .enumerate()
        .try_fold(0.0, |sum, (index, &(visits, mu, c))| {
            let station = non_negative("visits", visits)
                .and_then(|v| MMc::new(lambda * v, mu, c))
                .map_err(at_station(index))?;
            Ok(sum + visits * station.mean_response())
        })
}

// ---------------------------------------------------------------------------------------------
// Closed networks: exact MVA and asymptotic bounds
// ---------------------------------------------------------------------------------------------

/// How a closed-network station serves its customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Servers {
    /// FCFS (or processor-sharing) with this many identical servers; 1 is the classic queue.
    Queueing(u32),
    /// Infinite servers: no queueing, every customer stays `demand_s` on average.
    Delay,
}

/// A station of a closed product-form network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MvaStation {
    /// Total service demand per request at this station, visits times mean service time, in s.
    pub demand_s: f64,
    /// Queueing with `c` servers, or delay.
    pub servers: Servers,
}

impl MvaStation {
    /// A queueing station with `servers` servers.
    pub fn queueing(demand_s: f64, servers: u32) -> Self {
        Self {
            demand_s,
            servers: Servers::Queueing(servers),
        }
    }

    /// A delay (infinite-server) station.
    pub fn delay(demand_s: f64) -> Self {
        Self {
            demand_s,
            servers: Servers::Delay,
        }
    }

    /// Demand per server, `D / c`, in seconds; 0 for a delay station (it never saturates).
    pub fn demand_per_server_s(&self) -> f64 {
        match self.servers {
            Servers::Queueing(c) => self.demand_s / f64::from(c.max(1)),
            Servers::Delay => 0.0,
        }
    }

    fn validate(&self) -> Result<(), QueueingError> {
        non_negative("demand_s", self.demand_s)?;
        match self.servers {
            Servers::Queueing(c) => servers(c).map(|_| ()),
            Servers::Delay => Ok(()),
        }
    }
}

/// The exact solution of a closed network at one population.
#[derive(Debug, Clone, PartialEq)]
pub struct MvaPoint {
    /// Number of customers (users) in the network.
    pub n: u32,
    /// System throughput, requests per second.
    pub throughput: f64,
    /// Mean response time per request, excluding the think time, in seconds.
    pub response_time_s: f64,
    /// Mean number at each station (waiting plus in service), in the order of the input.
    pub queue_len: Vec<f64>,
}

/// Exact Mean Value Analysis of a single-class closed network with think time `think_time_s`,
/// for populations `n = 1..=n_max`.
///
/// # Formula
///
/// Exact MVA (QSP ch. 6 and its chapter on load-dependent service centres; Menascé, closed
/// models), from the arrival theorem, with `Q_i(0) = 0`, `p_i(0 | 0) = 1`:
///
/// ```text
/// delay:        R_i(n) = D_i
/// one server:   R_i(n) = D_i (1 + Q_i(n-1))
/// c servers:    R_i(n) = (D_i / c) (1 + Q_i(n-1) + sum_{j=0..c-2} (c-1-j) p_i(j | n-1))
/// X(n) = n / (Z + sum_i R_i(n)),   Q_i(n) = X(n) R_i(n)
/// ```
///
/// The c-server line is the load-dependent `R = sum_j (j / min(j, c)) D p(j-1 | n-1)` regrouped
/// so that only the marginal probabilities of the `c - 1` lowest states are needed:
///
/// ```text
/// p_i(j | n) = (D_i / j) X(n) p_i(j-1 | n-1)     1 <= j <= c-2
/// p_i(0 | n) = p_i(0 | n-1) X(n) / X_{-i}(n)
/// ```
///
/// where `X_{-i}` is the throughput of the same network without station `i` (the complement
/// network). The last line follows from the product form: `p_i(0 | n) = G_{-i}(n) / G(n)` and
/// `X(n) = G(n-1) / G(n)`. The complement networks are solved by the same recursion, all
/// populations in step, so `m` multi-server stations cost `2^m` networks.
///
/// # Numerical stability
///
/// The textbook load-dependent MVA sets `p_i(0 | n) = 1 - sum_{j>=1} p_i(j | n)`. Once station `i`
/// saturates, `p_i(0 | n)` is orders of magnitude below 1 and that subtraction keeps only
/// rounding error, which the next populations multiply by `D X / j ~ c / j`: the error grows
/// geometrically (it reaches a negative throughput at N = 200 with 4 servers; see G. Casale,
/// G. Serazzi, "Stabilization techniques for load-dependent queueing network algorithms").
/// Deriving `p_i(0 | n)` from the utilisation (`sum_j min(j, c) p_i(j) = c U_i`) still
/// subtracts from `1 - U_i`, and its error feedback has a root of modulus above 1 (for `c = 4`,
/// `x^3 + 3x^2 + 4x + 8/3 = 0` has a root in (-2, -1)); the tests show both going negative.
/// Here every quantity is a sum, product or quotient of positive numbers, so relative rounding
/// errors only add up (`O(N eps)`), and the tests agree with a log-space normalising-constant
/// oracle to 1e-9 at N = 400.
///
/// The result is exact, not Seidmann's approximation (a `c`-server station as one server `c`
/// times faster plus a delay). A queueing station with `c >= n_max` servers never queues and is
/// solved as a delay.
///
/// # Errors
///
/// [`QueueingError::AtStation`] for a negative or non-finite demand or `Queueing(0)`;
/// [`QueueingError::InvalidParameter`] for a negative think time, or when every demand and the
/// think time are 0; [`QueueingError::MvaTooLarge`] when the `2^m` complement networks would
/// exceed [`MVA_MAX_STATE_VALUES`].
pub fn mva(
    stations: &[MvaStation],
    think_time_s: f64,
    n_max: u32,
) -> Result<Vec<MvaPoint>, QueueingError> {
    let think = non_negative("think time", think_time_s)?;
    for (index, station) in stations.iter().enumerate() {
        station.validate().map_err(at_station(index))?;
    }
    let total: f64 = think + stations.iter().map(|s| s.demand_s).sum::<f64>();
    if total <= 0.0 {
        return Err(invalid("total demand plus think time", total, "> 0"));
    }
    let mut solver = ExactMva::new(stations, think, n_max)?;
    Ok((1..=n_max)
        .map(|n| solver.step(n, stations.len()))
        .collect())
}

/// How the recursion treats a station with positive demand.
#[derive(Debug, Clone, Copy)]
enum Centre {
    Delay,
    Single,
    /// `c >= 2` servers, `c < n_max`; `bit` selects it in a network mask, `offset` its
    /// `c - 1` marginal probabilities.
    Multi {
        c: u32,
        bit: usize,
        offset: usize,
    },
}

/// Exact MVA over the full network and its `2^m` complement networks, advanced in step.
struct ExactMva {
    think: f64,
    /// `(index in the input, demand, centre)` for stations with positive demand.
    centres: Vec<(usize, f64, Centre)>,
    /// `Q_i` of every network: `[mask * centres.len() + i]`.
    queue: Vec<f64>,
    /// `p_i(j)` for `j < c_i - 1` of every network: `[mask * probs_len + offset_i + j]`.
    probs: Vec<f64>,
    probs_len: usize,
    /// `X` of every network at the current population.
    throughput: Vec<f64>,
    /// Scratch: residence times of the network being stepped.
    residence: Vec<f64>,
}

impl ExactMva {
    fn new(stations: &[MvaStation], think: f64, n_max: u32) -> Result<Self, QueueingError> {
        let (mut centres, mut multi, mut probs_len) = (Vec::new(), 0, 0);
        for (index, s) in stations
            .iter()
            .enumerate()
            .filter(|(_, s)| s.demand_s > 0.0)
        {
            let centre = match s.servers {
                Servers::Queueing(1) => Centre::Single,
                Servers::Queueing(c) if c < n_max => {
                    let centre = Centre::Multi {
                        c,
                        bit: multi,
                        offset: probs_len,
                    };
                    (multi, probs_len) = (multi + 1, probs_len + c as usize - 1);
                    centre
                }
                _ => Centre::Delay,
            };
            centres.push((index, s.demand_s, centre));
        }
        let networks = Self::networks(multi, centres.len() + probs_len)?;
        // p_i(0 | 0) = 1 and p_i(j | 0) = 0 in every network (unused where i is excluded).
        let mut probs = vec![0.0; networks * probs_len];
        for network in probs.chunks_exact_mut(probs_len.max(1)) {
            for &(_, _, centre) in &centres {
                if let Centre::Multi { offset, .. } = centre {
                    network[offset] = 1.0;
                }
            }
        }
        Ok(Self {
            think,
            queue: vec![0.0; networks * centres.len()],
            residence: vec![0.0; centres.len()],
            throughput: vec![0.0; networks],
            centres,
            probs,
            probs_len,
        })
    }

    /// Number of networks, `2^multi`, if their state fits in [`MVA_MAX_STATE_VALUES`].
    fn networks(multi: usize, per_network: usize) -> Result<usize, QueueingError> {
        let values = 1_usize
            .checked_shl(u32::try_from(multi).unwrap_or(u32::MAX))
            .and_then(|networks| networks.checked_mul(per_network + 1));
        match values {
            Some(values) if values <= MVA_MAX_STATE_VALUES => Ok(1 << multi),
            _ => Err(QueueingError::MvaTooLarge {
                multi_server: multi,
                values: values.unwrap_or(usize::MAX),
                limit: MVA_MAX_STATE_VALUES,
            }),
        }
    }

    /// Advances every network to population `n` (smaller masks first: a complement network's
    /// mask is always smaller) and reports the full one.
    fn step(&mut self, n: u32, stations: usize) -> MvaPoint {
        let full = self.throughput.len() - 1;
        for mask in 0..=full {
            self.step_network(mask, f64::from(n));
        }
        let mut queue_len = vec![0.0; stations];
        let width = self.centres.len();
        for (&(index, _, _), &q) in self.centres.iter().zip(&self.queue[full * width..]) {
            queue_len[index] = q;
        }
        MvaPoint {
            n,
            throughput: self.throughput[full],
            response_time_s: self.residence.iter().sum(),
            queue_len,
        }
    }

    fn includes(mask: usize, centre: Centre) -> bool {
        match centre {
            Centre::Multi { bit, .. } => mask & (1 << bit) != 0,
            _ => true,
        }
    }

    fn step_network(&mut self, mask: usize, n: f64) {
        let width = self.centres.len();
        let queue = &mut self.queue[mask * width..(mask + 1) * width];
        let probs = &mut self.probs[mask * self.probs_len..(mask + 1) * self.probs_len];
        for (i, &(_, demand, centre)) in self.centres.iter().enumerate() {
            self.residence[i] = if Self::includes(mask, centre) {
                residence_time(demand, centre, queue[i], probs)
            } else {
                0.0
            };
        }
        let cycle = self.think + self.residence.iter().sum::<f64>();
        // Only an empty complement network with no think time has a zero cycle: its customers
        // are nowhere, so its throughput is unbounded and it pins p_i(0) of the parent to 0.
        let x = if cycle > 0.0 {
            n / cycle
        } else {
            f64::INFINITY
        };
        for (q, &r) in queue.iter_mut().zip(&self.residence) {
            *q = if r > 0.0 { x * r } else { 0.0 };
        }
        for &(_, demand, centre) in &self.centres {
            if let Centre::Multi { c, bit, offset } = centre
                && mask & (1 << bit) != 0
            {
                let complement = self.throughput[mask & !(1 << bit)];
                let p = &mut probs[offset..offset + c as usize - 1];
                advance_marginals(p, demand, x, complement);
            }
        }
        self.throughput[mask] = x;
    }
}

/// Residence time per request at population `n`, from the state at `n - 1` (arrival theorem).
fn residence_time(demand: f64, centre: Centre, queue: f64, probs: &[f64]) -> f64 {
    match centre {
        Centre::Delay => demand,
        Centre::Single => demand * (1.0 + queue),
        Centre::Multi { c, offset, .. } => {
            let low = &probs[offset..offset + c as usize - 1];
            let idle: f64 = low
                .iter()
                .enumerate()
                .map(|(j, p)| f64::from(c - 1 - j as u32) * p)
                .sum();
            demand / f64::from(c) * (1.0 + queue + idle)
        }
    }
}

/// `p(j | n-1) -> p(j | n)` for `j < c - 1`: products only, highest state first.
fn advance_marginals(p: &mut [f64], demand: f64, x: f64, complement_x: f64) {
    for j in (1..p.len()).rev() {
        p[j] = demand / j as f64 * x * p[j - 1];
    }
    p[0] *= x / complement_x;
}

/// Asymptotic bounds of a closed network at population `n` (QSP ch. 5, with the bottleneck
/// demand taken per server so that multi-server stations are covered).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AsymptoticBounds {
    /// Upper bound on throughput, requests per second.
    pub throughput_upper: f64,
    /// Lower bound on throughput, requests per second.
    pub throughput_lower: f64,
    /// Lower bound on response time (excluding think time), seconds.
    pub response_lower_s: f64,
    /// Upper bound on response time (excluding think time), seconds.
    pub response_upper_s: f64,
}

/// Asymptotic bounds on throughput and response time of a closed network with `n` users.
///
/// `demand_total_s` is `D = sum_i D_i` over all stations (delay stations included),
/// `demand_max_per_server_s` is `Dmax = max_i D_i / c_i` over the queueing stations (see
/// [`MvaStation::demand_per_server_s`] and [`bottleneck_demands`]), `think_time_s` is `Z`.
///
/// # Formula
///
/// QSP ch. 5 (asymptotic bound analysis):
///
/// ```text
/// N / (N D + Z) <= X(N) <= min(N / (D + Z), 1 / Dmax)
/// max(D, N Dmax - Z) <= R(N) <= N D
/// ```
///
/// A `c`-server station completes at most `c / D_i` requests per second, hence `D_i / c` in
/// `Dmax`; a customer never waits longer than behind the `N - 1` others, hence `N D`.
///
/// # Errors
///
/// [`QueueingError::InvalidParameter`] for negative or non-finite inputs, `Dmax > D`,
/// `D + Z = 0` or `n = 0`.
pub fn asymptotic_bounds(
    demand_total_s: f64,
    demand_max_per_server_s: f64,
    think_time_s: f64,
    n: u32,
) -> Result<AsymptoticBounds, QueueingError> {
    let d = non_negative("total demand", demand_total_s)?;
    let d_max = non_negative("maximum demand per server", demand_max_per_server_s)?;
    let z = non_negative("think time", think_time_s)?;
    if d_max > d {
        return Err(invalid(
            "maximum demand per server",
            d_max,
            "at most the total demand",
        ));
    }
    if d + z <= 0.0 || n == 0 {
        return Err(invalid(
            "total demand plus think time (and n)",
            d + z,
            "> 0 with n >= 1",
        ));
    }
    let n = f64::from(n);
    Ok(AsymptoticBounds {
        throughput_upper: (n / (d + z)).min(1.0 / d_max),
        throughput_lower: n / (n * d + z),
        response_lower_s: d.max(n * d_max - z),
        response_upper_s: n * d,
    })
}

/// `(D, Dmax)` of a closed network for [`asymptotic_bounds`]: the total demand and the largest
/// demand per server of a queueing station.
///
/// # Errors
///
/// [`QueueingError::AtStation`] for an invalid station.
pub fn bottleneck_demands(stations: &[MvaStation]) -> Result<(f64, f64), QueueingError> {
    stations
        .iter()
        .enumerate()
        .try_fold((0.0, 0.0_f64), |(d, d_max), (index, s)| {
            s.validate().map_err(at_station(index))?;
            Ok((d + s.demand_s, d_max.max(s.demand_per_server_s())))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two evaluations of the same closed form: rounding only.
    const EXACT: f64 = 1e-12;
    /// Reference values printed with 8 decimals (W of the M/M/3 example).
    const REF_8_DECIMALS: f64 = 5e-9;
    /// Reference values printed with 7 decimals (Erlang B, Jackson W in ms).
    const REF_7_DECIMALS: f64 = 5e-8;
    /// Quantiles printed with 3 decimals.
    const REF_3_DECIMALS: f64 = 5e-4;
    /// MVA against the log-space normalising-constant oracle, relative.
    const ORACLE_REL: f64 = 1e-9;
    /// Throughput may only "decrease" by rounding at saturation, relative.
    const MONOTONE_SLACK: f64 = 1e-13;
    /// Nearby parameters (1e-9 apart) must give nearby tail probabilities.
    const CONTINUITY: f64 = 1e-7;
    /// Throughput at N = 1000 against the bottleneck bound `1 / Dmax`, relative.
    const SATURATION_REL: f64 = 1e-2;

    fn assert_close(actual: f64, expected: f64, tol: f64, what: &str) {
        assert!(
            (actual - expected).abs() <= tol,
            "{what}: got {actual}, expected {expected} (tolerance {tol})"
        );
    }

    fn assert_rel(actual: f64, expected: f64, rel: f64, what: &str) {
        let err = (actual - expected).abs() / expected.abs().max(f64::MIN_POSITIVE);
        assert!(
            err <= rel,
            "{what}: got {actual}, expected {expected}, relative error {err:e} > {rel:e}"
        );
    }

    // ---- Erlang ----

    #[test]
    fn erlang_b_matches_reference_value() {
        assert_close(
            erlang_b(10, 5.0).unwrap(),
            0.018_384_6,
            REF_7_DECIMALS,
            "B(10, 5)",
        );
    }

    #[test]
    fn erlang_b_matches_direct_sum_for_small_c() {
        let (c, a) = (6_u32, 4.2_f64);
        let terms: Vec<f64> = (0..=c)
            .scan(1.0, |t, k| {
                if k > 0 {
                    *t *= a / f64::from(k);
                }
                Some(*t)
            })
            .collect();
        let direct = terms[c as usize] / terms.iter().sum::<f64>();
        assert_close(erlang_b(c, a).unwrap(), direct, EXACT, "B(6, 4.2)");
    }

    #[test]
    fn erlang_b_survives_thousands_of_servers() {
        let b = erlang_b(5_000, 4_900.0).unwrap();
        assert!(b.is_finite() && b > 0.0 && b < 1.0, "B = {b}");
        assert_eq!(erlang_b(3, 0.0).unwrap(), 0.0);
    }

    #[test]
    fn erlang_c_of_one_server_is_rho_and_rejects_overload() {
        assert_close(erlang_c(1, 0.7).unwrap(), 0.7, EXACT, "C(1, 0.7)");
        assert!(matches!(
            erlang_c(4, 4.0),
            Err(QueueingError::Unstable { .. })
        ));
        assert_eq!(erlang_b(0, 1.0), Err(QueueingError::NoServers));
        assert!(matches!(
            erlang_b(2, -1.0),
            Err(QueueingError::InvalidParameter { .. })
        ));
        assert!(matches!(
            erlang_b(2, f64::NAN),
            Err(QueueingError::InvalidParameter { .. })
        ));
    }

    // ---- M/M/c ----

    #[test]
    fn mm3_matches_reference_mean_and_quantiles() {
        let q = MMc::new(2.55, 1.0, 3).unwrap();
        assert_close(q.mean_response(), 2.623_059_13, REF_8_DECIMALS, "W");
        for (p, expected) in [(0.95, 7.277), (0.99, 10.863), (0.999, 15.981)] {
            assert_close(
                q.response_quantile(p).unwrap(),
                expected,
                REF_3_DECIMALS,
                "quantile",
            );
        }
    }

    #[test]
    fn mm1_at_rho_09_has_mean_response_ten_service_times() {
        let mu = 4.0;
        let q = MMc::new(0.9 * mu, mu, 1).unwrap();
        assert_close(q.mean_response(), 10.0 / mu, EXACT, "W");
        assert_close(q.mean_in_system(), 9.0, 1e-11, "L");
        assert_close(q.mean_queue_len(), 8.1, 1e-11, "Lq");
    }

    #[test]
    fn mm1_response_ccdf_is_exponential() {
        let (lambda, mu) = (3.0, 5.0);
        let q = MMc::new(lambda, mu, 1).unwrap();
        for t in [0.0, 1e-9, 0.01, 0.5, 2.0, 10.0] {
            assert_rel(
                q.response_ccdf(t),
                (-(mu - lambda) * t).exp(),
                EXACT,
                "P(T > t)",
            );
        }
        let p99 = q.response_quantile(0.99).unwrap();
        assert_rel(
            p99,
            100.0_f64.ln() / (mu - lambda),
            2.0 * QUANTILE_REL_TOL,
            "p99",
        );
    }

    /// The textbook form, valid away from theta = mu: an independent oracle.
    fn textbook_response_ccdf(q: &MMc, t: f64) -> f64 {
        let (mu, c) = (q.mu(), q.prob_wait());
        let theta = f64::from(q.servers()) * mu - q.lambda();
        (-mu * t).exp() + c * mu * ((-mu * t).exp() - (-theta * t).exp()) / (theta - mu)
    }

    #[test]
    fn response_ccdf_matches_textbook_form_away_from_theta_equal_mu() {
        for (lambda, mu, c) in [(2.55, 1.0, 3), (1.2, 1.0, 3), (7.0, 0.5, 16)] {
            let q = MMc::new(lambda, mu, c).unwrap();
            for t in [0.1, 1.0, 5.0, 20.0] {
                assert_rel(
                    q.response_ccdf(t),
                    textbook_response_ccdf(&q, t),
                    1e-10,
                    "P(T > t)",
                );
            }
        }
    }

    #[test]
    fn response_ccdf_is_finite_and_continuous_where_theta_equals_mu() {
        // c mu - lambda = mu  <=>  lambda = (c - 1) mu.
        let (mu, c) = (1.0, 3);
        let at = MMc::new(2.0, mu, c).unwrap();
        let below = MMc::new(2.0 - 1e-9, mu, c).unwrap();
        let above = MMc::new(2.0 + 1e-9, mu, c).unwrap();
        for t in [0.5, 3.0, 12.0] {
            let exact = (-mu * t).exp() * (1.0 + at.prob_wait() * mu * t); // the theta -> mu limit
            let p = at.response_ccdf(t);
            assert!(p.is_finite());
            assert_rel(p, exact, EXACT, "P(T > t) at theta = mu");
            assert_rel(below.response_ccdf(t), p, CONTINUITY, "from below");
            assert_rel(above.response_ccdf(t), p, CONTINUITY, "from above");
        }
        let median = at.response_quantile(0.5).unwrap();
        assert_close(at.response_ccdf(median), 0.5, 1e-11, "ccdf at the median");
    }

    #[test]
    fn wait_distribution_matches_its_closed_form() {
        let q = MMc::new(2.55, 1.0, 3).unwrap();
        assert_close(q.wait_ccdf(0.0), q.prob_wait(), EXACT, "P(Wq > 0)");
        assert_eq!(q.wait_ccdf(-1.0), 1.0);
        assert_eq!(q.wait_quantile(1.0 - q.prob_wait()).unwrap(), 0.0);
        let t = q.wait_quantile(0.99).unwrap();
        assert_close(q.wait_ccdf(t), 0.01, EXACT, "P(Wq > p99)");
        // E[Wq] = integral of the ccdf = C / theta.
        assert_close(q.mean_wait(), q.prob_wait() / (3.0 - 2.55), EXACT, "Wq");
    }

    #[test]
    fn mmc_rejects_invalid_inputs() {
        assert!(matches!(
            MMc::new(3.0, 1.0, 3),
            Err(QueueingError::Unstable { .. })
        ));
        assert!(matches!(
            MMc::new(-1.0, 1.0, 3),
            Err(QueueingError::InvalidParameter { .. })
        ));
        assert!(matches!(
            MMc::new(1.0, 0.0, 3),
            Err(QueueingError::InvalidParameter { .. })
        ));
        assert_eq!(MMc::new(1.0, 1.0, 0), Err(QueueingError::NoServers));
        let q = MMc::new(1.0, 1.0, 2).unwrap();
        for p in [1.0, -0.1, f64::NAN] {
            assert!(matches!(
                q.response_quantile(p),
                Err(QueueingError::InvalidProbability(_))
            ));
        }
        assert_eq!(q.response_quantile(0.0).unwrap(), 0.0);
    }

    // ---- M/G/1 ----

    #[test]
    fn pollaczek_khinchine_with_scv_one_is_mm1() {
        let (lambda, mean_s) = (7.0, 0.1);
        let mm1 = MMc::new(lambda, 1.0 / mean_s, 1).unwrap();
        assert_close(
            mg1_mean_wait(lambda, mean_s, 1.0).unwrap(),
            mm1.mean_wait(),
            EXACT,
            "Wq",
        );
        assert_close(
            mg1_mean_response(lambda, mean_s, 1.0).unwrap(),
            mm1.mean_response(),
            EXACT,
            "W",
        );
        let md1 = md1_mean_wait(lambda, mean_s).unwrap();
        assert_close(
            md1,
            0.5 * mm1.mean_wait(),
            EXACT,
            "M/D/1 waits half of M/M/1",
        );
        assert_close(
            md1_mean_response(lambda, mean_s).unwrap(),
            md1 + mean_s,
            EXACT,
            "M/D/1 W",
        );
        assert!(matches!(
            mg1_mean_wait(10.0, 0.1, 1.0),
            Err(QueueingError::Unstable { .. })
        ));
    }

    // ---- M/M/c/K ----

    #[test]
    fn mmck_with_k_equal_c_is_erlang_b() {
        for (lambda, mu, c) in [(5.0, 1.0, 10), (30.0, 0.25, 100), (2.0, 3.0, 1)] {
            let q = MMcK::new(lambda, mu, c, c).unwrap();
            assert_rel(
                q.blocking_prob(),
                erlang_b(c, lambda / mu).unwrap(),
                EXACT,
                "p_K",
            );
            assert_eq!(q.mean_wait(), 0.0);
            assert_rel(q.mean_response(), 1.0 / mu, EXACT, "W with no waiting room");
        }
    }

    #[test]
    fn mm1k_matches_its_closed_form() {
        let (lambda, mu, k) = (4.0, 5.0, 7_u32);
        let rho: f64 = lambda / mu;
        let q = MMcK::new(lambda, mu, 1, k).unwrap();
        let norm = (1.0 - rho.powi(k as i32 + 1)) / (1.0 - rho);
        assert_rel(q.blocking_prob(), rho.powi(k as i32) / norm, EXACT, "p_K");
        let l = rho / (1.0 - rho)
            - f64::from(k + 1) * rho.powi(k as i32 + 1) / (1.0 - rho.powi(k as i32 + 1));
        assert_rel(q.mean_in_system(), l, 1e-11, "L");
        assert_rel(q.mean_response(), l / q.throughput(), EXACT, "Little");
        assert_rel(
            q.mean_response() - q.mean_wait(),
            1.0 / mu,
            1e-11,
            "W - Wq = 1/mu",
        );
    }

    #[test]
    fn mmck_with_large_k_approaches_mmc() {
        let open = MMc::new(2.55, 1.0, 3).unwrap();
        let finite = MMcK::new(2.55, 1.0, 3, 5_000).unwrap();
        assert!(finite.blocking_prob() < 1e-300);
        assert_rel(finite.mean_response(), open.mean_response(), 1e-12, "W");
        assert_rel(finite.mean_wait(), open.mean_wait(), 1e-12, "Wq");
        assert_rel(finite.mean_queue_len(), open.mean_queue_len(), 1e-12, "Lq");
    }

    #[test]
    fn mmck_stays_finite_under_heavy_overload_with_thousands_of_places() {
        let q = MMcK::new(1_200.0, 1.0, 1_000, 5_000).unwrap();
        let x = q.throughput();
        assert!(
            x.is_finite() && x <= 1_000.0 * (1.0 + EXACT) && x > 999.0,
            "X = {x}"
        );
        assert_rel(q.blocking_prob(), 1.0 - x / 1_200.0, 1e-9, "p_K");
        assert!(q.mean_in_system() > 4_900.0 && q.mean_response().is_finite());
        assert!(matches!(
            MMcK::new(1.0, 1.0, 3, 2),
            Err(QueueingError::CapacityBelowServers { .. })
        ));
    }

    // ---- Jackson ----

    fn three_tier() -> (Vec<Vec<f64>>, Vec<f64>) {
        let routing = vec![vec![0.0, 1.0, 0.0], vec![0.0, 0.0, 0.3], vec![0.0; 3]];
        (routing, vec![1.0, 0.0, 0.0])
    }

    #[test]
    fn three_tier_jackson_network_matches_reference() {
        let (routing, entry) = three_tier();
        let v = jackson_visits(&routing, &entry).unwrap();
        for (got, want) in v.iter().zip([1.0, 1.0, 0.3]) {
            assert_close(*got, want, EXACT, "visits");
        }
        let stations = [
            (v[0], 1.0 / 0.001, 1),
            (v[1], 1.0 / 0.030, 8),
            (v[2], 1.0 / 0.010, 4),
        ];
        let w_ms = 1e3 * jackson_mean_response(200.0, &stations).unwrap();
        assert_close(w_ms, 39.607_792_3, REF_7_DECIMALS, "W (ms)");
    }

    #[test]
    fn jackson_visits_solve_feedback_loops() {
        // 0 -> 1 always; 1 -> 0 with 0.5, 1 -> 1 with 0.25, exit 0.25: v1 = 4, v0 = 3.
        let routing = vec![vec![0.0, 1.0], vec![0.5, 0.25]];
        let v = jackson_visits(&routing, &[1.0, 0.0]).unwrap();
        assert_close(v[0], 3.0, EXACT, "v0");
        assert_close(v[1], 4.0, EXACT, "v1");
    }

    #[test]
    fn jackson_rejects_closed_loops_and_bad_input() {
        let closed = vec![vec![0.0, 1.0], vec![1.0, 0.0]];
        assert_eq!(
            jackson_visits(&closed, &[1.0, 0.0]),
            Err(QueueingError::SingularRouting)
        );
        let wide = vec![vec![0.7, 0.7], vec![0.0, 0.0]];
        assert!(matches!(
            jackson_visits(&wide, &[1.0, 0.0]),
            Err(QueueingError::InvalidRouting(_))
        ));
        assert!(matches!(
            jackson_visits(&[vec![0.0]], &[0.5]),
            Err(QueueingError::InvalidRouting(_))
        ));
        let err = jackson_mean_response(200.0, &[(1.0, 1000.0, 1), (1.0, 10.0, 8)]).unwrap_err();
        assert!(
            matches!(err, QueueingError::AtStation { index: 1, .. }),
            "{err}"
        );
    }

    // ---- MVA ----

    /// The log-space normalising-constant oracle (Buzen's convolution generalised to
    /// load-dependent stations): `G(n) = sum_k f_i(k) G_{-i}(n - k)`, every term positive.
    mod oracle {
        use super::super::{MvaStation, Servers};

        /// `ln f(k)` for k = 0..=n_max: `f(k) = D^k / prod_{j<=k} alpha(j)`.
        pub fn log_factors(s: &MvaStation, n_max: usize) -> Vec<f64> {
            let mut lf = vec![0.0; n_max + 1];
            for k in 1..=n_max {
                let alpha = match s.servers {
                    Servers::Queueing(c) => k.min(c as usize) as f64,
                    Servers::Delay => k as f64,
                };
                lf[k] = lf[k - 1] + (s.demand_s / alpha).ln();
            }
            lf
        }

        fn log_sum_exp(terms: impl Iterator<Item = f64> + Clone) -> f64 {
            let max = terms.clone().fold(f64::NEG_INFINITY, f64::max);
            if max == f64::NEG_INFINITY {
                return max;
            }
            max + terms.map(|t| (t - max).exp()).sum::<f64>().ln()
        }

        fn convolve(lg: &[f64], lf: &[f64]) -> Vec<f64> {
            (0..lg.len())
                .map(|n| log_sum_exp((0..=n).map(|k| lf[k] + lg[n - k])))
                .collect()
        }

        fn log_g(factors: &[&Vec<f64>], n_max: usize) -> Vec<f64> {
            let mut lg = vec![f64::NEG_INFINITY; n_max + 1];
            lg[0] = 0.0;
            factors.iter().fold(lg, |lg, lf| convolve(&lg, lf))
        }

        /// `(X(n), R(n), Q_i(n))` for n = 0..=n_max, index 0 unused.
        pub fn solve(
            stations: &[MvaStation],
            think: f64,
            n_max: usize,
        ) -> Vec<(f64, f64, Vec<f64>)> {
            let mut factors: Vec<Vec<f64>> =
                stations.iter().map(|s| log_factors(s, n_max)).collect();
            factors.push(log_factors(&MvaStation::delay(think), n_max));
            let all: Vec<&Vec<f64>> = factors.iter().collect();
            let lg = log_g(&all, n_max);
            let without: Vec<Vec<f64>> = (0..stations.len())
                .map(|i| {
                    let rest: Vec<&Vec<f64>> = factors
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .map(|(_, f)| f)
                        .collect();
                    log_g(&rest, n_max)
                })
                .collect();
            (0..=n_max)
                .map(|n| {
                    if n == 0 {
                        return (0.0, 0.0, vec![0.0; stations.len()]);
                    }
                    let x = (lg[n - 1] - lg[n]).exp();
                    let q: Vec<f64> = (0..stations.len())
                        .map(|i| {
                            (1..=n)
                                .map(|k| {
                                    k as f64 * (factors[i][k] + without[i][n - k] - lg[n]).exp()
                                })
                                .sum()
                        })
                        .collect();
                    let r = q.iter().sum::<f64>() / x;
                    (x, r, q)
                })
                .collect()
        }
    }

    /// The textbook single-class MVA for queueing (one server) and delay stations.
    fn textbook_mva(stations: &[MvaStation], think: f64, n_max: u32) -> Vec<(f64, f64)> {
        let mut q = vec![0.0; stations.len()];
        (1..=n_max)
            .map(|n| {
                let r: Vec<f64> = stations
                    .iter()
                    .zip(&q)
                    .map(|(s, q)| match s.servers {
                        Servers::Delay => s.demand_s,
                        Servers::Queueing(_) => s.demand_s * (1.0 + q),
                    })
                    .collect();
                let total: f64 = r.iter().sum();
                let x = f64::from(n) / (think + total);
                q = r.iter().map(|r| x * r).collect();
                (x, total)
            })
            .collect()
    }

    /// How the unstable recursions obtain `p(0 | n)` from the other marginals.
    #[derive(Clone, Copy)]
    enum IdleProb {
        /// Textbook: `1 - sum_{j>=1} p(j | n)`.
        Complement,
        /// From the utilisation: `1 - U - sum_{j=1..c-1} (c - j) / c p(j | n)`.
        Utilisation,
    }

    /// The textbook load-dependent MVA for one c-server station plus think time, with `p(0 | n)`
    /// by subtraction. Kept to show the trap that the stable version avoids.
    fn subtracting_ld_mva(
        demand: f64,
        c: u32,
        think: f64,
        n_max: usize,
        idle: IdleProb,
    ) -> Vec<f64> {
        let (c, alpha) = (c as usize, |j: usize| j.min(c as usize) as f64);
        let mut p = vec![1.0];
        (1..=n_max)
            .map(|n| {
                let r: f64 = (1..=n)
                    .map(|j| j as f64 / alpha(j) * demand * p[j - 1])
                    .sum();
                let x = n as f64 / (think + r);
                let mut next = vec![0.0; n + 1];
                for j in 1..=n {
                    next[j] = demand / alpha(j) * x * p[j - 1];
                }
                next[0] = match idle {
                    IdleProb::Complement => 1.0 - next[1..].iter().sum::<f64>(),
                    IdleProb::Utilisation => {
                        let low: f64 = (1..c.min(n + 1))
                            .map(|j| (c - j) as f64 / c as f64 * next[j])
                            .sum();
                        1.0 - x * demand / c as f64 - low
                    }
                };
                p = next;
                x
            })
            .collect()
    }

    fn networks() -> Vec<(&'static str, Vec<MvaStation>, f64)> {
        vec![
            (
                "4-server bottleneck",
                vec![
                    MvaStation::queueing(0.010, 1),
                    MvaStation::queueing(0.200, 4),
                    MvaStation::delay(0.05),
                ],
                2.0,
            ),
            (
                "8-server bottleneck",
                vec![
                    MvaStation::queueing(0.4, 8),
                    MvaStation::queueing(0.12, 4),
                    MvaStation::queueing(0.02, 1),
                ],
                1.0,
            ),
            (
                "4 and 8 servers balanced",
                vec![
                    MvaStation::queueing(0.004, 1),
                    MvaStation::queueing(0.08, 4),
                    MvaStation::queueing(0.16, 8),
                    MvaStation::queueing(0.015, 1),
                    MvaStation::delay(0.03),
                ],
                0.5,
            ),
            (
                "one 4-server station, no think time",
                vec![MvaStation::queueing(0.3, 4)],
                0.0,
            ),
        ]
    }

    #[test]
    fn mva_with_multi_server_stations_matches_normalising_constant_oracle() {
        let n_max = 400;
        for (name, stations, think) in networks() {
            let points = mva(&stations, think, n_max).unwrap();
            let exact = oracle::solve(&stations, think, n_max as usize);
            for n in [1_usize, 10, 50, 200, 400] {
                let (point, (x, r, q)) = (&points[n - 1], &exact[n]);
                assert_eq!(point.n as usize, n);
                assert_rel(point.throughput, *x, ORACLE_REL, &format!("{name}: X({n})"));
                assert_rel(
                    point.response_time_s,
                    *r,
                    ORACLE_REL,
                    &format!("{name}: R({n})"),
                );
                for (i, (got, want)) in point.queue_len.iter().zip(q).enumerate() {
                    assert_rel(*got, *want, ORACLE_REL, &format!("{name}: Q_{i}({n})"));
                }
            }
        }
    }

    #[test]
    fn mva_throughput_is_monotone_and_below_every_bound() {
        for (name, stations, think) in networks() {
            let points = mva(&stations, think, 1_000).unwrap();
            let (d, d_max) = bottleneck_demands(&stations).unwrap();
            for pair in points.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                assert!(
                    b.throughput >= a.throughput * (1.0 - MONOTONE_SLACK),
                    "{name}: X fell at n = {}",
                    b.n
                );
            }
            for p in &points {
                let bounds = asymptotic_bounds(d, d_max, think, p.n).unwrap();
                let slack = 1.0 + MONOTONE_SLACK;
                assert!(
                    p.throughput <= bounds.throughput_upper * slack,
                    "{name}: X({}) above bound",
                    p.n
                );
                assert!(
                    p.throughput * slack >= bounds.throughput_lower,
                    "{name}: X({}) below bound",
                    p.n
                );
                assert!(
                    p.response_time_s * slack >= bounds.response_lower_s,
                    "{name}: R({}) below bound",
                    p.n
                );
                assert!(
                    p.response_time_s <= bounds.response_upper_s * slack,
                    "{name}: R({}) above bound",
                    p.n
                );
                assert!(p.throughput > 0.0 && p.queue_len.iter().all(|q| *q >= 0.0));
            }
            // Two balanced bottlenecks approach the bound like 1/N, a single one geometrically.
            let last = points.last().unwrap();
            assert_rel(
                last.throughput,
                1.0 / d_max,
                SATURATION_REL,
                &format!("{name}: saturation"),
            );
        }
    }

    #[test]
    fn mva_at_one_user_is_one_over_demand_plus_think() {
        for (name, stations, think) in networks() {
            let (d, _) = bottleneck_demands(&stations).unwrap();
            let first = &mva(&stations, think, 1).unwrap()[0];
            assert_rel(first.throughput, 1.0 / (d + think), EXACT, name);
            assert_rel(first.response_time_s, d, EXACT, name);
        }
    }

    #[test]
    fn single_server_mva_matches_textbook_recursion() {
        let stations = [
            MvaStation::queueing(0.02, 1),
            MvaStation::queueing(0.05, 1),
            MvaStation::delay(0.1),
            MvaStation::queueing(0.03, 1),
        ];
        let points = mva(&stations, 3.0, 500).unwrap();
        for (p, (x, r)) in points.iter().zip(textbook_mva(&stations, 3.0, 500)) {
            assert_rel(p.throughput, x, EXACT, "X");
            assert_rel(p.response_time_s, r, EXACT, "R");
        }
        assert_eq!(points.len(), 500);
    }

    #[test]
    fn mva_with_one_multi_server_station_matches_the_machine_repairman_chain() {
        // Delay Z + c servers of demand D: p(k) / p(k-1) = ((N - k + 1) / Z) / (min(k, c) / D).
        let (demand, c, think, n) = (0.5_f64, 8_u32, 3.0_f64, 400_u32);
        let log_p: Vec<f64> = (0..=n)
            .scan(0.0, |lp, k| {
                if k > 0 {
                    *lp +=
                        (f64::from(n - k + 1) / think).ln() - (f64::from(k.min(c)) / demand).ln();
                }
                Some(*lp)
            })
            .collect();
        let max = log_p.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let weights: Vec<f64> = log_p.iter().map(|lp| (lp - max).exp()).collect();
        let total: f64 = weights.iter().sum();
        let busy: f64 = weights
            .iter()
            .enumerate()
            .map(|(k, w)| (k as f64).min(f64::from(c)) * w)
            .sum();
        let x = busy / total / demand;
        let point = &mva(&[MvaStation::queueing(demand, c)], think, n).unwrap()[n as usize - 1];
        assert_rel(point.throughput, x, ORACLE_REL, "X(400)");
    }

    #[test]
    fn subtracting_load_dependent_mva_goes_negative_where_the_stable_one_does_not() {
        let (demand, c, think, n_max) = (0.2, 4, 1.0, 400);
        let stations = [MvaStation::queueing(demand, c)];
        let exact = oracle::solve(&stations, think, n_max);
        for idle in [IdleProb::Complement, IdleProb::Utilisation] {
            let x = subtracting_ld_mva(demand, c, think, n_max, idle);
            assert!(
                x[199] < 0.0,
                "expected a negative throughput at N = 200, got {}",
                x[199]
            );
        }
        let stable = mva(&stations, think, n_max as u32).unwrap();
        for (point, (x, _, _)) in stable.iter().zip(&exact[1..]) {
            assert_rel(point.throughput, *x, ORACLE_REL, "stable X");
        }
    }

    #[test]
    fn queueing_station_with_at_least_n_servers_is_a_delay() {
        let as_queue = mva(
            &[MvaStation::queueing(0.4, 50), MvaStation::queueing(0.1, 1)],
            1.0,
            50,
        )
        .unwrap();
        let as_delay = mva(
            &[MvaStation::delay(0.4), MvaStation::queueing(0.1, 1)],
            1.0,
            50,
        )
        .unwrap();
        for (a, b) in as_queue.iter().zip(&as_delay) {
            assert_rel(a.throughput, b.throughput, EXACT, "X");
        }
    }

    #[test]
    fn mva_handles_zero_demand_and_rejects_invalid_networks() {
        let with_idle = [
            MvaStation::queueing(0.0, 4),
            MvaStation::queueing(0.2, 4),
            MvaStation::queueing(0.0, 1),
        ];
        let without = [MvaStation::queueing(0.2, 4)];
        let (a, b) = (
            mva(&with_idle, 0.0, 30).unwrap(),
            mva(&without, 0.0, 30).unwrap(),
        );
        for (a, b) in a.iter().zip(&b) {
            assert_rel(a.throughput, b.throughput, EXACT, "X");
            assert_eq!(a.queue_len[0], 0.0);
            assert_rel(
                a.queue_len[1],
                f64::from(a.n),
                EXACT,
                "all customers at the only station",
            );
        }
        assert!(matches!(
            mva(&[MvaStation::queueing(0.1, 0)], 1.0, 5),
            Err(QueueingError::AtStation { index: 0, .. })
        ));
        assert!(matches!(
            mva(&[MvaStation::delay(-1.0)], 1.0, 5),
            Err(QueueingError::AtStation { .. })
        ));
        assert!(matches!(
            mva(&[MvaStation::delay(0.0)], 0.0, 5),
            Err(QueueingError::InvalidParameter { .. })
        ));
        let many: Vec<MvaStation> = (0..30).map(|_| MvaStation::queueing(0.1, 2)).collect();
        assert!(matches!(
            mva(&many, 1.0, 100),
            Err(QueueingError::MvaTooLarge { .. })
        ));
        assert!(mva(&without, 1.0, 0).unwrap().is_empty());
    }

    #[test]
    fn asymptotic_bounds_follow_qsp() {
        let b = asymptotic_bounds(0.5, 0.2, 2.0, 100).unwrap();
        assert_close(b.throughput_upper, 5.0, EXACT, "1 / Dmax");
        assert_close(b.throughput_lower, 100.0 / 52.0, EXACT, "N / (N D + Z)");
        assert_close(b.response_lower_s, 18.0, EXACT, "N Dmax - Z");
        assert_close(b.response_upper_s, 50.0, EXACT, "N D");
        let light = asymptotic_bounds(0.5, 0.2, 2.0, 1).unwrap();
        assert_close(light.throughput_upper, 0.4, EXACT, "N / (D + Z)");
        assert_close(light.response_lower_s, 0.5, EXACT, "D");
        assert!(asymptotic_bounds(0.1, 0.2, 1.0, 3).is_err());
        assert!(asymptotic_bounds(0.1, 0.1, 1.0, 0).is_err());
    }
}
