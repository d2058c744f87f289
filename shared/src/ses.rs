//! Amazon SES events: event-publishing records (`eventType`, from Firehose objects in S3 or from
//! SNS) and identity feedback notifications (`notificationType`), turned into one
//! [`MailRecord`] per affected recipient.
//!
//! Facts relied on (see `reference/ses.md` and `reference/firehose.md`):
//! - SES follows each record it gives Firehose with `\n`, but Firehose adds no delimiter of its
//!   own, so an object may also hold concatenated JSON (`}{`), blank lines or CRLF.
//! - Objects may be gzip (possibly multi-member) whatever their key or Content-Type says.
//! - `eventType: "Rendering Failure"` has a space and its payload key is `failure`.
//! - The notification doc example writes `mail.timestamp` as `2018-10-08T14:05:45 +0000`.
//! - SES may add fields at any time: unknown fields are ignored, never an error.

use std::borrow::Cow;
use std::io::Read;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use flate2::bufread::MultiGzDecoder;
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};

use crate::bounce::reason_for;
use crate::error::ParseError;
use crate::input::is_gzip;
use crate::mime::{decode_header, parse_mailbox};
use crate::record::{BadRecord, MailRecord, Record, SCHEMA_VERSION};

/// The `src` written into bad records from SES objects.
const SOURCE: &str = "ses";

/// How many envelopes (SNS in SQS in a Lambda event, …) may wrap an SES event.
const MAX_NESTING: u8 = 4;

/// Base64 for Firehose `rawData`, tolerant of missing padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What one S3 object of SES events turned into.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SesObject {
    /// Mail records (one per event and recipient) and bad records, in input order.
    pub records: Vec<Record>,
    /// How many records went in and what came out.
    pub counts: SesCounts,
    /// Why the object could not be read to its end (records before that point are kept).
    pub error: Option<ObjectError>,
}

/// Counts for one object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SesCounts {
    /// JSON values and unparsable chunks found in the object.
    pub records_in: usize,
    /// Mail records produced.
    pub mail: usize,
    /// Bad records produced.
    pub bad: usize,
}

/// Why an object could not be read to its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    /// The gzip data stops early or is corrupt.
    #[error(
        "gzip data is truncated or corrupt: stopped at compressed byte {offset} of {len} \
         after {decoded} plain bytes ({message})"
    )]
    Gzip {
        /// Compressed bytes consumed when decoding stopped.
        offset: u64,
        /// Compressed size of the object.
        len: u64,
        /// Plain bytes decoded before that point.
        decoded: u64,
        /// The decoder's own words.
        message: String,
    },
}

/// One record's bytes as found in an object, before it is read as an SES event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawRecord<'a> {
    /// A complete JSON value.
    Json {
        /// Byte offset in the plain object.
        offset: usize,
        /// The value's bytes.
        bytes: &'a [u8],
    },
    /// Bytes that are not JSON, up to the next point where a record can start again.
    Unparsable {
        /// Byte offset in the plain object.
        offset: usize,
        /// The chunk's bytes, without the line end.
        bytes: &'a [u8],
        /// Why it is not JSON.
        error: String,
    },
}

/// Splits plain (already gunzipped) bytes into JSON values: newline-delimited, concatenated
/// (`}{`) or any mix, with blank lines and CRLF. See [`RawRecords`].
pub fn split_records(plain: &[u8]) -> RawRecords<'_> {
    // A UTF-8 byte-order mark would otherwise make the first record unparsable.
    let pos = if plain.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    RawRecords { data: plain, pos }
}

/// Iterator over the records of an object, from [`split_records`].
///
/// An unparsable chunk ends at the next line start, or earlier at a `{` that directly follows a
/// `}` and starts a complete JSON value, so garbage never swallows the good records after it.
#[derive(Debug, Clone)]
pub struct RawRecords<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for RawRecords<'a> {
    type Item = RawRecord<'a>;

    fn next(&mut self) -> Option<RawRecord<'a>> {
        let rest = self.data.get(self.pos..)?;
        let skip = rest.iter().position(|b| !b.is_ascii_whitespace())?;
        let offset = self.pos + skip;
        let rest = &rest[skip..];
        let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<IgnoredAny>();
        match stream.next() {
            Some(Ok(_)) => {
                let end = stream.byte_offset().clamp(1, rest.len());
                self.pos = offset + end;
                Some(RawRecord::Json {
                    offset,
                    bytes: &rest[..end],
                })
            }
            Some(Err(e)) => {
                let (end, next) = resync(rest);
                self.pos = offset + next;
                let error = if e.is_eof() {
                    format!("JSON record is cut short: {e}")
                } else {
                    format!("not JSON: {e}")
                };
                Some(RawRecord::Unparsable {
                    offset,
                    bytes: &rest[..end],
                    error,
                })
            }
            None => {
                self.pos = self.data.len();
                None
            }
        }
    }
}

/// Where an unparsable chunk starting at `rest[0]` ends: (end of its bytes, where to go on).
fn resync(rest: &[u8]) -> (usize, usize) {
    let mut from = 1;
    while let Some(found) = rest
        .get(from..)
        .and_then(|r| memchr::memchr2(b'\n', b'{', r))
    {
        let at = from + found;
        if rest[at] == b'\n' {
            let line = &rest[..at];
            let end = if line.ends_with(b"\r") { at - 1 } else { at };
            return (end, at + 1);
        }
        // `}{` is how concatenated records meet; inside valid JSON it only occurs in strings.
        let after_close = rest[..at]
            .iter()
            .rev()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'}');
        if after_close && starts_json_value(&rest[at..]) {
            return (at, at);
        }
        from = at + 1;
    }
    (rest.len(), rest.len())
}

/// Whether `bytes` starts with a complete JSON value.
fn starts_json_value(bytes: &[u8]) -> bool {
    matches!(
        serde_json::Deserializer::from_slice(bytes)
            .into_iter::<IgnoredAny>()
            .next(),
        Some(Ok(_))
    )
}

/// Reads one S3 object of SES events (gzip or plain, JSON Lines or concatenated JSON).
pub fn parse_object(data: &[u8]) -> SesObject {
    let (plain, error) = plain_or_partial(data);
    let mut object = SesObject {
        error,
        ..SesObject::default()
    };
    for (index, raw) in split_records(&plain).enumerate() {
        let line = record_number(index);
        object.counts.records_in += 1;
        match raw {
            RawRecord::Json { bytes, .. } => match parse_event(bytes) {
                Ok(mails) => object.push_mail(mails),
                Err(e) => object.push_bad(bad_record(bytes, e.to_string(), line, time_hint(bytes))),
            },
            RawRecord::Unparsable { bytes, error, .. } => {
                object.push_bad(bad_record(bytes, error, line, None));
            }
        }
    }
    object
}

/// Reads an object from Firehose's error prefix (`processing-failed/…` and friends): one JSON
/// document per failed record, whose base64 `rawData` is the SES record. Events that still
/// parse become mail records, so nothing is lost; the rest are bad records that carry
/// Firehose's error code and message.
pub fn parse_firehose_error_object(data: &[u8]) -> SesObject {
    let (plain, error) = plain_or_partial(data);
    let mut object = SesObject {
        error,
        ..SesObject::default()
    };
    for (index, raw) in split_records(&plain).enumerate() {
        let line = record_number(index);
        object.counts.records_in += 1;
        let bytes = match raw {
            RawRecord::Json { bytes, .. } => bytes,
            RawRecord::Unparsable { bytes, error, .. } => {
                object.push_bad(bad_record(bytes, error, line, None));
                continue;
            }
        };
        let failed = match serde_json::from_slice::<FailedRecord>(bytes) {
            Ok(failed) => failed,
            Err(e) => {
                let error = format!("not a Firehose error record: {e}");
                object.push_bad(bad_record(bytes, error, line, None));
                continue;
            }
        };
        // Firehose writes arrivalTimestamp in epoch milliseconds.
        let arrival = failed
            .arrival_timestamp
            .as_ref()
            .and_then(serde_json::Value::as_i64)
            .and_then(|ms| ms.checked_mul(1000));
        let firehose_error = format!(
            "Firehose {}: {}",
            failed.error_code.as_deref().unwrap_or("(no errorCode)"),
            failed
                .error_message
                .as_deref()
                .unwrap_or("(no errorMessage)")
        );
        let Some(raw_data) = failed.raw_data.as_deref() else {
            let error = format!("{firehose_error}; the record has no rawData");
            object.push_bad(bad_record(bytes, error, line, arrival));
            continue;
        };
        let decoded = match BASE64.decode(raw_data.trim()) {
            Ok(decoded) => decoded,
            Err(e) => {
                let error = format!("{firehose_error}; rawData is not base64: {e}");
                object.push_bad(bad_record(bytes, error, line, arrival));
                continue;
            }
        };
        let (inner, inner_error) = plain_or_partial(&decoded);
        let mut found = false;
        for inner_raw in split_records(&inner) {
            found = true;
            let (inner_bytes, result) = match inner_raw {
                RawRecord::Json { bytes, .. } => {
                    (bytes, parse_event(bytes).map_err(|e| e.to_string()))
                }
                RawRecord::Unparsable { bytes, error, .. } => (bytes, Err(error)),
            };
            match result {
                Ok(mails) => object.push_mail(mails),
                Err(e) => {
                    let t = time_hint(inner_bytes).or(arrival);
                    let error = format!("{firehose_error}; {e}");
                    object.push_bad(bad_record(inner_bytes, error, line, t));
                }
            }
        }
        if let Some(e) = inner_error {
            let error = format!("{firehose_error}; rawData: {e}");
            object.push_bad(bad_record(&decoded, error, line, arrival));
        } else if !found {
            let error = format!("{firehose_error}; rawData is empty");
            object.push_bad(bad_record(bytes, error, line, arrival));
        }
    }
    object
}

impl SesObject {
    fn push_mail(&mut self, mails: Vec<MailRecord>) {
        self.counts.mail += mails.len();
        self.records.extend(mails.into_iter().map(Record::Mail));
    }

    fn push_bad(&mut self, bad: BadRecord) {
        self.counts.bad += 1;
        self.records.push(Record::Bad(bad));
    }
}

/// 1-based record number for [`BadRecord::line`].
fn record_number(index: usize) -> u32 {
    u32::try_from(index.saturating_add(1)).unwrap_or(u32::MAX)
}

fn bad_record(bytes: &[u8], error: String, line: u32, t: Option<i64>) -> BadRecord {
    BadRecord {
        v: SCHEMA_VERSION,
        source: SOURCE.to_string(),
        error,
        raw: String::from_utf8_lossy(bytes).into_owned(),
        t,
        line,
        ..BadRecord::default()
    }
}

/// The plain bytes of an object, gunzipped if it starts with the gzip magic. A gzip stream that
/// stops early keeps what was decoded before the break, plus the error.
fn plain_or_partial(data: &[u8]) -> (Cow<'_, [u8]>, Option<ObjectError>) {
    if !is_gzip(data) {
        return (Cow::Borrowed(data), None);
    }
    let mut decoder = MultiGzDecoder::new(data);
    let mut out = Vec::with_capacity(data.len().saturating_mul(8));
    // On error, read_to_end leaves the bytes decoded so far in `out`.
    match decoder.read_to_end(&mut out) {
        Ok(_) => (Cow::Owned(out), None),
        Err(e) => {
            let remaining = decoder.get_ref().len();
            let error = ObjectError::Gzip {
                offset: data.len().saturating_sub(remaining) as u64,
                len: data.len() as u64,
                decoded: out.len() as u64,
                message: e.to_string(),
            };
            (Cow::Owned(out), Some(error))
        }
    }
}

/// `mail.timestamp` of a record that could not be read as an event, if it has one.
fn time_hint(bytes: &[u8]) -> Option<i64> {
    #[derive(Deserialize)]
    struct Hint {
        mail: HintMail,
    }
    #[derive(Deserialize)]
    struct HintMail {
        timestamp: String,
    }
    let hint: Hint = serde_json::from_slice(bytes).ok()?;
    parse_time(&hint.mail.timestamp)
}

/// Reads one SES event as JSON text or bytes: an event-publishing record (`eventType`), an
/// identity notification (`notificationType`), or either wrapped in an SNS notification
/// (`Message`, with or without its trailing `\n`), a Lambda SNS/SQS event (`Records`) or an
/// EventBridge event (`detail`). Returns one record per affected recipient.
pub fn parse_event(json: impl AsRef<[u8]>) -> Result<Vec<MailRecord>, ParseError> {
    parse_event_nested(json.as_ref(), 0)
}

/// [`parse_event`] for an already parsed JSON value.
pub fn parse_event_value(value: &serde_json::Value) -> Result<Vec<MailRecord>, ParseError> {
    let envelope = Envelope::deserialize(value).map_err(|e| ParseError::Format(e.to_string()))?;
    from_envelope(envelope, 0)
}

fn parse_event_nested(json: &[u8], depth: u8) -> Result<Vec<MailRecord>, ParseError> {
    let envelope: Envelope = serde_json::from_slice(json.trim_ascii())
        .map_err(|e| ParseError::Format(format!("not an SES event: {e}")))?;
    from_envelope(envelope, depth)
}

fn from_envelope(envelope: Envelope, depth: u8) -> Result<Vec<MailRecord>, ParseError> {
    if depth > MAX_NESTING {
        return Err(ParseError::Format("SES event nested too deeply".into()));
    }
    if let Some(kind) = envelope.event_type.clone() {
        return mail_records(kind, false, envelope);
    }
    if let Some(kind) = envelope.notification_type.clone() {
        return mail_records(kind, true, envelope);
    }
    if let Some(inner) = envelope.detail {
        return from_envelope(*inner, depth + 1);
    }
    if let Some(message) = envelope.message {
        return parse_event_nested(message.as_bytes(), depth + 1);
    }
    if let Some(records) = envelope.records {
        let mut out = Vec::new();
        for record in records {
            let text = record.sns.and_then(|s| s.message).or(record.body);
            let text = text.ok_or(ParseError::MissingField("Records[].Sns.Message"))?;
            out.extend(parse_event_nested(text.as_bytes(), depth + 1)?);
        }
        return Ok(out);
    }
    Err(ParseError::MissingField("eventType"))
}

/// Builds the records of one event; `kind` is the eventType or notificationType.
fn mail_records(
    kind: String,
    notification: bool,
    event: Envelope,
) -> Result<Vec<MailRecord>, ParseError> {
    let mail = event.mail.ok_or(ParseError::MissingField("mail"))?;
    let (base, destination) = mail_fields(kind, notification, mail)?;
    let sent_t = |field| base.sent.ok_or(ParseError::MissingField(field));

    let mut out = match base.event.as_str() {
        "Bounce" => bounced(base, event.bounce.unwrap_or_default())?,
        "Complaint" => complained(base, event.complaint.unwrap_or_default())?,
        "Delivery" => delivered(base, event.delivery.unwrap_or_default())?,
        "DeliveryDelay" => delayed(base, event.delivery_delay.unwrap_or_default())?,
        "Open" | "Click" => {
            let (engagement, field) = if base.event == "Open" {
                (event.open, "open.timestamp")
            } else {
                (event.click, "click.timestamp")
            };
            let o = engagement.unwrap_or_default();
            let template = MailRecord {
                // When the recipient opened the message or clicked the link.
                t: event_time(field, o.timestamp.as_deref())?,
                ip: some(o.ip_address),
                user_agent: some(o.user_agent),
                link: some(o.link),
                ..base
            };
            to_destination(template, destination)
        }
        "Subscription" => {
            let s = event.subscription.unwrap_or_default();
            let template = MailRecord {
                // When the recipient changed their subscription.
                t: event_time("subscription.timestamp", s.timestamp.as_deref())?,
                contact_list: some(s.contact_list),
                ..base
            };
            to_destination(template, destination)
        }
        "Reject" => {
            let template = MailRecord {
                // A reject has no time of its own: SES rejects when it accepts the call.
                t: sent_t("mail.timestamp")?,
                reject_reason: some(event.reject.unwrap_or_default().reason),
                ..base
            };
            to_destination(template, destination)
        }
        "Rendering Failure" | "RenderingFailure" => {
            let f = event.failure.unwrap_or_default();
            let template = MailRecord {
                // Rendering fails when the message is sent.
                t: sent_t("mail.timestamp")?,
                template: some(f.template_name),
                error_message: some(f.error_message),
                ..base
            };
            to_destination(template, destination)
        }
        // Send, and any type SES adds later: the event happened when the mail was sent.
        _ => {
            let template = MailRecord {
                t: sent_t("mail.timestamp")?,
                ..base
            };
            to_destination(template, destination)
        }
    };
    for record in &mut out {
        record.reason = reason_for(record).map(|c| c.as_str().to_string());
    }
    Ok(out)
}

/// The fields every record of an event shares, from its `mail` object (time still 0), and
/// `mail.destination`.
fn mail_fields(
    kind: String,
    notification: bool,
    mail: Mail,
) -> Result<(MailRecord, Vec<String>), ParseError> {
    let message_id = some(mail.message_id).ok_or(ParseError::MissingField("mail.messageId"))?;
    let sent = match mail.timestamp.as_deref() {
        Some(ts) => Some(parse_time(ts).ok_or_else(|| ParseError::invalid("mail.timestamp", ts))?),
        None => None,
    };
    let headers = mail.common_headers.unwrap_or_default();
    // The From header says who the reader saw; `mail.source` (the envelope sender) is the
    // fallback when SES did not include headers.
    let from_header = headers.from.into_iter().next().or(mail.source);
    let (from_name, from) = match from_header.as_deref().map(parse_mailbox) {
        Some((name, address)) => (name, some(Some(address))),
        None => (None, None),
    };
    let base = MailRecord {
        v: SCHEMA_VERSION,
        t: 0,
        event: kind,
        notification,
        message_id,
        sent,
        from,
        from_name,
        subject: some(headers.subject.map(|s| decode_header(&s).into_owned())),
        config_set: mail
            .tags
            .and_then(|t| t.configuration_set.into_iter().next()),
        ..MailRecord::default()
    };
    Ok((base, mail.destination))
}

/// A bounce: one record per bounced recipient.
fn bounced(base: MailRecord, b: Bounce) -> Result<Vec<MailRecord>, ParseError> {
    let template = MailRecord {
        // When the ISP sent the bounce.
        t: event_time("bounce.timestamp", b.timestamp.as_deref())?,
        bounce_type: some(b.bounce_type),
        bounce_subtype: some(b.bounce_sub_type),
        reporting_mta: some(b.reporting_mta),
        remote_mta_ip: some(b.remote_mta_ip),
        feedback_id: some(b.feedback_id),
        ..base
    };
    Ok(per_recipient(template, b.bounced_recipients, |r, to| {
        r.recipient = some(to.email_address);
        // DSN fields, only present when the ISP sent a DSN.
        r.action = some(to.action);
        r.status = some(to.status);
        r.diagnostic = some(to.diagnostic_code);
    }))
}

/// A complaint: one record per complaining recipient.
fn complained(base: MailRecord, c: Complaint) -> Result<Vec<MailRecord>, ParseError> {
    let template = MailRecord {
        // When the ISP sent the complaint.
        t: event_time("complaint.timestamp", c.timestamp.as_deref())?,
        feedback_id: some(c.feedback_id),
        // Feedback-report fields, only with a feedback report.
        complaint_type: some(c.complaint_feedback_type),
        complaint_subtype: some(c.complaint_sub_type),
        user_agent: some(c.user_agent),
        ..base
    };
    Ok(per_recipient(template, c.complained_recipients, |r, to| {
        r.recipient = some(to.email_address);
    }))
}

/// A delivery: one record per recipient the receiving server accepted.
fn delivered(base: MailRecord, d: Delivery) -> Result<Vec<MailRecord>, ParseError> {
    let template = MailRecord {
        // When the receiving server accepted the message.
        t: event_time("delivery.timestamp", d.timestamp.as_deref())?,
        smtp_response: some(d.smtp_response),
        processing_ms: d.processing_time_millis,
        reporting_mta: some(d.reporting_mta),
        remote_mta_ip: some(d.remote_mta_ip),
        ..base
    };
    Ok(per_recipient(template, d.recipients, |r, to| {
        r.recipient = some(Some(to));
    }))
}

/// A delivery delay: one record per delayed recipient.
fn delayed(base: MailRecord, d: DeliveryDelay) -> Result<Vec<MailRecord>, ParseError> {
    let expires = match d.expiration_time.as_deref() {
        Some(ts) => Some(
            parse_time(ts)
                .ok_or_else(|| ParseError::invalid("deliveryDelay.expirationTime", ts))?,
        ),
        None => None,
    };
    let template = MailRecord {
        // When the delay occurred.
        t: event_time("deliveryDelay.timestamp", d.timestamp.as_deref())?,
        delay_type: some(d.delay_type),
        expires,
        reporting_mta: some(d.reporting_mta),
        ..base
    };
    Ok(per_recipient(template, d.delayed_recipients, |r, to| {
        r.recipient = some(to.email_address);
        r.status = some(to.status);
        r.diagnostic = some(to.diagnostic_code);
    }))
}

/// One record per item, or the template alone when the list is empty, so that an event without
/// recipients is still seen.
fn per_recipient<T>(
    template: MailRecord,
    items: Vec<T>,
    fill: impl Fn(&mut MailRecord, T),
) -> Vec<MailRecord> {
    if items.is_empty() {
        return vec![template];
    }
    items
        .into_iter()
        .map(|item| {
            let mut record = template.clone();
            fill(&mut record, item);
            record
        })
        .collect()
}

/// One record per `mail.destination` address (events that concern every recipient).
fn to_destination(template: MailRecord, destination: Vec<String>) -> Vec<MailRecord> {
    per_recipient(template, destination, |r, to| r.recipient = some(Some(to)))
}

/// An event's own time, which every record needs.
fn event_time(field: &'static str, value: Option<&str>) -> Result<i64, ParseError> {
    let value = value.ok_or(ParseError::MissingField(field))?;
    parse_time(value).ok_or_else(|| ParseError::invalid(field, value))
}

/// Microseconds since the epoch from an SES timestamp: RFC 3339 (`2017-08-05T00:41:02.669Z`), or
/// the notification doc's `2018-10-08T14:05:45 +0000` (space, offset without colon).
fn parse_time(value: &str) -> Option<i64> {
    let value = value.trim();
    if let Ok(ts) = value.parse::<jiff::Timestamp>() {
        return Some(ts.as_microsecond());
    }
    let (date_time, offset) = value.rsplit_once(' ')?;
    jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f %z", format!("{date_time} {offset}"))
        .and_then(|tm| tm.to_timestamp())
        .ok()
        .map(|ts| ts.as_microsecond())
}

/// `None` for an empty string: absent is absent, however SES spells it.
fn some(value: Option<String>) -> Option<String> {
    value.filter(|s| !s.is_empty())
}

/// A list that may also be `null`.
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Every shape an SES event arrives in: the event itself, or an envelope around it.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Envelope {
    /// Event publishing.
    event_type: Option<String>,
    /// Identity feedback notifications.
    notification_type: Option<String>,
    mail: Option<Mail>,
    bounce: Option<Bounce>,
    complaint: Option<Complaint>,
    delivery: Option<Delivery>,
    delivery_delay: Option<DeliveryDelay>,
    reject: Option<Reject>,
    open: Option<Engagement>,
    click: Option<Engagement>,
    /// Rendering Failure's payload.
    failure: Option<Failure>,
    subscription: Option<Subscription>,
    /// EventBridge: the SES event is `detail`.
    detail: Option<Box<Envelope>>,
    /// SNS notification: the SES event is the JSON text of `Message`.
    #[serde(rename = "Message")]
    message: Option<String>,
    /// Lambda SNS or SQS event.
    #[serde(rename = "Records")]
    records: Option<Vec<LambdaRecord>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LambdaRecord {
    #[serde(rename = "Sns")]
    sns: Option<SnsMessage>,
    /// SQS: the body is the SNS notification (or the SES event) as text.
    body: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SnsMessage {
    #[serde(rename = "Message")]
    message: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Mail {
    timestamp: Option<String>,
    message_id: Option<String>,
    source: Option<String>,
    #[serde(deserialize_with = "list")]
    destination: Vec<String>,
    common_headers: Option<CommonHeaders>,
    tags: Option<Tags>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CommonHeaders {
    #[serde(deserialize_with = "list")]
    from: Vec<String>,
    subject: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Tags {
    #[serde(rename = "ses:configuration-set", deserialize_with = "list")]
    configuration_set: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Bounce {
    bounce_type: Option<String>,
    bounce_sub_type: Option<String>,
    #[serde(deserialize_with = "list")]
    bounced_recipients: Vec<BouncedRecipient>,
    timestamp: Option<String>,
    feedback_id: Option<String>,
    #[serde(rename = "reportingMTA")]
    reporting_mta: Option<String>,
    remote_mta_ip: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct BouncedRecipient {
    email_address: Option<String>,
    action: Option<String>,
    status: Option<String>,
    diagnostic_code: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Complaint {
    #[serde(deserialize_with = "list")]
    complained_recipients: Vec<Recipient>,
    timestamp: Option<String>,
    feedback_id: Option<String>,
    complaint_sub_type: Option<String>,
    user_agent: Option<String>,
    complaint_feedback_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Recipient {
    email_address: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Delivery {
    timestamp: Option<String>,
    processing_time_millis: Option<u64>,
    #[serde(deserialize_with = "list")]
    recipients: Vec<String>,
    smtp_response: Option<String>,
    #[serde(rename = "reportingMTA")]
    reporting_mta: Option<String>,
    remote_mta_ip: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct DeliveryDelay {
    delay_type: Option<String>,
    #[serde(deserialize_with = "list")]
    delayed_recipients: Vec<DelayedRecipient>,
    expiration_time: Option<String>,
    #[serde(rename = "reportingMTA")]
    reporting_mta: Option<String>,
    timestamp: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct DelayedRecipient {
    email_address: Option<String>,
    status: Option<String>,
    diagnostic_code: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Reject {
    reason: Option<String>,
}

/// Open and Click payloads (Click adds `link`).
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Engagement {
    ip_address: Option<String>,
    timestamp: Option<String>,
    user_agent: Option<String>,
    link: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Failure {
    template_name: Option<String>,
    error_message: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Subscription {
    contact_list: Option<String>,
    timestamp: Option<String>,
}

/// One document of a Firehose error-prefix object (firehose.md §4).
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct FailedRecord {
    arrival_timestamp: Option<serde_json::Value>,
    error_code: Option<String>,
    error_message: Option<String>,
    raw_data: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Each record as (is it JSON, its text).
    type Kinds = Vec<(bool, String)>;

    fn kinds(plain: &[u8]) -> Kinds {
        split_records(plain)
            .map(|r| match r {
                RawRecord::Json { bytes, .. } => (true, String::from_utf8_lossy(bytes).into()),
                RawRecord::Unparsable { bytes, .. } => {
                    (false, String::from_utf8_lossy(bytes).into())
                }
            })
            .collect()
    }

    #[test]
    fn framing_table() {
        let ok = |s: &str| (true, s.to_string());
        let bad = |s: &str| (false, s.to_string());
        let cases: Vec<(&str, &[u8], Kinds)> = vec![
            (
                "ndjson",
                b"{\"a\":1}\n{\"b\":2}\n",
                vec![ok("{\"a\":1}"), ok("{\"b\":2}")],
            ),
            (
                "concatenated",
                b"{\"a\":1}{\"b\":2}",
                vec![ok("{\"a\":1}"), ok("{\"b\":2}")],
            ),
            (
                "crlf_and_blank_lines",
                b"\r\n{\"a\":1}\r\n\r\n\n{\"b\":2}\r\n",
                vec![ok("{\"a\":1}"), ok("{\"b\":2}")],
            ),
            (
                "mixed",
                b"{\"a\":1}{\"b\":2}\n{\"c\":3}",
                vec![ok("{\"a\":1}"), ok("{\"b\":2}"), ok("{\"c\":3}")],
            ),
            (
                "garbage_line_between",
                b"{\"a\":1}\nnot json {x}\r\n{\"b\":2}\n",
                vec![ok("{\"a\":1}"), bad("not json {x}"), ok("{\"b\":2}")],
            ),
            (
                "truncated_line_between",
                b"{\"a\":1}\n{\"a\":\"cut\n{\"b\":2}\n",
                vec![ok("{\"a\":1}"), bad("{\"a\":\"cut"), ok("{\"b\":2}")],
            ),
            (
                "unclosed_object_does_not_swallow_next_line",
                b"{\"a\":[\n{\"b\":2}\n{\"c\":3}",
                vec![bad("{\"a\":["), ok("{\"b\":2}"), ok("{\"c\":3}")],
            ),
            (
                "garbage_then_concatenated",
                b"{\"a\":1}xx}{\"b\":2}",
                vec![ok("{\"a\":1}"), bad("xx}"), ok("{\"b\":2}")],
            ),
            (
                "cut_record_then_concatenated",
                b"{\"a\":{\"x\":1}{\"b\":2}",
                vec![bad("{\"a\":{\"x\":1}"), ok("{\"b\":2}")],
            ),
            (
                "truncated_last",
                b"{\"a\":1}\n{\"b\":",
                vec![ok("{\"a\":1}"), bad("{\"b\":")],
            ),
            ("bom", b"\xEF\xBB\xBF{\"a\":1}", vec![ok("{\"a\":1}")]),
            (
                "pretty_printed",
                b"{\n  \"a\": 1\n}\n",
                vec![ok("{\n  \"a\": 1\n}")],
            ),
            ("empty", b"", vec![]),
            ("only_whitespace", b" \r\n\n", vec![]),
        ];
        for (name, input, want) in cases {
            assert_eq!(kinds(input), want, "{name}");
        }
    }

    #[test]
    fn unparsable_chunk_says_why() {
        let records: Vec<_> = split_records(b"{\"a\":1}\n{\"b\":").collect();
        let RawRecord::Unparsable { offset, error, .. } = &records[1] else {
            panic!("{records:?}");
        };
        assert_eq!(*offset, 8);
        assert!(error.starts_with("JSON record is cut short"), "{error}");
    }

    #[test]
    fn time_formats() {
        let cases = [
            (
                "rfc3339_millis",
                "2017-08-05T00:41:02.669Z",
                Some(1_501_893_662_669_000),
            ),
            (
                "notification_doc_quirk",
                "2018-10-08T14:05:45 +0000",
                Some(1_539_007_545_000_000),
            ),
            (
                "offset_with_colon",
                "2018-10-08T23:05:45+09:00",
                Some(1_539_007_545_000_000),
            ),
            ("no_offset", "2018-10-08T14:05:45", None),
            ("garbage", "yesterday", None),
        ];
        for (name, input, want) in cases {
            assert_eq!(parse_time(input), want, "{name}");
        }
    }

    proptest! {
        #[test]
        fn parse_object_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let object = parse_object(&data);
            prop_assert_eq!(object.counts.mail + object.counts.bad, object.records.len());
        }

        #[test]
        fn parse_object_never_panics_on_json_like_input(
            s in r#"([{}\[\]":,\n\r ]|eventType|mail|"timestamp"|[a-z0-9]){0,80}"#
        ) {
            let _ = parse_object(s.as_bytes());
        }

        #[test]
        fn split_records_chunks_are_in_order_and_point_into_the_input(
            s in r#"([{}\[\]":,\n\r ]|[a-z0-9]){0,80}"#
        ) {
            let data = s.as_bytes();
            let mut next_free = 0;
            for raw in split_records(data) {
                let (offset, bytes) = match raw {
                    RawRecord::Json { offset, bytes } => (offset, bytes),
                    RawRecord::Unparsable { offset, bytes, .. } => (offset, bytes),
                };
                prop_assert!(offset >= next_free && !bytes.is_empty());
                prop_assert_eq!(data.get(offset..offset + bytes.len()), Some(bytes));
                next_free = offset + bytes.len();
            }
        }

        #[test]
        fn parse_firehose_error_object_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_firehose_error_object(&data);
        }

        #[test]
        fn parse_event_never_panics(s in ".{0,200}") {
            let _ = parse_event(&s);
        }
    }
}
