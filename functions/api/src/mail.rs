//! Mail: one row per message × recipient, and a message's timeline.

use std::collections::HashMap;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use logdesk_core::Record;
use logdesk_core::bounce::texts::{self, LabelKind};
use logdesk_core::bounce::{Lang, describe};
use logdesk_core::record::MailRecord;
use serde::Serialize;

use crate::csv;
use crate::error::ApiError;
use crate::group_read::{self, read_group};
use crate::params::{self, Common, Order, Params};
use crate::pattern::{self, JsonCond};
use crate::respond::{CsvRow, Page, respond, respond_counted};
use crate::source::FetchRequest;
use crate::{AppState, now_us};

/// Default range of lookups by message id or address, hours (a week and a bit more).
pub(crate) const LOOKUP_HOURS: i64 = 30 * 24;
/// Longest message id or address accepted in a path.
const MAX_ID: usize = 320;

/// The SES event types, as records name them: those the core translates for staff.
fn events() -> impl Iterator<Item = &'static str> {
    texts::labelled_codes()
        .filter(|(kind, _)| *kind == LabelKind::Event)
        .map(|(_, code)| code)
}

/// A reason code with its explanation in the requested language.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reason {
    /// Reason code (`mailbox_full`, `user_unknown`, …).
    pub code: String,
    /// `permanent`, `temporary`, `needs_fix`, `info` or `unknown`.
    pub severity: String,
    /// A few words.
    pub title: String,
    /// What happened.
    pub explanation: String,
    /// What support staff can do.
    pub action: String,
    /// The severity in words, in the requested language (「恒久的な問題」).
    pub severity_label: String,
    /// The recipient's provider as staff say it (「docomo のメールアドレス」), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Advice that fits that provider (how to allow our domain in docomo's settings, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_advice: Option<String>,
}

/// What an event that is not a failure means (Delivery, Open, Click, Send, Subscription).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventNote {
    /// A few words.
    pub title: String,
    /// What happened.
    pub explanation: String,
    /// What support staff can do.
    pub action: String,
}

/// The reason of a failure event, computed now from the stored bounce fields (today's rules
/// apply to old records too; the stored reason is only a hint, see `bounce::reason_on_read`).
fn reason_of(m: &MailRecord, lang: Lang) -> Option<Reason> {
    let d = describe(m, lang)?;
    let code = d.reason?;
    Some(Reason {
        code: code.as_str().to_owned(),
        severity: d.severity.as_str().to_owned(),
        title: d.title.to_owned(),
        explanation: d.explanation.to_owned(),
        action: d.action.to_owned(),
        severity_label: texts::severity_label(d.severity, lang).0.to_owned(),
        provider: d.provider_label,
        provider_advice: d.provider_advice.map(str::to_owned),
    })
}

/// The explanation of an event that is not a failure.
fn note_of(m: &MailRecord, lang: Lang) -> Option<EventNote> {
    let d = describe(m, lang)?;
    d.reason.is_none().then(|| EventNote {
        title: d.title.to_owned(),
        explanation: d.explanation.to_owned(),
        action: d.action.to_owned(),
    })
}

/// A code translated for staff (「恒久的（Permanent）」), `None` when there is no code.
fn label_of(kind: LabelKind, code: Option<&str>, lang: Lang) -> Option<String> {
    texts::label(kind, code?, lang)
}

/// One row of `/v1/mail`: a message to one recipient, with its latest status.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MailRow {
    /// When SES accepted the message (or the first event seen), display zone.
    pub time: String,
    /// SES message id.
    pub message_id: String,
    /// From address.
    pub from: Option<String>,
    /// From display name.
    pub from_name: Option<String>,
    /// Recipient.
    pub to: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Latest event type (Send, Delivery, Bounce, Complaint, Reject, DeliveryDelay, …).
    pub status: String,
    /// The latest event type translated (「不達（Bounce）」).
    pub status_label: String,
    /// When the latest event happened.
    pub status_time: String,
    /// Why it failed, when the latest event is a failure.
    pub reason: Option<Reason>,
    /// Events seen for this message and recipient.
    pub events: usize,
    /// The event types of this mail and recipient (the status filter matches any of them).
    #[serde(skip)]
    seen: Vec<String>,
    #[serde(skip)]
    sort_us: i64,
    /// [`params::digest`] of the recipient: orders the rows of one message, and names a row in
    /// a cursor without the address.
    #[serde(skip)]
    to_digest: String,
}

/// One event of a timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MailEvent {
    /// When it happened, display zone.
    pub time: String,
    /// Event type.
    pub event: String,
    /// The event type translated (「配信遅延（DeliveryDelay）」).
    pub event_label: String,
    /// Message id.
    pub message_id: String,
    /// Subject.
    pub subject: Option<String>,
    /// Recipient.
    pub to: Option<String>,
    /// Bounce type (Permanent, Transient, Undetermined).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounce_type: Option<String>,
    /// Bounce type translated (「恒久的（Permanent）」).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounce_type_label: Option<String>,
    /// Bounce subtype.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounce_subtype: Option<String>,
    /// Bounce subtype translated (「一般（General）」).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounce_subtype_label: Option<String>,
    /// Enhanced status code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    /// The remote server's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnostic: Option<String>,
    /// SMTP response of a delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_response: Option<String>,
    /// Complaint feedback type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complaint_type: Option<String>,
    /// Complaint feedback type translated (「迷惑メール報告（abuse）」).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complaint_type_label: Option<String>,
    /// Delivery delay type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_type: Option<String>,
    /// Delivery delay type translated (「一時的な通信障害（TransientCommunicationFailure）」).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_type_label: Option<String>,
    /// Reject reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_reason: Option<String>,
    /// Rendering failure message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Open/click IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Clicked link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// What the event means, for events that are not failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<EventNote>,
}

pub(crate) fn event_of(m: &MailRecord, c: &Common) -> MailEvent {
    let lang = c.lang;
    MailEvent {
        time: c.time(m.t),
        event: m.event.clone(),
        event_label: texts::label(LabelKind::Event, &m.event, lang).unwrap_or_default(),
        message_id: m.message_id.clone(),
        subject: m.subject.clone(),
        to: m.recipient.clone(),
        bounce_type: m.bounce_type.clone(),
        bounce_type_label: label_of(LabelKind::BounceType, m.bounce_type.as_deref(), lang),
        bounce_subtype: m.bounce_subtype.clone(),
        bounce_subtype_label: label_of(LabelKind::BounceSubtype, m.bounce_subtype.as_deref(), lang),
        status_code: m.status.clone(),
        diagnostic: m.diagnostic.clone(),
        smtp_response: m.smtp_response.clone(),
        complaint_type: m.complaint_type.clone(),
        complaint_type_label: label_of(LabelKind::ComplaintType, m.complaint_type.as_deref(), lang),
        delay_type: m.delay_type.clone(),
        delay_type_label: label_of(LabelKind::DelayType, m.delay_type.as_deref(), lang),
        reject_reason: m.reject_reason.clone(),
        error: m.error_message.clone(),
        ip: m.ip.clone(),
        link: m.link.clone(),
        reason: reason_of(m, lang),
        note: note_of(m, lang),
    }
}

/// Ordering of events at the same microsecond: the later stage wins as "latest".
pub(crate) fn stage(event: &str) -> u8 {
    match event {
        "Send" => 0,
        "DeliveryDelay" => 1,
        "Delivery" => 2,
        "Open" => 3,
        "Click" => 4,
        _ => 5,
    }
}

/// Reads every mail record of the range that `pattern` may narrow; `(records, partial)`.
pub(crate) async fn read_mail(
    st: &AppState,
    c: &Common,
    pattern: Option<String>,
    keep: impl Fn(&MailRecord) -> bool,
) -> Result<(Vec<MailRecord>, bool), ApiError> {
    let (records, covered) = read_mail_part(st, c.from, c.to, pattern, keep).await?;
    Ok((records, covered < c.to))
}

/// Reads the mail records of `[start, end)` (µs) that `pattern` may narrow, until the range
/// ends or the budget runs out: `(records, covered)`, where the records are exactly those of
/// `[start, covered)` (`covered` is `end` when the read finished).
async fn read_mail_part(
    st: &AppState,
    start: i64,
    end: i64,
    pattern: Option<String>,
    keep: impl Fn(&MailRecord) -> bool,
) -> Result<(Vec<MailRecord>, i64), ApiError> {
    let req = FetchRequest {
        group: st.config.mail_group.clone(),
        start_ms: start.div_euclid(1000),
        end_ms: end.saturating_add(999).div_euclid(1000),
        pattern,
        next: None,
    };
    let got = read_group(
        &*st.source,
        req,
        0,
        None,
        None,
        st.limits(),
        |e| match Record::from_json(&e.message) {
            Ok(Record::Mail(m)) if m.t >= start && m.t < end && keep(&m) => Some(m),
            _ => None,
        },
    )
    .await?;
    let covered = group_read::covered(start, end, got.cut, got.frontier.as_ref());
    Ok((
        got.rows
            .into_iter()
            .map(|r| r.1)
            .filter(|m| m.t < covered)
            .collect(),
        covered,
    ))
}

/// Groups records into message × recipient rows, newest first.
pub(crate) fn rows_of(records: &[MailRecord], c: &Common) -> Vec<MailRow> {
    let mut by: HashMap<(&str, Option<&str>), Vec<&MailRecord>> = HashMap::new();
    for m in records {
        by.entry((m.message_id.as_str(), m.recipient.as_deref()))
            .or_default()
            .push(m);
    }
    let mut rows: Vec<MailRow> = by
        .into_values()
        .filter_map(|mut evs| {
            evs.sort_by_key(|m| (m.t, stage(&m.event)));
            let first = *evs.first()?;
            let latest = *evs.last()?;
            let sent = evs.iter().find_map(|m| m.sent).unwrap_or(first.t);
            let pick =
                |f: fn(&MailRecord) -> Option<&String>| evs.iter().find_map(|m| f(m)).cloned();
            Some(MailRow {
                time: c.time(sent),
                message_id: latest.message_id.clone(),
                from: pick(|m| m.from.as_ref()),
                from_name: pick(|m| m.from_name.as_ref()),
                to: latest.recipient.clone(),
                subject: pick(|m| m.subject.as_ref()),
                status: latest.event.clone(),
                status_label: texts::label(LabelKind::Event, &latest.event, c.lang)
                    .unwrap_or_default(),
                status_time: c.time(latest.t),
                reason: reason_of(latest, c.lang),
                events: evs.len(),
                seen: evs.iter().map(|m| m.event.clone()).collect(),
                sort_us: sent,
                to_digest: params::digest(&[latest.recipient.as_deref()]),
            })
        })
        .collect();
    rows.sort_by(|a, b| (b.sort_us, &b.message_id, &b.to).cmp(&(a.sort_us, &a.message_id, &a.to)));
    rows
}

/// Canonical event names from a comma list (`bounce,delay`), case and spacing ignored.
fn parse_statuses(v: &str) -> Result<Vec<&'static str>, ApiError> {
    v.split(',')
        .map(|s| {
            let norm: String = s
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            let norm = if norm == "delay" {
                "deliverydelay".to_owned()
            } else {
                norm
            };
            events()
                .find(|e| e.replace(' ', "").eq_ignore_ascii_case(&norm))
                .ok_or_else(|| {
                    let all: Vec<&str> = events().collect();
                    ApiError::bad(
                        "status",
                        format!("expected one of {} (comma-separated)", all.join(", ")),
                    )
                })
        })
        .collect()
}

fn contains_ci(hay: Option<&str>, needle_lower: &str) -> bool {
    hay.is_some_and(|h| h.to_lowercase().contains(needle_lower))
}

/// Position of a row in a page of `/v1/mail`: (sort time µs, message id, digest of the
/// recipient).
type MailKey = (i64, String, String);

/// `GET /v1/mail`: one row per message and recipient, newest first (`order=asc`: oldest
/// first; rows of one message in address order).
///
/// Rows are grouped from the events the range holds. An answer that runs out of time covers
/// `[from, covered_to)` only (events at or after `covered_to` are left out, so each row's
/// status is the latest event of that sub-range); its `next_cursor` asks for `[covered_to, to)`,
/// where a message whose events straddle `covered_to` appears again with its later events
/// (the later status). Pages of `limit` rows go through the rows of one sub-range first; a
/// later page that cannot re-read its sub-range in time answers no rows, `partial`, and the
/// same cursor.
pub async fn list(State(st): State<AppState>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let (mut p, fingerprint, mut c) = params::paged(q.as_deref(), &st.config, 24)?;
    let filter = MailFilter::take(&mut p)?;
    let order = p.take_order(Order::Desc)?;
    p.finish()?;
    // The order has its own cursors: a cursor of one order is refused by the other.
    let tag = match order {
        Order::Desc => "mail",
        Order::Asc => "mail:asc",
    };
    let window = params::resume::<MailKey>(tag, &fingerprint, &mut c)?;
    if !window.parts.is_empty() {
        // Logs Insights queries: never in a cursor of this endpoint.
        return Err(params::bad_cursor());
    }
    let (records, covered) =
        read_mail_part(&st, window.start, window.end, filter.pattern(), |_| true).await?;
    let engine = st.source.engine();
    if window.after.is_some() && covered < window.end {
        // A later page whose part could not be read again in time: the earlier pages showed
        // rows with events up to the part's end, so no shorter part may follow them. Nothing
        // this time; the same cursor tries again.
        let page = Page {
            engine,
            rows: Vec::<MailRow>::new(),
            next: c.cursor.clone(),
            partial: true,
            covered_to: Some(window.start),
        };
        return Ok(respond(&c, page));
    }
    let mut matching: Vec<MailRow> = rows_of(&records, &c)
        .into_iter()
        .filter(|r| filter.matches(r))
        .collect();
    if order == Order::Asc {
        matching.reverse();
    }
    // Every row of the part is at hand, so the total is free when the range is one part.
    let total = (window.start == c.origin && covered >= c.to).then_some(matching.len());
    let mut rows = rows_after(matching, window.after.as_ref(), order);
    let more = if rows.len() > c.limit {
        rows.truncate(c.limit);
        rows.last()
            .map(|r| (r.sort_us, r.message_id.clone(), r.to_digest.clone()))
    } else {
        None
    };
    let next = params::next_cursor(tag, &fingerprint, &c, covered, more, Vec::new());
    let partial = covered < c.to;
    let covered_to = partial.then_some(covered);
    let page = Page {
        engine,
        rows,
        next,
        partial,
        covered_to,
    };
    Ok(respond_counted(&c, page, total))
}

/// The rows after the one `after` names (all when `None`), `rows` being in `order`. A cursor
/// names the recipient by digest only: the row is found by it. When it is gone (the logs
/// changed under the cursor), the listing goes on with the next message in that order.
fn rows_after(mut rows: Vec<MailRow>, after: Option<&MailKey>, order: Order) -> Vec<MailRow> {
    let Some((t, id, to)) = after else {
        return rows;
    };
    let named = |r: &MailRow| (r.sort_us, &r.message_id) == (*t, id);
    match rows.iter().position(|r| named(r) && &r.to_digest == to) {
        Some(i) => rows.split_off(i + 1),
        None => {
            let at = (*t, id);
            rows.retain(|r| match order {
                Order::Desc => (r.sort_us, &r.message_id) < at,
                Order::Asc => (r.sort_us, &r.message_id) > at,
            });
            rows
        }
    }
}

/// The filters of `/v1/mail` (lowercased substrings, and the statuses).
struct MailFilter {
    recipient: Option<String>,
    subject: Option<String>,
    from_address: Option<String>,
    statuses: Option<Vec<&'static str>>,
}

impl MailFilter {
    /// Reads `recipient`, `subject`, `from_address` and `status`.
    fn take(p: &mut Params) -> Result<MailFilter, ApiError> {
        Ok(MailFilter {
            recipient: p.take("recipient").map(|v| v.to_lowercase()),
            subject: p.take("subject").map(|v| v.to_lowercase()),
            from_address: p.take("from_address").map(|v| v.to_lowercase()),
            statuses: p.take("status").map(|s| parse_statuses(&s)).transpose()?,
        })
    }

    /// A filter pattern that narrows the read (the first substring that makes one).
    fn pattern(&self) -> Option<String> {
        [&self.recipient, &self.from_address, &self.subject]
            .into_iter()
            .flatten()
            .find_map(|v| pattern::contains_ignore_case(v))
    }

    /// Whether a row passes every filter.
    fn matches(&self, r: &MailRow) -> bool {
        let has = |want: &Option<String>, v: Option<&str>| {
            want.as_deref().is_none_or(|n| contains_ci(v, n))
        };
        has(&self.recipient, r.to.as_deref())
            && has(&self.subject, r.subject.as_deref())
            && has(&self.from_address, r.from.as_deref())
            // Any event of the mail, not only the latest: a delay later delivered is still
            // found under 配信遅延.
            && self
                .statuses
                .as_ref()
                .is_none_or(|s| r.seen.iter().any(|e| s.contains(&e.as_str())))
    }
}

impl CsvRow for MailRow {
    const NAME: &'static str = "mail";
    const COLUMNS: &'static [&'static str] = &[
        "time",
        "message_id",
        "from",
        "from_name",
        "to",
        "subject",
        "status",
        "status_time",
        "reason_code",
        "reason",
        "action",
    ];

    fn csv_lines(self) -> Vec<Vec<String>> {
        let r = self;
        vec![vec![
            r.time,
            r.message_id,
            csv::opt(r.from),
            csv::opt(r.from_name),
            csv::opt(r.to),
            csv::opt(r.subject),
            r.status,
            r.status_time,
            csv::opt(r.reason.as_ref().map(|x| x.code.clone())),
            csv::opt(r.reason.as_ref().map(|x| x.explanation.clone())),
            csv::opt(r.reason.as_ref().map(|x| x.action.clone())),
        ]]
    }
}

/// One recipient's events in a timeline.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecipientTimeline {
    /// Recipient.
    pub to: Option<String>,
    /// Latest event type.
    pub status: String,
    /// Why it failed, when the latest event is a failure.
    pub reason: Option<Reason>,
    /// Every event, oldest first.
    pub events: Vec<MailEvent>,
}

/// `GET /v1/mail/{message_id}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Timeline {
    /// Which engine answered.
    pub engine: &'static str,
    /// Stopped early (budget or read cap).
    pub partial: bool,
    /// SES message id.
    pub message_id: String,
    /// When SES accepted it.
    pub sent: Option<String>,
    /// From address.
    pub from: Option<String>,
    /// From display name.
    pub from_name: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Per recipient, in address order.
    pub recipients: Vec<RecipientTimeline>,
}

/// The path parameter `name`, trimmed: 1 to [`MAX_ID`] printable characters, percent-encoded
/// UTF-8 (else a 400 naming it).
pub(crate) fn path_value(
    name: &str,
    v: Result<Path<String>, PathRejection>,
) -> Result<String, ApiError> {
    let bad = || ApiError::bad(name, format!("expected 1 to {MAX_ID} printable characters"));
    let Path(v) = v.map_err(|_| bad())?;
    let v = v.trim();
    if v.is_empty() || v.len() > MAX_ID || v.chars().any(char::is_control) {
        return Err(bad());
    }
    Ok(v.to_owned())
}

/// `GET /v1/mail/{message_id}`: every event of one message per recipient, in order.
pub async fn timeline(
    State(st): State<AppState>,
    message_id: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let message_id = path_value("message_id", message_id)?;
    let mut p = Params::parse(q.as_deref())?;
    let c = params::common(&mut p, &st.config, now_us(), LOOKUP_HOURS)?;
    p.finish()?;
    let pattern = pattern::json(&[JsonCond::Eq("mid", &message_id)]);
    let (mut records, partial) =
        read_mail(&st, &c, pattern, |m| m.message_id == message_id).await?;
    if records.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no events for message {message_id:?} between {} and {}",
            c.time(c.from),
            c.time(c.to)
        )));
    }
    records.sort_by(|a, b| {
        (&a.recipient, a.t, stage(&a.event)).cmp(&(&b.recipient, b.t, stage(&b.event)))
    });
    let mut recipients: Vec<RecipientTimeline> = Vec::new();
    for m in &records {
        match recipients.last_mut() {
            Some(r) if r.to == m.recipient => r.events.push(event_of(m, &c)),
            _ => recipients.push(RecipientTimeline {
                to: m.recipient.clone(),
                status: String::new(),
                reason: None,
                events: vec![event_of(m, &c)],
            }),
        }
    }
    for r in &mut recipients {
        if let Some(last) = r.events.last() {
            r.status = last.event.clone();
            r.reason = last.reason.clone();
        }
    }
    let find = |f: fn(&MailRecord) -> Option<&String>| records.iter().find_map(|m| f(m)).cloned();
    Ok(axum::Json(Timeline {
        engine: st.source.engine(),
        partial,
        message_id: message_id.clone(),
        sent: records.iter().find_map(|m| m.sent).map(|s| c.time(s)),
        from: find(|m| m.from.as_ref()),
        from_name: find(|m| m.from_name.as_ref()),
        subject: find(|m| m.subject.as_ref()),
        recipients,
    })
    .into_response())
}
