//! The function's settings, read once from the environment the SAM template sets.

use std::time::Duration;

use jiff::tz::TimeZone;
use logdesk_core::bounce::Lang;
use logdesk_core::nginx::LogFormat;

/// How callers are authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// The Function URL checks SigV4 (`AuthType: AWS_IAM`); the function checks nothing.
    Iam,
    /// `Authorization: Bearer <token>`, checked here against the token's SHA-256.
    Token([u8; 32]),
}

/// Settings from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `LB_LOG_GROUP`: load-balancer records written by ingest.
    pub lb_group: String,
    /// `MAIL_LOG_GROUP`: mail records written by ingest.
    pub mail_group: String,
    /// `NGINX_ACCESS_LOG_GROUP`: raw nginx access lines (CloudWatch agent).
    pub nginx_access_group: String,
    /// `NGINX_ERROR_LOG_GROUP`: raw nginx error-log entries (CloudWatch agent).
    pub nginx_error_group: String,
    /// `AUTH_MODE` (`iam` or `token`) with `TOKEN_SHA256`.
    pub auth: AuthMode,
    /// `CORS_ORIGINS`: exact origins allowed; empty = no CORS headers.
    pub cors_origins: Vec<String>,
    /// `DEFAULT_LANG`.
    pub default_lang: Lang,
    /// `DEFAULT_TZ`, resolved.
    pub default_tz: TimeZone,
    /// `DEFAULT_TZ` as named.
    pub default_tz_name: String,
    /// Formats tried in order on nginx access lines (extended, then combined).
    pub nginx_formats: Vec<LogFormat>,
    /// Time a request may spend reading before it answers with `partial: true`
    /// (`TIME_BUDGET_MS`, default 20 s of the function's 30 s timeout).
    pub budget: Duration,
    /// Most events one request reads (`MAX_EVENTS`, default 1,000,000).
    pub max_events: usize,
    /// Whether Logs Insights may answer (`LOGS_INSIGHTS`: `on`, `off`, or `auto`, the default:
    /// off when `AWS_ENDPOINT_URL` or `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` points the SDK at
    /// another endpoint than AWS's, such as the emulator of the demo and the tests, which runs
    /// no Insights query as AWS does; then the local engine answers everything).
    pub insights: bool,
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable has a value the function cannot work with.
    #[error("{name}: {message}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
}

fn invalid(name: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        message: message.into(),
    }
}

impl Config {
    /// Reads the settings through `get` (the process environment in `main`, a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |n: &str, d: &str| {
            get(n)
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| d.to_owned())
        };
        let auth = match var("AUTH_MODE", "iam").as_str() {
            "iam" => AuthMode::Iam,
            "token" => {
                let hex_hash = var("TOKEN_SHA256", "");
                let mut hash = [0u8; 32];
                hex::decode_to_slice(hex_hash.trim(), &mut hash)
                    .map_err(|_| invalid("TOKEN_SHA256", "expected 64 hex digits"))?;
                AuthMode::Token(hash)
            }
            other => {
                return Err(invalid(
                    "AUTH_MODE",
                    format!("expected iam or token, got {other:?}"),
                ));
            }
        };
        let cors_origins = var("CORS_ORIGINS", "")
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>();
        if cors_origins.iter().any(|o| o == "*") {
            return Err(invalid(
                "CORS_ORIGINS",
                "list exact origins; * is not allowed",
            ));
        }
        let default_lang = var("DEFAULT_LANG", "ja")
            .parse::<Lang>()
            .map_err(|e| invalid("DEFAULT_LANG", e.to_string()))?;
        let default_tz_name = var("DEFAULT_TZ", "Asia/Tokyo");
        let default_tz =
            TimeZone::get(&default_tz_name).map_err(|e| invalid("DEFAULT_TZ", e.to_string()))?;
        let budget_ms: u64 = var("TIME_BUDGET_MS", "20000")
            .parse()
            .map_err(|_| invalid("TIME_BUDGET_MS", "expected milliseconds"))?;
        let max_events: usize = var("MAX_EVENTS", "1000000")
            .parse()
            .map_err(|_| invalid("MAX_EVENTS", "expected a number"))?;
        let insights = match var("LOGS_INSIGHTS", "auto").as_str() {
            "on" => true,
            "off" => false,
            "auto" => ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"]
                .iter()
                .all(|n| get(n).is_none_or(|v| v.trim().is_empty())),
            other => {
                return Err(invalid(
                    "LOGS_INSIGHTS",
                    format!("expected on, off or auto, got {other:?}"),
                ));
            }
        };
        Ok(Config {
            lb_group: var("LB_LOG_GROUP", "/logdesk/lb"),
            mail_group: var("MAIL_LOG_GROUP", "/logdesk/mail"),
            nginx_access_group: var("NGINX_ACCESS_LOG_GROUP", "/logdesk/nginx/access"),
            nginx_error_group: var("NGINX_ERROR_LOG_GROUP", "/logdesk/nginx/error"),
            auth,
            cors_origins,
            default_lang,
            default_tz,
            default_tz_name,
            nginx_formats: vec![LogFormat::extended(), LogFormat::combined()],
            budget: Duration::from_millis(budget_ms),
            max_events,
            insights,
        })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|n| std::env::var(n).ok())
    }
}
