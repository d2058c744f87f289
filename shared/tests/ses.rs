//! SES events and notifications: the documented examples, SNS-wrapped captures, Japanese
//! headers and the framings Firehose objects come in.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use logdesk_core::record::{BadRecord, MailRecord, Record};
use logdesk_core::ses::{
    ObjectError, SesCounts, parse_event, parse_event_value, parse_firehose_error_object,
    parse_object,
};
use logdesk_core::{ParseError, SCHEMA_VERSION};

const DOC_MESSAGE_ID: &str = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000";
const DOC_SUBJECT: &str = "Message sent from Amazon SES";

/// Parses and blanks the reason code, which bounce.rs decides and tests.
fn parse(json: &str) -> Vec<MailRecord> {
    let mut records = parse_event(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    for r in &mut records {
        r.reason = None;
    }
    records
}

fn parse_one(json: &str) -> MailRecord {
    let mut records = parse(json);
    assert_eq!(records.len(), 1, "{records:#?}");
    records.remove(0)
}

/// The fields every event-publishing doc example shares.
fn doc_mail(event: &str, t: i64, sent: i64) -> MailRecord {
    MailRecord {
        v: SCHEMA_VERSION,
        t,
        event: event.into(),
        message_id: DOC_MESSAGE_ID.into(),
        sent: Some(sent),
        recipient: Some("recipient@example.com".into()),
        from: Some("sender@example.com".into()),
        subject: Some(DOC_SUBJECT.into()),
        config_set: Some("ConfigSet".into()),
        ..MailRecord::default()
    }
}

/// One line of JSON, as SES writes it to Firehose.
fn compact(pretty: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(pretty).unwrap();
    serde_json::to_string(&value).unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn without_reasons(records: Vec<Record>) -> Vec<Record> {
    records
        .into_iter()
        .map(|r| match r {
            Record::Mail(mut m) => {
                m.reason = None;
                Record::Mail(m)
            }
            other => other,
        })
        .collect()
}

mod events {
    use super::*;

    #[test]
    fn bounce() {
        let got = parse_one(include_str!("data/ses-events/bounce.json"));
        let want = MailRecord {
            from: Some("sender@example.com".into()),
            from_name: Some("Sender Name".into()),
            bounce_type: Some("Permanent".into()),
            bounce_subtype: Some("General".into()),
            action: Some("failed".into()),
            status: Some("5.1.1".into()),
            diagnostic: Some("smtp; 550 5.1.1 user unknown".into()),
            reporting_mta: Some("dsn; mta.example.com".into()),
            feedback_id: Some(
                "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000".into(),
            ),
            ..doc_mail("Bounce", 1_501_893_662_669_000, 1_501_893_602_012_000)
        };
        assert_eq!(got, want);
    }

    #[test]
    fn complaint() {
        let got = parse_one(include_str!("data/ses-events/complaint.json"));
        let want = MailRecord {
            from_name: Some("Sender Name".into()),
            feedback_id: Some(
                "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000".into(),
            ),
            complaint_type: Some("abuse".into()),
            user_agent: Some(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/60.0.3112.90 Safari/537.36"
                    .into(),
            ),
            ..doc_mail("Complaint", 1_501_893_662_669_000, 1_501_893_601_123_000)
        };
        assert_eq!(got, want);
    }

    #[test]
    fn delivery_delay() {
        let got = parse_one(include_str!("data/ses-events/delivery-delay.json"));
        let want = MailRecord {
            // No commonHeaders in this example: the sender comes from mail.source.
            subject: None,
            delay_type: Some("TransientCommunicationFailure".into()),
            expires: Some(1_592_267_140_914_000),
            status: Some("4.4.1".into()),
            diagnostic: Some("smtp; 421 4.4.1 Unable to connect to remote host".into()),
            ..doc_mail(
                "DeliveryDelay",
                1_592_267_140_095_000,
                1_592_266_540_641_000,
            )
        };
        assert_eq!(got, want);
    }

    #[test]
    fn rendering_failure_with_space_and_failure_key() {
        let got = parse_one(include_str!("data/ses-events/rendering-failure.json"));
        let want = MailRecord {
            subject: None,
            template: Some("MyTemplate".into()),
            error_message: Some(
                "Attribute 'attributeName' is not present in the rendering data.".into(),
            ),
            ..doc_mail(
                "Rendering Failure",
                1_516_646_586_197_000,
                1_516_646_586_197_000,
            )
        };
        assert_eq!(got, want);
    }

    #[test]
    fn click() {
        let got = parse_one(include_str!("data/ses-events/click.json"));
        let want = MailRecord {
            ip: Some("192.0.2.1".into()),
            user_agent: Some(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/60.0.3112.90 Safari/537.36"
                    .into(),
            ),
            link: Some(
                "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html".into(),
            ),
            ..doc_mail("Click", 1_502_322_685_570_000, 1_502_322_605_795_000)
        };
        assert_eq!(got, want);
    }

    #[test]
    fn open() {
        let got = parse_one(include_str!("data/ses-events/open.json"));
        let want = MailRecord {
            ip: Some("192.0.2.1".into()),
            user_agent: Some(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X) AppleWebKit/603.3.8 \
                 (KHTML, like Gecko) Mobile/14G60"
                    .into(),
            ),
            ..doc_mail("Open", 1_502_316_019_652_000, 1_502_315_989_927_000)
        };
        assert_eq!(got, want);
    }

    #[test]
    fn delivery() {
        let got = parse_one(include_str!("data/ses-events/delivery.json"));
        let want = MailRecord {
            smtp_response: Some("250 2.6.0 Message received".into()),
            processing_ms: Some(11893),
            reporting_mta: Some("mta.example.com".into()),
            ..doc_mail("Delivery", 1_476_919_264_133_000, 1_476_919_252_240_000)
        };
        assert_eq!(got, want);
    }

    #[test]
    fn send_time_is_mail_timestamp() {
        let got = parse_one(include_str!("data/ses-events/send.json"));
        let want = doc_mail("Send", 1_476_421_336_645_000, 1_476_421_336_645_000);
        assert_eq!(got, want);
    }

    #[test]
    fn reject_goes_to_destination() {
        let got = parse_one(include_str!("data/ses-events/reject.json"));
        let want = MailRecord {
            // The doc example's destination is the sender, unlike its To header.
            recipient: Some("sender@example.com".into()),
            reject_reason: Some("Bad content".into()),
            ..doc_mail("Reject", 1_476_466_695_211_000, 1_476_466_695_211_000)
        };
        assert_eq!(got, want);
    }

    #[test]
    fn subscription() {
        let got = parse_one(include_str!("data/ses-events/subscription.json"));
        let want = MailRecord {
            message_id: "EXAMPLEe4bccb684-777bc8de-afa7-4970-92b0-f515137b1497-000000".into(),
            contact_list: Some("ContactListName".into()),
            ..doc_mail("Subscription", 1_641_949_217_910_000, 1_641_949_214_340_000)
        };
        assert_eq!(got, want);
    }
}

mod notifications {
    use super::*;

    /// The fields the five notification doc examples share.
    fn note(event: &str, message_id: &str, recipient: &str) -> MailRecord {
        MailRecord {
            v: SCHEMA_VERSION,
            t: 1_453_906_778_237_000,
            event: event.into(),
            notification: true,
            message_id: message_id.into(),
            sent: Some(1_453_906_778_237_000),
            recipient: Some(recipient.into()),
            from: Some("john@example.com".into()),
            from_name: Some("John Doe".into()),
            subject: Some("Hello".into()),
            ..MailRecord::default()
        }
    }

    #[test]
    fn bounce_with_dsn() {
        let got = parse(include_str!("data/ses-notifications/bounce-with-dsn.json"));
        let want = vec![MailRecord {
            bounce_type: Some("Permanent".into()),
            bounce_subtype: Some("General".into()),
            action: Some("failed".into()),
            status: Some("5.1.1".into()),
            diagnostic: Some("smtp; 550 5.1.1 <jane@example.com>... User".into()),
            reporting_mta: Some("dns; email.example.com".into()),
            remote_mta_ip: Some("127.0.2.0".into()),
            feedback_id: Some(
                "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000".into(),
            ),
            ..note(
                "Bounce",
                "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",
                "jane@example.com",
            )
        }];
        assert_eq!(got, want);
    }

    #[test]
    fn bounce_without_dsn_one_record_per_bounced_recipient() {
        let got = parse(include_str!(
            "data/ses-notifications/bounce-without-dsn.json"
        ));
        let first = MailRecord {
            bounce_type: Some("Permanent".into()),
            bounce_subtype: Some("General".into()),
            remote_mta_ip: Some("127.0.2.0".into()),
            feedback_id: Some(
                "00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000".into(),
            ),
            ..note(
                "Bounce",
                "00000137860315fd-34208509-5b74-41f3-95c5-22c1edc3c924-000000",
                "jane@example.com",
            )
        };
        let second = MailRecord {
            recipient: Some("richard@example.com".into()),
            ..first.clone()
        };
        assert_eq!(got, vec![first, second]);
    }

    #[test]
    fn complaint_with_feedback_report() {
        let got = parse(include_str!(
            "data/ses-notifications/complaint-with-feedback-report.json"
        ));
        let want = vec![MailRecord {
            feedback_id: Some(
                "000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000".into(),
            ),
            complaint_type: Some("abuse".into()),
            user_agent: Some("AnyCompany Feedback Loop (V0.01)".into()),
            ..note(
                "Complaint",
                "000001378603177f-7a5433e7-8edb-42ae-af10-f0181f34d6ee-000000",
                "richard@example.com",
            )
        }];
        assert_eq!(got, want);
    }

    #[test]
    fn complaint_without_feedback_report() {
        let got = parse(include_str!(
            "data/ses-notifications/complaint-without-feedback-report.json"
        ));
        let want = vec![MailRecord {
            feedback_id: Some(
                "0000013786031775-fea503bc-7497-49e1-881b-a0379bb037d3-000000".into(),
            ),
            ..note(
                "Complaint",
                "0000013786031775-163e3910-53eb-4c8e-a04a-f29debf88a84-000000",
                "richard@example.com",
            )
        }];
        assert_eq!(got, want);
    }

    #[test]
    fn delivery() {
        let got = parse(include_str!("data/ses-notifications/delivery.json"));
        let want = vec![MailRecord {
            smtp_response: Some("250 ok:  Message 64111812 accepted".into()),
            processing_ms: Some(546),
            reporting_mta: Some("a8-70.smtp-out.amazonses.com".into()),
            remote_mta_ip: Some("127.0.2.0".into()),
            ..note(
                "Delivery",
                "0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000",
                "jane@example.com",
            )
        }];
        assert_eq!(got, want);
    }

    #[test]
    fn mail_timestamp_with_space_before_offset() {
        let got = parse(include_str!("data/ses/complaint-quirk-timestamp.json"));
        let want = vec![MailRecord {
            v: SCHEMA_VERSION,
            t: 1_539_007_570_000_000,
            event: "Complaint".into(),
            notification: true,
            message_id: "quirk-message-000000".into(),
            // 2018-10-08T14:05:45 +0000
            sent: Some(1_539_007_545_000_000),
            recipient: Some("user@example.jp".into()),
            from: Some("info@example.jp".into()),
            from_name: Some("株式会社サンプル".into()),
            subject: Some("お問い合わせありがとうございます".into()),
            feedback_id: Some("feedback-quirk-000000".into()),
            ..MailRecord::default()
        }];
        assert_eq!(got, want);
    }
}

mod wrapped {
    use super::*;

    const SNS_SEND: &str =
        include_str!("data/lambda-events/sns-event-ses-send.powertools-capture.json");
    const SNS_DELIVERY: &str =
        include_str!("data/lambda-events/sns-event-ses-delivery-notification.lambda-local.json");

    fn send_capture() -> MailRecord {
        MailRecord {
            v: SCHEMA_VERSION,
            t: 1_711_407_713_733_000,
            event: "Send".into(),
            message_id: "0100018e77d94dc5-c421e265-f034-4575-9ecc-3ca34038e91f-000000".into(),
            sent: Some(1_711_407_713_733_000),
            recipient: Some("success@simulator.amazonses.com".into()),
            from: Some("seshub@amazon.com".into()),
            subject: Some("subject test from ses!!!!".into()),
            config_set: Some("my-first-configuration-set".into()),
            ..MailRecord::default()
        }
    }

    fn delivery_notification() -> MailRecord {
        MailRecord {
            v: SCHEMA_VERSION,
            t: 1_499_284_881_302_000,
            event: "Delivery".into(),
            notification: true,
            message_id: "0101015d1457bd85-2ff839b3-c119-4311-b90c-5ce39eff3026-000000".into(),
            sent: Some(1_499_284_880_773_000),
            recipient: Some("jeff@amazon.com".into()),
            // No headers in this notification: the sender is mail.source.
            from: Some("jeff@amazon.com".into()),
            smtp_response: Some("250 ok: Message 122614849 accepted".into()),
            processing_ms: Some(529),
            reporting_mta: Some("a27-42.smtp-out.us-west-2.amazonses.com".into()),
            remote_mta_ip: Some("207.171.188.9".into()),
            ..MailRecord::default()
        }
    }

    #[test]
    fn lambda_sns_event_with_event_publishing_send() {
        assert_eq!(parse(SNS_SEND), vec![send_capture()]);
    }

    #[test]
    fn lambda_sns_event_with_delivery_notification() {
        assert_eq!(parse(SNS_DELIVERY), vec![delivery_notification()]);
    }

    #[test]
    fn bare_sns_notification_message_with_trailing_newline() {
        let event: serde_json::Value = serde_json::from_str(SNS_SEND).unwrap();
        let sns = &event["Records"][0]["Sns"];
        assert!(sns["Message"].as_str().unwrap().ends_with('\n'));
        assert_eq!(parse(&sns.to_string()), vec![send_capture()]);
        let mut from_value = parse_event_value(sns).unwrap();
        from_value[0].reason = None;
        assert_eq!(from_value, vec![send_capture()]);
    }

    #[test]
    fn sqs_body_holding_the_sns_notification() {
        let event: serde_json::Value = serde_json::from_str(SNS_DELIVERY).unwrap();
        let sqs = serde_json::json!({
            "Records": [{ "body": event["Records"][0]["Sns"].to_string() }]
        });
        assert_eq!(parse(&sqs.to_string()), vec![delivery_notification()]);
    }

    #[test]
    fn eventbridge_detail() {
        let detail: serde_json::Value =
            serde_json::from_str(include_str!("data/ses-events/send.json")).unwrap();
        let event = serde_json::json!({
            "version": "0", "detail-type": "Email Sent", "source": "aws.ses", "detail": detail
        });
        assert_eq!(parse(&event.to_string())[0].event, "Send");
    }
}

mod japanese {
    use super::*;

    #[test]
    fn iso2022jp_subject_split_mid_character_and_utf8_quoted_name() {
        let got = parse(include_str!("data/ses/bounce-japanese.json"));
        let first = MailRecord {
            v: SCHEMA_VERSION,
            t: 1_714_532_645_678_000,
            event: "Bounce".into(),
            message_id: "0106018f2a-jp-bounce-000000".into(),
            sent: Some(1_714_532_640_123_000),
            recipient: Some("hanako@example.co.jp".into()),
            from: Some("support@yamada.example.jp".into()),
            from_name: Some("山田商店 サポート".into()),
            subject: Some("【重要】ご注文の確認".into()),
            config_set: Some("yamada-prod".into()),
            bounce_type: Some("Transient".into()),
            bounce_subtype: Some("MailboxFull".into()),
            action: Some("failed".into()),
            status: Some("5.2.2".into()),
            diagnostic: Some(
                "smtp; 552-5.2.2 The email account that you tried to reach is over quota.\n\
                 552 5.2.2 Please direct the recipient to \
                 https://support.google.com/mail/?p=OverQuotaPerm"
                    .into(),
            ),
            reporting_mta: Some("dsn; a8-74.smtp-out.amazonses.com".into()),
            feedback_id: Some("0100018f2a-feedback-000000".into()),
            ..MailRecord::default()
        };
        let second = MailRecord {
            recipient: Some("jiro@example.ne.jp".into()),
            status: Some("4.2.2".into()),
            diagnostic: Some("smtp; 452 4.2.2 Mailbox full".into()),
            ..first.clone()
        };
        assert_eq!(got, vec![first, second]);
    }
}

mod errors {
    use super::*;

    #[test]
    fn event_without_its_own_timestamp_is_an_error() {
        let json = r#"{"eventType":"Bounce","bounce":{"bouncedRecipients":[]},
                       "mail":{"timestamp":"2017-08-05T00:40:02.012Z","messageId":"m"}}"#;
        assert_eq!(
            parse_event(json),
            Err(ParseError::MissingField("bounce.timestamp"))
        );
    }

    #[test]
    fn unparsable_timestamp_is_an_error() {
        let json = r#"{"eventType":"Send","mail":{"timestamp":"yesterday","messageId":"m"}}"#;
        assert_eq!(
            parse_event(json),
            Err(ParseError::invalid("mail.timestamp", "yesterday"))
        );
    }

    #[test]
    fn send_without_mail_timestamp_is_an_error() {
        let json = r#"{"eventType":"Send","mail":{"messageId":"m","destination":["a@b"]}}"#;
        assert_eq!(
            parse_event(json),
            Err(ParseError::MissingField("mail.timestamp"))
        );
    }

    #[test]
    fn missing_mail_and_message_id() {
        let no_mail = r#"{"eventType":"Send","send":{}}"#;
        assert_eq!(parse_event(no_mail), Err(ParseError::MissingField("mail")));
        let no_id = r#"{"eventType":"Send","mail":{"timestamp":"2017-08-05T00:40:02.012Z"}}"#;
        assert_eq!(
            parse_event(no_id),
            Err(ParseError::MissingField("mail.messageId"))
        );
    }

    #[test]
    fn json_that_is_not_an_ses_event() {
        assert_eq!(
            parse_event(r#"{"hello":"world"}"#),
            Err(ParseError::MissingField("eventType"))
        );
        assert!(matches!(parse_event("[1,2]"), Err(ParseError::Format(_))));
        let confirmation =
            r#"{"Type":"SubscriptionConfirmation","Message":"You have chosen to subscribe"}"#;
        assert!(matches!(
            parse_event(confirmation),
            Err(ParseError::Format(_))
        ));
    }

    #[test]
    fn unknown_fields_and_nulls_are_tolerated() {
        let json = r#"{"eventType":"Delivery","futureField":{"x":1},
            "mail":{"timestamp":"2016-10-19T23:20:52.240Z","messageId":"m","destination":null,
                    "commonHeaders":null,"tags":null,"headersTruncated":"false"},
            "delivery":{"timestamp":"2016-10-19T23:21:04.133Z","recipients":["a@b"],
                        "smtpResponse":"","newThing":[1]}}"#;
        let got = parse_one(json);
        assert_eq!(
            got,
            MailRecord {
                v: SCHEMA_VERSION,
                t: 1_476_919_264_133_000,
                event: "Delivery".into(),
                message_id: "m".into(),
                sent: Some(1_476_919_252_240_000),
                recipient: Some("a@b".into()),
                ..MailRecord::default()
            }
        );
    }

    #[test]
    fn event_with_no_recipients_still_makes_one_record() {
        let json = r#"{"eventType":"Send","mail":{"timestamp":"2016-10-14T05:02:16.645Z","messageId":"m"}}"#;
        assert_eq!(parse_one(json).recipient, None);
    }
}

mod objects {
    use super::*;

    const EVENTS: [&str; 10] = [
        include_str!("data/ses-events/send.json"),
        include_str!("data/ses-events/delivery.json"),
        include_str!("data/ses-events/bounce.json"),
        include_str!("data/ses-events/complaint.json"),
        include_str!("data/ses-events/reject.json"),
        include_str!("data/ses-events/rendering-failure.json"),
        include_str!("data/ses-events/delivery-delay.json"),
        include_str!("data/ses-events/open.json"),
        include_str!("data/ses-events/click.json"),
        include_str!("data/ses-events/subscription.json"),
    ];

    /// All ten doc examples, each parsed on its own.
    fn expected() -> Vec<Record> {
        EVENTS
            .iter()
            .flat_map(|e| parse(e))
            .map(Record::Mail)
            .collect()
    }

    fn ndjson() -> String {
        EVENTS.iter().map(|e| compact(e) + "\n").collect()
    }

    fn bad(line: u32, raw: &str, error_starts: &str, got: &Record) -> Record {
        let Record::Bad(b) = got else {
            panic!("expected a bad record, got {got:?}");
        };
        assert!(b.error.starts_with(error_starts), "{}", b.error);
        Record::Bad(BadRecord {
            v: SCHEMA_VERSION,
            source: "ses".into(),
            error: b.error.clone(),
            raw: raw.into(),
            line,
            t: b.t,
            ..BadRecord::default()
        })
    }

    #[test]
    fn newline_delimited_as_ses_writes_it() {
        let object = parse_object(ndjson().as_bytes());
        assert_eq!(without_reasons(object.records), expected());
        assert_eq!(
            object.counts,
            SesCounts {
                records_in: 10,
                mail: 10,
                bad: 0
            }
        );
        assert_eq!(object.error, None);
    }

    #[test]
    fn concatenated_without_delimiter() {
        let data: String = EVENTS.iter().map(|e| compact(e)).collect();
        assert!(data.contains("}{"));
        let object = parse_object(data.as_bytes());
        assert_eq!(without_reasons(object.records), expected());
    }

    #[test]
    fn pretty_printed_doc_examples_back_to_back() {
        let data: String = EVENTS.concat();
        let object = parse_object(data.as_bytes());
        assert_eq!(without_reasons(object.records), expected());
    }

    #[test]
    fn blank_lines_crlf_and_mixed_framing() {
        let lines: Vec<String> = EVENTS.iter().map(|e| compact(e)).collect();
        let data = format!(
            "\r\n{}\r\n\r\n{}{}\n\n{}\r\n{}",
            lines[0],
            lines[1],
            lines[2],
            lines[3..9].join("\n"),
            lines[9]
        );
        let object = parse_object(data.as_bytes());
        assert_eq!(without_reasons(object.records), expected());
    }

    #[test]
    fn garbage_line_between_good_records() {
        let lines: Vec<String> = EVENTS.iter().map(|e| compact(e)).collect();
        let data = format!("{}\nthis is {{ not json\n{}\n", lines[0], lines[1]);
        let object = parse_object(data.as_bytes());
        let records = without_reasons(object.records);
        let expected = expected();
        assert_eq!(records.len(), 3);
        let want = vec![
            expected[0].clone(),
            bad(2, "this is { not json", "not JSON", &records[1]),
            expected[1].clone(),
        ];
        assert_eq!(records, want);
        assert_eq!(
            object.counts,
            SesCounts {
                records_in: 3,
                mail: 2,
                bad: 1
            }
        );
    }

    #[test]
    fn valid_json_that_is_not_an_event_keeps_its_time() {
        let data = r#"{"eventType":"Bounce","mail":{"timestamp":"2017-08-05T00:40:02.012Z","messageId":"m"}}"#;
        let object = parse_object(data.as_bytes());
        let Record::Bad(b) = &object.records[0] else {
            panic!("{:?}", object.records);
        };
        assert_eq!(b.error, "line ends before field `bounce.timestamp`");
        assert_eq!(b.t, Some(1_501_893_602_012_000));
    }

    #[test]
    fn truncated_last_record() {
        let lines: Vec<String> = EVENTS.iter().map(|e| compact(e)).collect();
        let cut = &lines[1][..100];
        let data = format!("{}\n{}", lines[0], cut);
        let object = parse_object(data.as_bytes());
        let records = without_reasons(object.records);
        assert_eq!(
            records,
            vec![
                expected()[0].clone(),
                bad(2, cut, "JSON record is cut short", &records[1])
            ]
        );
    }

    #[test]
    fn gzip_object() {
        let object = parse_object(&gzip(ndjson().as_bytes()));
        assert_eq!(without_reasons(object.records), expected());
        assert_eq!(object.error, None);
    }

    #[test]
    fn multi_member_gzip_object() {
        let data = ndjson();
        let (a, b) = data.split_at(data.len() / 3);
        let mut gz = gzip(a.as_bytes());
        gz.extend(gzip(b.as_bytes()));
        let object = parse_object(&gz);
        assert_eq!(without_reasons(object.records), expected());
        assert_eq!(object.error, None);
    }

    #[test]
    fn truncated_gzip_keeps_what_was_decoded() {
        // Stored rather than compressed, so that a cut in the middle leaves whole records.
        let data = ndjson();
        let mut encoder = GzEncoder::new(Vec::new(), Compression::none());
        encoder.write_all(data.as_bytes()).unwrap();
        let gz = encoder.finish().unwrap();
        let cut = &gz[..gz.len() / 2];
        let object = parse_object(cut);
        let Some(ObjectError::Gzip {
            offset,
            len,
            decoded,
            ..
        }) = object.error.clone()
        else {
            panic!("expected a gzip error, got {:?}", object.error);
        };
        assert_eq!(len, cut.len() as u64);
        assert!(offset > 0 && offset <= len, "{offset}");
        assert!(decoded > 0, "{decoded}");
        assert!(
            object
                .error
                .unwrap()
                .to_string()
                .starts_with("gzip data is truncated"),
        );
        let mails = object.counts.mail;
        assert!(mails >= 3, "{:?}", object.counts);
        let records = without_reasons(object.records);
        assert_eq!(records[..mails], expected()[..mails]);
        // The record the cut went through is kept raw.
        assert!(
            matches!(records.last(), Some(Record::Bad(_))),
            "{records:?}"
        );
    }

    #[test]
    fn empty_object() {
        for data in [&b""[..], b"\n\n", &gzip(b"")] {
            let object = parse_object(data);
            assert_eq!(object.records, vec![]);
            assert_eq!(object.counts, SesCounts::default());
            assert_eq!(object.error, None);
        }
    }

    #[test]
    fn firehose_processing_failed_object() {
        let object = parse_firehose_error_object(include_bytes!("data/ses/processing-failed.json"));
        let records = without_reasons(object.records);
        assert_eq!(records.len(), 2, "{records:?}");
        // rawData of the first document is the Delivery doc example: nothing is lost.
        assert_eq!(
            records[0],
            Record::Mail(parse_one(include_str!("data/ses-events/delivery.json")))
        );
        let Record::Bad(b) = &records[1] else {
            panic!("{records:?}");
        };
        assert_eq!(
            b,
            &BadRecord {
                v: SCHEMA_VERSION,
                source: "ses".into(),
                error: b.error.clone(),
                raw: r#"{"eventType":"Send","mail":{"messageId":"x""#.into(),
                t: Some(1_476_919_266_000_000),
                line: 2,
                ..BadRecord::default()
            }
        );
        assert!(
            b.error.starts_with(
                "Firehose Lambda.FunctionError: The Lambda function was successfully invoked"
            ),
            "{}",
            b.error
        );
        assert_eq!(
            object.counts,
            SesCounts {
                records_in: 2,
                mail: 1,
                bad: 1
            }
        );
    }

    #[test]
    fn firehose_error_object_without_raw_data() {
        let object = parse_firehose_error_object(br#"{"errorCode":"X","errorMessage":"y"}"#);
        let Record::Bad(b) = &object.records[0] else {
            panic!("{:?}", object.records);
        };
        assert_eq!(b.error, "Firehose X: y; the record has no rawData");
    }
}
