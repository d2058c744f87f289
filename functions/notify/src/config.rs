//! Settings read from the environment the SAM template gives the function.

use std::collections::BTreeSet;
use std::fmt;

use jiff::tz::TimeZone;
use logdesk_core::bounce::Lang;

/// The kinds of SES event that can raise an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertKind {
    /// `Bounce`: the receiving side refused the message (or SES did not send it).
    Bounce,
    /// `Complaint`: the recipient marked the message as spam.
    Complaint,
    /// `Reject`: SES refused to send it (a virus).
    Reject,
    /// `DeliveryDelay`: SES is still retrying.
    DeliveryDelay,
    /// `Rendering Failure`: a template could not be filled in.
    RenderingFailure,
}

impl AlertKind {
    /// The kind of an SES event type (`"Bounce"`, `"Rendering Failure"`, …), ASCII case,
    /// spaces, `_` and `-` ignored; `None` for event types that never alert (Send, Delivery, …).
    pub fn from_event(event: &str) -> Option<AlertKind> {
        let squashed: String = event
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match squashed.as_str() {
            "bounce" => Some(AlertKind::Bounce),
            "complaint" => Some(AlertKind::Complaint),
            "reject" => Some(AlertKind::Reject),
            "deliverydelay" => Some(AlertKind::DeliveryDelay),
            "renderingfailure" => Some(AlertKind::RenderingFailure),
            _ => None,
        }
    }

    /// Every kind.
    pub const ALL: [AlertKind; 5] = [
        AlertKind::Bounce,
        AlertKind::Complaint,
        AlertKind::Reject,
        AlertKind::DeliveryDelay,
        AlertKind::RenderingFailure,
    ];
}

/// Which event kinds alert (`ALERT_TYPES`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertTypes(BTreeSet<AlertKind>);

impl AlertTypes {
    /// Reads a comma list (`Bounce,Complaint,Rendering Failure`); empty entries are skipped.
    pub fn parse(list: &str) -> Result<AlertTypes, ConfigError> {
        let mut kinds = BTreeSet::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let kind = AlertKind::from_event(name)
                .ok_or_else(|| ConfigError::UnknownAlertType(name.to_owned()))?;
            kinds.insert(kind);
        }
        Ok(AlertTypes(kinds))
    }

    /// Every kind alerts.
    pub fn all() -> AlertTypes {
        AlertTypes(AlertKind::ALL.into_iter().collect())
    }

    /// Whether events of this SES event type alert.
    pub fn alerts(&self, event: &str) -> bool {
        AlertKind::from_event(event).is_some_and(|k| self.0.contains(&k))
    }
}

impl Default for AlertTypes {
    /// Bounce and Complaint.
    fn default() -> AlertTypes {
        AlertTypes(
            [AlertKind::Bounce, AlertKind::Complaint]
                .into_iter()
                .collect(),
        )
    }
}

/// A Slack incoming-webhook URL. It is a secret: `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Wraps a URL.
    pub fn new(url: impl Into<String>) -> WebhookUrl {
        WebhookUrl(url.into())
    }

    /// The URL itself, for the one place that sends the request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookUrl(<redacted>)")
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted webhook URL>")
    }
}

/// Everything the function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `ALERT_TOPIC_ARN`: the SNS topic for e-mail alerts; `None` = no e-mail.
    pub topic_arn: Option<String>,
    /// `SLACK_WEBHOOK_SECRET_ARN`: the Secrets Manager secret holding the Slack incoming
    /// webhook URL; `None` = no Slack. The URL itself never sits in the environment.
    pub slack_secret: Option<String>,
    /// `ALERT_TYPES`: which event kinds alert (default Bounce, Complaint).
    pub alert_types: AlertTypes,
    /// `ALERT_LANG`: `ja` (default) or `en`.
    pub lang: Lang,
    /// `DISPLAY_TZ`: the time zone of the times in the alert (default `Asia/Tokyo`).
    pub tz: TimeZone,
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `ALERT_TYPES` names something that is not an alerting SES event type.
    #[error(
        "ALERT_TYPES: unknown event type {0:?} (expected Bounce, Complaint, Reject, DeliveryDelay, Rendering Failure)"
    )]
    UnknownAlertType(String),
    /// `ALERT_LANG` is neither `ja` nor `en`.
    #[error("ALERT_LANG: {0}")]
    Lang(#[from] logdesk_core::bounce::UnknownLang),
    /// `DISPLAY_TZ` is not an IANA time zone name.
    #[error("DISPLAY_TZ: unknown time zone {name:?}: {message}")]
    TimeZone {
        /// The name given.
        name: String,
        /// Why jiff refused it.
        message: String,
    },
    /// `SLACK_WEBHOOK_URL` is set: a webhook URL is a secret and is not read from the
    /// environment (the value itself is never shown).
    #[error(
        "SLACK_WEBHOOK_URL is set, but a webhook URL is a secret and is not read from the environment: store it in Secrets Manager and set SLACK_WEBHOOK_SECRET_ARN"
    )]
    WebhookInEnvironment,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests). Empty values
    /// count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let alert_types = match get("ALERT_TYPES") {
            Some(list) => AlertTypes::parse(&list)?,
            None => AlertTypes::default(),
        };
        let lang = match get("ALERT_LANG") {
            Some(lang) => lang.parse()?,
            None => Lang::Ja,
        };
        let tz_name = get("DISPLAY_TZ").unwrap_or_else(|| "Asia/Tokyo".to_owned());
        let tz = TimeZone::get(&tz_name).map_err(|e| ConfigError::TimeZone {
            name: tz_name.clone(),
            message: e.to_string(),
        })?;
        if get("SLACK_WEBHOOK_URL").is_some() {
            return Err(ConfigError::WebhookInEnvironment);
        }
        Ok(Config {
            topic_arn: get("ALERT_TOPIC_ARN"),
            slack_secret: get("SLACK_WEBHOOK_SECRET_ARN"),
            alert_types,
            lang,
            tz,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_japanese_tokyo_bounce_and_complaint_no_destinations() {
        let c = config(&[]).unwrap();
        assert_eq!(c.lang, Lang::Ja);
        assert_eq!(c.tz.iana_name(), Some("Asia/Tokyo"));
        assert_eq!(c.alert_types, AlertTypes::default());
        assert!(c.topic_arn.is_none() && c.slack_secret.is_none());
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = config(&[
            ("ALERT_TOPIC_ARN", ""),
            ("SLACK_WEBHOOK_URL", " "),
            ("SLACK_WEBHOOK_SECRET_ARN", ""),
            ("ALERT_TYPES", ""),
        ])
        .unwrap();
        assert!(c.topic_arn.is_none() && c.slack_secret.is_none());
        assert_eq!(c.alert_types, AlertTypes::default());
    }

    #[test]
    fn alert_types_accept_both_spellings_of_rendering_failure() {
        let t = AlertTypes::parse("Bounce, Reject,DeliveryDelay,Rendering Failure").unwrap();
        assert!(t.alerts("Rendering Failure") && t.alerts("RenderingFailure"));
        assert!(t.alerts("Reject") && t.alerts("DeliveryDelay") && t.alerts("Bounce"));
        assert!(!t.alerts("Complaint") && !t.alerts("Delivery"));
        let t = AlertTypes::parse("RenderingFailure").unwrap();
        assert!(t.alerts("Rendering Failure"));
    }

    #[test]
    fn unknown_alert_type_is_an_error() {
        assert!(matches!(
            config(&[("ALERT_TYPES", "Bounce,Delivery")]),
            Err(ConfigError::UnknownAlertType(name)) if name == "Delivery"
        ));
    }

    #[test]
    fn english_and_other_zone() {
        let c = config(&[("ALERT_LANG", "en"), ("DISPLAY_TZ", "UTC")]).unwrap();
        assert_eq!(c.lang, Lang::En);
        assert!(config(&[("DISPLAY_TZ", "Mars/Olympus")]).is_err());
        assert!(config(&[("ALERT_LANG", "fr")]).is_err());
    }

    #[test]
    fn webhook_url_is_never_printed_nor_read_from_the_environment() {
        let secret = "https://hooks.slack.com/services/T000/B000/SECRETSECRET";
        let shown = format!("{:?} {}", WebhookUrl::new(secret), WebhookUrl::new(secret));
        assert!(!shown.contains("SECRET"), "{shown}");
        let err = config(&[("SLACK_WEBHOOK_URL", secret)]).unwrap_err();
        assert!(matches!(err, ConfigError::WebhookInEnvironment));
        assert!(!err.to_string().contains("SECRETSECRET"));
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:logdesk/slack-AbCdEf";
        let c = config(&[("SLACK_WEBHOOK_SECRET_ARN", arn)]).unwrap();
        assert_eq!(c.slack_secret.as_deref(), Some(arn));
    }
}
