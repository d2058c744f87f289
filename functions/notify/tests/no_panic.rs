//! Whatever arrives, reading and rendering never panic.

use jiff::tz::TimeZone;
use logdesk_core::bounce::Lang;
use logdesk_notify::alert::Alert;
use logdesk_notify::{Config, SourceMessage, alert_events};
use proptest::prelude::*;

const BOUNCE: &str = include_str!("../../../shared/tests/data/ses-events/bounce.json");

fn every_type() -> Config {
    Config::from_lookup(|k| {
        (k == "ALERT_TYPES")
            .then(|| "Bounce,Complaint,Reject,DeliveryDelay,RenderingFailure".into())
    })
    .unwrap()
}

fn render(body: String) {
    let message = SourceMessage {
        id: "m".into(),
        sns_id: None,
        body,
    };
    let events = alert_events(&every_type(), &[message]);
    for lang in [Lang::Ja, Lang::En] {
        let alert = Alert::new(events.clone(), lang, TimeZone::UTC);
        let email = alert.email();
        assert!(email.subject.len() < 100);
        assert!(
            email
                .subject
                .chars()
                .all(|c| c.is_ascii_graphic() || c == ' ')
        );
        assert!(email.body.len() < 256 * 1024);
        for m in alert.slack() {
            assert!(m.payload["blocks"].as_array().unwrap().len() <= 50);
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bodies(body in ".{0,400}") {
        render(body);
    }

    /// The bounce sample with one string value replaced by arbitrary text (control
    /// characters, backticks, `<>&`, huge and empty values).
    #[test]
    fn arbitrary_field_values(field in 0usize..6, value in "(?s).{0,300}") {
        let mut v: serde_json::Value = serde_json::from_str(BOUNCE).unwrap();
        let target = match field {
            0 => &mut v["mail"]["commonHeaders"]["subject"],
            1 => &mut v["mail"]["commonHeaders"]["from"][0],
            2 => &mut v["bounce"]["bouncedRecipients"][0]["diagnosticCode"],
            3 => &mut v["bounce"]["bouncedRecipients"][0]["emailAddress"],
            4 => &mut v["bounce"]["timestamp"],
            _ => &mut v["bounce"]["bounceType"],
        };
        *target = serde_json::Value::String(value);
        render(v.to_string());
    }
}
