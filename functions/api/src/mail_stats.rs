//! `GET /v1/mail/stats`: the mail overview — sent, delivered, bounces, complaints, delays,
//! opens and clicks over time, the bounce and complaint rates against SES's review levels,
//! bounces by reason, by recipient provider and the recipient domains with the most problems
//! (computed by [`logdesk_core::mail_stats`]).
//!
//! The records are read like `/v1/mail` reads them (FilterLogEvents over the mail group, every
//! record re-checked), on AWS and in the demo alike, so both give the same numbers. An answer
//! that ran out of time is `partial` and covers the start of the range (`covered_to`).
//!
//! Parameters: the common `from`, `to`, `tz`, `lang`; `interval` (`1h` or `1d`; by default
//! hours up to three days, days beyond).

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use logdesk_core::bounce::Lang;
use logdesk_core::mail_stats::{self, MailStats, MailStatsOptions, ProviderKey};
use serde::Serialize;

use crate::AppState;
use crate::error::ApiError;
use crate::params::{self, Params};

/// The default range when `from` is not given: the last seven days.
const DEFAULT_SPAN_HOURS: i64 = 7 * 24;

/// A reason of the overview, with its title in the requested language.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReasonShare {
    /// Reason code (`user_unknown`, `mailbox_full`, …).
    pub code: String,
    /// permanent, temporary, needs_fix, info or unknown.
    pub severity: String,
    /// A few words in the requested language.
    pub title: String,
    /// Bounces with this reason.
    pub count: u64,
}

/// The answer of `/v1/mail/stats`.
#[derive(Debug, Serialize)]
pub struct MailStatsResponse {
    /// Which engine answered (always the FilterLogEvents reader).
    pub engine: &'static str,
    /// The time ran out before the whole range was read.
    pub partial: bool,
    /// Start of the range, display zone.
    pub from: String,
    /// End of the range, display zone.
    pub to: String,
    /// How far the records were read (the end of the range unless `partial`).
    pub covered_to: String,
    /// The display zone.
    pub tz: String,
    /// The statistics, with reasons and providers in words.
    pub stats: serde_json::Value,
}

fn interval(p: &mut Params, span_us: i64) -> Result<i64, ApiError> {
    match p.take("interval").as_deref() {
        Some("1h") => Ok(3600),
        Some("1d") => Ok(86_400),
        Some(_) => Err(ApiError::bad("interval", "expected 1h or 1d")),
        None if span_us > 3 * 86_400 * 1_000_000 => Ok(86_400),
        None => Ok(3600),
    }
}

/// The statistics as JSON, with each reason's title and each provider's name in `lang`.
fn stats_json(s: MailStats, lang: Lang) -> serde_json::Value {
    let reasons: Vec<ReasonShare> = s
        .reasons
        .iter()
        .map(|r| ReasonShare {
            code: r.code.as_str().to_owned(),
            severity: serde_json::to_value(r.severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            title: r.code.explain(lang).title.to_owned(),
            count: r.count,
        })
        .collect();
    let other = match lang {
        Lang::Ja => "その他",
        Lang::En => "Other",
    };
    let labels: Vec<&str> = s
        .providers
        .iter()
        .map(|p| match p.key {
            ProviderKey::Known(k) => k.name(lang),
            ProviderKey::Other => other,
        })
        .collect();
    // Plain structs of numbers and strings: serialising them cannot fail.
    let mut v = serde_json::to_value(&s).unwrap_or_default();
    v["reasons"] = serde_json::to_value(reasons).unwrap_or_default();
    if let Some(list) = v["providers"].as_array_mut() {
        for (p, label) in list.iter_mut().zip(labels) {
            p["label"] = label.into();
        }
    }
    v
}

/// `GET /v1/mail/stats`.
pub async fn stats(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let mut p = Params::parse(q.as_deref())?;
    let c = params::common(&mut p, &st.config, crate::now_us(), DEFAULT_SPAN_HOURS)?;
    let bucket_seconds = interval(&mut p, c.to.saturating_sub(c.from))?;
    p.finish()?;
    let (records, partial) = crate::mail::read_mail(&st, &c, None, |_| true).await?;
    let covered = if partial {
        records.iter().map(|r| r.t).max().unwrap_or(c.from)
    } else {
        c.to
    };
    let offset =
        c.tz.to_offset(jiff::Timestamp::from_microsecond(c.from).unwrap_or_default())
            .seconds();
    let s = mail_stats::compute(
        &records,
        &MailStatsOptions {
            bucket_seconds,
            utc_offset_seconds: i64::from(offset),
            top_domains: 10,
        },
    );
    Ok(axum::Json(MailStatsResponse {
        engine: "filter_log_events",
        partial,
        from: c.time(c.from),
        to: c.time(c.to),
        covered_to: c.time(covered),
        tz: c.tz_name.clone(),
        stats: stats_json(s, c.lang),
    })
    .into_response())
}
