//! Password checks, bounded. Each argon2 check takes about 19 MiB and a core for a moment;
//! unbounded, a burst of sign-ins (wrong passwords cost the same) takes memory without
//! limit and starves everything else. So at most `concurrency` checks run at once (the
//! cores) and at most `queue` wait; past that a sign-in is refused at once with 503
//! `busy` and `Retry-After`, before any hashing. Session checks never hash a password, so
//! they never wait behind sign-ins.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Semaphore;

use super::error::{AppError, AppResult, ErrorKind};
use super::secrets;

pub struct HashingGate {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
}

/// Counts a waiting check out again however its wait ends (granted, or the client gone).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashingGate {
    pub fn new(concurrency: usize, queue: usize) -> Self {
        HashingGate {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: AtomicUsize::new(0),
            queue,
        }
    }

    /// Whether `password` matches `stored_hash` (`None`: an unknown user, checked against a
    /// dummy hash so that it costs the same), or `busy` when too many checks are ahead.
    pub async fn verify(&self, password: String, stored_hash: Option<String>) -> AppResult<bool> {
        self.run(move || secrets::verify_password(&password, stored_hash.as_deref()))
            .await
    }

    /// Runs `job` on a blocking thread once a place is free, or refuses with `busy` when
    /// `concurrency` jobs run and `queue` wait already.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    tracing::warn!("sign-in refused: too many password checks at once");
                    return Err(AppError::retry(
                        ErrorKind::Unavailable,
                        "busy",
                        "The server is busy checking other sign-ins. Try again in a moment.",
                        1,
                    ));
                }
                let _waiting = Waiting(&self.waiting);
                Arc::clone(&self.permits)
                    .acquire_owned()
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?
            }
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .map_err(|e| AppError::Internal(e.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job that holds its place until told to finish.
    fn held() -> (impl FnOnce() + Send + 'static, std::sync::mpsc::Sender<()>) {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        (
            move || {
                let _ = rx.recv();
            },
            tx,
        )
    }

    #[tokio::test]
    async fn past_the_running_and_the_waiting_checks_the_next_is_refused_at_once() {
        let gate = Arc::new(HashingGate::new(1, 1));
        let (first, release_first) = held();
        let running = tokio::spawn({
            let gate = Arc::clone(&gate);
            async move { gate.run(first).await }
        });
        // Wait until the first holds the only place.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while gate.permits.available_permits() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the first job never started"
            );
            tokio::task::yield_now().await;
        }
        let (second, release_second) = held();
        let waiting = tokio::spawn({
            let gate = Arc::clone(&gate);
            async move { gate.run(second).await }
        });
        while gate.waiting.load(Ordering::Acquire) == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the second job never queued"
            );
            tokio::task::yield_now().await;
        }
        let refused = gate
            .run(|| ())
            .await
            .expect_err("no place and no queue left");
        assert_eq!(refused.kind(), Some(ErrorKind::Unavailable));
        release_first.send(()).unwrap();
        running.await.unwrap().unwrap();
        release_second.send(()).unwrap();
        waiting.await.unwrap().unwrap();
        assert_eq!(gate.waiting.load(Ordering::Acquire), 0);
        gate.run(|| ()).await.expect("free again");
    }
}
