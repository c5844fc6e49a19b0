//! Signals during a run: a first Ctrl-C stops new calls, a second one,
//! SIGTERM or SIGHUP stop at once; the run still ends with its report.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::cloud::client::Client;

/// How long a run stopped at once (SIGTERM, SIGHUP, a second Ctrl-C) may
/// spend reading back what it started, before the changes it could not
/// read are reported `unverified`.
pub(super) const READ_BACK_ON_STOP: Duration = Duration::from_secs(15);

/// What the signals asked of a run: stop starting calls (a first Ctrl-C),
/// or stop at once (a second Ctrl-C, SIGTERM). Either way the run still
/// ends through [`run`], which prints the summary and writes the report.
pub struct Interrupts {
    pub(super) stop: AtomicBool,
    pub(super) abort: tokio::sync::watch::Sender<bool>,
}

impl Interrupts {
    /// No signal yet, none watched: for runs driven by tests.
    pub fn none() -> Arc<Interrupts> {
        Arc::new(Interrupts {
            stop: AtomicBool::new(false),
            abort: tokio::sync::watch::Sender::new(false),
        })
    }

    /// Watches Ctrl-C, SIGTERM and SIGHUP for the rest of the process. A
    /// hang-up (a dropped SSH session) stops the run at once like SIGTERM:
    /// no one is left to answer, and the report and undo plan must still
    /// be written.
    pub fn watch(client: Client) -> Arc<Interrupts> {
        let interrupts = Interrupts::none();
        let set = interrupts.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            let mut ends = [
                tokio::signal::unix::SignalKind::terminate(),
                tokio::signal::unix::SignalKind::hangup(),
            ]
            .map(|kind| tokio::signal::unix::signal(kind).ok());
            loop {
                #[cfg(unix)]
                let terminated = async {
                    let [term, hangup] = &mut ends;
                    tokio::select! {
                        Some(()) = async { term.as_mut()?.recv().await } => Some(()),
                        Some(()) = async { hangup.as_mut()?.recv().await } => Some(()),
                        else => std::future::pending().await,
                    }
                };
                #[cfg(not(unix))]
                let terminated = std::future::pending::<Option<()>>();
                let now = tokio::select! {
                    result = tokio::signal::ctrl_c() => {
                        if result.is_err() {
                            return;
                        }
                        !set.stop.swap(true, Ordering::SeqCst)
                    }
                    _ = terminated => {
                        set.stop.store(true, Ordering::SeqCst);
                        false
                    }
                };
                client.interrupt();
                // After a hang-up stderr may be gone: a message that
                // cannot be written is dropped, never a panic.
                let mut stderr = std::io::stderr();
                if now {
                    let _ = writeln!(stderr, "\nInterrupted: waiting for calls in flight to finish (Ctrl-C again to stop at once)...");
                } else {
                    let _ = writeln!(
                        stderr,
                        "\nStopping now: calls in flight are read back for at most {} s.",
                        READ_BACK_ON_STOP.as_secs()
                    );
                    set.abort.send_replace(true);
                }
            }
        });
        interrupts
    }

    pub(super) fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub(super) fn aborted(&self) -> bool {
        *self.abort.borrow()
    }

    /// Resolves when the run must stop at once.
    pub(super) async fn abortion(&self) {
        let mut watch = self.abort.subscribe();
        let _ = watch.wait_for(|aborted| *aborted).await;
    }
}
