//! `logdesk-notify`: the Lambda binary. Reads its settings, builds the clients once and runs
//! the handler from the library.
#![forbid(unsafe_code)]

use aws_config::BehaviorVersion;
use lambda_runtime::{LambdaEvent, service_fn};
use logdesk_core::telemetry::{DEFAULT_FILTER, init_tracing};
use logdesk_notify::{Config, Deps, handler};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing(DEFAULT_FILTER);
    let config = Config::from_env().inspect_err(|error| {
        tracing::error!(%error, "the function's environment variables are wrong");
    })?;
    let aws = aws_config::load_defaults(BehaviorVersion::latest()).await;
    // The Slack webhook secret is read at the first alert (and cached), not here: a failed
    // read then fails only the Slack delivery, and e-mail still goes out.
    let deps = Deps::with_secrets(
        config,
        aws_sdk_sns::Client::new(&aws),
        aws_sdk_secretsmanager::Client::new(&aws),
    )?;
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler(deps, event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}
