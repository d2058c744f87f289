//! Bounce explanations: why a mail event failed, in words support staff can repeat to a customer.
//!
//! Every bounce, complaint, reject, delivery delay and rendering failure gets a [`ReasonCode`]
//! (a taxonomy in the spirit of Sisimai's), a [`Severity`] and an [`Explanation`] in Japanese
//! and English.
//!
//! How a bounce is classified ([`classify_bounce`]), first answer wins:
//! 1. The subtypes that record Amazon SES's own decision not to send (`Suppressed`,
//!    `OnAccountSuppressionList`): the remote server never saw the message, so nothing it could
//!    have said matters.
//! 2. The diagnostic text, matched against an ordered table of phrases. The remote server's own
//!    words are the most specific evidence there is, and status codes are often generic or
//!    wrong (Outlook answers 5.5.0 for unknown users, Gmail 4.2.1 for rate limits), so **the
//!    text wins when it disagrees** with the status code or the subtype.
//! 3. A clear enhanced status code (`5.1.1`, `4.2.2`, `5.7.26`, …).
//! 4. The bounce subtype SES chose (`NoEmail`, `MailboxFull`, …).
//! 5. A vague status code (`5.7.1` "delivery not authorized" covers blocklists, filters and
//!    policies alike).
//! 6. Otherwise [`ReasonCode::Undetermined`]: the bounce type alone (`Permanent`, `Transient`)
//!    says whether to retry, not why.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};

use crate::record::MailRecord;

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
            // Sending again after a complaint is what gets an account paused.
            | ReasonCode::Complaint => Severity::Permanent,
            ReasonCode::MailboxFull
            | ReasonCode::RateLimited
            | ReasonCode::Network
            | ReasonCode::Expired
            | ReasonCode::Delayed => Severity::Temporary,
            ReasonCode::Blocked
            | ReasonCode::SpamDetected
            | ReasonCode::Policy
            | ReasonCode::MessageTooBig
            | ReasonCode::ContentRejected
            | ReasonCode::Security
            | ReasonCode::NoRelaying
            | ReasonCode::Rejected
            | ReasonCode::TemplateError => Severity::NeedsFix,
            ReasonCode::AutoReply => Severity::Info,
            ReasonCode::Undetermined => Severity::Unknown,
        }
    }

    /// A title, an explanation and a suggested action, for a non-engineer.
    pub fn explain(self, lang: Lang) -> Explanation {
        let (ja, en) = self.texts();
        match lang {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    /// (Japanese, English). Plain words, です/ます, no jargon beyond what staff must pass on.
    fn texts(self) -> (Explanation, Explanation) {
        match self {
            ReasonCode::MailboxFull => (
                ex(
                    "受信箱がいっぱい",
                    "受信者のメールボックスがいっぱいで、メールを受け取れませんでした。",
                    "時間をおいて再送するか、別のアドレスを確認してください。",
                ),
                ex(
                    "Mailbox full",
                    "The recipient's mailbox is full, so the message could not be received.",
                    "Try again later or ask for another address.",
                ),
            ),
            ReasonCode::UserUnknown => (
                ex(
                    "アドレスが存在しない",
                    "このメールアドレスは受信側に存在しません。入力ミスか、すでに使われていないアドレスの可能性があります。",
                    "お客様にアドレスの綴りをご確認いただき、正しいアドレスを教えていただいてください。携帯電話のアドレスでは、受信拒否設定が原因でこの結果になることもあります。",
                ),
                ex(
                    "Address does not exist",
                    "The recipient's mail server says this address does not exist. It may be mistyped or no longer in use.",
                    "Ask the customer to check the spelling and give a correct address. For Japanese mobile addresses, the customer's mail filter settings can also cause this.",
                ),
            ),
            ReasonCode::HostUnknown => (
                ex(
                    "ドメインが見つからない",
                    "メールアドレスの「@」より後ろ(ドメイン)が存在しないか、メールを受け取れる設定になっていません。",
                    "「@」より後ろの綴りに誤りがないか、お客様にご確認ください。",
                ),
                ex(
                    "Domain not found",
                    "The part of the address after the @ (the domain) does not exist or is not set up to receive email.",
                    "Ask the customer to check the part after the @ for typos.",
                ),
            ),
            ReasonCode::Suspended => (
                ex(
                    "アドレスが停止中",
                    "このメールアドレスは停止されているか、長く使われていないため無効になっています。",
                    "お客様に、現在お使いのアドレスをご確認ください。",
                ),
                ex(
                    "Mailbox disabled",
                    "This address has been suspended or disabled, often because it has not been used for a long time.",
                    "Ask the customer for an address they currently use.",
                ),
            ),
            ReasonCode::Blocked => (
                ex(
                    "送信元が拒否されている",
                    "受信側のサーバーが、当社の送信元(サーバーやドメイン)からのメールをまとめて拒否しました。受信者ご本人の設定ではなく、送信元の評価が原因です。",
                    "お客様側での対応は不要です。システム担当者に、送信元が迷惑メール送信元のリストに載っていないか確認を依頼してください。",
                ),
                ex(
                    "Sender blocked",
                    "The receiving server refused all mail from our sending server or domain, usually because of its reputation or a blocklist. It is not the recipient's own setting.",
                    "Nothing for the customer to do. Ask the system administrator to check our sender reputation and blocklists.",
                ),
            ),
            ReasonCode::SpamDetected => (
                ex(
                    "迷惑メールと判定",
                    "受信側のサーバーが、このメールの内容を迷惑メールと判定して受け取りを拒否しました。",
                    "件名や本文、リンクを見直してから再送してください。繰り返し起きる場合は、システム担当者にご相談ください。",
                ),
                ex(
                    "Judged as spam",
                    "The receiving server judged this message to be spam and refused it.",
                    "Review the subject, text and links before resending. If it keeps happening, contact the system administrator.",
                ),
            ),
            ReasonCode::Policy => (
                ex(
                    "受信側の設定で拒否",
                    "受信者の設定(ドメイン指定受信や受信拒否設定など)や受信側のルールにより、受け取りを拒否されました。",
                    "お客様に、当社のドメインからのメールを受信できるよう設定をお願いしてから再送してください。",
                ),
                ex(
                    "Refused by recipient settings",
                    "The recipient's settings (for example a filter that only accepts chosen senders) or their server's rules refused the message.",
                    "Ask the customer to allow mail from our domain, then resend.",
                ),
            ),
            ReasonCode::RateLimited => (
                ex(
                    "一時的な受信制限",
                    "短時間に多くのメールが届いたため、受信側のサーバーが一時的に受け取りを制限しました。",
                    "時間をおいて再送してください。頻繁に起きる場合は、システム担当者にご相談ください。",
                ),
                ex(
                    "Temporarily limited",
                    "The receiving server temporarily limited mail from us because it received many messages in a short time.",
                    "Resend later. If it happens often, tell the system administrator.",
                ),
            ),
            ReasonCode::MessageTooBig => (
                ex(
                    "メールが大きすぎる",
                    "添付ファイルを含むメールのサイズが、受信側で受け取れる上限を超えていました。",
                    "添付ファイルを小さくするか、ダウンロード用のリンクに替えて再送してください。",
                ),
                ex(
                    "Message too large",
                    "The message, including attachments, was larger than the receiving server accepts.",
                    "Make the attachments smaller or send a download link instead, then resend.",
                ),
            ),
            ReasonCode::ContentRejected => (
                ex(
                    "内容や添付ファイルで拒否",
                    "メールの内容や添付ファイルの種類が受信側で許可されておらず、受け取りを拒否されました。",
                    "添付ファイルを外すか、別の形式に替えて再送してください。",
                ),
                ex(
                    "Content or attachment refused",
                    "The receiving server does not allow this kind of content or attachment and refused the message.",
                    "Remove the attachment or use another file format, then resend.",
                ),
            ),
            ReasonCode::Security => (
                ex(
                    "送信元の確認に失敗",
                    "当社から送られたメールであることを受信側が確認できなかったため(送信ドメイン認証の失敗)、受け取りを拒否されました。",
                    "お客様側での対応は不要です。システム担当者に、送信ドメインの設定(SPF・DKIM・DMARC)の確認を依頼してください。",
                ),
                ex(
                    "Sender check failed",
                    "The receiving server could not confirm that the message really came from us (sender authentication), so it refused it.",
                    "Nothing for the customer to do. Ask the system administrator to check the domain's SPF, DKIM and DMARC settings.",
                ),
            ),
            ReasonCode::NoRelaying => (
                ex(
                    "宛先のサーバーが受け付けない",
                    "接続先のサーバーが、このアドレス宛てのメールを扱っていないため受け取りを拒否しました。相手のドメインの設定に問題がある可能性があります。",
                    "アドレスに誤りがないかお客様にご確認ください。正しい場合は、お客様側のメール管理者への確認をお願いしてください。",
                ),
                ex(
                    "Relaying refused",
                    "The server we reached does not handle mail for this address, so it refused the message. The recipient domain's mail settings may be wrong.",
                    "Ask the customer to check the address. If it is correct, ask them to contact their mail administrator.",
                ),
            ),
            ReasonCode::Network => (
                ex(
                    "相手のサーバーと通信できない",
                    "受信側のメールサーバーに接続できないか、通信が途中で切れました。相手側の一時的な障害の可能性があります。",
                    "時間をおいて再送してください。続く場合は、アドレスの「@」より後ろに誤りがないかご確認ください。",
                ),
                ex(
                    "Could not reach the server",
                    "We could not connect to the recipient's mail server, or the connection failed. This is often a temporary problem on their side.",
                    "Resend later. If it keeps failing, check the part of the address after the @.",
                ),
            ),
            ReasonCode::Expired => (
                ex(
                    "配信期限切れ",
                    "しばらく再送を続けましたが、届けられないまま配信の期限が過ぎました。",
                    "時間をおいて再送するか、別のアドレスを確認してください。",
                ),
                ex(
                    "Delivery timed out",
                    "We kept retrying for a long time but could not deliver the message before the time limit.",
                    "Resend later or ask for another address.",
                ),
            ),
            ReasonCode::Suppressed => (
                ex(
                    "送信停止中のアドレス(全体)",
                    "このアドレスは最近、存在しないアドレスとして何度も戻ってきたため、メール配信サービス(Amazon SES)が送信を止めました。",
                    "お客様に正しいアドレスをご確認ください。アドレスが正しい場合は、システム担当者にご相談ください。",
                ),
                ex(
                    "Sending stopped (global list)",
                    "This address recently bounced as invalid, so the email service (Amazon SES) did not send to it.",
                    "Confirm the correct address with the customer. If it is correct, contact the system administrator.",
                ),
            ),
            ReasonCode::OnAccountSuppression => (
                ex(
                    "当社の送信停止リストに登録済み",
                    "このアドレスは当社の送信停止リストに載っているため、送信しませんでした。以前の不達や迷惑メール報告で登録されます。",
                    "アドレスが正しく、お客様がメールの受信を希望されている場合は、システム担当者にリストからの削除を依頼してください。",
                ),
                ex(
                    "On our do-not-send list",
                    "This address is on our own do-not-send list, so the message was not sent. Addresses are added after earlier bounces or spam reports.",
                    "If the address is correct and the customer wants our mail, ask the system administrator to remove it from the list.",
                ),
            ),
            ReasonCode::Complaint => (
                ex(
                    "迷惑メールとして報告された",
                    "受信者が、このメールを迷惑メールとして報告しました。",
                    "このアドレスへの配信を止めてください。必要に応じて、お客様に配信停止のご希望を確認してください。",
                ),
                ex(
                    "Reported as spam",
                    "The recipient reported this message as spam.",
                    "Stop sending to this address. If needed, check with the customer whether they want to unsubscribe.",
                ),
            ),
            ReasonCode::Rejected => (
                ex(
                    "送信前に停止(ウイルス検出)",
                    "メールにウイルスなどの危険な内容が見つかったため、メール配信サービス(Amazon SES)が送信しませんでした。",
                    "添付ファイルを確認し、問題のないファイルに替えて送り直してください。",
                ),
                ex(
                    "Not sent (virus found)",
                    "The email service (Amazon SES) found a virus or other harmful content in the message and did not send it.",
                    "Check the attachments, replace them with clean files and send again.",
                ),
            ),
            ReasonCode::Delayed => (
                ex(
                    "配信が遅れている",
                    "一時的な問題でまだ届いていません。メール配信サービスが自動で再送を続けています。",
                    "しばらくお待ちください。最終的に届かなかった場合は、不達として記録されます。",
                ),
                ex(
                    "Delivery delayed",
                    "The message has not been delivered yet because of a temporary problem. The email service keeps retrying automatically.",
                    "Please wait. If it finally cannot be delivered, it will be recorded as a bounce.",
                ),
            ),
            ReasonCode::TemplateError => (
                ex(
                    "メールの作成に失敗",
                    "メールのひな形に差し込む情報が足りず、メールを作成できなかったため送信していません。",
                    "お客様側での対応は不要です。システム担当者に、ひな形と差し込みデータの確認を依頼してください。",
                ),
                ex(
                    "Message could not be built",
                    "The email template was missing data it needed, so the message was not created or sent.",
                    "Nothing for the customer to do. Ask the system administrator to check the template and its data.",
                ),
            ),
            ReasonCode::AutoReply => (
                ex(
                    "自動応答",
                    "受信者の自動応答(不在通知など)が返ってきました。メールは届いている可能性が高いです。",
                    "対応は不要です。",
                ),
                ex(
                    "Automatic reply",
                    "The recipient's automatic reply (such as an out-of-office notice) came back. The message was most likely delivered.",
                    "No action needed.",
                ),
            ),
            ReasonCode::Undetermined => (
                ex(
                    "原因不明",
                    "受信側から届かなかったという連絡がありましたが、理由は分かりませんでした。",
                    "時間をおいて一度だけ再送してください。再び届かない場合は、お客様に別のアドレスを確認してください。",
                ),
                ex(
                    "Unknown reason",
                    "The receiving side reported that the message was not delivered, but did not say why.",
                    "Resend once later. If it fails again, ask the customer for another address.",
                ),
            ),
        }
    }
}

const fn ex(title: &'static str, explanation: &'static str, action: &'static str) -> Explanation {
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

/// The reason for one mail record, or `None` for events that are not failures (Send,
/// Delivery, Open, Click, Subscription) and for unknown event types.
pub fn reason_for(record: &MailRecord) -> Option<ReasonCode> {
    let status = record.status.as_deref();
    let diagnostic = record.diagnostic.as_deref();
    match event_kind(&record.event)? {
        EventKind::Bounce => Some(classify_bounce(
            record.bounce_type.as_deref().unwrap_or_default(),
            record.bounce_subtype.as_deref().unwrap_or_default(),
            status,
            diagnostic,
        )),
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
        EventKind::DeliveryDelay => Some(classify_delay(
            record.delay_type.as_deref().unwrap_or_default(),
            status,
            diagnostic,
        )),
    }
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
    let squashed: String = event
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    match squashed.as_str() {
        "bounce" => Some(EventKind::Bounce),
        "complaint" => Some(EventKind::Complaint),
        "reject" => Some(EventKind::Reject),
        "renderingfailure" => Some(EventKind::RenderingFailure),
        "deliverydelay" => Some(EventKind::DeliveryDelay),
        _ => None,
    }
}

/// The reason for a bounce, from SES's bounce type and subtype, the recipient's enhanced
/// status code (`5.1.1`) and the remote server's diagnostic text. See the module docs for the
/// order of evidence; the text wins when it disagrees with the codes.
pub fn classify_bounce(
    bounce_type: &str,
    bounce_subtype: &str,
    status: Option<&str>,
    diagnostic: Option<&str>,
) -> ReasonCode {
    let subtype = bounce_subtype.trim();
    if subtype.eq_ignore_ascii_case("Suppressed") {
        return ReasonCode::Suppressed;
    }
    if subtype.eq_ignore_ascii_case("OnAccountSuppressionList") {
        return ReasonCode::OnAccountSuppression;
    }
    if let Some(code) = diagnostic.and_then(reason_from_text) {
        return code;
    }
    let by_status = enhanced_status(status, diagnostic).and_then(reason_from_status);
    if let Some((code, Certainty::Clear)) = by_status {
        return code;
    }
    if let Some(code) = reason_from_subtype(subtype) {
        return code;
    }
    if let Some((code, Certainty::Vague)) = by_status {
        return code;
    }
    // `Permanent`, `Transient` and `Undetermined` say whether SES retried, not why; the
    // record keeps the type for readers who want it.
    let _ = bounce_type;
    ReasonCode::Undetermined
}

/// A delivery delay: the text first, then a clear status code, then SES's `delayType`; a
/// delay with no clearer cause is simply [`ReasonCode::Delayed`].
fn classify_delay(delay_type: &str, status: Option<&str>, diagnostic: Option<&str>) -> ReasonCode {
    if let Some(code) = diagnostic.and_then(reason_from_text) {
        return code;
    }
    if let Some((code, Certainty::Clear)) =
        enhanced_status(status, diagnostic).and_then(reason_from_status)
    {
        return code;
    }
    match delay_type.trim() {
        "MailboxFull" => ReasonCode::MailboxFull,
        "SpamDetected" => ReasonCode::SpamDetected,
        // "The IP address that's sending the message is being blocked or throttled".
        "IPFailure" => ReasonCode::Blocked,
        "TransientCommunicationFailure" | "RecipientServerError" => ReasonCode::Network,
        // InternalFailure, SendingDeferral and BYOIPHostNameLookupUnavailable are on SES's
        // (or our own IP setup's) side; General and Undetermined say nothing.
        _ => ReasonCode::Delayed,
    }
}

/// The subtypes SES chose after reading the bounce; General and Undetermined say nothing.
fn reason_from_subtype(subtype: &str) -> Option<ReasonCode> {
    let code = match subtype {
        "NoEmail" => ReasonCode::UserUnknown,
        "MailboxFull" => ReasonCode::MailboxFull,
        "MessageTooLarge" => ReasonCode::MessageTooBig,
        "ContentRejected" | "AttachmentRejected" => ReasonCode::ContentRejected,
        _ => return None,
    };
    Some(code)
}

/// The remote server's words → reason. Patterns are regexes matched against the lower-cased
/// text with whitespace collapsed (see [`normalise`]); the **first** matching row wins, so
/// the order is the point: specific causes before the generic words they contain
/// ("blocked using spamhaus" before "blocked", "connection refused" before "refused").
/// A code may appear in several rows at different priorities.
const TEXT_RULES: &[(ReasonCode, &str)] = &[
    // Amazon SES's own words: it did not send at all.
    (
        ReasonCode::OnAccountSuppression,
        r"suppression list for your account|account-level suppression list|account level suppression list",
    ),
    (
        ReasonCode::Suppressed,
        r"amazon ses has suppressed sending|recent history of bouncing as an invalid address|global suppression list",
    ),
    // SES reports out-of-office replies as Transient bounces (SES docs); nothing else in such
    // a reply is a reason.
    (
        ReasonCode::AutoReply,
        r"auto-?repl(y|ied)|automatic(ally)? repl|out of (the )?office|on vacation|vacation (reply|message|notice)|自動応答|自動返信",
    ),
    // Japanese carriers' per-recipient filters (指定受信/受信拒否) and other recipient choices;
    // before user_unknown because these replies often also say "user".
    (
        ReasonCode::Policy,
        r"受信拒否|指定受信|拒否設定|domain filter|rejected by (the )?(recipient's |user's )?(mail )?filter settings?|refused by (the )?recipient's (settings|filter)|recipient is only accepting mail from|user refuses to receive|refused due to recipient preferences|blocked by the recipient",
    ),
    // Greylisting and temporary DNS failures look like "address rejected" / "host not found"
    // but go away on their own.
    (
        ReasonCode::Network,
        r"greylist|graylist|host not found, try again|name service error.{0,200}try again|temporary failure in name resolution|dns (lookup )?(timeout|timed out|temporar|servfail)|servfail",
    ),
    // Gmail's 4.7.28 text also says "spam" and "your ip address"; Yahoo's [TSS04] and Gmail's
    // 4.2.1 "receiving mail at a rate" are the recipient throttling us.
    (
        ReasonCode::RateLimited,
        r"rate limit|rate-limit|ratelimit|unusual rate|at a rate that|too many (connections|messages|mails|emails|e-mails|sessions|concurrent|errors)|\[tss04\]|temporarily deferred|throttl|try again slower|exceeded the max(imum)? (emails|messages)|sending quota|mail flood",
    ),
    // Our IP or domain, not this message: blocklists and reputation. Before user_unknown:
    // Outlook says "mailbox unavailable" when it means "blocked using Spamhaus".
    (
        ReasonCode::Blocked,
        r"spamhaus|spamcop|barracuda|sorbs|uceprotect|spamrats|surbl|\brbl\b|dnsbl|black ?list|block ?list|deny ?list|blocked using|listed (at|on|by) |reputation|banned sending ip|banned sender|not accepted from (this|your) ip|part of their network|\[tss09\]|permanently deferred|client host (\[[^\]]*\] )?(rejected|blocked)",
    ),
    // Before security: "relaying denied. proper authentication required".
    (
        ReasonCode::NoRelaying,
        r"relay(ing)? (access )?(denied|not permitted|not allowed|prohibited|refused)|relaying (is )?not (permitted|allowed)|(unable|not permitted|not allowed|cannot|can't) to relay|we do not relay|no relaying",
    ),
    // Sender authentication. Before "blocked" and "not accepted": Gmail's 5.7.26 says "this
    // mail has been blocked because the sender is unauthenticated".
    (
        ReasonCode::Security,
        r"dmarc|\bspf\b|dkim|unauthenticated|not authenticated|authentication (failed|failure|required|results|check)|fails? (to pass )?authentication|sender policy framework|domainkeys|reverse dns|\bptr\b|\brdns\b|ipv6 sending guidelines",
    ),
    // Before message_too_big: Exchange says "mailbox size limit exceeded".
    (
        ReasonCode::MailboxFull,
        r"mailbox (is )?full|mail ?box full|inbox (is )?full|full mailbox|(mailbox|mail box|inbox) (size limit|quota)|over ?(its |the |their |his |her )?quota|quota (exceeded|exceed|full)|exceeded (the |their |its )?(storage|quota|disk)|exceeds? (the |their |its )?(mailbox |disk |storage )?quota|insufficient (disk |system )?(space|storage)|not enough (disk |storage )?(space|storage)|disk quota|storage (allocation )?(exceeded|full)|mailbox (has )?exceeded|user has exceeded|容量(が|を)?(不足|オーバー)|(メールボックス|受信箱)(が|の容量が)?(いっぱい|満杯)",
    ),
    (
        ReasonCode::MessageTooBig,
        r"(message|mail|email|e-mail) (size )?(is )?too (big|large|long)|message size|size (exceeds|limit|too)|exceeds? (the )?(fixed |maximum |max |allowed )?(message )?size|too large|larger than|maximum (message )?size|message length exceeds|exceeded (the )?size|サイズ(が|の)?(上限|制限|超過|大き)",
    ),
    // Viruses and attachments: before spam, which a virus scanner's reply may also mention.
    (
        ReasonCode::ContentRejected,
        r"virus|malware|infected|trojan|attachment|file (type|extension|name)|executable|(banned|forbidden|prohibited|blocked|unacceptable) (file|attachment)|potential security issue|ウイルス|添付",
    ),
    // Before user_unknown's generic "does not exist".
    (
        ReasonCode::HostUnknown,
        r"host or domain name not found|name service error|host not found|domain (name )?not found|(domain|host) (name )?(does not|doesn't) exist|no such domain|unknown (host|domain)|(host|domain) unknown|no mx|mx record|null mx|unroutable domain|unrouteable domain|nxdomain|non-existent (host|domain)|(couldn't|could not) find any host|unable to lookup dns|(could not|couldn't|unable to) resolve|ドメイン(が|は)?(存在しません|見つかりません)",
    ),
    (
        ReasonCode::UserUnknown,
        r"user unknown|unknown user|unknown (recipient|mailbox|address|local[- ]part|alias)|(no such|invalid) (user|mailbox|recipient|address|account|local)|(does not|doesn't) exist|not (a )?valid (user|mailbox|recipient|address)|(recipient|user|mailbox|address|account) not found|not found recipient|mailbox (unavailable|not available)|recipient address rejected: (access denied|undeliverable|unknown|user)|unrouteable address|undeliverable address|(doesn't|does not) have an? \S+ account|not our customer|no mailbox|not listed in|address unknown|recipient unknown|bad destination mailbox|宛先(が|の)?(不明|見つかりません)|存在しません|存在しない",
    ),
    (
        ReasonCode::Suspended,
        r"(account|mailbox)( \S+){0,6} (is|has been|was) (disabled|deactivated|suspended|inactive|locked|frozen|not active|no longer active)|(account|mailbox|user) (disabled|deactivated|suspended|inactive|locked|frozen)|(disabled|inactive|suspended|deactivated|expired|closed) (email |e-mail )?(user|account|mailbox|recipient|address)|account (has )?expired|(account|mailbox) (is )?closed",
    ),
    (
        ReasonCode::SpamDetected,
        r"spam|unsolicited|junk (mail|e-?mail)|bulk (mail|e-?mail)|\bube\b|phish|scam|content filter|suspicious (content|message|url|link)|message (looks|is) suspicious|迷惑メール",
    ),
    // Malformed or disallowed content that is not spam.
    (
        ReasonCode::ContentRejected,
        r"content (rejected|not allowed|policy)|rejected (because of|due to) (its |the )?content|not compliant with rfc|rfc ?5322|rfc ?2822|message-id header|header (is )?(invalid|malformed|missing)|malformed (message|header)|line too long|bare lf",
    ),
    // Exim's "retry timeout exceeded" is a verdict, not a network timeout.
    (
        ReasonCode::Expired,
        r"retry time(out)? (exceeded|reached)|queue (lifetime|time) exceeded|too long in (the )?queue",
    ),
    // Before policy's generic "refused".
    (
        ReasonCode::Network,
        r"connection (timed out|timeout|refused|reset|dropped|closed|lost|failed|error)|timed out|timeout|(unable|could not|couldn't|can't|cannot|failed) to connect|no route to host|(network|host) (is )?unreachable|lost connection|broken pipe|read error|write error|\btls\b|\bssl\b|starttls|certificate|handshake",
    ),
    // Generic refusals by the recipient's server.
    (
        ReasonCode::Policy,
        r"not accepted|policy|access denied|administrative(ly)? prohibit|prohibited|not allowed|not permitted|refused|rejected by (the )?recipient|sender (address )?(rejected|denied|blocked)|too many recipients|blocked|filter",
    ),
    // Generic temporary trouble on the recipient's side.
    (
        ReasonCode::Network,
        r"service (is )?(temporarily )?unavailable|temporarily unavailable|server (is )?(busy|unavailable)|too busy|(system|server) (is )?(busy|overloaded)|overloaded|local error|temporary (local |server |system )?(problem|error|failure)|internal (server )?error|try again later|resources temporarily",
    ),
    // Last: a "message expired" bounce usually quotes the last real error after it, and that
    // error (matched above) is the better answer.
    (
        ReasonCode::Expired,
        r"expired|unable to deliver in|could not be delivered (for|within)|numerous attempts to deliver|giving up|gave up|配信期限",
    ),
];

/// [`TEXT_RULES`] compiled once; a set match yields every matching row, and the lowest index
/// is the winner.
static TEXT_SET: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new(TEXT_RULES.iter().map(|(_, pattern)| pattern))
        .expect("TEXT_RULES are valid regexes (a unit test compiles them)")
});

/// SMTP reply prefixes inside the text: the `550-5.1.1 ` of multi-line replies that Gmail and
/// others repeat on every line, which split phrases such as "does not\n550-5.1.1 exist".
static REPLY_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*\d{3}[ -](?:[245]\.\d{1,3}\.\d{1,3})?|\d{3}-[245]\.\d{1,3}\.\d{1,3}")
        .expect("valid regex")
});

/// The first enhanced status code (`5.1.1`) in a text, not part of a longer dotted number
/// (an IP address like `10.2.3.4` or Yahoo's `4.16.55.1`).
static ENHANCED_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\d.])([245])\.(\d{1,3})\.(\d{1,3})(?:$|[^\d.]|\.(?:$|\D))")
        .expect("valid regex")
});

/// The reason the diagnostic text gives, if any row of [`TEXT_RULES`] matches.
fn reason_from_text(diagnostic: &str) -> Option<ReasonCode> {
    let text = normalise(diagnostic);
    let row = TEXT_SET.matches(&text).iter().next()?;
    TEXT_RULES.get(row).map(|(code, _)| *code)
}

/// Lower-case, drop SMTP reply prefixes, collapse whitespace (including newlines) to one
/// space, so that the rules can be written as plain phrases.
fn normalise(diagnostic: &str) -> String {
    let lower = diagnostic.to_lowercase();
    let without_prefixes = REPLY_PREFIX.replace_all(&lower, " ");
    let mut out = String::with_capacity(without_prefixes.len());
    for word in without_prefixes.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// An enhanced status code: class (2, 4, 5), subject, detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EnhancedStatus {
    class: u16,
    subject: u16,
    detail: u16,
}

/// The status field if it holds a code, else the first code in the diagnostic text.
fn enhanced_status(status: Option<&str>, diagnostic: Option<&str>) -> Option<EnhancedStatus> {
    status
        .and_then(find_enhanced_status)
        .or_else(|| diagnostic.and_then(find_enhanced_status))
}

fn find_enhanced_status(text: &str) -> Option<EnhancedStatus> {
    let caps = ENHANCED_CODE.captures(text)?;
    let number = |i: usize| caps.get(i).and_then(|m| m.as_str().parse::<u16>().ok());
    Some(EnhancedStatus {
        class: number(1)?,
        subject: number(2)?,
        detail: number(3)?,
    })
}

/// Whether a status code names one cause, or covers several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Certainty {
    /// One cause (x.1.1 is a bad mailbox, full stop): beats the SES subtype.
    Clear,
    /// Several causes share the code (x.7.1): only used when the subtype says nothing.
    Vague,
}

/// RFC 3463 / IANA "SMTP Enhanced Status Codes" subject.detail → reason. The class (4 or 5)
/// is the bounce type's business, not the reason's.
fn reason_from_status(status: EnhancedStatus) -> Option<(ReasonCode, Certainty)> {
    use Certainty::{Clear, Vague};
    use ReasonCode as R;
    if status.class == 2 {
        return None;
    }
    let found = match (status.subject, status.detail) {
        // Bad destination mailbox address; bad syntax; mailbox has moved.
        (1, 1 | 3 | 6) => (R::UserUnknown, Clear),
        // Bad destination system address; recipient domain has a null MX (RFC 7505).
        (1, 2 | 10) => (R::HostUnknown, Clear),
        // Bad sender address or sender system.
        (1, 7 | 8) => (R::Policy, Vague),
        // Mailbox disabled, not accepting messages.
        (2, 1) => (R::Suspended, Clear),
        // Mailbox full; mail system full.
        (2, 2) | (3, 1) => (R::MailboxFull, Clear),
        // Message length exceeds administrative limit; message too big for system.
        (2, 3) | (3, 4) => (R::MessageTooBig, Clear),
        // Mailing-list expansion problem.
        (2, 4) => (R::Policy, Vague),
        // System not accepting network messages; system incorrectly configured.
        (3, 2 | 5) => (R::Network, Vague),
        // No answer from host; bad connection.
        (4, 1 | 2) => (R::Network, Clear),
        // Unable to route: usually the recipient domain's DNS.
        (4, 4) => (R::HostUnknown, Vague),
        // Delivery time expired.
        (4, 7) => (R::Expired, Clear),
        // Other network, directory server failure, congestion, routing loop.
        (4, 0 | 3 | 5 | 6) => (R::Network, Vague),
        // Too many recipients.
        (5, 3) => (R::Policy, Vague),
        // Message content or media not supported, conversion problems.
        (6, _) => (R::ContentRejected, Vague),
        // Delivery not authorized / other security: blocklists, filters and policies share it.
        (7, 0 | 1 | 2 | 15) => (R::Policy, Vague),
        // Message integrity failure.
        (7, 7) => (R::ContentRejected, Vague),
        // User account disabled (RFC 4954).
        (7, 13) => (R::Suspended, Clear),
        // Message too big for the delivery mechanism.
        (7, 16) => (R::MessageTooBig, Clear),
        // Mailbox owner has changed (RFC 7293).
        (7, 17) => (R::UserUnknown, Clear),
        // Domain owner has changed (RFC 7293).
        (7, 18) => (R::HostUnknown, Vague),
        // Mail flood detected (RFC 7372); Gmail's 4.7.28 rate limit.
        (7, 28) => (R::RateLimited, Clear),
        // DKIM, SPF, reverse DNS, "multiple authentication checks failed" (5.7.26), sender
        // null MX, ARC (RFC 7372, 7505, 8617).
        (7, 20..=27 | 29) => (R::Security, Clear),
        // Security conversion, crypto, SMTP AUTH and TLS requirements.
        (7, 3..=6 | 8..=12 | 14 | 30) => (R::Security, Vague),
        _ => return None,
    };
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules_compile() {
        assert_eq!(TEXT_SET.len(), TEXT_RULES.len());
    }

    #[test]
    fn normalise_joins_multiline_gmail_reply() {
        let text = "smtp; 550-5.1.1 The email account that you tried to reach does\n550-5.1.1 not exist. Please try\r\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser - gsmtp";
        assert_eq!(
            normalise(text),
            "smtp; the email account that you tried to reach does not exist. please try https://support.google.com/mail/?p=nosuchuser - gsmtp"
        );
    }

    #[test]
    fn enhanced_status_cases() {
        let st = |class, subject, detail| {
            Some(EnhancedStatus {
                class,
                subject,
                detail,
            })
        };
        let table: &[(&str, Option<EnhancedStatus>)] = &[
            ("5.1.1", st(5, 1, 1)),
            (" 4.4.7 ", st(4, 4, 7)),
            ("smtp; 550-5.7.26 unauthenticated", st(5, 7, 26)),
            ("(#5.1.2)", st(5, 1, 2)),
            ("status 5.2.2.", st(5, 2, 2)),
            // IP addresses and longer dotted numbers are not status codes.
            ("client host [10.2.3.4] blocked", None),
            ("- 4.16.55.1", None),
            ("host 192.0.2.1 said 5.7.1 denied", st(5, 7, 1)),
            ("3.1.1", None),
            ("", None),
            ("5.99999.1", None),
        ];
        for (text, want) in table {
            assert_eq!(find_enhanced_status(text), *want, "{text:?}");
        }
    }

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

    #[test]
    fn delay_types() {
        let table = [
            ("MailboxFull", ReasonCode::MailboxFull),
            ("SpamDetected", ReasonCode::SpamDetected),
            ("IPFailure", ReasonCode::Blocked),
            ("TransientCommunicationFailure", ReasonCode::Network),
            ("RecipientServerError", ReasonCode::Network),
            ("InternalFailure", ReasonCode::Delayed),
            ("SendingDeferral", ReasonCode::Delayed),
            ("BYOIPHostNameLookupUnavailable", ReasonCode::Delayed),
            ("General", ReasonCode::Delayed),
            ("Undetermined", ReasonCode::Delayed),
            ("", ReasonCode::Delayed),
        ];
        for (delay_type, want) in table {
            assert_eq!(classify_delay(delay_type, None, None), want, "{delay_type}");
        }
    }
}
