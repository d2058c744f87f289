//! Bounce explanations: why a mail event failed, in words support staff can repeat to a customer.
//!
//! Every bounce, complaint, reject, delivery delay and rendering failure gets a [`ReasonCode`]
//! (a taxonomy in the spirit of Sisimai's), a [`Severity`] and an [`Explanation`] in Japanese
//! and English; every other event (Delivery, Open, Click, Subscription, Send) gets an
//! explanation too ([`texts::event_explanation`]). Codes shown to staff (bounce type and
//! subtype, event names, delay types) are translated by [`texts::label`].
//!
//! Reasons are computed **when read**, from the stored bounce fields ([`reason_for`],
//! [`BounceFacts`]): the reason stored at ingest time is only a hint, so every improvement of
//! the rules ([`rules`]) applies to history too. The recipient's provider
//! ([`crate::provider::Provider`]) refines both the reason and the advice.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::provider::Provider;
use crate::record::MailRecord;

mod provider_rules;
pub mod rules;
pub mod texts;

pub use rules::{BounceFacts, classify};

/// Why a mail event failed (or, for [`ReasonCode::AutoReply`], why it looks like it did).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The recipient's mailbox (or their server's disk) is full.
    MailboxFull,
    /// The address does not exist at the recipient's domain.
    UserUnknown,
    /// The domain does not exist or has no mail server.
    HostUnknown,
    /// The mailbox exists but is disabled, suspended or inactive.
    Suspended,
    /// Our sending IP or domain is refused (reputation, blocklists such as Spamhaus).
    Blocked,
    /// This message's content was judged to be spam.
    SpamDetected,
    /// Refused by a rule of the recipient or their server (filters, 受信拒否/指定受信, policy).
    Policy,
    /// The recipient's server is limiting how fast it accepts mail from us.
    RateLimited,
    /// The message is larger than the recipient's server accepts.
    MessageTooBig,
    /// The content or an attachment is not allowed (virus, file type, malformed message).
    ContentRejected,
    /// Sender authentication failed (SPF, DKIM, DMARC, reverse DNS).
    Security,
    /// The server reached does not accept mail for this domain (relaying denied).
    NoRelaying,
    /// The recipient's server could not be reached or the connection failed (timeouts, TLS,
    /// temporary DNS errors, server busy).
    Network,
    /// SES retried until the delivery time ran out.
    Expired,
    /// The address is on the SES global suppression list; SES did not send.
    Suppressed,
    /// The address is on the account-level suppression list; SES did not send.
    OnAccountSuppression,
    /// The recipient reported the message as spam (a feedback-loop complaint).
    Complaint,
    /// SES rejected the message before sending (`Reject`, "Bad content": a virus).
    Rejected,
    /// Delivery is delayed and SES is still retrying (a `DeliveryDelay` with no clearer cause).
    Delayed,
    /// The SES template could not be rendered (`Rendering Failure`).
    TemplateError,
    /// An automatic reply (out of office, vacation) that SES reported as a bounce.
    AutoReply,
    /// The recipient's own filter or reception settings refused us (a carrier's 指定受信 or
    /// なりすまし拒否, a personal block list, "only accepting mail from specific senders").
    Filtered,
    /// Our envelope sender (MAIL FROM) or its domain was refused.
    SenderRejected,
    /// The recipient's domain takes no mail (null MX, "host does not accept mail").
    NotAccept,
    /// The recipient's server had trouble of its own (configuration, loops, local errors).
    SystemError,
    /// The recipient's server did not understand our side's SMTP commands.
    SyntaxError,
    /// Nothing says why.
    Undetermined,
}

/// How serious a [`ReasonCode`] is, from the point of view of whoever decides what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// This address will not receive mail: stop sending to it (or get a new address).
    Permanent,
    /// A passing problem: a later resend may well succeed without changing anything.
    Temporary,
    /// Something must change first (content, sender settings, the recipient's filter).
    NeedsFix,
    /// Not a delivery failure.
    Info,
    /// The cause is unknown.
    Unknown,
}

/// Language of an [`Explanation`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Japanese (the default: support staff read Japanese).
    #[default]
    Ja,
    /// English.
    En,
}

/// A language name that is neither `ja` nor `en`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language {0:?} (expected \"ja\" or \"en\")")]
pub struct UnknownLang(pub String);

/// What a [`ReasonCode`] means, for a non-engineer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Explanation {
    /// A few words, for a list or a badge.
    pub title: &'static str,
    /// What happened, in one or two sentences.
    pub explanation: &'static str,
    /// What support staff can do or tell the customer.
    pub action: &'static str,
}

impl ReasonCode {
    /// Every reason code, in declaration order.
    pub const ALL: &'static [ReasonCode] = &[
        ReasonCode::MailboxFull,
        ReasonCode::UserUnknown,
        ReasonCode::HostUnknown,
        ReasonCode::Suspended,
        ReasonCode::Blocked,
        ReasonCode::SpamDetected,
        ReasonCode::Policy,
        ReasonCode::RateLimited,
        ReasonCode::MessageTooBig,
        ReasonCode::ContentRejected,
        ReasonCode::Security,
        ReasonCode::NoRelaying,
        ReasonCode::Network,
        ReasonCode::Expired,
        ReasonCode::Suppressed,
        ReasonCode::OnAccountSuppression,
        ReasonCode::Complaint,
        ReasonCode::Rejected,
        ReasonCode::Delayed,
        ReasonCode::TemplateError,
        ReasonCode::AutoReply,
        ReasonCode::Filtered,
        ReasonCode::SenderRejected,
        ReasonCode::NotAccept,
        ReasonCode::SystemError,
        ReasonCode::SyntaxError,
        ReasonCode::Undetermined,
    ];

    /// The snake_case name, as stored in [`MailRecord::reason`] (`"mailbox_full"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::MailboxFull => "mailbox_full",
            ReasonCode::UserUnknown => "user_unknown",
            ReasonCode::HostUnknown => "host_unknown",
            ReasonCode::Suspended => "suspended",
            ReasonCode::Blocked => "blocked",
            ReasonCode::SpamDetected => "spam_detected",
            ReasonCode::Policy => "policy",
            ReasonCode::RateLimited => "rate_limited",
            ReasonCode::MessageTooBig => "message_too_big",
            ReasonCode::ContentRejected => "content_rejected",
            ReasonCode::Security => "security",
            ReasonCode::NoRelaying => "no_relaying",
            ReasonCode::Network => "network",
            ReasonCode::Expired => "expired",
            ReasonCode::Suppressed => "suppressed",
            ReasonCode::OnAccountSuppression => "on_account_suppression",
            ReasonCode::Complaint => "complaint",
            ReasonCode::Rejected => "rejected",
            ReasonCode::Delayed => "delayed",
            ReasonCode::TemplateError => "template_error",
            ReasonCode::AutoReply => "auto_reply",
            ReasonCode::Filtered => "filtered",
            ReasonCode::SenderRejected => "sender_rejected",
            ReasonCode::NotAccept => "not_accept",
            ReasonCode::SystemError => "system_error",
            ReasonCode::SyntaxError => "syntax_error",
            ReasonCode::Undetermined => "undetermined",
        }
    }

    /// The code with this name (ASCII case and surrounding spaces ignored), if there is one.
    pub fn from_name(name: &str) -> Option<ReasonCode> {
        let name = name.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|code| code.as_str().eq_ignore_ascii_case(name))
    }

    /// How serious this reason is.
    pub fn severity(self) -> Severity {
        match self {
            ReasonCode::UserUnknown
            | ReasonCode::HostUnknown
            | ReasonCode::Suspended
            | ReasonCode::Suppressed
            | ReasonCode::OnAccountSuppression
            | ReasonCode::NotAccept
            // Sending again after a complaint is what gets an account paused.
            | ReasonCode::Complaint => Severity::Permanent,
            ReasonCode::MailboxFull
            | ReasonCode::RateLimited
            | ReasonCode::Network
            | ReasonCode::Expired
            | ReasonCode::SystemError
            | ReasonCode::Delayed => Severity::Temporary,
            ReasonCode::Blocked
            | ReasonCode::SpamDetected
            | ReasonCode::Policy
            | ReasonCode::MessageTooBig
            | ReasonCode::ContentRejected
            | ReasonCode::Security
            | ReasonCode::NoRelaying
            | ReasonCode::Rejected
            | ReasonCode::TemplateError
            | ReasonCode::Filtered
            | ReasonCode::SenderRejected
            | ReasonCode::SyntaxError => Severity::NeedsFix,
            ReasonCode::AutoReply => Severity::Info,
            ReasonCode::Undetermined => Severity::Unknown,
        }
    }

    /// A title, an explanation and a suggested action, for a non-engineer.
    pub fn explain(self, lang: Lang) -> Explanation {
        let (ja, en) = texts::reason_texts(self);
        match lang {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

pub(crate) const fn ex(
    title: &'static str,
    explanation: &'static str,
    action: &'static str,
) -> Explanation {
    Explanation {
        title,
        explanation,
        action,
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Severity {
    /// The snake_case name (`"needs_fix"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Permanent => "permanent",
            Severity::Temporary => "temporary",
            Severity::NeedsFix => "needs_fix",
            Severity::Info => "info",
            Severity::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Lang {
    /// `"ja"` or `"en"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Lang {
    type Err = UnknownLang;

    /// `ja` or `en`, ASCII case ignored; a region suffix (`ja-JP`, `en_US`) is accepted too,
    /// since browsers and `Accept-Language` send those.
    fn from_str(s: &str) -> Result<Lang, UnknownLang> {
        let primary = s.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("ja") {
            Ok(Lang::Ja)
        } else if primary.eq_ignore_ascii_case("en") {
            Ok(Lang::En)
        } else {
            Err(UnknownLang(s.to_owned()))
        }
    }
}

/// The stored fields of one record that the classifier reads.
pub fn facts_of(record: &MailRecord) -> BounceFacts<'_> {
    BounceFacts {
        bounce_type: record.bounce_type.as_deref().unwrap_or_default(),
        bounce_subtype: record.bounce_subtype.as_deref().unwrap_or_default(),
        status: record.status.as_deref(),
        diagnostic: record.diagnostic.as_deref(),
        remote_mta: record.remote_mta_ip.as_deref(),
        recipient_domain: record.recipient.as_deref(),
    }
}

/// The reason for one mail record, computed from its stored fields, or `None` for events
/// that are not failures (Send, Delivery, Open, Click, Subscription) and for unknown event
/// types. The reason stored at ingest ([`MailRecord::reason`]) is not read here: see
/// [`reason_on_read`].
pub fn reason_for(record: &MailRecord) -> Option<ReasonCode> {
    let facts = facts_of(record);
    match event_kind(&record.event)? {
        EventKind::Bounce => Some(classify(&facts)),
        EventKind::Complaint => Some(match record.complaint_subtype.as_deref() {
            // SES never delivered it: the complaint is an old one that put the address on
            // the account's list.
            Some(sub) if sub.eq_ignore_ascii_case("OnAccountSuppressionList") => {
                ReasonCode::OnAccountSuppression
            }
            // Every feedback type (abuse, fraud, not-spam, …) is kept in the record itself;
            // for the reader all of them mean "this recipient complained".
            _ => ReasonCode::Complaint,
        }),
        // "The only possible value is `Bad content`" (SES docs): a virus.
        EventKind::Reject => Some(ReasonCode::Rejected),
        EventKind::RenderingFailure => Some(ReasonCode::TemplateError),
        EventKind::DeliveryDelay => Some(rules::classify_delay(
            record.delay_type.as_deref().unwrap_or_default(),
            &facts,
        )),
    }
}

/// The reason to show for a stored record: computed now by today's rules, so that old
/// records benefit from every improvement. The stored reason is only a hint, used when
/// today's rules find nothing (a record whose diagnostic was dropped, say).
pub fn reason_on_read(record: &MailRecord) -> Option<ReasonCode> {
    let stored = record.reason.as_deref().and_then(ReasonCode::from_name);
    match reason_for(record) {
        Some(ReasonCode::Undetermined) => stored.or(Some(ReasonCode::Undetermined)),
        Some(code) => Some(code),
        None => stored,
    }
}

/// The reason for a bounce from SES's type and subtype, the status code and the remote
/// server's words, when nothing else is known (no provider). See [`classify`].
pub fn classify_bounce(
    bounce_type: &str,
    bounce_subtype: &str,
    status: Option<&str>,
    diagnostic: Option<&str>,
) -> ReasonCode {
    classify(&BounceFacts {
        bounce_type,
        bounce_subtype,
        status,
        diagnostic,
        ..BounceFacts::default()
    })
}

/// Everything staff read about one event: the reason (for failures), how serious it is,
/// the texts, and the recipient's provider with its own advice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Description {
    /// Why it failed; `None` for events that are not failures.
    pub reason: Option<ReasonCode>,
    /// How serious it is ([`Severity::Info`] for events that are not failures).
    pub severity: Severity,
    /// A few words.
    pub title: &'static str,
    /// What happened.
    pub explanation: &'static str,
    /// What support staff can do or tell the customer.
    pub action: &'static str,
    /// The recipient's provider, when it is one we know.
    pub provider: Option<Provider>,
    /// "docomo のメールアドレス": the provider as staff say it.
    pub provider_label: Option<String>,
    /// Advice that fits this provider and reason (how to allow our domain in docomo's
    /// settings, …), when there is any.
    pub provider_advice: Option<&'static str>,
}

/// What to tell staff about one record, in `lang`; `None` for an unknown event type.
pub fn describe(record: &MailRecord, lang: Lang) -> Option<Description> {
    let provider = record.recipient.as_deref().and_then(Provider::from_domain);
    let provider_label = provider.map(|p| p.address_label(lang));
    let Some(reason) = reason_on_read(record) else {
        let ex = texts::event_explanation(&record.event, lang)?;
        return Some(Description {
            reason: None,
            severity: Severity::Info,
            title: ex.title,
            explanation: ex.explanation,
            action: ex.action,
            provider,
            provider_label,
            provider_advice: None,
        });
    };
    let mut ex = reason.explain(lang);
    if matches!(event_kind(&record.event), Some(EventKind::DeliveryDelay)) {
        // SES is still retrying: a resend now could reach the customer twice.
        let delay = texts::delay_explanation(lang);
        ex.action = delay.action;
        if reason == ReasonCode::Delayed {
            ex = delay;
        }
    }
    Some(Description {
        reason: Some(reason),
        severity: reason.severity(),
        title: ex.title,
        explanation: ex.explanation,
        action: ex.action,
        provider,
        provider_label,
        provider_advice: provider.and_then(|p| p.advice(reason, lang)),
    })
}

/// The event types that carry a failure.
enum EventKind {
    Bounce,
    Complaint,
    Reject,
    RenderingFailure,
    DeliveryDelay,
}

/// SES spells "Rendering Failure" with a space; tolerate the obvious respellings too.
fn event_kind(event: &str) -> Option<EventKind> {
    match texts::squash(event).as_str() {
        "bounce" => Some(EventKind::Bounce),
        "complaint" => Some(EventKind::Complaint),
        "reject" => Some(EventKind::Reject),
        "renderingfailure" => Some(EventKind::RenderingFailure),
        "deliverydelay" => Some(EventKind::DeliveryDelay),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtype_decides_when_text_and_status_say_nothing() {
        assert_eq!(
            classify_bounce("Transient", "MailboxFull", None, None),
            ReasonCode::MailboxFull
        );
        // A vague code loses to the subtype, a clear one wins over it.
        assert_eq!(
            classify_bounce("Transient", "AttachmentRejected", Some("5.7.1"), None),
            ReasonCode::ContentRejected
        );
        assert_eq!(
            classify_bounce("Permanent", "General", Some("5.7.1"), None),
            ReasonCode::Policy
        );
        assert_eq!(
            classify_bounce("Transient", "MailboxFull", Some("5.1.1"), None),
            ReasonCode::UserUnknown
        );
        assert_eq!(
            classify_bounce("Undetermined", "Undetermined", None, None),
            ReasonCode::Undetermined
        );
    }

    #[test]
    fn ses_suppression_subtypes_beat_everything() {
        assert_eq!(
            classify_bounce(
                "Permanent",
                "Suppressed",
                Some("5.1.1"),
                Some("user unknown")
            ),
            ReasonCode::Suppressed
        );
        assert_eq!(
            classify_bounce("Permanent", "OnAccountSuppressionList", Some("5.1.1"), None),
            ReasonCode::OnAccountSuppression
        );
    }
}
