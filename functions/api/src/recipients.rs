//! Recipients: everything that happened to mail for one address.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use logdesk_core::record::MailRecord;
use serde::Serialize;

use crate::error::ApiError;
use crate::mail::{
    LOOKUP_HOURS, MailEvent, MailRow, event_of, path_value, read_mail, rows_of, stage,
};
use crate::params::{self, Params};
use crate::pattern;
use crate::{AppState, now_us};

/// `GET /v1/recipients/{address}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecipientHistory {
    /// Which engine answered.
    pub engine: &'static str,
    /// Stopped early (budget or read cap).
    pub partial: bool,
    /// The address as asked.
    pub address: String,
    /// Latest event type for this address.
    pub latest_status: Option<String>,
    /// When it happened.
    pub latest_time: Option<String>,
    /// A hard bounce or a complaint with no later delivery: SES has probably put the address
    /// on the suppression list and will not send to it.
    pub likely_suppressed: bool,
    /// The last messages to this address, newest first (at most `limit`).
    pub messages: Vec<MailRow>,
    /// Bounces, newest first.
    pub bounces: Vec<MailEvent>,
    /// Complaints, newest first.
    pub complaints: Vec<MailEvent>,
}

/// `GET /v1/recipients/{address}`: everything that happened to mail for this address.
pub async fn recipient(
    State(st): State<AppState>,
    address: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let address = path_value("address", address)?;
    let mut p = Params::parse(q.as_deref())?;
    let c = params::common(&mut p, &st.config, now_us(), LOOKUP_HOURS)?;
    p.finish()?;
    let want = address.to_lowercase();
    let pattern = pattern::contains_ignore_case(&address);
    let (mut records, partial) = read_mail(&st, &c, pattern, |m| {
        m.recipient
            .as_deref()
            .is_some_and(|r| r.to_lowercase() == want)
    })
    .await?;
    records.sort_by_key(|m| (m.t, stage(&m.event)));
    let latest = records.last();
    let suppressing = |m: &MailRecord| {
        (m.event == "Bounce" && m.bounce_type.as_deref() == Some("Permanent"))
            || m.event == "Complaint"
    };
    let likely_suppressed = records
        .iter()
        .rposition(suppressing)
        .is_some_and(|i| !records[i + 1..].iter().any(|m| m.event == "Delivery"));
    let pick = |event: &str| -> Vec<MailEvent> {
        records
            .iter()
            .rev()
            .filter(|m| m.event == event)
            .map(|m| event_of(m, &c))
            .collect()
    };
    let bounces = pick("Bounce");
    let complaints = pick("Complaint");
    let mut messages = rows_of(&records, &c);
    messages.truncate(c.limit);
    Ok(axum::Json(RecipientHistory {
        engine: st.source.engine(),
        partial,
        address: address.clone(),
        latest_status: latest.map(|m| m.event.clone()),
        latest_time: latest.map(|m| c.time(m.t)),
        likely_suppressed,
        messages,
        bounces,
        complaints,
    })
    .into_response())
}
