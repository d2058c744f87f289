//! The binaries' log set-up: one [`init_tracing`] that every `main` calls, so the functions,
//! the CLI and the demo log the same way. Behind the `telemetry` feature: the parsers and the
//! analysis need no subscriber, only the binaries do.
//!
//! On Lambda each event is one JSON object on stderr with the keys `timestamp` (RFC 3339),
//! `level` (`INFO`, `WARN`, …), `fields` (`message` and the event's fields), `target` (the
//! module) and `spans` (the Lambda runtime's `Lambda runtime invoke` span carries the
//! `requestId`). Lambda's JSON log format reads `level` and `timestamp` from it, so the
//! function's `ApplicationLogLevel` filters these lines too. Elsewhere (a terminal, `cargo
//! run`, the demo) the same events are written as readable text.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// The filter binaries pass when they have no reason to differ: info and above.
pub const DEFAULT_FILTER: &str = "info";

/// Installs the process's tracing subscriber, writing to stderr (stdout stays free for what a
/// binary prints: parsed records, embedded metrics). The level comes from `RUST_LOG` (same
/// syntax as `tracing_subscriber::EnvFilter`, e.g. `warn,logdesk_ingest=debug`), else from
/// `default_filter`. JSON when `AWS_LAMBDA_RUNTIME_API` is set (on Lambda, or a local runtime
/// emulator), text otherwise, coloured only on a terminal. A second call keeps the first
/// subscriber.
pub fn init_tracing(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `try_init` fails only when a subscriber is already set; that one stays.
    let _ = if on_lambda() {
        // The runtime's span list already names the request; the current span would repeat it.
        builder.json().with_current_span(false).try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
}

/// Whether the process runs under a Lambda runtime API (the service or an emulator of it).
fn on_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}
