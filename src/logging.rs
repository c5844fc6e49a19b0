//! Logging to stderr for `-v`. Only regroup's own events are shown: the HTTP
//! libraries could print request URLs, which carry signatures and STS tokens.

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// `-v` info, `-vv` every call, `-vvv` everything regroup logs; `RUST_LOG`
/// may choose instead, but never opens the HTTP libraries' logs. Colour only
/// when stderr is a terminal and neither `--no-color` nor `NO_COLOR` says
/// otherwise, so a log file holds plain text.
pub fn init(verbosity: u8, no_color: bool) {
    let level = match verbosity {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let mut filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new(format!("warn,regroup={level}")));
    for quiet in [
        "hyper",
        "hyper_util",
        "reqwest",
        "h2",
        "rustls",
        "axum",
        "tower",
    ] {
        if let Ok(directive) = format!("{quiet}=off").parse() {
            filter = filter.add_directive(directive);
        }
    }
    let printed = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(crate::output::color_allowed(no_color, &std::io::stderr()))
        .with_target(false)
        .with_filter(filter);
    // The printed log has its own filter, so that `reconcile` counts every
    // API call into its metrics whatever `-v` says.
    let _ = tracing_subscriber::registry()
        .with(printed)
        .with(crate::reconcile::calls::layer())
        .try_init();
}
