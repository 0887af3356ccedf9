//! Sign-in throttling, per client address and per account.
//!
//! - Per address: every attempt counts (GCRA, from `governor`): one address cannot try
//!   faster than its allowance, whatever the accounts.
//! - Per account: failed attempts in the last minute count. This is what stops guessing
//!   spread over many addresses, and it can be used to keep someone out: so it is visible
//!   ([`LoginLimiter::throttled`]: how many failures, from how many addresses) and an
//!   administrator can clear it ([`LoginLimiter::clear`]).
//!
//! Memory stays bounded: at most [`FAILURES_KEPT`] failures per account and
//! [`ACCOUNTS_TRACKED`] accounts; idle ones are forgotten by the sweep.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// The window failures are counted in.
const WINDOW: Duration = Duration::from_secs(60);
/// Failures remembered per account (the limit is far lower).
const FAILURES_KEPT: usize = 256;
/// Accounts remembered at once; past it, the idlest are forgotten first.
const ACCOUNTS_TRACKED: usize = 50_000;

pub struct LoginLimiter {
    per_account: u32,
    accounts: Mutex<HashMap<String, Attempts>>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

#[derive(Default)]
struct Attempts {
    /// Failed sign-ins in the window, oldest first.
    failures: VecDeque<(Instant, IpAddr)>,
    /// Attempts refused while throttled, in the window.
    refused: VecDeque<Instant>,
}

impl Attempts {
    fn prune(&mut self, now: Instant) {
        while self
            .failures
            .front()
            .is_some_and(|(at, _)| now - *at >= WINDOW)
        {
            self.failures.pop_front();
        }
        while self.refused.front().is_some_and(|at| now - *at >= WINDOW) {
            self.refused.pop_front();
        }
    }

    fn last(&self) -> Option<Instant> {
        let failure = self.failures.back().map(|(at, _)| *at);
        failure.max(self.refused.back().copied())
    }
}

/// An account with failed sign-ins in the last minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountThrottle {
    pub account: String,
    pub failures: u32,
    pub refused: u32,
    pub addresses: u32,
    /// Seconds until it may try again; `None` if it is not throttled now.
    pub throttled_for: Option<u64>,
    /// How long ago the last attempt was.
    pub last_attempt_ago: Duration,
}

impl LoginLimiter {
    /// Failed attempts a minute per account; attempts a minute per address.
    pub fn new(per_account_per_minute: NonZeroU32, per_address_per_minute: NonZeroU32) -> Self {
        LoginLimiter {
            per_account: per_account_per_minute.get(),
            accounts: Mutex::default(),
            per_address: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_address_per_minute)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one attempt for this address and account; `Err(seconds)` to wait if either is
    /// spent (and the refusal is counted for the account).
    pub fn check(&self, address: IpAddr, account: &str) -> Result<(), u64> {
        let now = self.clock.now();
        if let Err(not_until) = self.per_address.check_key(&address) {
            return Err(not_until.wait_time_from(now).as_secs().max(1));
        }
        let now = Instant::now();
        let mut accounts = self.accounts.lock().expect("limiter lock");
        let Some(attempts) = accounts.get_mut(account) else {
            return Ok(());
        };
        attempts.prune(now);
        if attempts.failures.len() < self.per_account as usize {
            return Ok(());
        }
        if attempts.refused.len() < FAILURES_KEPT {
            attempts.refused.push_back(now);
        }
        Err(Self::wait(attempts, self.per_account, now))
    }

    /// Seconds until the oldest failure that keeps the account throttled leaves the window.
    fn wait(attempts: &Attempts, limit: u32, now: Instant) -> u64 {
        let over = attempts.failures.len() + 1 - limit as usize;
        let (at, _) = attempts.failures[over.saturating_sub(1).min(attempts.failures.len() - 1)];
        (WINDOW.saturating_sub(now - at).as_secs_f64().ceil() as u64).max(1)
    }

    /// Counts a failed sign-in of `account` from `address`.
    pub fn record_failure(&self, address: IpAddr, account: &str) {
        let now = Instant::now();
        let mut accounts = self.accounts.lock().expect("limiter lock");
        if !accounts.contains_key(account) && accounts.len() >= ACCOUNTS_TRACKED {
            Self::forget_in(&mut accounts, now);
            if accounts.len() >= ACCOUNTS_TRACKED {
                // Evict the idlest account to make room.
                if let Some(idlest) = accounts
                    .iter()
                    .min_by_key(|(_, a)| a.last())
                    .map(|(k, _)| k.clone())
                {
                    accounts.remove(&idlest);
                }
            }
        }
        let attempts = accounts.entry(account.to_owned()).or_default();
        attempts.prune(now);
        if attempts.failures.len() == FAILURES_KEPT {
            attempts.failures.pop_front();
        }
        attempts.failures.push_back((now, address));
    }

    /// Forgets an account's failures: it may sign in again at once. Returns whether there
    /// was anything to forget.
    pub fn clear(&self, account: &str) -> bool {
        self.accounts
            .lock()
            .expect("limiter lock")
            .remove(account)
            .is_some_and(|mut a| {
                a.prune(Instant::now());
                !a.failures.is_empty() || !a.refused.is_empty()
            })
    }

    /// Accounts with failed sign-ins in the last minute, most failures first.
    pub fn throttled(&self) -> Vec<AccountThrottle> {
        let now = Instant::now();
        let mut accounts = self.accounts.lock().expect("limiter lock");
        let mut out: Vec<AccountThrottle> = accounts
            .iter_mut()
            .filter_map(|(account, attempts)| {
                attempts.prune(now);
                if attempts.failures.is_empty() && attempts.refused.is_empty() {
                    return None;
                }
                let addresses: HashSet<IpAddr> =
                    attempts.failures.iter().map(|(_, a)| *a).collect();
                let throttled = attempts.failures.len() >= self.per_account as usize;
                Some(AccountThrottle {
                    account: account.clone(),
                    failures: attempts.failures.len() as u32,
                    refused: attempts.refused.len() as u32,
                    addresses: addresses.len() as u32,
                    throttled_for: throttled.then(|| Self::wait(attempts, self.per_account, now)),
                    last_attempt_ago: attempts.last().map_or(Duration::ZERO, |at| now - at),
                })
            })
            .collect();
        out.sort_by(|a, b| {
            (b.failures + b.refused)
                .cmp(&(a.failures + a.refused))
                .then_with(|| a.account.cmp(&b.account))
        });
        out
    }

    fn forget_in(accounts: &mut HashMap<String, Attempts>, now: Instant) {
        accounts.retain(|_, attempts| {
            attempts.prune(now);
            !attempts.failures.is_empty() || !attempts.refused.is_empty()
        });
    }

    /// Forgets keys whose allowance is whole again, so memory stays bounded.
    pub fn forget_idle(&self) {
        Self::forget_in(
            &mut self.accounts.lock().expect("limiter lock"),
            Instant::now(),
        );
        self.per_address.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_account: u32, per_address: u32) -> LoginLimiter {
        LoginLimiter::new(
            NonZeroU32::new(per_account).unwrap(),
            NonZeroU32::new(per_address).unwrap(),
        )
    }

    #[test]
    fn each_account_and_address_has_its_own_allowance() {
        let limiter = limiter(2, 3);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(limiter.check(a, "alice").is_ok());
        limiter.record_failure(a, "alice");
        assert!(limiter.check(a, "alice").is_ok());
        limiter.record_failure(a, "alice");
        // Two failures: the account is throttled from any address.
        let wait = limiter.check(b, "alice").unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        // The address's third attempt is its last this minute, whatever the account.
        assert!(limiter.check(a, "bob").is_ok());
        assert!(limiter.check(a, "bob").is_err());
        assert!(limiter.check(b, "bob").is_ok());
    }

    #[test]
    fn successes_do_not_count_against_the_account() {
        let limiter = limiter(2, 100);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..10 {
            assert!(limiter.check(a, "alice").is_ok());
        }
    }

    #[test]
    fn a_throttled_account_is_reported_and_can_be_cleared() {
        let limiter = limiter(3, 1000);
        for n in 0..5u8 {
            let address: IpAddr = format!("10.0.0.{}", n % 3).parse().unwrap();
            if limiter.check(address, "root").is_ok() {
                limiter.record_failure(address, "root");
            }
        }
        limiter.record_failure("10.0.0.9".parse().unwrap(), "alice");
        let report = limiter.throttled();
        assert_eq!(report.len(), 2);
        let root = &report[0];
        assert_eq!(
            (
                root.account.as_str(),
                root.failures,
                root.refused,
                root.addresses
            ),
            ("root", 3, 2, 3)
        );
        assert!(root.throttled_for.is_some_and(|s| (1..=60).contains(&s)));
        assert_eq!(report[1].throttled_for, None);
        assert!(limiter.clear("root"));
        assert!(!limiter.clear("root"), "nothing left to clear");
        assert!(limiter.check("10.0.0.1".parse().unwrap(), "root").is_ok());
        assert_eq!(limiter.throttled().len(), 1);
    }
}
