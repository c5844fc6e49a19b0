//! How a reconcile loop stops: the first SIGTERM or Ctrl-C lets the call in
//! flight finish, starts no other, and ends the loop.

use tokio::sync::watch;

/// Runs `work` to its end; if a signal comes first, `stop` is called (so
/// that no new call starts and nothing is retried) and `work` still
/// finishes, so that what it did is reported.
pub(super) async fn unless_stopped<T>(
    work: impl std::future::Future<Output = T>,
    shutdown: &mut watch::Receiver<bool>,
    stop: impl FnOnce(),
) -> T {
    tokio::pin!(work);
    tokio::select! {
        done = &mut work => done,
        _ = shutdown.wait_for(|stop| *stop) => {
            eprintln!("Stopping: the call in flight finishes, no other starts.");
            stop();
            work.await
        }
    }
}

/// A flag that turns true on the first SIGTERM or Ctrl-C.
pub(super) fn watch_signals() -> watch::Receiver<bool> {
    let (set, flag) = watch::channel(false);
    tokio::spawn(async move {
        #[cfg(unix)]
        let terminated = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut term) => {
                    term.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let terminated = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminated => {}
        }
        set.send_replace(true);
    });
    flag
}
