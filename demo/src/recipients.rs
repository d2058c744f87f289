//! The demo's mail recipients: fictional people at the providers Japanese customers use
//! (docomo, au, SoftBank, Gmail, Yahoo! JAPAN, Outlook.com, iCloud) and at companies, and the
//! words each provider's servers answer when a message cannot be delivered.
//!
//! The local parts start with `demo-` so that no one takes them for a customer; the demo sends
//! nothing (the emulator delivers no mail). Company addresses stay on `example.*` domains.
//! The bounce texts are the providers' real replies, as collected in the bounce corpus
//! (`shared/tests/data/bounces/`, see its README for the sources), with the address replaced
//! and as SES reports them: `smtp; ` and the reply, without the stage a Postfix bounce adds
//! (SES gives the stage through the enhanced status instead, which is how docomo's filter,
//! 5.2.0, differs from its missing address, 5.1.1).

use crate::rng::Rng;

/// What happens to a message that does not simply arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The address does not exist.
    UserUnknown,
    /// The mailbox is full.
    MailboxFull,
    /// A carrier's reception settings (指定受信, なりすまし拒否) refused our domain.
    Filtered,
    /// Our sending IP is on a block list, or its reputation is low.
    Blocked,
    /// The message was taken for spam.
    Spam,
}

/// A bounce as SES reports it: (bounce type, bounce subtype, enhanced status, diagnostic).
pub type BounceWords = (&'static str, &'static str, &'static str, String);

/// The recipient domains with their shares of a Japanese shop's customers (in percent).
const DOMAINS: &[(&str, u32)] = &[
    ("docomo.ne.jp", 12),
    ("ezweb.ne.jp", 5),
    ("au.com", 4),
    ("softbank.ne.jp", 4),
    ("i.softbank.jp", 4),
    ("gmail.com", 24),
    ("yahoo.co.jp", 12),
    ("outlook.jp", 3),
    ("hotmail.co.jp", 3),
    ("icloud.com", 9),
    ("example.co.jp", 8),
    ("example.jp", 5),
    ("example.ne.jp", 3),
    ("example.com", 2),
    ("mail.example.org", 2),
];

/// The carriers' own domains: where reception settings refuse mail.
const CARRIERS: &[(&str, u32)] = &[("docomo.ne.jp", 3), ("ezweb.ne.jp", 1), ("au.com", 1)];

const FIRST: [&str; 12] = [
    "yuki", "ken", "sakura", "daichi", "aoi", "ren", "mio", "sota", "hina", "kaito", "yui",
    "haruto",
];
const LAST: [&str; 8] = [
    "sato",
    "suzuki",
    "takahashi",
    "tanaka",
    "ito",
    "watanabe",
    "yamamoto",
    "nakamura",
];

/// A fictional recipient (`demo-yuki.sato12@docomo.ne.jp`) at a domain of `domains`.
fn at(rng: &mut Rng, domains: &[(&'static str, u32)]) -> String {
    format!(
        "demo-{}.{}{}@{}",
        rng.pick(&FIRST),
        rng.pick(&LAST),
        rng.range(1, 99),
        rng.weighted(domains)
    )
}

/// A recipient for a message that meets `failure` (`None`: delivered): anyone, except that only
/// a carrier's customer has reception settings.
pub fn address(rng: &mut Rng, failure: Option<Failure>) -> String {
    match failure {
        Some(Failure::Filtered) => at(rng, CARRIERS),
        _ => at(rng, DOMAINS),
    }
}

/// What `to`'s provider answers when a message meets `failure`.
pub fn bounce(failure: Failure, to: &str) -> BounceWords {
    let domain = to.rsplit('@').next().unwrap_or_default();
    let words = match failure {
        Failure::UserUnknown => user_unknown(domain, to),
        Failure::MailboxFull => mailbox_full(domain, to),
        Failure::Filtered => filtered(domain, to),
        Failure::Blocked => blocked(domain),
        Failure::Spam => None,
    };
    words.unwrap_or_else(|| elsewhere(failure, to))
}

/// The address does not exist, in the provider's words.
fn user_unknown(domain: &str, to: &str) -> Option<BounceWords> {
    let permanent = |status, text: String| Some(("Permanent", "General", status, text));
    match domain {
        "docomo.ne.jp" => permanent(
            "5.1.1",
            format!("smtp; 550 Unknown user {to}"),
        ),
        "ezweb.ne.jp" | "au.com" => permanent(
            "5.1.1",
            format!("smtp; 550 <{to}>: User unknown"),
        ),
        "softbank.ne.jp" | "i.softbank.jp" => {
            permanent("5.1.1", format!("smtp; 550 Invalid recipient: <{to}>"))
        }
        "gmail.com" => permanent(
            "5.1.1",
            "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser 00000000000000.000 - gsmtp".to_owned(),
        ),
        "yahoo.co.jp" => permanent(
            "5.0.0",
            format!(
                "smtp; 554 delivery error: dd This user doesn't have a yahoo.co.jp account ({to}) [-5] - mta7149.mail.djm.ynwp.yahoo.co.jp"
            ),
        ),
        "icloud.com" => permanent(
            "5.1.1",
            format!("smtp; 550 5.1.1 <{to}>: user does not exist"),
        ),
        _ => None,
    }
}

/// The mailbox is full, in the provider's words.
fn mailbox_full(domain: &str, to: &str) -> Option<BounceWords> {
    match domain {
        "docomo.ne.jp" => Some((
            "Permanent",
            "General",
            "5.2.2",
            format!("smtp; 552 Too much mail data {to}"),
        )),
        "gmail.com" => Some((
            "Transient",
            "MailboxFull",
            "4.2.2",
            "smtp; 452-4.2.2 The email account that you tried to reach is over quota. Please direct 452-4.2.2 the recipient to 452 4.2.2 https://support.google.com/mail/?p=OverQuotaTemp 00000000000000.000 - gsmtp".to_owned(),
        )),
        "icloud.com" => Some((
            "Transient",
            "MailboxFull",
            "5.2.2",
            format!(
                "smtp; 552 5.2.2 <{to}>: user is over quota"
            ),
        )),
        _ => None,
    }
}

/// A carrier's reception settings refused the message: docomo and au answer "unknown user"
/// after the message was sent (not at RCPT TO, where a missing address is refused): docomo
/// with the status 5.2.0, au without naming the address.
fn filtered(domain: &str, to: &str) -> Option<BounceWords> {
    match domain {
        "docomo.ne.jp" => Some((
            "Permanent",
            "General",
            "5.2.0",
            format!("smtp; 550 Unknown user {to}"),
        )),
        "ezweb.ne.jp" | "au.com" => Some((
            "Permanent",
            "General",
            "5.0.0",
            "smtp; 550 : User unknown".to_owned(),
        )),
        _ => None,
    }
}

/// Our sending IP's reputation, in the provider's words.
fn blocked(domain: &str) -> Option<BounceWords> {
    match domain {
        "outlook.jp" | "hotmail.co.jp" => Some((
            "Transient",
            "General",
            "4.7.650",
            "smtp; 451 4.7.650 The mail server [54.240.8.41] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S3113)".to_owned(),
        )),
        _ => None,
    }
}

/// What any other server answers (Postfix's words, a block list, a content filter).
fn elsewhere(failure: Failure, to: &str) -> BounceWords {
    match failure {
        Failure::UserUnknown | Failure::Filtered => (
            "Permanent",
            "General",
            "5.1.1",
            format!(
                "smtp; 550 5.1.1 <{to}>: Recipient address rejected: User unknown in virtual mailbox table"
            ),
        ),
        Failure::MailboxFull => (
            "Transient",
            "MailboxFull",
            "5.2.2",
            format!("smtp; 552 5.2.2 <{to}>: Mailbox full - user is over quota"),
        ),
        Failure::Blocked => (
            "Permanent",
            "General",
            "5.7.1",
            "smtp; 554 5.7.1 Service unavailable; Client host [54.240.8.41] blocked using zen.spamhaus.org".to_owned(),
        ),
        Failure::Spam => (
            "Permanent",
            "Content",
            "5.7.1",
            "smtp; 550 5.7.1 Message rejected as spam by Content Filtering".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Failure; 5] = [
        Failure::UserUnknown,
        Failure::MailboxFull,
        Failure::Filtered,
        Failure::Blocked,
        Failure::Spam,
    ];

    #[test]
    fn recipients_are_fictional_and_spread_over_providers() {
        let mut rng = Rng::new(7);
        let all: Vec<String> = (0..2000).map(|_| address(&mut rng, None)).collect();
        assert!(all.iter().all(|a| a.starts_with("demo-")));
        let share = |d: &str| all.iter().filter(|a| a.ends_with(&format!("@{d}"))).count();
        assert!(share("gmail.com") > 300, "{}", share("gmail.com"));
        assert!(share("docomo.ne.jp") > 150);
        let carriers = (0..200).map(|_| address(&mut rng, Some(Failure::Filtered)));
        for a in carriers {
            assert!(
                ["@docomo.ne.jp", "@ezweb.ne.jp", "@au.com"]
                    .iter()
                    .any(|d| a.ends_with(d)),
                "{a}"
            );
        }
    }

    #[test]
    fn each_provider_text_reads_as_the_failure_it_stands_for() {
        use logdesk_core::bounce::{BounceFacts, classify};
        let want = |f: Failure| match f {
            Failure::UserUnknown => "user_unknown",
            Failure::MailboxFull => "mailbox_full",
            Failure::Filtered => "filtered",
            Failure::Blocked => "blocked",
            Failure::Spam => "spam_detected",
        };
        for domain in DOMAINS.iter().map(|d| d.0) {
            let to = format!("demo-aoi.ito3@{domain}");
            for f in ALL {
                if f == Failure::Filtered && !CARRIERS.iter().any(|c| c.0 == domain) {
                    continue;
                }
                let (bounce_type, bounce_subtype, status, text) = bounce(f, &to);
                let got = classify(&BounceFacts {
                    bounce_type,
                    bounce_subtype,
                    status: Some(status),
                    diagnostic: Some(&text),
                    remote_mta: None,
                    recipient_domain: Some(domain),
                });
                assert_eq!(got.as_str(), want(f), "{domain} {f:?}: {text}");
            }
        }
    }

    #[test]
    fn every_text_names_the_address_it_was_sent_to_or_none() {
        for domain in DOMAINS.iter().map(|d| d.0) {
            let to = format!("demo-aoi.ito3@{domain}");
            for f in ALL.into_iter().filter(|f| *f != Failure::Filtered) {
                let (_, _, _, text) = bounce(f, &to);
                assert!(!text.contains('@') || text.contains(&to), "{text}");
            }
        }
    }
}
