//! `logdesk-api`: on Lambda (when `AWS_LAMBDA_RUNTIME_API` is set) serves the router through
//! `lambda_http` (response streaming); otherwise `logdesk-api serve --port N` serves it on 127.0.0.1
//! (with a header-read timeout and a connection limit: [`logdesk_api::serve`]).
#![forbid(unsafe_code)]

use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use logdesk_api::serve::{ServeLimits, serve};
use logdesk_api::source::CloudWatchSource;
use logdesk_api::{AppState, Config, router};

#[derive(Parser)]
#[command(name = "logdesk-api", about = "logdesk query API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API on http://ADDRESS:PORT (reads AWS_ENDPOINT_URL like the SDK does).
    Serve {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address to bind. The default keeps the API on this machine: it has no auth unless
        /// AUTH_MODE=token.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Most connections served at once (more wait to be accepted).
        #[arg(long, default_value_t = ServeLimits::default().max_connections)]
        max_connections: usize,
        /// Seconds a client has to send a request's headers (and an idle connection waits).
        #[arg(long, default_value_t = ServeLimits::default().header_read_timeout.as_secs())]
        header_timeout_secs: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    logdesk_core::telemetry::init_tracing(logdesk_core::telemetry::DEFAULT_FILTER);
    let config = Config::from_env().context("reading the environment")?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_cloudwatchlogs::Client::new(&aws);
    let source = CloudWatchSource::new(client.clone());
    let app = router(AppState::new(config, Arc::new(source)).with_insights(client));

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Streamed responses (Function URL `InvokeMode: RESPONSE_STREAM`): large CSV exports
        // go out while they are rendered, past the 6 MB limit of a buffered answer.
        return lambda_http::run_with_streaming_response(app)
            .await
            .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"));
    }
    match Cli::parse().command {
        Some(Command::Serve {
            port,
            bind,
            max_connections,
            header_timeout_secs,
        }) => {
            let listener = tokio::net::TcpListener::bind((bind, port))
                .await
                .context("binding the port")?;
            eprintln!("logdesk-api listening on http://{}", listener.local_addr()?);
            let limits = ServeLimits {
                header_read_timeout: std::time::Duration::from_secs(header_timeout_secs.max(1)),
                max_connections: max_connections.max(1),
            };
            serve(listener, app, limits).await.context("serving")
        }
        None => anyhow::bail!("nothing to do: run `logdesk-api serve --port N` (or on Lambda)"),
    }
}
