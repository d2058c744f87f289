//! `GET /v1/mail/stats`: the mail overview — sent, delivered, bounces, complaints, delays,
//! opens and clicks over time, the bounce and complaint rates against SES's review levels,
//! bounces by reason, by recipient provider and the recipient domains with the most problems
//! (computed by [`logdesk_core::mail_stats`]).
//!
//! Two engines give the same numbers. The local one reads the records like `/v1/mail` reads
//! them (FilterLogEvents over the mail group, every record re-checked); an answer that ran out
//! of time is `partial` and covers the start of the range (`covered_to`). Logs Insights (on
//! AWS, for ranges of six hours or more unless `engine` says otherwise) counts per bucket, per
//! recipient domain and per raw bounce reason inputs, and the core finishes both alike
//! ([`crate::insights::mail`]); its queries still running when the time is up are carried in
//! `next_cursor`, and the answer covers nothing until they complete.
//!
//! Parameters: the common `from`, `to`, `tz`, `lang`, `cursor`; `interval` (`1h` or `1d`; by
//! default hours up to three days, days beyond); `engine` (`auto`, `insights`, `local`).

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use logdesk_core::bounce::Lang;
use logdesk_core::mail_stats::{self, MailStats, MailStatsOptions, ProviderKey};
use serde::Serialize;

use crate::AppState;
use crate::engine::{Engine, INSIGHTS_FROM_US, LOGS_INSIGHTS};
use crate::error::ApiError;
use crate::insights::{self, Part};
use crate::params::{self, Common, Params};

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
    /// Which engine answered: the local reader's name, or `logs_insights`.
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
    /// Through Logs Insights, when its queries were still running: asks for the same answer
    /// again, reading them by id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// The statistics, with reasons and providers in words; `approximate` lists the parts a
    /// Logs Insights query cut at 10,000 rows (`buckets`, `domains`, `reasons`).
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
    let fingerprint = p.fingerprint();
    let mut c = params::common(&mut p, &st.config, crate::now_us(), DEFAULT_SPAN_HOURS)?;
    let resumed = params::resume::<()>("mail_stats", &fingerprint, &mut c)?;
    let bucket_seconds = interval(&mut p, c.to.saturating_sub(c.from))?;
    let engine = Engine::parse(p.take("engine").as_deref())?;
    p.finish()?;
    if resumed.after.is_some() {
        return Err(params::bad_cursor());
    }
    let offset =
        c.tz.to_offset(jiff::Timestamp::from_microsecond(c.from).unwrap_or_default())
            .seconds();
    let opts = MailStatsOptions {
        bucket_seconds,
        utc_offset_seconds: i64::from(offset),
        top_domains: 10,
    };
    let use_insights = engine.use_insights(
        st.insights.is_some(),
        c.to - c.origin >= INSIGHTS_FROM_US && (c.cursor.is_none() || !resumed.parts.is_empty()),
        "Logs Insights answers only on AWS",
    )?;
    if let (true, Some(client)) = (use_insights, &st.insights) {
        let read = InsightsRead {
            opts,
            parts: resumed.parts,
            fingerprint: &fingerprint,
        };
        return by_insights(&st, client, &c, read).await;
    }
    locally(&st, &c, &opts).await
}

/// `/v1/mail/stats` answered by the local engine: every record of the range read here.
async fn locally(st: &AppState, c: &Common, opts: &MailStatsOptions) -> Result<Response, ApiError> {
    let (records, partial) = crate::mail::read_mail(st, c, None, |_| true).await?;
    let covered = if partial {
        records.iter().map(|r| r.t).max().unwrap_or(c.from)
    } else {
        c.to
    };
    let mut stats = stats_json(mail_stats::compute(&records, opts), c.lang);
    stats["approximate"] = serde_json::json!([]);
    Ok(answer(c, st.source.engine(), covered, None, stats))
}

/// The answer covering `[c.from, covered)`.
fn answer(
    c: &Common,
    engine: &'static str,
    covered: i64,
    next_cursor: Option<String>,
    stats: serde_json::Value,
) -> Response {
    axum::Json(MailStatsResponse {
        engine,
        partial: covered < c.to,
        from: c.time(c.from),
        to: c.time(c.to),
        covered_to: c.time(covered),
        tz: c.tz_name.clone(),
        next_cursor,
        stats,
    })
    .into_response()
}

/// A `/v1/mail/stats` read through Logs Insights.
struct InsightsRead<'a> {
    opts: MailStatsOptions,
    /// From a cursor: the parts of [`insights::mail::queries`], in order.
    parts: Vec<Part>,
    fingerprint: &'a str,
}

/// `/v1/mail/stats` answered by Logs Insights: the three queries over the whole range, read
/// into the core's tallies and finished as the local engine finishes them. Queries still
/// running at the deadline: an answer that covers nothing, with a cursor carrying them.
async fn by_insights(
    st: &AppState,
    client: &aws_sdk_cloudwatchlogs::Client,
    c: &Common,
    read: InsightsRead<'_>,
) -> Result<Response, ApiError> {
    let bins = insights::Bins {
        width_s: read.opts.bucket_seconds.max(60),
        offset_s: read.opts.utc_offset_seconds,
    };
    let queries = insights::mail::queries(bins);
    let deadline = st.limits().deadline;
    let ran = insights::run_over_request(
        client,
        &st.config.mail_group,
        &queries,
        read.parts,
        c,
        deadline,
    );
    let rows = match ran.await? {
        insights::Whole::Complete(rows) => rows,
        insights::Whole::Pending(parts) => {
            let next =
                params::next_cursor::<()>("mail_stats", read.fingerprint, c, c.from, None, parts);
            let mut stats = stats_json(mail_stats::compute([], &read.opts), c.lang);
            stats["approximate"] = serde_json::json!([]);
            return Ok(answer(c, LOGS_INSIGHTS, c.from, next, stats));
        }
    };
    let tally = insights::mail::Tally::read(&rows).map_err(crate::source::SourceError::from)?;
    let mut stats = stats_json(tally.tallies.finish(&read.opts), c.lang);
    stats["approximate"] = tally.capped.into();
    Ok(answer(c, LOGS_INSIGHTS, c.to, None, stats))
}
