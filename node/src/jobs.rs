//! Every background task the node runs, in one list ([`node_jobs`]). A job
//! has a name, an interval and a piece of work; [`start`] runs each under a
//! supervisor that catches a panic (the job runs again at its next tick, and
//! the panic is counted), logs an error, and counts every run in
//! `kawan_job_runs_total{job, outcome}` (`ok`, `error`, `panic`). Work that
//! acts on the node's behalf does so as [`Caller::system`], so its audit
//! entries say "system: <job>".
//!
//! Adding a job: write its work as a `Service` method, add one [`Job`] to
//! [`node_jobs`] (docs/architecture.md, "Adding a background job").
//!
//! What is not a job: the network task (its own supervisor in `net/`) and
//! the pumps that hand the network's events and questions to the service
//! (`daemon.rs`), which run as long as the network does.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use crate::service::{Caller, Service, ServiceError};

/// What one run of a job does.
type Work = Arc<dyn Fn(Arc<Service>) -> Pin<Box<dyn Future<Output = Result<(), ServiceError>> + Send>> + Send + Sync>;

/// A background task: its name (the metrics label and the audit actor),
/// how often it runs, and what it does.
#[derive(Clone)]
pub struct Job {
    pub name: &'static str,
    pub every: Duration,
    /// Whether the first run waits one interval (instead of running at start).
    pub later: bool,
    work: Work,
}

impl Job {
    pub fn new<F, Fut>(name: &'static str, every: Duration, work: F) -> Job
    where
        F: Fn(Arc<Service>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ServiceError>> + Send + 'static,
    {
        Job { name, every, later: false, work: Arc::new(move |svc| Box::pin(work(svc))) }
    }

    /// The first run comes after one interval, not at start.
    pub fn later(mut self) -> Job {
        self.later = true;
        self
    }

    /// The system caller this job acts as.
    pub fn caller(&self) -> Caller {
        Caller::system(self.name)
    }
}

/// How often buffered writes (read audit entries, session touches) reach
/// the disk.
pub const PERSIST_EVERY: Duration = Duration::from_millis(500);
/// How often expired web sessions are removed.
pub const SESSION_SWEEP_EVERY: Duration = Duration::from_secs(5 * 60);
/// How often the audit log's head is checkpointed and witnessed.
pub const AUDIT_CHECKPOINT_EVERY: Duration = Duration::from_secs(60 * 60);
/// How often the deconfliction filter is checked: built when the epoch
/// turned, so a partner's first question of an epoch does not wait for it.
/// (A filter made stale by a change within the epoch is rebuilt by the next
/// question, as before: a node that keeps publishing does not rebuild on
/// every tick for partners who may never ask.)
pub const FILTER_REBUILD_EVERY: Duration = Duration::from_secs(30);
/// How often records past their review date are erased (views hide them
/// from the moment they expire; this removes the bytes).
pub const REVIEW_SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How often files no stored record names are removed: a record's expiry
/// or erasure (here or at its author) takes its files within this.
pub const ATTACHMENT_SWEEP_EVERY: Duration = Duration::from_secs(10);
/// How often a coordinator's node sends its pending trust-list proposals
/// to the other coordinators' nodes (also at once after each change).
pub const PROPOSAL_SPREAD_EVERY: Duration = Duration::from_secs(15);
/// How soon webhook delivery restarts after it stopped.
pub const WEBHOOK_RESTART_EVERY: Duration = Duration::from_secs(1);

/// The node's background jobs, given its configuration.
pub fn node_jobs(svc: &Service) -> Vec<Job> {
    let mut jobs =
        vec![
            Job::new("persist", PERSIST_EVERY, |svc: Arc<Service>| async move { svc.persist().await }),
            Job::new("session sweep", SESSION_SWEEP_EVERY, |svc: Arc<Service>| async move {
                svc.sweep_sessions(Caller::system("session sweep")).await.map(|_| ())
            }),
            // A checkpoint (and its witness on the network) at least hourly
            // when anything happened, not only every 1,000 entries.
            // Expiry on the node's own clock, whether or not authors are online.
            Job::new("review sweep", REVIEW_SWEEP_EVERY, |svc: Arc<Service>| async move {
                svc.sweep(Caller::system("review sweep")).await.map(|_| ())
            }),
            Job::new("attachment sweep", ATTACHMENT_SWEEP_EVERY, |svc: Arc<Service>| async move {
                svc.run(|s| s.sweep_attachments()).await.map(|_| ())
            }),
            Job::new("proposal spread", PROPOSAL_SPREAD_EVERY, |svc: Arc<Service>| async move {
                svc.spread_pending().await;
                Ok(())
            })
            .later(),
            Job::new("audit checkpoint", AUDIT_CHECKPOINT_EVERY, |svc: Arc<Service>| async move {
                svc.run_checkpoint().await
            }),
        ];
    if svc.config().deconfliction.enabled {
        jobs.push(Job::new("filter rebuild", FILTER_REBUILD_EVERY, |svc: Arc<Service>| async move {
            svc.rebuild_filter().await
        }));
    }
    if let (Some(url), Some(secret)) = (&svc.config().alerts.webhook, &svc.config().alerts.webhook_secret) {
        let (url, secret) = (url.clone(), secret.clone());
        // Runs for as long as alerts flow; restarted if it ever stops.
        jobs.push(Job::new("webhook delivery", WEBHOOK_RESTART_EVERY, move |svc: Arc<Service>| {
            let (url, secret) = (url.clone(), secret.clone());
            async move {
                crate::webhook::deliver(svc, url, secret).await;
                Ok(())
            }
        }));
    }
    jobs
}

/// The running jobs; dropping this stops them all.
pub struct Running(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Running {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

/// Starts each job under its supervisor.
pub fn start(svc: Arc<Service>, jobs: Vec<Job>) -> Running {
    Running(jobs.into_iter().map(|job| tokio::spawn(supervise(svc.clone(), job))).collect())
}

/// A run that ends when its supervisor does.
struct AbortOnDrop(tokio::task::JoinHandle<Result<(), ServiceError>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `job` at every tick, each run in a task of its own so a panic ends
/// that run only. A run longer than the interval delays the next tick
/// rather than stacking runs.
async fn supervise(svc: Arc<Service>, job: Job) {
    let mut tick = tokio::time::interval(job.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    if job.later {
        tick.tick().await; // the first tick is immediate
    }
    loop {
        tick.tick().await;
        // Stopping the supervisor stops the run in flight too.
        let mut run = AbortOnDrop(tokio::spawn((job.work)(svc.clone())));
        let outcome = match (&mut run.0).await {
            Ok(Ok(())) => "ok",
            Ok(Err(e)) => {
                tracing::error!(job = job.name, error = %e.message, "background job failed");
                "error"
            }
            Err(e) if e.is_panic() => {
                tracing::error!(job = job.name, "background job panicked: it runs again at its next tick");
                "panic"
            }
            Err(_) => "cancelled",
        };
        svc.metrics().job_ran(job.name, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job that panics is run again and each panic is counted; the other
    /// jobs go on. (Tokio's paused clock: no real waiting.)
    #[tokio::test(start_paused = true)]
    async fn a_panicking_job_restarts_and_is_counted() {
        let svc = crate::service::tests::service();
        let boom = Job::new("boom", Duration::from_secs(1), |_svc: Arc<Service>| async move {
            panic!("a bug in a job");
        });
        let fine = Job::new("fine", Duration::from_secs(1), |_svc: Arc<Service>| async move { Ok(()) });
        let running = start(svc.clone(), vec![boom, fine]);
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        drop(running);
        let text = svc.metrics().render(&svc.data().store).unwrap();
        let runs = |job: &str, outcome: &str| -> u64 {
            let line = format!("kawan_job_runs_total{{job=\"{job}\",outcome=\"{outcome}\"}}");
            text.lines().find(|l| l.starts_with(&line)).and_then(|l| l.rsplit(' ').next()?.parse().ok()).unwrap_or(0)
        };
        assert!(runs("boom", "panic") >= 3, "{text}");
        assert!(runs("fine", "ok") >= 3, "{text}");
    }
}
