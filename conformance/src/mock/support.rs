//! Small pieces every handler uses: the clock, id generation, timestamps, query strings, money.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Where timestamps come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ClockMode {
    /// Wall-clock time.
    #[default]
    System,
    /// A fixed instant (2023-12-21T07:42:47Z), moved only when the mock's clock is advanced:
    /// every timestamp is deterministic.
    // (Plain words: clap prints this comment as the value's help.)
    Fixed,
}

/// The instant a fixed clock starts at: the `created_at` of the vendor's Checkout example
/// (2023-12-21T07:42:47Z).
pub const FIXED_EPOCH_SECONDS: i64 = 1_703_144_567;

/// The mock's clock, in milliseconds since the Unix epoch.
#[derive(Debug)]
pub struct Clock {
    mode: ClockMode,
    /// Added to the reading; only a fixed clock is ever advanced.
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn new(mode: ClockMode) -> Self {
        Self {
            mode,
            offset_ms: AtomicI64::new(0),
        }
    }

    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        let base = match self.mode {
            ClockMode::Fixed => FIXED_EPOCH_SECONDS * 1000,
            ClockMode::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        };
        base.saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Seconds since the Unix epoch.
    pub fn now_s(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves a fixed clock forward (tests use it to reach the 30-minute checkout expiry).
    /// Returns false, and does nothing, on a system clock or when the clock would pass
    /// [`MAX_CLOCK_OFFSET_MS`] (time never wraps round to the past).
    pub fn advance(&self, ms: i64) -> bool {
        if self.mode != ClockMode::Fixed {
            return false;
        }
        self.offset_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                now.checked_add(ms.max(0))
                    .filter(|&next| next <= MAX_CLOCK_OFFSET_MS)
            })
            .is_ok()
    }
}

/// How far a fixed clock may be advanced in total: a thousand years, far past any expiry a test
/// needs, and far from the overflow of millisecond timestamps.
pub const MAX_CLOCK_OFFSET_MS: i64 = 1000 * 366 * 24 * 3600 * 1000;

/// Id generation: seeded for reproducible runs, from the OS otherwise.
#[derive(Debug)]
pub struct Ids {
    rng: Mutex<StdRng>,
}

const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// `value` as JSON, written into a buffer with room for a stored object (a Chargily checkout
/// is about 700 bytes, a ReCharge one about 1,230), rather than grown in steps from
/// serde_json's 128 bytes on every request. Empty if it does not serialise (the mock's own
/// types always do; an empty body would fail the response self-check loudly).
pub fn json_bytes<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    if serde_json::to_writer(&mut out, value).is_err() {
        out.clear();
    }
    out
}

/// `value` as 32 lowercase hex characters, written directly: ids are made on every request.
pub fn hex32(value: u128) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0; 32];
    for (pair, b) in out.chunks_exact_mut(2).zip(value.to_be_bytes()) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 15)];
    }
    std::str::from_utf8(&out).unwrap_or_default().to_owned()
}

impl Ids {
    pub fn new(seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        Self {
            rng: Mutex::new(rng),
        }
    }

    fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        // A poisoned lock only means another thread panicked mid-draw; the generator is fine.
        let mut guard = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// A 26-character lowercase ULID (Crockford base32): 48 bits of milliseconds, then 80
    /// random bits, like Chargily's `01hj5n7cqpaf0mt2d0xx85tgz8`.
    pub fn ulid(&self, now_ms: i64) -> String {
        let random: u128 = self.with_rng(|r| r.random::<u128>()) & ((1u128 << 80) - 1);
        let time = u128::from(u64::try_from(now_ms.max(0)).unwrap_or(0)) & ((1u128 << 48) - 1);
        let value = (time << 80) | random;
        let mut out = [0u8; 26];
        for (i, slot) in out.iter_mut().enumerate() {
            let shift = 5 * (25 - i);
            *slot = CROCKFORD[((value >> shift) & 31) as usize];
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// 32 lowercase hex characters, like a ReCharge checkout token.
    pub fn hex32(&self) -> String {
        hex32(self.with_rng(|r| r.random::<u128>()))
    }

    /// `prefix` + 24 alphanumeric characters (Stripe-style object ids).
    pub fn stripe_like(&self, prefix: &str) -> String {
        const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let tail: String = self.with_rng(|r| {
            (0..24)
                .map(|_| char::from(ALNUM[r.random_range(0..ALNUM.len())]))
                .collect()
        });
        format!("{prefix}{tail}")
    }

    /// A positive id below 2^40 (ReCharge charge ids).
    pub fn small_int(&self) -> i64 {
        self.with_rng(|r| r.random_range(100_000_000..1_000_000_000_000_i64))
    }
}

/// Money as an integer number of cents. ReCharge sends decimal strings (`"39.95"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cents(pub i64);

impl Cents {
    /// Parses `^-?\d+(\.\d+)?$`, rounding half away from zero to cents; `None` on anything
    /// else or on overflow.
    pub fn parse(s: &str) -> Option<Self> {
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || (digits.contains('.') && frac.is_empty())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let whole: i64 = whole.parse().ok()?;
        let mut cents = whole.checked_mul(100)?;
        let fb = frac.as_bytes();
        let digit = |i: usize| fb.get(i).map_or(0, |b| i64::from(b - b'0'));
        cents = cents.checked_add(digit(0) * 10 + digit(1))?;
        if digit(2) >= 5 {
            cents = cents.checked_add(1)?;
        }
        Some(Self(if negative { -cents } else { cents }))
    }

    pub fn checked_mul(self, n: i64) -> Option<Self> {
        self.0.checked_mul(n).map(Self)
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }
}

impl std::fmt::Display for Cents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Written digit by digit: a stored ReCharge checkout carries several amounts.
        let mut text = [0u8; 24];
        let mut at = text.len();
        let mut rest = self.0.unsigned_abs();
        // Two decimals, the point, then at least one digit.
        let mut written = 0;
        while written < 4 || rest > 0 {
            at -= 1;
            text[at] = if written == 2 {
                b'.'
            } else {
                let digit = b"0123456789"[usize::try_from(rest % 10).unwrap_or(0)];
                rest /= 10;
                digit
            };
            written += 1;
        }
        if self.0 < 0 {
            at -= 1;
            text[at] = b'-';
        }
        f.write_str(std::str::from_utf8(&text[at..]).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ids_are_shaped_like_the_real_ones_and_seeded() {
        let a = Ids::new(Some(7));
        let b = Ids::new(Some(7));
        let id = a.ulid(FIXED_EPOCH_SECONDS * 1000);
        assert_eq!(id, b.ulid(FIXED_EPOCH_SECONDS * 1000));
        assert_eq!(id.len(), 26);
        assert!(id.starts_with("01hj"), "{id}");
        assert!(id.bytes().all(|c| CROCKFORD.contains(&c)));
        let token = a.hex32();
        assert_eq!(token.len(), 32);
        assert!(
            token
                .bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(Ids::new(Some(8)).hex32(), Ids::new(Some(9)).hex32());
        for v in [0, 1, 0xabc, u128::from(u64::MAX) << 7, u128::MAX] {
            assert_eq!(hex32(v), format!("{v:032x}"));
        }
    }

    #[test]
    fn queries_and_money_parse_without_panicking() {
        assert_eq!(Cents::parse("39.95"), Some(Cents(3995)));
        assert_eq!(Cents::parse("5"), Some(Cents(500)));
        assert_eq!(Cents::parse("1.005"), Some(Cents(101)));
        assert_eq!(Cents::parse("-2.5"), Some(Cents(-250)));
        assert_eq!(Cents::parse("1."), None);
        assert_eq!(Cents::parse("99999999999999999999"), None);
        assert_eq!(Cents(3995).to_string(), "39.95");
        assert_eq!(Cents(-5).to_string(), "-0.05");
        // The digit writer against the formatter, at every length and both ends of i64.
        let reference = |c: i64| {
            let sign = if c < 0 { "-" } else { "" };
            let abs = c.unsigned_abs();
            format!("{sign}{}.{:02}", abs / 100, abs % 100)
        };
        let mut amounts = vec![
            0,
            1,
            9,
            10,
            99,
            100,
            101,
            999,
            1000,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ];
        let mut power = 1_i64;
        while let Some(next) = power.checked_mul(10) {
            amounts.extend([power - 1, power, power + 7, next / 3]);
            power = next;
        }
        for c in amounts.clone() {
            amounts.push(c.saturating_neg());
        }
        for c in amounts {
            assert_eq!(Cents(c).to_string(), reference(c), "{c}");
        }
    }
}
