//! Login throttling, per account and per client address (GCRA, from `governor`).

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

pub struct LoginLimiter {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl LoginLimiter {
    /// Attempts a minute: each key may burst up to its whole minute's allowance.
    pub fn new(per_account_per_minute: NonZeroU32, per_address_per_minute: NonZeroU32) -> Self {
        LoginLimiter {
            per_account: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_account_per_minute)),
            per_address: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_address_per_minute)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one attempt for this address and account; `Err(seconds)` to wait if either is
    /// spent.
    pub fn check(&self, address: IpAddr, account: &str) -> Result<(), u64> {
        let now = self.clock.now();
        if let Err(not_until) = self.per_address.check_key(&address) {
            return Err(not_until.wait_time_from(now).as_secs().max(1));
        }
        if let Err(not_until) = self.per_account.check_key(&account.to_owned()) {
            return Err(not_until.wait_time_from(now).as_secs().max(1));
        }
        Ok(())
    }

    /// Forgets keys whose allowance is whole again, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.per_account.retain_recent();
        self.per_address.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_account_and_address_has_its_own_allowance() {
        let limiter = LoginLimiter::new(NonZeroU32::new(2).unwrap(), NonZeroU32::new(3).unwrap());
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(limiter.check(a, "alice").is_ok());
        assert!(limiter.check(a, "alice").is_ok());
        let wait = limiter.check(a, "alice").unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        // The address has spent 3 of 3 now, whatever the account.
        assert!(limiter.check(a, "bob").is_err());
        assert!(limiter.check(b, "bob").is_ok());
    }
}
