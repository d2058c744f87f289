//! `logdesk-api`: on Lambda (when `AWS_LAMBDA_RUNTIME_API` is set) serves the router through
//! `lambda_http` (response streaming); otherwise `logdesk-api serve --port N` serves it on 127.0.0.1.

use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
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
    /// Serve the API on http://127.0.0.1:PORT (reads AWS_ENDPOINT_URL like the SDK does).
    Serve {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .without_time()
        .init();
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
        Some(Command::Serve { port }) => {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .context("binding the port")?;
            eprintln!("logdesk-api listening on http://{}", listener.local_addr()?);
            axum::serve(listener, app).await.context("serving")
        }
        None => anyhow::bail!("nothing to do: run `logdesk-api serve --port N` (or on Lambda)"),
    }
}
