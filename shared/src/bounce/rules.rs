//! The classifier's rule tables: what a remote server's words, its status code and its
//! provider say about why a mail bounced.
//!
//! The knowledge comes from public sources, cited per group below. The largest is Sisimai
//! (github.com/sisimai/p5-sisimai, BSD-2-Clause): its reason taxonomy, its per-reason phrase
//! lists (`lib/Sisimai/Reason/*.pm`), its per-provider rules (`lib/Sisimai/Rhost/*.pm`) and
//! its status-code table (`lib/Sisimai/SMTP/Status.pm`). The tables here are our own
//! regexes, ordered for our reasons; they are not a port.
//!
//! Order of evidence ([`classify`]), first answer wins:
//! 1. SES's own decision not to send (`Suppressed`, `OnAccountSuppressionList` subtypes).
//! 2. Provider rules: the same words mean different things from different providers
//!    (docomo's "Unknown user" after DATA is the customer's reception filter).
//! 3. The diagnostic text against the phrase table (`TEXT_RULES`): **the text wins over a generic status code**.
//! 4. A clear enhanced status code (`5.1.1`, `4.2.2`, `5.7.26`, …).
//! 5. The bounce subtype SES chose (`NoEmail`, `MailboxFull`, …).
//! 6. A vague status code (`5.7.1` covers blocklists, filters and policies alike).
//! 7. The SMTP stage the text names (refused at `MAIL FROM` → our sender was refused).
//! 8. Otherwise [`ReasonCode::Undetermined`].

use std::sync::LazyLock;

use regex::{Regex, RegexSet};

use super::ReasonCode;
use crate::provider::Provider;

/// The stored fields of a bounce (or delivery delay) that the classifier reads. All of them
/// are in every stored mail record, so history can be classified again when the rules improve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BounceFacts<'a> {
    /// SES bounce type: `Permanent`, `Transient`, `Undetermined` (empty when unknown).
    pub bounce_type: &'a str,
    /// SES bounce subtype: `General`, `NoEmail`, `Suppressed`, … (empty when unknown).
    pub bounce_subtype: &'a str,
    /// Enhanced status code (`5.1.1`).
    pub status: Option<&'a str>,
    /// The remote server's words (`smtp; 550 5.1.1 …`).
    pub diagnostic: Option<&'a str>,
    /// The server that answered (host name or IP), when known.
    pub remote_mta: Option<&'a str>,
    /// The recipient's domain or whole address.
    pub recipient_domain: Option<&'a str>,
}

/// The reason for a bounce. See the module docs for the order of evidence.
pub fn classify(facts: &BounceFacts<'_>) -> ReasonCode {
    let subtype = facts.bounce_subtype.trim();
    if subtype.eq_ignore_ascii_case("Suppressed") {
        return ReasonCode::Suppressed;
    }
    if subtype.eq_ignore_ascii_case("OnAccountSuppressionList") {
        return ReasonCode::OnAccountSuppression;
    }
    let text = facts.diagnostic.map(normalise).unwrap_or_default();
    let status = enhanced_status(facts.status, facts.diagnostic);
    if is_google_group(facts.recipient_domain) && !text.contains("address not found") {
        // Google Groups bounces (in the poster's language) mean "you may not post here".
        return ReasonCode::SenderRejected;
    }
    if let Some(code) = by_provider(provider_of(facts), &text, status) {
        return code;
    }
    if status.is_some_and(|s| s.subject == 1 && matches!(s.detail, 7 | 8)) {
        // "Bad sender's mailbox address / system address": names our sender, whatever the
        // text adds ("No such domain" is then our domain).
        return ReasonCode::SenderRejected;
    }
    if let Some(code) = by_error_code(&text) {
        return code;
    }
    if let Some(code) = reason_from_text(&text) {
        return refine(code, &text, status);
    }
    let by_status = status.and_then(reason_from_status);
    if let Some((code, Certainty::Clear)) = by_status {
        return code;
    }
    if let Some(code) = reason_from_subtype(subtype) {
        return code;
    }
    if let Some((code, Certainty::Vague)) = by_status {
        return code;
    }
    reason_from_stage(&text)
        .or_else(|| reason_from_reply(facts.diagnostic.unwrap_or_default(), facts.bounce_type))
        .unwrap_or(ReasonCode::Undetermined)
}

/// A delivery delay: the text first, then a clear status code, then SES's `delayType`; a
/// delay with no clearer cause is simply [`ReasonCode::Delayed`].
pub fn classify_delay(delay_type: &str, facts: &BounceFacts<'_>) -> ReasonCode {
    let text = facts.diagnostic.map(normalise).unwrap_or_default();
    let status = enhanced_status(facts.status, facts.diagnostic);
    if let Some(code) = by_provider(provider_of(facts), &text, status) {
        return code;
    }
    if let Some(code) = reason_from_text(&text) {
        // A delay has not expired yet: "connection timed out" is the connection's trouble.
        return if code == ReasonCode::Expired {
            ReasonCode::Network
        } else {
            code
        };
    }
    if let Some((code, Certainty::Clear)) = status.and_then(reason_from_status) {
        return if code == ReasonCode::Expired {
            ReasonCode::Delayed
        } else {
            code
        };
    }
    match delay_type.trim() {
        "MailboxFull" => ReasonCode::MailboxFull,
        "SpamDetected" => ReasonCode::SpamDetected,
        // "The IP address that's sending the message is being blocked or throttled".
        "IPFailure" => ReasonCode::Blocked,
        "TransientCommunicationFailure" => ReasonCode::Network,
        "RecipientServerError" => ReasonCode::SystemError,
        // InternalFailure, SendingDeferral and BYOIPHostNameLookupUnavailable are on SES's
        // (or our own IP setup's) side; General and Undetermined say nothing.
        _ => ReasonCode::Delayed,
    }
}

/// "User unknown" after the server accepted the address (at the end of DATA), or with the
/// "other mailbox status" x.2.0, is a filter's answer, not a missing address (Sisimai
/// `Reason/Filtered.pm` reads it the same way).
fn refine(code: ReasonCode, text: &str, status: Option<EnhancedStatus>) -> ReasonCode {
    let mailbox_status = status.is_some_and(|s| s.subject == 2 && s.detail == 0);
    let after_data = text.contains("end of data");
    if code == ReasonCode::UserUnknown && (mailbox_status || after_data) {
        ReasonCode::Filtered
    } else {
        code
    }
}

/// A Google Groups address.
fn is_google_group(domain: Option<&str>) -> bool {
    domain.is_some_and(|d| {
        let d = d.trim().to_ascii_lowercase();
        d == "googlegroups.com"
            || d.ends_with(".googlegroups.com")
            || d.ends_with("@googlegroups.com")
    })
}

/// The provider of the recipient's domain, else of the answering server, else of a server
/// named in the text (`host mfsmax.docomo.ne.jp[…] said:`).
fn provider_of(facts: &BounceFacts<'_>) -> Option<Provider> {
    facts
        .recipient_domain
        .and_then(Provider::from_domain)
        .or_else(|| facts.remote_mta.and_then(Provider::from_host))
        .or_else(|| {
            let text = facts.diagnostic?;
            HOST_IN_TEXT
                .captures_iter(text)
                .find_map(|c| c.get(1).and_then(|m| Provider::from_host(m.as_str())))
        })
}

/// Host names quoted in a diagnostic.
static HOST_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b((?:[a-z0-9-]+\.)+(?:ne\.jp|co\.jp|com|jp|net))\b").expect("valid regex")
});

/// Rules that hold for one provider only.
///
/// Sources: Sisimai `lib/Sisimai/Rhost/NTTDOCOMO.pm` and `KDDI.pm` (docomo answers
/// "550 Unknown user" at RCPT for a missing address and after DATA, or with status 5.2.0,
/// for the customer's reception settings; au answers "550 : User unknown" without the
/// address for its filter, "550 <addr>: User unknown" for a missing address); the carriers'
/// bulk-sender notes at note.com/sendmagic (docomo "552 Too much mail data" = mailbox full,
/// "500 Line Too Long"; SoftBank "550 Invalid recipient" = no such address, "553 <domain>
/// does not exist" = our envelope sender's domain has no DNS records).
fn by_provider(
    provider: Option<Provider>,
    text: &str,
    status: Option<EnhancedStatus>,
) -> Option<ReasonCode> {
    use ReasonCode as R;
    let status_text = status.map(|s| format!("{}.{}.{}", s.class, s.subject, s.detail));
    let status = status.map(|s| (s.class, s.subject, s.detail));
    let Some(provider) = provider else {
        return super::provider_rules::lookup_any(status_text.as_deref(), text);
    };
    if let Some(code) = super::provider_rules::lookup(provider, status_text.as_deref(), text) {
        return Some(code);
    }
    match provider {
        Provider::Docomo => {
            if text.contains("too much mail data") {
                return Some(R::MailboxFull);
            }
            if text.contains("too many recipients") {
                return Some(R::RateLimited);
            }
            if text.contains("bad sequence of commands")
                || text.contains("command parameter not implemented")
            {
                return Some(R::SyntaxError);
            }
            if !text.contains("unknown user") {
                return None;
            }
            if text.contains("in reply to rcpt to") || status == Some((5, 1, 1)) {
                return Some(R::UserUnknown);
            }
            // After DATA, with 5.2.0 or without a stage: the customer's reception settings
            // (指定受信, なりすまし拒否) are by far the likelier cause, and the advice for them
            // also covers a mistyped address.
            Some(R::Filtered)
        }
        Provider::Au => {
            if text.contains("rejected by a remote mail server") && !text.contains("user unknown") {
                return Some(R::Filtered);
            }
            if text.contains("in reply to end of data")
                || text.contains("after end of data")
                || KDDI_FILTER.is_match(text)
            {
                return text.contains("user unknown").then_some(R::Filtered);
            }
            None
        }
        // SoftBank's "553 <domain> does not exist" names our envelope sender's domain.
        Provider::SoftBank if DOMAIN_DOES_NOT_EXIST.is_match(text) => Some(R::SenderRejected),
        // BIGLOBE's own DSN says "Mail Delivery Failed... User unknown" for its filter
        // (go-sisimai `lhost/via-biglobe.go`).
        Provider::Biglobe if text.contains("mail delivery failed... user unknown") => {
            Some(R::Filtered)
        }
        _ => None,
    }
}

/// Providers' own error codes that name the cause, wherever they appear.
///
/// Sources: Sisimai `lib/Sisimai/Rhost/FrancePTT.pm` (Orange and La Poste: `OFR_506`,
/// `LPN007_416`, … — the last three digits are the code) and `Rhost/Cox.pm` (Cox's AUP
/// codes, cox.com "Email error codes").
fn by_error_code(text: &str) -> Option<ReasonCode> {
    use ReasonCode as R;
    if let Some(caps) = FRANCE_PTT_CODE.captures(text) {
        let number = caps.get(1).map(|m| m.as_str()).unwrap_or_default();
        let code = match number {
            "101" | "102" | "103" | "510" | "999" => R::Blocked,
            "104" => R::RateLimited,
            "305" | "402" => R::Security,
            "401" | "517" => R::Security,
            "403" | "405" | "415" | "421" => R::SenderRejected,
            "416" => R::UserUnknown,
            "417" => R::MailboxFull,
            "420" | "426" => R::Suspended,
            "505" => R::SystemError,
            "506" => R::SpamDetected,
            "514" => R::MessageTooBig,
            "630" => R::Policy,
            _ => return None,
        };
        return Some(code);
    }
    let caps = COX_CODE.captures(text)?;
    let code = match caps.get(1).map(|m| m.as_str()).unwrap_or_default() {
        "cxbl" | "cdrbl" => R::Blocked,
        "cxdns" | "cxsndr" | "cxthrt" | "cxmj" => R::Security,
        "cxsmtp" => R::SenderRejected,
        "cxcnct" | "cxmxrt" => R::RateLimited,
        urlbl if urlbl.starts_with("urlbl") => R::SpamDetected,
        _ => R::Blocked,
    };
    Some(code)
}

/// Orange / La Poste codes: `OFR_506`, `OFR004_201`, `LPN007_416`.
static FRANCE_PTT_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:lpn|lpnaaa|ofr|ouk)(?:\d{3})?[-_](\d{3})\b").expect("valid regex")
});

/// Cox codes: `CXBL`, `IPBL0001`, `URLBL011`, …
static COX_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(cxbl|cxdns|cxsndr|cxsmtp|cxcnct|cxmxrt|cdrbl|cxthrt|cxmj|ipbl\d{4,5}|urlbl\d{3,4})\b",
    )
    .expect("valid regex")
});

/// "<domain> does not exist", the domain standing alone.
static DOMAIN_DOES_NOT_EXIST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(^|[ :])([a-z0-9-]+\.)+[a-z]{2,} does not exist").expect("valid regex")
});

/// au's filter answer: "550 : User unknown" with no address between the code and the colon.
static KDDI_FILTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(^|[^>])\s?: user unknown").expect("valid regex"));

/// The remote server's words → reason. Regexes over the lower-cased text with whitespace
/// collapsed ([`normalise`]); the **first** matching row wins, so the order is the point:
/// specific causes before the generic words they contain. A code may appear in several rows.
pub(super) const TEXT_RULES: &[(ReasonCode, &str)] = &[
    // Amazon SES's own words: it did not send at all.
    (
        ReasonCode::OnAccountSuppression,
        r"suppression list for your account|account-level suppression list|account level suppression list",
    ),
    (
        ReasonCode::Suppressed,
        r"amazon ses has suppressed sending|recent history of bouncing as an invalid address|global suppression list",
    ),
    // SES reports out-of-office replies as Transient bounces (SES docs); Sisimai Vacation.pm.
    (
        ReasonCode::AutoReply,
        r"auto-?repl(y|ied)|automatic(ally)? repl|out of (the )?office|on vacation|i am away (on vacation|until)|vacation (reply|message|notice)|自動応答|自動返信|不在",
    ),
    // The recipient's own filter or reception settings (Sisimai Filtered.pm; Japanese
    // carriers' 受信拒否/指定受信 from the carriers' help pages).
    (
        ReasonCode::Filtered,
        r"受信拒否|指定受信|拒否設定|迷惑メール(フィルター|設定)|domain filter|rejected by (the )?(recipient's |user's )?(mail )?filter|filter settings of the user|refused by (the )?recipient's (settings|filter)|only accepting mail from specific|recipient is only accepting mail from|is not accepting any mail|message rejected due to user rules|refused due to recipient preferences|resolver\.rst\.notauthorized|not authorized to send to (this )?(recipient|group|distribution)|this account is protected by|user refuses to receive|refuse to receive mail|\buser reject|you have been blocked by the recipient|blocked by the recipient|has restricted sms e-mail|due to extended inactivity new mail is not currently being accepted|permitted to this user only in the same domain|bounced address|list of senders to accept mail from|delivery restriction|cannot route mail to user",
    ),
    // A domain that says it takes no mail (Google's "doesn't receive email according to the
    // administrator", RFC 7505 null MX).
    (
        ReasonCode::NotAccept,
        r"doesn't receive email|does not receive email|no host found for existing smtp connection|does not accept mail|nullmx|null mx",
    ),
    // Greylisting and temporary DNS failures look like "address rejected" / "host not
    // found" but go away on their own (Postfix and postgrey texts; Sisimai NetworkError.pm;
    // Google's "DNS Error: … DNS type 'mx' lookup"; Exchange's "DNS query failed").
    (
        ReasonCode::Network,
        r"greylist|graylist|host not found, try again|name service error.{0,200}try again|temporary failure in name resolution|dns (lookup )?(timeout|timed out|temporar|servfail)|servfail|name server timeout|dns query failed|malformed (or unexpected )?name server reply|host name lookup failure|dns type 'mx' lookup|best-preference mx|dns lookup failed|maximum hop count",
    ),
    // A domain that does not resolve, even when quoted inside SES's "Message expired":
    // staff should check the part after the @.
    (
        ReasonCode::HostUnknown,
        r"unable to lookup dns|host or domain name not found",
    ),
    // SES or the sending server gave up retrying: "Message expired", "not delivered within
    // N days", a connection that never came up (Sisimai Expired.pm). The issue's rule: this
    // text wins over whatever 4.4.x code comes with it.
    (
        ReasonCode::Expired,
        r"message expired|could not contact dns servers|not delivered within|did not accept our requests to connect|connection timed out|host not reachable|unable to connect successfully|will be retried for|delivery (time )?expired|message timed out|配信期限|期限切れ|有効期限が切れ|(配信|配送|再送)を(中止|断念)",
    ),
    // Programs on the recipient's server that failed (Sisimai MailerError.pm).
    (
        ReasonCode::SystemError,
        r"transaction failed( \(in reply|$)|procmail|maildrop|x-unix|pipe to \||command (failed|died)|command output|mailer error|\|\| exit",
    ),
    // Sisimai MailboxFull.pm and SystemFull.pm; Gmail "over quota", Exchange "size limit".
    (
        ReasonCode::MailboxFull,
        r"mailbox (is )?full|mail ?box full|mailfolder is full|mailbox (has )?exceeded|mailbox exceeds|mailbox (quota|size limit)|inbox (is )?full|full mailbox|over ?(its |the |their |his |her |disk )?quota|quota (exceeded|exceed|full|violation|usage)|exceeded (the |their |its )?(storage|quota|disk)|exceeding (its |their )?(mailbox )?quota|exceeds? (the |their |its )?(mailbox |disk |storage )?quota|insufficient (disk |system )?(space|storage)|not (enough|sufficient) (free )?(disk |storage )?(space|storage)|does not have enough space|disk quota|disc quota|diskspace quota|storage (allocation )?(exceeded|full)|exceeded storage allocation|user has exceeded|mail system (storage )?(is )?full|no space left on device|space has been used up|too many messages (on the server|in|for)|number of messages in recipient's mailbox exceeded|exceeded the local limit|mail file size exceeds|exceeding receiving limits|recipient reached disk quota|would exceed maximum allowed storage|boite du destinataire pleine|容量(が|を)?(不足|オーバー|超過|超え)|空き容量が(不足|ありません|足りません)|(メールボックス|受信箱)(が|の容量が)?(いっぱい|満杯|一杯)",
    ),
    // Sisimai MesgTooBig.pm and ExceedLimit.pm.
    (
        ReasonCode::MessageTooBig,
        r"(message|mail|email|e-mail|file) (size )?(is )?too (big|large|long)|message size (exceeds|limit|too)|size (exceeds|limit|too)|exceeds? (the )?(fixed |maximum |max |allowed )?(message )?size|exceeded (the )?(maximum )?(inbound )?(message )?size|message too large|larger than (the )?(maximum|allowed|permitted)|maximum (message )?size|max message size|message length exceeds|line limit exceeded|message file too big|header size exceeds|taille limite du message|サイズ(が|の)?(上限|制限|超過|大き)|大きすぎ",
    ),
    // Sisimai Suspend.pm; Gmail "is disabled", Yahoo "This mailbox is disabled (554.30)",
    // La Poste "The recipient account is blocked".
    (
        ReasonCode::Suspended,
        r"(account|mailbox)( \S+){0,6} (is|has been|was) (disabled|deactivated|suspended|inactive|locked|frozen|not active|no longer active|terminated|discontinued)|(account|mailbox|user|recipient) (disabled|deactivated|suspended|inactive|locked|frozen|terminated)|(disabled|inactive|suspended|deactivated|expired|closed|archived) (email |e-mail )?(user|account|mailbox|recipient|address)|account (has )?expired|(account|mailbox) (is )?closed|recipient('s)? account is blocked|is currently suspended|has been suspended|temporar(il)?y locked|temporarily inactive|user is terminated|no longer accepts mail|mailbox unavailable or access denied|user or domain is disabled|recipient suspend|boite du destinataire archivee|アカウント(が|は)?(停止|無効)|(利用|受信)停止中|休止中",
    ),
    // Before security: "relaying denied. proper authentication required" (Sisimai NoRelaying.pm).
    (
        ReasonCode::NoRelaying,
        r"relay(ing)? (access )?(denied|not permitted|not allowed|prohibited|refused)|relaying (is )?not (permitted|allowed)|(unable|not permitted|not allowed|cannot|can't) to relay|not allowed to relay|we do not relay|no relaying|as a relay|insecure mail relay|not an open relay|not a gateway|not local host|relaying mail to|unable to relay for|we don't handle mail for|not configured to relay|isn't in my list of allowed rcpthosts|specified domain is not allowed|requires authentication when attempting to send to a non-local|email address is not verified",
    ),
    // Verdicts about this message's content that also name other things (Sisimai
    // SpamDetected.pm): Google Groups' "rejected due to spam classification … set up SPF".
    (
        ReasonCode::SpamDetected,
        r"spam detected|spam classification|classified as spam|detected as spam|identified as spam|scored as spam|rejected as spam|looks like spam|appears to be spam|probable spam|probability of spam|blacklisted (url|link)|uribl|surbl|spam score",
    ),
    // Sender authentication (Sisimai AuthFailure.pm, RequirePTR.pm, SecurityError.pm;
    // Gmail's sender guidelines; Microsoft 5.7.509/5.7.515). Before "blocked": Gmail's
    // 5.7.26 says "this mail has been blocked because the sender is unauthenticated".
    (
        ReasonCode::Security,
        r"dmarc|\bspf\b|dkim|unauthenticated|not authenticated|authentication (failed|failure|required|results|check|credentials)|fails? (to pass )?authentication|smtp authentication|sender policy framework|domainkeys|reverse dns|reverse lookup|\bptr\b|\brdns\b|cannot find your hostname|ip name lookup failed|unresolvable relay host name|forward dns entry does not point|mismatches client ip|unverifyable sending ip|ipv6 sending guidelines|starttls is required|tls required|must use tls|encryption (is )?required|requiretls|you don't authenticate|authentication is required|verification failure|authentification|rejecting spoofed|spoof(ed|ing)|tls が必要|暗号化が必要|送信ドメイン認証|認証に失敗",
    ),
    // Our IP's or domain's reputation, and refusals before any address was given (Sisimai
    // BadReputation.pm and Blocked.pm; Yahoo [TSS04] "unexpected volume or user complaints";
    // Microsoft 4.7.650 "rate limited due to IP reputation"). Before rate_limited: the issue's
    // rule, "mail from your IP has been blocked" is reputation even when Gmail says it saw
    // "an unusual rate of unsolicited mail".
    (
        ReasonCode::Blocked,
        r"reputation|(mail|messages) (sent )?from your ip (address )?(has|have) been (temporarily )?blocked|\[tss04\]|\[tss09\]|unexpected volume or user complaints|esmtp not accepting connections|after initial connection|my name was rejected|refused to talk to me|after (ehlo|helo)|in reply to (ehlo|helo)|ホワイトリストにありません|ipアドレス(が|は)?(ブロック|拒否)|ブロックリスト|ブラックリスト|迷惑メールが送信されたことを検出",
    ),
    // Our envelope sender's domain does not resolve: a refusal of our sender even when the
    // server calls it a temporary deferral (Yahoo's "unresolvable RFC.5321 from domain").
    (
        ReasonCode::SenderRejected,
        r"(unresolvable|unverifiable|non-?existent|invalid) (rfc\.?5321 )?(mail )?from domain",
    ),
    // Gmail's 4.7.28 and 4.2.1 "receiving mail at a rate" (Sisimai Speeding.pm,
    // TooManyConn.pm; Gmail's and Tencent's postmaster texts).
    (
        ReasonCode::RateLimited,
        r"rate limit|rate-limit|ratelimit|unusual rate|at a rate that|try again slower|too many (connections|concurrent|smtp sessions|sessions|recipients|messages|mails|emails|e-mails)|connection rate|frequency limited|per-domain connection limit|maximum connection limit|max emails per hour|exceeded the max(imum)? (emails|messages)|message quota exceeded|maximum sending rate|throttl|temporarily deferred|sending quota|mail flood|trop de connexions",
    ),
    // Our envelope sender or its domain was refused (Sisimai Rejected.pm).
    (
        ReasonCode::SenderRejected,
        r"sender (address |email address )?(rejected|denied|not allowed|was rejected|is in my black list|is spammer|verify failed|not pre-approved|domain is empty|domain must exist)|sender email address rejected|address that has been blacklisted|sender address has been blacklisted|your email address has been blacklisted|domain of sender address|unroutable sender|invalid sender|emetteur invalide|mail from not owned|bogus mail from|empty envelope senders|null sender is not allowed|\bbatv\b|backscatter protection|envelope blocked|this server does not accept mail from|returned mail not accepted here|from: domain is invalid|without a valid sender domain|can't determine purported responsible address|fully qualified email address required|is not a registered gateway user|sending this from a different address|on senderfilterconfig list|recipient addresses rejected : access denied|does not exist e2110|sender domain (does not|doesn't) exist|(送信者|差出人|送信元)の?(メール)?アドレス(が|は)(拒否|無効)",
    ),
    // The domain does not exist (Sisimai HostUnknown.pm). Before the blocklists: Exim says
    // "the account or domain may not exist, they may be blacklisted".
    (
        ReasonCode::HostUnknown,
        r"host or domain name not found|bad destination system address|all host address lookups failed permanently|mx records point to non-existent hosts|illegal host/domain name|dns server returned answer with no data|(domain|host) (name )?(does not|doesn't|must) exist|no such domain|unknown (host|domain)|(host|domain) (name )?(is )?unknown|host \S+ not found|host not found|domain (name )?not found|unrouteable (mail )?domain|unroutable domain|unrout(e)?able address|account or domain may not exist|(^|[ :])([a-z0-9-]+\.)+[a-z]{2,} does not exist|ドメイン(名)?(が|は)?(存在しません|見つかりません|不明)|ホスト(名)?(が|は)?(見つかりません|不明)",
    ),
    // Our IP or domain, not this message: blocklists (Sisimai Blocked.pm; Outlook 5.7.606
    // "banned sending IP"). Before user_unknown: Outlook says "mailbox unavailable" when it
    // means "blocked using Spamhaus".
    (
        ReasonCode::Blocked,
        r"spamhaus|spamcop|barracuda|sorbs|uceprotect|spamrats|\brbl\b|dnsbl|black ?list|block ?list|deny ?list|blocked using|blocked - see|refused - see|listed (at|on|by) |banned sending ip|banned sender|not accepted from (this|your) ip|not currently accepting mail from your ip|part of their network|permanently deferred|client host (\[[^\]]*\] )?(rejected|blocked)|bad sender ip|sender ip address rejected|access from ip address|your ip (address )?(has been |is )?(blocked|listed|banned)|ip .{0,40} is blocked|is blocked by|was blocked by|dynamic ip|dynamic/zombied|hosts with dynamic|open proxy|helo command rejected|confirm this mail server|not allowed to send mail from|please use the smtp server of your isp|too many (spams|unwanted messages|errors from your ip)|you are sending spam|extreme bad ip|no access from mail server|go away|connection refused by|connection was dropped by remote host|you are not allowed to connect|server access forbidden|your server requires confirmation|invalid ip for sending|host network not allowed|may not be mail exchanger|sc-00\d|service not available, closing transmission channel",
    ),
    // The address does not exist (Sisimai UserUnknown.pm and HasMoved.pm; Japanese texts
    // of Domino, Notes, Microsoft's Japanese NDRs and Japanese ISPs).
    (
        ReasonCode::UserUnknown,
        r"user unknown|unknown user|does not like recipient|user name is unknown|unknown (recipient|mailbox|address|local[- ]part|alias)|unknown or illegal alias|(no such|invalid|bad) (user|mailbox|recipient|address|account|local|person|destination mailbox)|(does not|doesn't|did not|not) exists?\b|not (a )?valid (user|mailbox|recipient|address)|is not a known user|(recipient|user|mailbox|address|account|addressee|userid) (not found|not known|not exist|not present|missing)|not found (recipient|in directory)|address not present|mailbox (unavailable|not available|is unavailable|unavaiable|invalid|is inactive)|no mailbox|mailbox not present|recipient address rejected(\.|$| \(in reply|: (access denied|undeliverable|unknown|user|invalid|no such))|<recipient rejected>|recipient rejected$|recipient not (ok|accepted|exist)|recipient is not (accepted|local)|undeliverable address|(doesn't|does not) have an? \S+ account|not our customer|not listed in|address unknown|recipient unknown|can't accept user|there is no one at this address|no account by that name|address couldn't be found|could not be found|check if address is correct|email address (is )?(wrong|invalid|does not exist)|not an active address|destination addresses were unknown|destination server rejected recipients|rejected recipients|not a local address|no valid recipients|badrcptto|badrecipientto|validrcptto|envelope recipient (has been denied|is in)|has been replaced by|no longer valid|invalid final delivery userid|user not active|vdeliver|user missing home directory|utilisateur inconnu|no existe|nessun utente|address invalid|invalid address|#5\.1\.1|宛先(が|の)?(不明|見つかりません)|ユーザー?(は|が)?(登録されていません|見つかりません|存在しません)|存在しません|存在しない|見つかりません|リストにありません|不明なアドレス|アドレス(に|が)誤り|(メール)?アドレスが正しくありません|宛先(アドレス)?(に|が)誤り|無効な受信者|形式が正しくありません",
    ),
    // Weaker signs that our sender was refused (Sisimai Rejected.pm).
    (
        ReasonCode::SenderRejected,
        r"after mail from|access denied \(in reply to mail from|in reply to mail from command|administrative prohibition|delivery not authorized, message refused|you are not allowed to post to this mailing list|not subscribed to this group|by non-member to a members-only list|closed mailing list|rfc 1035 violation",
    ),
    // The domain has no usable mail server (Sisimai HostUnknown.pm).
    (
        ReasonCode::HostUnknown,
        r"name service error|nxdomain|non-existent (host|domain)|(couldn't|could not) find any host|unable to lookup dns|(could not|couldn't|unable to) resolve|name or service not known|domain is not reachable|host unreachable|mail domain mentioned in email address is unknown|dns records for the destination computer could not be found",
    ),
    // The domain takes no mail: null MX (RFC 7505), "host does not accept mail" (Sisimai
    // NotAccept.pm; qmail's "couldn't find a mail exchanger").
    (
        ReasonCode::NotAccept,
        r"does not accept mail|system not accepting network|nullmx|null mx|no mx record|mx record|no smtp service|find a mail exchanger|mail receiving disabled|no route for current request|smtp protocol returned a permanent error",
    ),
    // Refusals by a rule of the recipient's server that name other things (Sisimai
    // PolicyViolation.pm): Gmail's "content presents a potential security issue".
    (
        ReasonCode::Policy,
        r"content presents a potential|header error|header are not accepted|illegal attachment|organizational settings|organization policy|local policy|denied by policy|for policy reasons|security policies|message given low priority|messages with multiple addresses|protocol violation|mass mailer|captcha",
    ),
    // Viruses, forbidden attachments, malformed messages (Sisimai VirusDetected.pm,
    // ContentError.pm, NotCompliantRFC.pm; Gmail's RFC 5322 page; docomo's 1000-byte lines).
    (
        ReasonCode::ContentRejected,
        r"virus|malware|media error|infected|trojan|potentially executable|executable|attachment|file (type|extension|name)|(banned|forbidden|prohibited|blocked|unacceptable) (file|attachment|content)|duplicate header|header size exceeds|8-bit data in message header|mime (complexity|headers)|improperly-formatted|unnecessary base64|not (rfc ?5322 )?compliant|rfcmessagenoncompliant|rfc ?5322|rfc ?2822|message-id header|header (is )?(invalid|malformed|missing)|malformed (message|header)|line too long|bare lf|ウイルス|添付",
    ),
    // This message's content (Sisimai SpamDetected.pm).
    (
        ReasonCode::SpamDetected,
        r"spam|unsolicited|junk (mail|e-?mail)|bulk (mail|e-?mail)|bulk\.advertising|\bube\b|phish|scam|content filter|message filtered|suspicious (content|message|url|link)|message (looks|is) suspicious|message content rejected|mail content denied|unacceptable content|classified as bulk|recurrent pattern|rejecting (banned|mail) content|迷惑メール|スパム",
    ),
    (ReasonCode::Policy, r"policy"),
    // Our side's SMTP dialogue (Sisimai SyntaxError.pm: 50x replies).
    (
        ReasonCode::SyntaxError,
        r"syntax error|command unrecognized|command not (recognized|implemented)|unrecognized command|bad sequence of commands|improper sequence|angle-brackets nested too deep|expected word or .<.|domain missing in source-routed address|too many bad commands?|command parameter not implemented|malformed address",
    ),
    // A message going round between servers (Sisimai NetworkError.pm: "hop count exceeded",
    // "mail forwarding loop for", "routing loop", "too many hops"; Gmail's "exceeded 50
    // hops"), and the routing failures of go-sisimai's `lhost/via-*.go` message lists. A
    // server that loops back to itself is its own error (next row).
    (
        ReasonCode::Network,
        r"hop count exceeded|too many hops|exceeded \d+ hops|mail forwarding loop for|forwarding loop count|message looping|routing loop|probably in a routing loop|loop detected|all routes to destination blocked|temporary failure in mx lookup|had no relevant answers|address family mismatch|could not retrieve source address|network error on destination|no valid route to|bad dns lookup error code",
    ),
    // Trouble inside the recipient's server (Sisimai SystemError.pm).
    (
        ReasonCode::SystemError,
        r"mail(ing)? loop|forwarding loop|loops back to myself|loop was found in the mail exchanger|too many received|aliasing/forwarding loop|can't create user output file|could not load drd|internal error|local configuration error|local error in processing|mail system configuration error|system config error|server configuration error|remote server is misconfigured|queue file write error|no mdb|temporary local problem|interrupted system call|it encountered an error while being processed|operation now in progress|database error|spool fail|operating system error|delivery to (file|pipe) forbidden|local delivery failed|lmtp error after|bad interpreter|system error|several matches found|violates rfc 1035|duplicated message-id|ldap server|transaction failed",
    ),
    // Exim's "retry timeout exceeded", qmail's "in the queue too long" (Sisimai Expired.pm).
    (
        ReasonCode::Expired,
        r"retry time(out)? (exceeded|reached|not reached)|queue (lifetime|time) exceeded|too long in (the )?queue|in the queue too long|message expired after sitting|have been failing for a long time|could not be delivered (for|within)|unable to deliver message after multiple retries|was not reachable within the allowed queue period|not been collected after|numerous attempts to deliver|delivery attempts will continue|could not send message for past|giving up on|gave up|delivery failed \d+ attempts",
    ),
    // The recipient's server could not be reached (Sisimai NetworkError.pm).
    (
        ReasonCode::Network,
        r"connection (timeout|refused|reset|dropped|closed|lost|failed|error|died)|timed out|timeout|(unable|could not|couldn't|can't|cannot|failed|wasn't able) to (connect|establish)|no route to host|(network|host) (is )?unreachable|lost connection|broken pipe|read error|write error|\btls\b|\bssl\b|starttls|certificate|handshake|unable to resolve route|could not find a gateway|server did not respond|タイムアウト|接続(できません|に失敗)",
    ),
    // Sisimai's phrase lists (go-sisimai `reason/why-*.go` `index` and `pairs`, BSD-2-Clause)
    // that no row above reads; a pair ("user", "was not found") is the two parts in order.
    // Before the generic rows below, which would read them more vaguely.
    (
        ReasonCode::UserUnknown,
        r"no mail ?box available for (this|that) user|account unavailable|no \S+ in name directory|non-?existent (user|recipient|mailbox|address)|recipient \S+ was not found in|user \S+ (was not found|does not exist)|user \(.{1,80}\) unknown|rcpt [<(].{1,80}t exist|unknown e-?mail address|unknown local[- ]?part|recipients? was undeliverable|email name is not found|resolver\.adr\.recipient ?notfound|<[^>]{1,80}> not found|bad \S+ recipient|account \S+ does not exist at the organization",
    ),
    // Not Postfix's "delivery temporarily suspended", which is about the connection.
    (
        ReasonCode::Suspended,
        r"(account|mailbox|user|recipient)( \S+){0,3} (temporarily|currently) suspended",
    ),
    (
        ReasonCode::MailboxFull,
        r"over the allowed quota|too much mail data",
    ),
    (
        ReasonCode::MessageTooBig,
        r"exceeded the maximum incoming message size",
    ),
    (
        ReasonCode::SpamDetected,
        r"mail score \(.{1,40} over |our system has detected that this message is|this message scored .{1,20} spam points|sender domain listed at|mail rejete\. mail rejected",
    ),
    (
        ReasonCode::Blocked,
        r"no matches to nameserver query|has not passed validation|access ip .{1,60} has been rejected|server ip .{1,60} listed as abusive|the (ip|domain|email) .{1,60} is blacklisted|rejected based on blacklist|is in an \S* ?rbl on",
    ),
    (
        ReasonCode::SenderRejected,
        r"access to submit messages to this e-mail system has been rejected|denied \[bouncedeny\]|no third-party dsns|invalid domain, see <url:|rule imposed mailbox access for",
    ),
    (
        ReasonCode::Security,
        r"authentication turned on in your email client|cannot resolve your address|is a dead domain|not subscribed to ses|not authorized to perform ses:",
    ),
    (
        ReasonCode::Policy,
        r"because the recipient is not accepting mail with",
    ),
    // The message lists of go-sisimai's MTA modules (`lhost/via-*.go`: KDDI, EZweb, Domino,
    // Exim, X6 …) that no row above reads.
    (
        ReasonCode::HostUnknown,
        r"remote domain doesn'?t exist|invalid domain name|dns lookup failure: host",
    ),
    (
        ReasonCode::NotAccept,
        r"seems? to reject all mails|no mx found for (destination|domain)",
    ),
    (ReasonCode::NoRelaying, r"smtp relay error"),
    (ReasonCode::Security, r"could not retrieve credentials"),
    (ReasonCode::Suspended, r"account is temporarily limited"),
    (
        ReasonCode::UserUnknown,
        r"no se encuentra en el directorio de domino|non répertorié dans l'annuaire domino",
    ),
    (
        ReasonCode::Network,
        r"could not connect and send the mail to",
    ),
    (ReasonCode::Expired, r"failed to deliver to domain"),
    // Generic refusals by the recipient's server.
    (
        ReasonCode::Policy,
        r"not accepted|access denied|administrative(ly)? prohibit|prohibited|not allowed|not permitted|refused|rejected by (the )?recipient|blocked|filter",
    ),
    // Generic temporary trouble on the recipient's side.
    (
        ReasonCode::SystemError,
        r"service (is )?(currently |temporarily )?unavailable|temporarily unavailable|server (is )?(busy|unavailable)|too busy|(system|server) (is )?(busy|overloaded)|overloaded|local error|temporary (local |server |system )?(problem|error|failure)|try again later|resources temporarily|other mail system problem|一時的な(問題|エラー|障害)|ビジー|しばらくしてから",
    ),
    // Last: an "expired" bounce usually quotes the last real error, matched above.
    (
        ReasonCode::Expired,
        r"expired|unable to deliver in|has been delayed|giving up",
    ),
];

/// [`TEXT_RULES`] compiled once; a set match yields every matching row, and the lowest
/// index is the winner.
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

/// The reason the (normalised) diagnostic text gives, if any row of [`TEXT_RULES`] matches.
pub(super) fn reason_from_text(text: &str) -> Option<ReasonCode> {
    let row = TEXT_SET.matches(text).iter().next()?;
    TEXT_RULES.get(row).map(|(code, _)| *code)
}

/// The SMTP stage named in the text, when nothing else spoke: a refusal at `MAIL FROM` is a
/// refusal of our sender (Sisimai sets `rejected` from the SMTP command the same way).
fn reason_from_stage(text: &str) -> Option<ReasonCode> {
    (text.contains("mail from")).then_some(ReasonCode::SenderRejected)
}

/// The basic SMTP reply code's meaning (RFC 5321 4.2, RFC 7504, RFC 4954, as Sisimai's
/// `smtp/reply` lists them), when the text says nothing more. 550 ("mailbox unavailable,
/// or rejected for policy reasons") and 554 ("transaction failed") cover every kind of
/// refusal and say nothing. A Permanent bounce that only quotes a
/// 421 is a server that kept closing the connection until the retries ran out. Reads the
/// raw diagnostic: [`normalise`] drops the codes that start a reply line.
fn reason_from_reply(text: &str, bounce_type: &str) -> Option<ReasonCode> {
    use ReasonCode as R;
    let caps = REPLY_CODE.captures(text)?;
    let code = match caps.get(1).map(|m| m.as_str()).unwrap_or_default() {
        "421" if bounce_type.eq_ignore_ascii_case("Permanent") => R::Expired,
        "421" | "450" | "451" => R::SystemError,
        "452" | "552" => R::MailboxFull,
        "454" | "530" | "534" | "535" | "538" => R::Security,
        "500" | "501" | "502" | "503" | "504" | "555" => R::SyntaxError,
        "521" | "556" => R::NotAccept,
        "525" => R::Suspended,
        "551" | "553" => R::UserUnknown,
        _ => return None,
    };
    Some(code)
}

/// A basic SMTP reply code standing as a word (not part of an IP address or a number).
static REPLY_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s:;(\[])([45][0-5]\d)(?:[\s\-:]|$)").expect("valid regex")
});

/// Lower-case, drop SMTP reply prefixes, collapse whitespace (including newlines) to one
/// space, so that the rules can be written as plain phrases.
pub(super) fn normalise(diagnostic: &str) -> String {
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
pub(super) struct EnhancedStatus {
    pub(super) class: u16,
    pub(super) subject: u16,
    pub(super) detail: u16,
}

/// The status field if it holds a code, else the first code in the diagnostic text.
fn enhanced_status(status: Option<&str>, diagnostic: Option<&str>) -> Option<EnhancedStatus> {
    status
        .and_then(find_enhanced_status)
        .or_else(|| diagnostic.and_then(find_enhanced_status))
}

pub(super) fn find_enhanced_status(text: &str) -> Option<EnhancedStatus> {
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

/// RFC 3463 / IANA "SMTP Enhanced Status Codes" subject.detail → reason (with Sisimai's
/// `SMTP/Status.pm` reading of the codes that RFCs leave open). The class (4 or 5) is the
/// bounce type's business, not the reason's.
fn reason_from_status(status: EnhancedStatus) -> Option<(ReasonCode, Certainty)> {
    use Certainty::{Clear, Vague};
    use ReasonCode as R;
    if status.class == 2 {
        return None;
    }
    let found = match (status.subject, status.detail) {
        // Bad destination mailbox address; bad syntax; mailbox has moved.
        (1, 1 | 3 | 6) => (R::UserUnknown, Clear),
        // Other address status.
        (1, 0) => (R::UserUnknown, Vague),
        // Bad destination system address.
        (1, 2) => (R::HostUnknown, Clear),
        // Recipient domain has a null MX (RFC 7505).
        (1, 10) => (R::NotAccept, Clear),
        // Bad sender address or sender system.
        (1, 7 | 8) => (R::SenderRejected, Clear),
        // Other mailbox status: Sisimai reads it as the recipient's filter.
        (2, 0) => (R::Filtered, Vague),
        // Mailbox disabled, not accepting messages.
        (2, 1) => (R::Suspended, Clear),
        // Mailbox full; mail system full.
        (2, 2) | (3, 1) => (R::MailboxFull, Clear),
        // Message length exceeds administrative limit; message too big for system.
        (2, 3) | (3, 4) => (R::MessageTooBig, Clear),
        // Mailing-list expansion problem.
        (2, 4) => (R::Filtered, Vague),
        // System not accepting network messages.
        (3, 2) => (R::NotAccept, Vague),
        // Other mail system status; not capable; incorrectly configured.
        (3, 0 | 3 | 5) => (R::SystemError, Vague),
        // No answer from host; bad connection.
        (4, 1 | 2) => (R::Network, Clear),
        // Unable to route: usually the recipient domain's DNS.
        (4, 4) => (R::HostUnknown, Vague),
        // Delivery time expired.
        (4, 7) => (R::Expired, Clear),
        // Directory server failure, congestion.
        (4, 3 | 5) => (R::SystemError, Vague),
        // Other network status, routing loop.
        (4, 0 | 6) => (R::Network, Vague),
        // Syntax errors in our SMTP dialogue.
        (5, 2 | 6) => (R::SyntaxError, Vague),
        // Too many recipients: a limit, not a policy.
        (5, 3) => (R::RateLimited, Vague),
        // Invalid command arguments, wrong protocol version.
        (5, 4 | 5) => (R::SystemError, Vague),
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
        // Sender's domain has a null MX (RFC 7505).
        (7, 27) => (R::SenderRejected, Clear),
        // Mail flood detected (RFC 7372); Gmail's 4.7.28 rate limit.
        (7, 28) => (R::RateLimited, Clear),
        // DKIM, SPF, reverse DNS, "multiple authentication checks failed" (5.7.26), ARC.
        (7, 20..=26 | 29) => (R::Security, Clear),
        // Security conversion, crypto, SMTP AUTH and TLS requirements.
        (7, 3..=6 | 8..=12 | 14 | 19 | 30) => (R::Security, Vague),
        // Exchange Online's own 5.7.x codes (learn.microsoft.com "NDRs in Exchange Online"):
        // 5.7.501-5.7.513 and 5.7.606-5.7.649 are banned or blocked senders and IPs;
        // 5.7.509/5.7.515 DMARC and authentication; 5.7.700-5.7.750 the sending tenant.
        (7, 509 | 515) => (R::Security, Clear),
        (7, 501..=513 | 606..=649 | 700..=750) => (R::Blocked, Clear),
        // 5.7.124 (not allowed to send to a group), 5.7.133-5.7.136 (restricted recipient).
        (7, 124 | 133..=136) => (R::Filtered, Clear),
        _ => return None,
    };
    Some(found)
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

    fn facts<'a>(domain: &'a str, status: Option<&'a str>, text: &'a str) -> BounceFacts<'a> {
        BounceFacts {
            bounce_type: "Permanent",
            bounce_subtype: "General",
            status,
            diagnostic: Some(text),
            remote_mta: None,
            recipient_domain: Some(domain),
        }
    }

    #[test]
    fn docomo_unknown_user_depends_on_the_stage() {
        let rcpt = "550 Unknown user taro@docomo.ne.jp (in reply to RCPT TO command)";
        let data = "550 Unknown user taro@docomo.ne.jp (in reply to end of DATA command)";
        assert_eq!(
            classify(&facts("docomo.ne.jp", None, rcpt)),
            ReasonCode::UserUnknown
        );
        assert_eq!(
            classify(&facts("docomo.ne.jp", None, data)),
            ReasonCode::Filtered
        );
        assert_eq!(
            classify(&facts("docomo.ne.jp", Some("5.2.0"), "550 Unknown user")),
            ReasonCode::Filtered
        );
        // Elsewhere the same words without a stage are a missing address.
        let bare = "550 Unknown user taro@example.jp";
        assert_eq!(
            classify(&facts("example.jp", None, bare)),
            ReasonCode::UserUnknown
        );
        assert_eq!(
            classify(&facts("example.jp", None, data)),
            ReasonCode::Filtered
        );
    }

    #[test]
    fn au_filter_reply_has_no_address() {
        let filter = "550 : User unknown";
        let missing = "550 <hanako@ezweb.ne.jp>: User unknown";
        assert_eq!(
            classify(&facts("ezweb.ne.jp", None, filter)),
            ReasonCode::Filtered
        );
        assert_eq!(
            classify(&facts("au.com", None, missing)),
            ReasonCode::UserUnknown
        );
    }

    #[test]
    fn provider_wording_counts_without_the_provider() {
        // An Exchange Online tenant on a company domain: no provider is named.
        let text = "550 5.7.509 Access denied, sending domain example.org does not pass DMARC verification and has a DMARC policy of reject";
        assert_eq!(
            classify(&facts("example.co.jp", Some("5.7.509"), text)),
            ReasonCode::Security
        );
        // A short phrase of a provider's table ("mailbox full") is not read that way, and
        // the status must agree with the table's.
        assert_eq!(
            provider_rules_any(Some("5.7.1"), "does not pass dmarc verification"),
            None
        );
    }

    fn provider_rules_any(status: Option<&str>, text: &str) -> Option<ReasonCode> {
        super::super::provider_rules::lookup_any(status, text)
    }

    /// Each text, classified for a recipient at `domain`, gives its reason.
    fn check(domain: &str, table: &[(&str, ReasonCode)]) {
        for (text, want) in table {
            assert_eq!(classify(&facts(domain, None, text)), *want, "{text}");
        }
    }

    #[test]
    fn loops_between_servers_are_network_trouble() {
        use ReasonCode as R;
        check(
            "example.net",
            &[
                (
                    "554 5.4.6 Hop count exceeded - possible mail loop",
                    R::Network,
                ),
                ("Too many hops 26 (25 max)", R::Network),
                ("mail forwarding loop for someone@example.net", R::Network),
                // A server looping back to itself is its own trouble.
                ("mail for example.net loops back to myself", R::SystemError),
                // Postfix's "delivery temporarily suspended" is not a suspended account.
                (
                    "delivery temporarily suspended: lost connection with mx.example.net while receiving the initial server greeting",
                    R::Network,
                ),
                (
                    "Mailbox currently suspended - please contact the recipient",
                    R::Suspended,
                ),
            ],
        );
    }

    #[test]
    fn a_bare_reply_code_has_its_rfc_meaning() {
        use ReasonCode as R;
        check(
            "example.net",
            &[
                ("552 <someone@example.net>", R::MailboxFull),
                ("556 example.net", R::NotAccept),
                ("535 incorrect", R::Security),
                ("503 please", R::SyntaxError),
                ("554 no", R::Undetermined),
                ("550 no", R::Undetermined),
                // Digits inside an address are not reply codes.
                ("[192.0.2.550]", R::Undetermined),
            ],
        );
    }

    #[test]
    fn ip_blocked_is_reputation_even_at_an_unusual_rate() {
        use ReasonCode as R;
        let blocked = "421 4.7.0 We saw an unusual rate of unsolicited mail from your IP address, so mail sent from your IP address has been temporarily blocked.";
        let rate = "450 4.2.1 The user is receiving mail at a rate that prevents more messages.";
        check(
            "example.net",
            &[(blocked, R::Blocked), (rate, R::RateLimited)],
        );
    }

    #[test]
    fn japanese_wordings_of_each_class() {
        use ReasonCode as R;
        check(
            "example.jp",
            &[
                ("550 4.4.7 キューの有効期限が切れました", R::Expired),
                ("受信者のメールボックスの容量を超えています", R::MailboxFull),
                ("メッセージのサイズが大きすぎます", R::MessageTooBig),
                ("このメールアドレスは現在利用停止中です", R::Suspended),
                (
                    "送信元 IP アドレスがブロックリストに登録されています",
                    R::Blocked,
                ),
                ("宛先のドメイン名が不明です", R::HostUnknown),
                ("宛先アドレスに誤りがあります", R::UserUnknown),
                ("サーバーで一時的なエラーが発生しました", R::SystemError),
                ("受信サーバーに接続できません", R::Network),
                ("スパムと判定されました", R::SpamDetected),
                ("差出人のメールアドレスが拒否されました", R::SenderRejected),
            ],
        );
    }

    #[test]
    fn delay_types() {
        let table = [
            ("MailboxFull", ReasonCode::MailboxFull),
            ("SpamDetected", ReasonCode::SpamDetected),
            ("IPFailure", ReasonCode::Blocked),
            ("TransientCommunicationFailure", ReasonCode::Network),
            ("RecipientServerError", ReasonCode::SystemError),
            ("InternalFailure", ReasonCode::Delayed),
            ("SendingDeferral", ReasonCode::Delayed),
            ("BYOIPHostNameLookupUnavailable", ReasonCode::Delayed),
            ("General", ReasonCode::Delayed),
            ("Undetermined", ReasonCode::Delayed),
            ("", ReasonCode::Delayed),
        ];
        for (delay_type, want) in table {
            assert_eq!(
                classify_delay(delay_type, &BounceFacts::default()),
                want,
                "{delay_type}"
            );
        }
        let timed_out = BounceFacts {
            diagnostic: Some("smtp; 421 4.4.1 Connection timed out"),
            ..BounceFacts::default()
        };
        assert_eq!(
            classify_delay("TransientCommunicationFailure", &timed_out),
            ReasonCode::Network
        );
    }
}
