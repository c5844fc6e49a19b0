//! Progress while joins run: a bar on a terminal, a line every few seconds
//! in CI logs.

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressStyle {
    /// A bar on the terminal.
    Bar,
    /// A line every few seconds, for CI logs.
    Lines,
}

impl ProgressStyle {
    /// A bar where one can be drawn (stderr is a terminal that can move
    /// its cursor), lines otherwise.
    pub fn detect() -> ProgressStyle {
        if indicatif::ProgressDrawTarget::stderr().is_hidden() {
            ProgressStyle::Lines
        } else {
            ProgressStyle::Bar
        }
    }
}

/// A rate for people: whole numbers from 10/s up, one decimal below, so
/// that a slow run does not read `0/s`.
pub(super) fn per_second(rate: f64) -> String {
    if rate >= 10.0 {
        format!("{rate:.0}/s")
    } else {
        format!("{rate:.1}/s")
    }
}

/// A progress line at least this often, also while nothing finishes (a
/// closed quota window, a hung server).
const PROGRESS_LINE_EVERY: Duration = Duration::from_secs(5);

pub(super) struct Progress {
    style: ProgressStyle,
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    done: AtomicUsize,
    failed: AtomicUsize,
    started: Instant,
    last_line: std::sync::Mutex<Instant>,
}

impl Progress {
    pub(super) fn new(style: ProgressStyle, total: usize) -> Progress {
        let bar = (style == ProgressStyle::Bar).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(template) = indicatif::ProgressStyle::with_template(
                "{bar:40.cyan/blue} {pos}/{len} {msg} [{elapsed_precise}, {rate}, ETA {eta}]",
            ) {
                // indicatif's own `{per_sec}` prints four decimals.
                bar.set_style(template.with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = w.write_str(&per_second(state.per_sec()));
                    },
                ));
            }
            bar.enable_steady_tick(Duration::from_secs(1));
            bar
        });
        Progress {
            style,
            bar,
            total,
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            started: Instant::now(),
            last_line: std::sync::Mutex::new(Instant::now()),
        }
    }

    pub(super) fn record(&self, failed: bool) {
        self.done.fetch_add(1, Ordering::Relaxed);
        let failures = self
            .failed
            .fetch_add(usize::from(failed), Ordering::Relaxed)
            + usize::from(failed);
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{failures} failed"));
            bar.inc(1);
        }
        self.line_if_due();
    }

    /// A plain line, when the last is [`PROGRESS_LINE_EVERY`] old.
    fn line_if_due(&self) {
        if self.style != ProgressStyle::Lines {
            return;
        }
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        if last.elapsed() >= PROGRESS_LINE_EVERY {
            *last = Instant::now();
            let done = self.done.load(Ordering::Relaxed);
            let failures = self.failed.load(Ordering::Relaxed);
            let rate = done as f64 / self.started.elapsed().as_secs_f64().max(0.001);
            let _ = writeln!(
                std::io::stderr(),
                "Applying: {done}/{} done, {failures} failed, {} remaining ({})",
                self.total,
                self.total.saturating_sub(done),
                per_second(rate)
            );
        }
    }

    /// Prints lines while calls are waiting; never returns.
    pub(super) async fn keep_printing(&self) {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            self.line_if_due();
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
