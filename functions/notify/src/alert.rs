//! The alert text: one digest per invocation batch, as a plain-text e-mail (SNS) and as Slack
//! Block Kit messages. Pure: no I/O, so the wording is pinned by golden tests.
//!
//! Limits that shape it:
//! - SNS `Subject`: no line breaks or control characters, under 100 characters. Older SNS docs
//!   demanded ASCII and some subscribers mangle anything else, so the subject is always ASCII
//!   (`[logdesk] 3 bounces, 1 complaint`) and the Japanese title is the body's first line.
//! - SNS `Message`: at most 256 KB; the body stops listing events well before that.
//! - Slack: at most 50 blocks per message, 3,000 characters per section text, 150 per header.
//!   A long digest is split across several messages (and Slack is sent at most about one per
//!   second, see [`crate::slack`]).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use logdesk_core::bounce::texts::{self, LabelKind};
use logdesk_core::bounce::{Lang, Severity, describe};
use logdesk_core::record::MailRecord;
use serde_json::{Value, json};

use crate::config::AlertKind;

/// Bytes of e-mail body after which events are summarised instead of listed (SNS takes 256 KB).
pub const EMAIL_BODY_BUDGET: usize = 200 * 1024;
/// Events per Slack message: a header plus two blocks (section, divider) per event stays
/// within Slack's 50 blocks.
pub const SLACK_EVENTS_PER_MESSAGE: usize = 20;
/// Slack messages per alert; events beyond these are counted, not listed.
pub const SLACK_MAX_MESSAGES: usize = 5;
/// Slack's limit on a section's text, in characters.
pub const SLACK_SECTION_MAX: usize = 3000;
/// Slack's limit on a header's text, in characters.
pub const SLACK_HEADER_MAX: usize = 150;
/// SNS requires a subject under 100 characters.
pub const SUBJECT_MAX: usize = 99;

/// One event to alert about, and the batch message it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEvent {
    /// Index of the source message (SNS record or SQS message) in the batch.
    pub source: usize,
    /// The event, for one recipient.
    pub record: MailRecord,
}

/// A digest of the events of one batch, ready to render.
#[derive(Debug, Clone)]
pub struct Alert {
    events: Vec<AlertEvent>,
    lang: Lang,
    tz: TimeZone,
}

/// The e-mail form of an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// ASCII subject, under 100 characters.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// One Slack webhook message and the batch messages whose events it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct SlackMessage {
    /// The JSON payload (`text` fallback plus `blocks`).
    pub payload: Value,
    /// Source indexes of the events in it (the last message also owns the events counted but
    /// not listed).
    pub sources: BTreeSet<usize>,
}

/// Where an event goes in the digest: permanent bounces first, transient ones after.
fn group(record: &MailRecord) -> u8 {
    match AlertKind::from_event(&record.event) {
        Some(AlertKind::Bounce) => match bounce_class(record) {
            BounceClass::Permanent => 0,
            BounceClass::Undetermined => 1,
            BounceClass::Transient => 2,
        },
        Some(AlertKind::Complaint) => 3,
        Some(AlertKind::Reject) => 4,
        Some(AlertKind::RenderingFailure) => 5,
        Some(AlertKind::DeliveryDelay) => 6,
        None => 7,
    }
}

enum BounceClass {
    Permanent,
    Transient,
    Undetermined,
}

fn bounce_class(record: &MailRecord) -> BounceClass {
    match record.bounce_type.as_deref().map(str::trim) {
        Some(t) if t.eq_ignore_ascii_case("Permanent") => BounceClass::Permanent,
        Some(t) if t.eq_ignore_ascii_case("Transient") => BounceClass::Transient,
        _ => BounceClass::Undetermined,
    }
}

/// Counts per kind, in title order.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    bounce: usize,
    complaint: usize,
    reject: usize,
    rendering: usize,
    delay: usize,
}

impl Counts {
    fn of(events: &[AlertEvent]) -> Counts {
        let mut c = Counts::default();
        for e in events {
            match AlertKind::from_event(&e.record.event) {
                Some(AlertKind::Bounce) => c.bounce += 1,
                Some(AlertKind::Complaint) => c.complaint += 1,
                Some(AlertKind::Reject) => c.reject += 1,
                Some(AlertKind::RenderingFailure) => c.rendering += 1,
                Some(AlertKind::DeliveryDelay) => c.delay += 1,
                None => {}
            }
        }
        c
    }

    fn title(&self, lang: Lang) -> String {
        let parts: [(usize, &str, &str, &str); 5] = [
            (self.bounce, "不達", "bounce", "bounces"),
            (self.complaint, "迷惑メール報告", "complaint", "complaints"),
            (
                self.reject,
                "送信中止",
                "rejected message",
                "rejected messages",
            ),
            (
                self.rendering,
                "テンプレートエラー",
                "rendering failure",
                "rendering failures",
            ),
            (self.delay, "配信遅延", "delivery delay", "delivery delays"),
        ];
        let shown = parts.iter().filter(|p| p.0 > 0);
        match lang {
            Lang::Ja => shown
                .map(|(n, ja, _, _)| format!("{ja} {n}件"))
                .collect::<Vec<_>>()
                .join("・"),
            Lang::En => shown
                .map(|(n, _, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// The words of the alert, per language.
struct Words {
    intro: &'static str,
    recipient: &'static str,
    subject: &'static str,
    from: &'static str,
    time: &'static str,
    sent: &'static str,
    ses_type: &'static str,
    template: &'static str,
    explanation: &'static str,
    action: &'static str,
    diagnostic: &'static str,
    error: &'static str,
    message_id: &'static str,
    severity: &'static str,
    provider: &'static str,
    advice: &'static str,
    legend: &'static str,
    unknown: &'static str,
    no_subject: &'static str,
    footer: &'static str,
    /// Between a label and its value: full-width colon in Japanese.
    sep: &'static str,
}

const JA: Words = Words {
    intro: "Amazon SES から、次のメールについて配信の問題が報告されました。",
    recipient: "宛先",
    subject: "件名",
    from: "差出人",
    time: "発生日時",
    sent: "送信日時",
    ses_type: "SES の分類（技術情報）",
    template: "テンプレート名",
    explanation: "原因",
    action: "対応",
    diagnostic: "受信側サーバーの応答（技術情報）",
    error: "エラー内容",
    message_id: "メッセージ ID",
    severity: "重大度",
    provider: "メールアドレスの種類",
    advice: "この携帯会社・プロバイダーの場合",
    legend: "重大度の見方",
    unknown: "（不明）",
    no_subject: "（件名なし）",
    footer: "このメールは logdesk が自動で送信しています。",
    sep: "：",
};

const EN: Words = Words {
    intro: "Amazon SES reported delivery problems for the following messages.",
    recipient: "To",
    subject: "Subject",
    from: "From",
    time: "Event time",
    sent: "Sent",
    ses_type: "SES type (technical)",
    template: "Template",
    explanation: "Why",
    action: "What to do",
    diagnostic: "Receiving server's reply (technical)",
    error: "Error",
    message_id: "Message ID",
    severity: "Severity",
    provider: "Address",
    advice: "For this provider",
    legend: "Severity key",
    unknown: "(unknown)",
    no_subject: "(no subject)",
    footer: "This message was sent automatically by logdesk.",
    sep: ": ",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

/// One event's fields, already in words (not yet escaped for Slack).
struct Entry {
    heading: String,
    recipient: String,
    subject: String,
    from: String,
    time: String,
    sent: Option<String>,
    /// (label, value): SES's own classification, or the template name.
    ses_type: Option<(&'static str, String)>,
    explanation: String,
    action: String,
    severity: Severity,
    /// "docomo のメールアドレス", when the provider is one we know.
    provider: Option<String>,
    /// Advice that fits the provider.
    advice: Option<&'static str>,
    /// (label, value): the diagnostic code, or the rendering error.
    diagnostic: Option<(&'static str, String)>,
    message_id: String,
}

impl Alert {
    /// A digest of `events` (in any order): they are sorted permanent bounces first, then by
    /// time and recipient.
    pub fn new(mut events: Vec<AlertEvent>, lang: Lang, tz: TimeZone) -> Alert {
        events.sort_by(|a, b| {
            (group(&a.record), a.record.t, &a.record.recipient, a.source).cmp(&(
                group(&b.record),
                b.record.t,
                &b.record.recipient,
                b.source,
            ))
        });
        Alert { events, lang, tz }
    }

    /// The events, in digest order.
    pub fn events(&self) -> &[AlertEvent] {
        &self.events
    }

    /// Whether there is nothing to say.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Source indexes of every event.
    pub fn sources(&self) -> BTreeSet<usize> {
        self.events.iter().map(|e| e.source).collect()
    }

    /// The title with counts, in the alert's language ("不達 3件・迷惑メール報告 1件").
    pub fn title(&self) -> String {
        Counts::of(&self.events).title(self.lang)
    }

    /// The e-mail: ASCII subject and plain-text body.
    pub fn email(&self) -> Email {
        let w = words(self.lang);
        let counts = Counts::of(&self.events);
        let subject = email_subject(&counts.title(Lang::En), &self.events);
        let mut body = String::new();
        let _ = writeln!(body, "{}", counts.title(self.lang));
        let _ = writeln!(body);
        let _ = writeln!(body, "{}", w.intro);
        if self.events.len() > 1 {
            // A short index first, so a long digest can be scanned before it is read.
            let _ = writeln!(body);
            for (i, event) in self.events.iter().enumerate() {
                let e = self.entry(event);
                let entry = format!("{:>3}. {} — {}\n", i + 1, e.recipient, e.heading);
                if body.len() + entry.len() > EMAIL_BODY_BUDGET / 4 {
                    let _ = writeln!(body, "     …");
                    break;
                }
                body.push_str(&entry);
            }
        }
        let mut listed = 0;
        for (i, event) in self.events.iter().enumerate() {
            let mut block = String::new();
            let e = self.entry(event);
            let _ = writeln!(block);
            let _ = writeln!(block, "■ {}. {}", i + 1, e.heading);
            let mut line = |label: &str, value: &str| line(&mut block, label, w.sep, value);
            line(w.severity, &severity_text(e.severity, self.lang));
            line(w.recipient, &e.recipient);
            if let Some(provider) = &e.provider {
                line(w.provider, provider);
            }
            line(w.subject, &e.subject);
            line(w.from, &e.from);
            if let Some(sent) = &e.sent {
                line(w.sent, sent);
            }
            line(w.time, &e.time);
            line(w.explanation, &e.explanation);
            line(w.action, &e.action);
            if let Some(advice) = e.advice {
                line(w.advice, advice);
            }
            if let Some((label, t)) = &e.ses_type {
                line(label, t);
            }
            if let Some((label, d)) = &e.diagnostic {
                line(label, d);
            }
            line(w.message_id, &e.message_id);
            if body.len() + block.len() > EMAIL_BODY_BUDGET {
                break;
            }
            body.push_str(&block);
            listed += 1;
        }
        let omitted = self.events.len() - listed;
        if omitted > 0 {
            let _ = writeln!(body);
            let _ = writeln!(body, "{}", omitted_note(self.lang, omitted));
        }
        let _ = writeln!(body);
        let _ = writeln!(body, "{}", self.legend());
        let _ = writeln!(body);
        let _ = writeln!(body, "--");
        let _ = writeln!(body, "{}", w.footer);
        let _ = writeln!(body, "{}", tz_note(self.lang, &self.tz));
        Email { subject, body }
    }

    /// The Slack messages, split to fit Slack's limits.
    pub fn slack(&self) -> Vec<SlackMessage> {
        let title = self.title();
        let w = words(self.lang);
        let listed = self
            .events
            .len()
            .min(SLACK_EVENTS_PER_MESSAGE * SLACK_MAX_MESSAGES);
        let chunks: Vec<&[AlertEvent]> = self.events[..listed]
            .chunks(SLACK_EVENTS_PER_MESSAGE)
            .collect();
        let total = chunks.len();
        let mut out = Vec::with_capacity(total);
        let mut number = 0;
        for (part, chunk) in chunks.iter().enumerate() {
            let header = if total > 1 {
                format!("{title} ({}/{total})", part + 1)
            } else {
                title.clone()
            };
            let header = cut(&header, SLACK_HEADER_MAX);
            let mut blocks = vec![json!({
                "type": "header",
                "text": {"type": "plain_text", "text": header, "emoji": true}
            })];
            if part == 0 {
                blocks.push(json!({
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": slack_escape(w.intro)}]
                }));
            }
            let mut sources: BTreeSet<usize> = BTreeSet::new();
            for (i, event) in chunk.iter().enumerate() {
                number += 1;
                sources.insert(event.source);
                if i > 0 {
                    blocks.push(json!({"type": "divider"}));
                }
                blocks.push(json!({
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": self.slack_section(number, event)}
                }));
            }
            if part + 1 == total {
                for e in &self.events[listed..] {
                    sources.insert(e.source);
                }
                let omitted = self.events.len() - listed;
                let mut note = if omitted > 0 {
                    format!("{} ", omitted_note(self.lang, omitted))
                } else {
                    String::new()
                };
                note.push_str(&tz_note(self.lang, &self.tz));
                note.push('\n');
                note.push_str(&self.legend());
                blocks.push(json!({
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": slack_escape(&note)}]
                }));
            }
            out.push(SlackMessage {
                payload: json!({"text": header, "blocks": blocks}),
                sources,
            });
        }
        out
    }

    fn slack_section(&self, number: usize, event: &AlertEvent) -> String {
        let w = words(self.lang);
        let e = self.entry(event);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} *{number}. {}*",
            severity_emoji(e.severity),
            slack_escape(&cut(&e.heading, 200))
        );
        let sep = w.sep.trim_end();
        let mut field = |label: &str, value: &str, max: usize| {
            let _ = writeln!(s, "*{label}{sep}* {}", slack_escape(&cut(value, max)));
        };
        field(w.severity, &severity_text(e.severity, self.lang), 200);
        field(w.recipient, &e.recipient, 300);
        if let Some(provider) = &e.provider {
            field(w.provider, provider, 200);
        }
        field(w.subject, &e.subject, 300);
        field(w.from, &e.from, 300);
        if let Some(sent) = &e.sent {
            field(w.sent, sent, 200);
        }
        field(w.time, &e.time, 200);
        field(w.explanation, &e.explanation, 400);
        field(w.action, &e.action, 400);
        if let Some(advice) = e.advice {
            field(w.advice, advice, 600);
        }
        if let Some((label, t)) = &e.ses_type {
            field(label, t, 300);
        }
        if let Some((label, d)) = &e.diagnostic {
            // A code block keeps the server's words apart; ``` inside would close it early.
            let d = cut(d, 900).replace("```", "'''");
            let _ = writeln!(s, "*{label}{sep}*\n```{}```", slack_escape(&d));
        }
        let _ = write!(
            s,
            "*{}{sep}* `{}`",
            w.message_id,
            slack_escape(&cut(&e.message_id, 200)).replace('`', "'")
        );
        cut(&s, SLACK_SECTION_MAX)
    }

    fn entry(&self, event: &AlertEvent) -> Entry {
        let w = words(self.lang);
        let lang = self.lang;
        let r = &event.record;
        // Computed now from the stored fields: today's rules, not the ingest-time reason.
        let d = describe(r, lang);
        let title = d.as_ref().map_or(w.unknown, |d| d.title);
        let heading = match lang {
            Lang::Ja => format!("【{}】{}", kind_label(r, lang), title),
            Lang::En => format!("[{}] {}", kind_label(r, lang), title),
        };
        let from = match (r.from_name.as_deref(), r.from.as_deref()) {
            (Some(name), Some(addr)) if !name.trim().is_empty() => format!("{name} <{addr}>"),
            (_, Some(addr)) => addr.to_owned(),
            (Some(name), None) => name.to_owned(),
            (None, None) => w.unknown.to_owned(),
        };
        let time = self.time(r.t).unwrap_or_else(|| w.unknown.to_owned());
        let sent = r.sent.filter(|s| *s != r.t).and_then(|s| self.time(s));
        let rendering = AlertKind::from_event(&r.event) == Some(AlertKind::RenderingFailure);
        let (label, diagnostic) = if rendering {
            (w.error, r.error_message.as_deref())
        } else {
            (w.diagnostic, r.diagnostic.as_deref())
        };
        let diagnostic = diagnostic
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| (label, d.to_owned()));
        let ses_type = if rendering {
            r.template.clone().map(|t| (w.template, t))
        } else {
            ses_type(r, lang).map(|t| (w.ses_type, t))
        };
        Entry {
            heading,
            recipient: r.recipient.clone().unwrap_or_else(|| w.unknown.to_owned()),
            subject: r
                .subject
                .clone()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| w.no_subject.to_owned()),
            from,
            time,
            sent,
            ses_type,
            explanation: d.as_ref().map_or("", |d| d.explanation).to_owned(),
            action: d.as_ref().map_or("", |d| d.action).to_owned(),
            severity: d.as_ref().map_or(Severity::Unknown, |d| d.severity),
            provider: d.as_ref().and_then(|d| d.provider_label.clone()),
            advice: d.as_ref().and_then(|d| d.provider_advice),
            diagnostic,
            message_id: r.message_id.clone(),
        }
    }

    /// `2026-11-22 10:15 (JST)` in the display zone (full-width parentheses in Japanese).
    fn time(&self, micros: i64) -> Option<String> {
        let ts = Timestamp::from_microsecond(micros).ok()?;
        let format = match self.lang {
            Lang::Ja => "%Y-%m-%d %H:%M（%Z）",
            Lang::En => "%Y-%m-%d %H:%M (%Z)",
        };
        Some(ts.to_zoned(self.tz.clone()).strftime(format).to_string())
    }
}

/// `宛先：value`, with continuation lines of a multi-line value indented.
fn line(out: &mut String, label: &str, sep: &str, value: &str) {
    let mut lines = value.lines();
    let _ = writeln!(out, "{label}{sep}{}", lines.next().unwrap_or_default());
    for more in lines {
        let _ = writeln!(out, "    {more}");
    }
}

/// "Bounce (permanent)" and friends.
fn kind_label(r: &MailRecord, lang: Lang) -> &'static str {
    let ja = lang == Lang::Ja;
    match AlertKind::from_event(&r.event) {
        Some(AlertKind::Bounce) => match (bounce_class(r), ja) {
            (BounceClass::Permanent, true) => "不達（恒久的）",
            (BounceClass::Permanent, false) => "Bounce, permanent",
            (BounceClass::Transient, true) => "不達（一時的）",
            (BounceClass::Transient, false) => "Bounce, temporary",
            (BounceClass::Undetermined, true) => "不達（種別不明）",
            (BounceClass::Undetermined, false) => "Bounce, type unknown",
        },
        Some(AlertKind::Complaint) if ja => "迷惑メール報告",
        Some(AlertKind::Complaint) => "Complaint",
        Some(AlertKind::Reject) if ja => "送信中止",
        Some(AlertKind::Reject) => "Rejected",
        Some(AlertKind::RenderingFailure) if ja => "テンプレートエラー",
        Some(AlertKind::RenderingFailure) => "Rendering failure",
        Some(AlertKind::DeliveryDelay) if ja => "配信遅延",
        Some(AlertKind::DeliveryDelay) => "Delivery delay",
        None if ja => "その他",
        None => "Other",
    }
}

/// SES's own classification, translated, with SES's words kept for whoever looks them up:
/// 「恒久的 / 一般（Permanent / General） / 5.1.1」.
fn ses_type(r: &MailRecord, lang: Lang) -> Option<String> {
    let parts: Vec<(LabelKind, &str)> = match AlertKind::from_event(&r.event)? {
        AlertKind::Bounce => [
            (LabelKind::BounceType, r.bounce_type.as_deref()),
            (LabelKind::BounceSubtype, r.bounce_subtype.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect(),
        AlertKind::Complaint => [
            (LabelKind::ComplaintType, r.complaint_type.as_deref()),
            (LabelKind::BounceSubtype, r.complaint_subtype.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect(),
        AlertKind::Reject => r
            .reject_reason
            .as_deref()
            .map(|v| (LabelKind::RejectReason, v))
            .into_iter()
            .collect(),
        AlertKind::DeliveryDelay => r
            .delay_type
            .as_deref()
            .map(|v| (LabelKind::DelayType, v))
            .into_iter()
            .collect(),
        AlertKind::RenderingFailure => Vec::new(),
    };
    let parts: Vec<(LabelKind, &str)> = parts
        .into_iter()
        .map(|(k, v)| (k, v.trim()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let mut out = String::new();
    if !parts.is_empty() {
        let originals: Vec<&str> = parts.iter().map(|(_, v)| *v).collect();
        let translated: Vec<&str> = parts
            .iter()
            .map(|(k, v)| texts::translate(*k, v, lang).unwrap_or(v))
            .collect();
        out = if translated == originals {
            originals.join(" / ")
        } else if lang == Lang::Ja {
            format!("{}（{}）", translated.join(" / "), originals.join(" / "))
        } else {
            format!("{} ({})", translated.join(" / "), originals.join(" / "))
        };
    }
    if let Some(status) = r.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if !out.is_empty() {
            out.push_str(" / ");
        }
        out.push_str(status);
    }
    (!out.is_empty()).then_some(out)
}

/// 「恒久的な問題」: the legend at the end says what each one means.
fn severity_text(severity: Severity, lang: Lang) -> String {
    texts::severity_label(severity, lang).0.to_owned()
}

/// The mark that sets severities apart at a glance in Slack.
fn severity_emoji(severity: Severity) -> &'static str {
    match severity {
        Severity::Permanent => ":red_circle:",
        Severity::NeedsFix => ":large_orange_circle:",
        Severity::Temporary => ":large_yellow_circle:",
        Severity::Info => ":large_blue_circle:",
        Severity::Unknown => ":white_circle:",
    }
}

impl Alert {
    /// One line naming every severity in the digest and what it means.
    fn legend(&self) -> String {
        let w = words(self.lang);
        let present: BTreeSet<Severity> = self
            .events
            .iter()
            .map(|e| describe(&e.record, self.lang).map_or(Severity::Unknown, |d| d.severity))
            .collect();
        let items: Vec<String> = texts::SEVERITIES
            .iter()
            .filter(|s| present.contains(s))
            .map(|s| {
                let (name, meaning) = texts::severity_label(*s, self.lang);
                match self.lang {
                    Lang::Ja => format!("{name}＝{meaning}"),
                    Lang::En => format!("{name} = {meaning}"),
                }
            })
            .collect();
        match self.lang {
            Lang::Ja => format!("{}{}{}", w.legend, w.sep, items.join("／")),
            Lang::En => format!("{}{}{}", w.legend, w.sep, items.join(" / ")),
        }
    }
}

fn omitted_note(lang: Lang, n: usize) -> String {
    match lang {
        Lang::Ja => format!("ほか{n}件は表示を省略しました（見出しの件数には含まれています）。"),
        Lang::En => format!("{n} more not listed here (they are counted in the title)."),
    }
}

fn tz_note(lang: Lang, tz: &TimeZone) -> String {
    let name = tz.iana_name().unwrap_or("UTC");
    match lang {
        Lang::Ja if name == "Asia/Tokyo" => "日時は日本時間（JST）で表示しています。".to_owned(),
        Lang::Ja => format!("日時は {name} の時刻で表示しています。"),
        Lang::En => format!("Times are in {name}."),
    }
}

/// `[logdesk] 3 bounces, 1 complaint`, plus the recipient when there is only one; printable
/// ASCII only, under 100 characters.
fn email_subject(counts: &str, events: &[AlertEvent]) -> String {
    let mut subject = format!("[logdesk] {counts}");
    if let [only] = events
        && let Some(to) = &only.record.recipient
    {
        subject.push_str(": ");
        subject.push_str(to);
    }
    let ascii: String = subject
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if ascii.len() <= SUBJECT_MAX {
        return ascii;
    }
    // Every char is ASCII here, so byte indexes are char indexes.
    format!("{}...", &ascii[..SUBJECT_MAX - 3])
}

/// Slack mrkdwn needs `&`, `<` and `>` escaped (an address like `<a@b>` would become a link).
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// At most `max` characters, ending in `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounce(source: usize, t: i64, bounce_type: &str, to: &str) -> AlertEvent {
        AlertEvent {
            source,
            record: MailRecord {
                t,
                event: "Bounce".into(),
                message_id: format!("m{source}"),
                recipient: Some(to.into()),
                bounce_type: Some(bounce_type.into()),
                ..MailRecord::default()
            },
        }
    }

    fn complaint(source: usize) -> AlertEvent {
        AlertEvent {
            source,
            record: MailRecord {
                event: "Complaint".into(),
                ..MailRecord::default()
            },
        }
    }

    #[test]
    fn titles_count_each_kind() {
        let events = vec![
            bounce(0, 1, "Permanent", "a@x"),
            bounce(1, 2, "Transient", "b@x"),
            bounce(2, 3, "Permanent", "c@x"),
            complaint(3),
        ];
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
        let ja = Alert::new(events.clone(), Lang::Ja, tokyo.clone());
        assert_eq!(ja.title(), "不達 3件・迷惑メール報告 1件");
        let en = Alert::new(events, Lang::En, tokyo);
        assert_eq!(en.title(), "3 bounces, 1 complaint");
        assert_eq!(en.email().subject, "[logdesk] 3 bounces, 1 complaint");
    }

    #[test]
    fn permanent_bounces_come_before_transient_ones() {
        let events = vec![
            bounce(0, 1, "Transient", "a@x"),
            bounce(1, 5, "Permanent", "b@x"),
            bounce(2, 3, "Permanent", "c@x"),
        ];
        let alert = Alert::new(events, Lang::En, TimeZone::UTC);
        let order: Vec<usize> = alert.events().iter().map(|e| e.source).collect();
        assert_eq!(order, [2, 1, 0]);
    }

    #[test]
    fn subject_is_short_printable_ascii() {
        let long = format!("{}@例え.jp", "x".repeat(200));
        let alert = Alert::new(
            vec![bounce(0, 1, "Permanent", &long)],
            Lang::Ja,
            TimeZone::UTC,
        );
        let subject = alert.email().subject;
        assert!(subject.chars().count() <= SUBJECT_MAX, "{subject}");
        assert!(
            subject.chars().all(|c| c.is_ascii_graphic() || c == ' '),
            "{subject}"
        );
    }

    #[test]
    fn slack_text_is_escaped_and_within_limits() {
        let mut e = bounce(0, 1, "Permanent", "a@x");
        e.record.from = Some("s@x".into());
        e.record.from_name = Some("A & B".into());
        e.record.diagnostic = Some(format!("smtp; 550 ```{}", "y".repeat(10_000)));
        e.record.subject = Some("<b>".repeat(1000));
        let alert = Alert::new(vec![e], Lang::Ja, TimeZone::UTC);
        let msgs = alert.slack();
        assert_eq!(msgs.len(), 1);
        for block in msgs[0].payload["blocks"].as_array().unwrap() {
            if block["type"] == "section" {
                let text = block["text"]["text"].as_str().unwrap();
                assert!(text.chars().count() <= SLACK_SECTION_MAX);
                assert!(text.contains("A &amp; B &lt;s@x&gt;"), "{text}");
                assert!(!text.contains("<b>"));
            }
        }
    }

    #[test]
    fn huge_batches_stay_within_slack_and_sns_limits() {
        let events: Vec<AlertEvent> = (0..1000)
            .map(|i| {
                let mut e = bounce(i, i as i64, "Permanent", "a@x");
                e.record.diagnostic = Some("z".repeat(2000));
                e
            })
            .collect();
        let alert = Alert::new(events, Lang::Ja, TimeZone::UTC);
        let msgs = alert.slack();
        assert_eq!(msgs.len(), SLACK_MAX_MESSAGES);
        let mut owned = BTreeSet::new();
        for m in &msgs {
            assert!(m.payload["blocks"].as_array().unwrap().len() <= 50);
            owned.extend(m.sources.iter().copied());
        }
        assert_eq!(owned, alert.sources(), "every event belongs to a message");
        let email = alert.email();
        assert!(email.body.len() < 256 * 1024);
        assert!(email.body.contains("省略しました"));
        assert!(email.body.contains("重大度の見方："));
    }
}
