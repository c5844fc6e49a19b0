//! Logging to stderr for `-v`. Only regroup's own events are shown: the HTTP
//! libraries could print request URLs, which carry signatures and STS tokens.
//! At the default verbosity the few events printed (warnings and errors)
//! stand among the command's own `Error:` and `Warning:` lines, so they are
//! written as those are: no timestamp, no level tag.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
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
    let chosen = std::env::var("RUST_LOG")
        .ok()
        .and_then(|spec| EnvFilter::try_new(spec).ok());
    let terse = verbosity == 0 && chosen.is_none();
    let mut filter = chosen.unwrap_or_else(|| EnvFilter::new(format!("warn,regroup={level}")));
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
    let log = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(crate::output::color_allowed(no_color, &std::io::stderr()))
        .with_target(false);
    let printed = if terse {
        log.event_format(Terse).with_filter(filter).boxed()
    } else {
        log.with_filter(filter).boxed()
    };
    // The printed log has its own filter, so that `reconcile` counts every
    // API call into its metrics whatever `-v` says.
    let _ = tracing_subscriber::registry()
        .with(printed)
        .with(crate::reconcile::calls::layer())
        .try_init();
}

/// An event as the command's own lines read: `Warning: what happened
/// (endpoint: …, failures: 5)`, or `Error: …` for an error.
struct Terse;

impl<S, N> FormatEvent<S, N> for Terse
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let label = if *event.metadata().level() == Level::ERROR {
            "Error"
        } else {
            "Warning"
        };
        write!(writer, "{label}: {}", fields.message)?;
        if !fields.others.is_empty() {
            write!(writer, " ({})", fields.others.join(", "))?;
        }
        writeln!(writer)
    }
}

/// An event's message, and its other fields as `name: value`.
#[derive(Default)]
struct Fields {
    message: String,
    others: Vec<String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field, format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record(field, format_args!("{value:?}"));
    }
}

impl Fields {
    fn record(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if field.name() == "message" {
            let _ = self.message.write_fmt(value);
        } else {
            self.others.push(format!("{}: {value}", field.name()));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What the terse format prints for `emit`.
    fn printed(emit: impl FnOnce()) -> String {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buffer);
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Sink(Arc::clone(&sink)))
            .with_ansi(false)
            .event_format(Terse)
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = buffer.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn default_verbosity_events_read_like_the_commands_own_lines() {
        let endpoint = "http://127.0.0.1:9";
        let text = printed(|| {
            tracing::warn!(
                endpoint,
                failures = 5,
                "the endpoint stopped answering: no more calls start there"
            );
            tracing::error!("the metrics server stopped: {}", "closed");
        });
        assert_eq!(
            text,
            "Warning: the endpoint stopped answering: no more calls start there \
             (endpoint: http://127.0.0.1:9, failures: 5)\n\
             Error: the metrics server stopped: closed\n",
            "no timestamp, no level tag, fields after the message"
        );
    }
}
