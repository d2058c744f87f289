//! CloudWatch alarm notifications (the JSON CloudWatch publishes to an SNS topic when an alarm
//! changes state), rendered for the support staff: Japanese first, then English, with what the
//! alarm means and what to do. The stack names its alarms `<stack>-<kind>`; the kind picks the
//! explanation, and an alarm of another name gets a general text with its own description.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use logdesk_core::bounce::Lang;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::alert::{Email, SUBJECT_MAX};

/// The state an alarm moved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    /// The condition holds: something is wrong.
    Alarm,
    /// Back to normal.
    Ok,
    /// Not enough data to decide.
    InsufficientData,
}

impl AlarmState {
    fn parse(value: &str) -> Option<AlarmState> {
        match value {
            "ALARM" => Some(AlarmState::Alarm),
            "OK" => Some(AlarmState::Ok),
            "INSUFFICIENT_DATA" => Some(AlarmState::InsufficientData),
            _ => None,
        }
    }

    /// The state as CloudWatch spells it.
    pub fn code(self) -> &'static str {
        match self {
            AlarmState::Alarm => "ALARM",
            AlarmState::Ok => "OK",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// One alarm state change, as CloudWatch sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmMessage {
    /// `AlarmName`.
    pub name: String,
    /// `AlarmDescription` (may be absent).
    pub description: Option<String>,
    /// `NewStateValue`.
    pub state: AlarmState,
    /// `NewStateReason`: CloudWatch's own English explanation with the data points.
    pub reason: String,
    /// `StateChangeTime`, when it could be read.
    pub time: Option<Timestamp>,
    /// `Trigger.Namespace` / `Trigger.MetricName`, when present.
    pub metric: Option<String>,
}

/// The fields of CloudWatch's message that are read.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Raw {
    alarm_name: String,
    alarm_description: Option<String>,
    new_state_value: String,
    #[serde(default)]
    new_state_reason: String,
    state_change_time: Option<String>,
    trigger: Option<RawTrigger>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawTrigger {
    metric_name: Option<String>,
    namespace: Option<String>,
}

/// Reads a CloudWatch alarm message: the message itself, or an SNS notification carrying it
/// (as an SQS body does). `None` when the text is not an alarm message.
pub fn parse(body: &str) -> Option<AlarmMessage> {
    let value: Value = serde_json::from_str(body).ok()?;
    let value = match value.get("Message").and_then(Value::as_str) {
        Some(inner) if value.get("AlarmName").is_none() => serde_json::from_str(inner).ok()?,
        _ => value,
    };
    let raw: Raw = serde_json::from_value(value).ok()?;
    let state = AlarmState::parse(&raw.new_state_value)?;
    let metric = raw
        .trigger
        .and_then(|t| match (t.namespace, t.metric_name) {
            (Some(ns), Some(m)) => Some(format!("{ns} / {m}")),
            (None, Some(m)) => Some(m),
            _ => None,
        });
    Some(AlarmMessage {
        name: raw.alarm_name,
        description: raw.alarm_description.filter(|d| !d.trim().is_empty()),
        state,
        reason: raw.new_state_reason,
        time: raw.state_change_time.as_deref().and_then(parse_time),
        metric,
    })
}

/// CloudWatch writes `2015-06-03T17:43:27.123+0000` (no colon in the offset).
fn parse_time(text: &str) -> Option<Timestamp> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t);
    }
    let (head, offset) = text.split_at(text.len().checked_sub(5)?);
    let fixed = format!("{head}{}:{}", &offset[..3], &offset[3..]);
    fixed.parse().ok()
}

/// What one kind of alarm means, in both languages.
struct Meaning {
    ja_title: &'static str,
    ja_text: &'static str,
    ja_action: &'static str,
    en_title: &'static str,
    en_text: &'static str,
    en_action: &'static str,
}

/// The fixed words of an alarm's text in one language; labels end with their separator.
struct BodyWords {
    /// The opening line in the ALARM state.
    alarm: &'static str,
    /// The opening line in the OK state.
    ok: &'static str,
    /// The opening line in the INSUFFICIENT_DATA state.
    insufficient: &'static str,
    /// Label of the state change's time.
    time: &'static str,
    /// Label of what the alarm means.
    what: &'static str,
    /// Label of what to do.
    action: &'static str,
    /// What to do about an alarm that is not one of the stack's.
    contact: &'static str,
}

const JA_WORDS: BodyWords = BodyWords {
    alarm: "logdesk の監視で、次の問題を検知しました。",
    ok: "次の問題は解消しました。対応は不要です。",
    insufficient: "監視に必要なデータが足りず、状態を判断できません。",
    time: "日時：",
    what: "内容：",
    action: "対応：",
    contact: "システム担当者に連絡してください。",
};

const EN_WORDS: BodyWords = BodyWords {
    alarm: "logdesk monitoring detected a problem.",
    ok: "The problem below is resolved; nothing to do.",
    insufficient: "The alarm does not have enough data to decide its state.",
    time: "Time: ",
    what: "What: ",
    action: "Action: ",
    contact: "contact the system administrator.",
};

/// The alarms the stack creates, by the name suffix after `<stack>-`.
const KINDS: &[(&str, Meaning)] = &[
    (
        "ses-bounce-rate",
        Meaning {
            ja_title: "不達率の上昇",
            ja_text: "Amazon SES の不達率が5%に達しました。AWS は5%でアカウントの確認を始め、10%を超えると送信を止めることがあります。",
            ja_action: "直近の不達メールの一覧を確認し、同じメールアドレスへの再送を控えてください。続く場合はシステム担当者に連絡してください。",
            en_title: "Bounce rate rising",
            en_text: "The Amazon SES bounce rate reached 5%. AWS starts reviewing an account at 5% and may pause sending above 10%.",
            en_action: "Look at the recent bounces and stop resending to those addresses. If it continues, contact the system administrator.",
        },
    ),
    (
        "ses-complaint-rate",
        Meaning {
            ja_title: "迷惑メール報告率の上昇",
            ja_text: "Amazon SES の迷惑メール報告率が0.1%に達しました。AWS は0.1%でアカウントの確認を始め、0.5%を超えると送信を止めることがあります。",
            ja_action: "迷惑メール報告のあったお客様への送信を控え、システム担当者に連絡してください。",
            en_title: "Complaint rate rising",
            en_text: "The Amazon SES complaint rate reached 0.1%. AWS starts reviewing an account at 0.1% and may pause sending above 0.5%.",
            en_action: "Stop sending to the customers who complained and contact the system administrator.",
        },
    ),
    (
        "ingest-errors",
        Meaning {
            ja_title: "ログ取り込みの失敗",
            ja_text: "ログを取り込む処理（ingest）が失敗しました。自動で再試行し、それでも取り込めなかったファイルは再処理待ちのキュー（DLQ）に残ります。",
            ja_action: "ダッシュボードの表示が欠けることがあります。システム担当者に連絡してください。",
            en_title: "Log ingestion failed",
            en_text: "The ingest function failed. It retries; files it still cannot read wait in the ingest dead-letter queue.",
            en_action: "The dashboard may miss records. Contact the system administrator.",
        },
    ),
    (
        "ingest-skipped-objects",
        Meaning {
            ja_title: "取り込まれなかったファイル",
            ja_text: "ログを取り込む処理（ingest）が、読めない、または想定外の場所にあるファイルを読み飛ばしました。その記録はダッシュボードに表示されません。",
            ja_action: "システム担当者に連絡してください（ingest のログに、ファイル名と理由があります）。",
            en_title: "Files skipped by ingestion",
            en_text: "The ingest function skipped files it cannot read or that sit outside the configured places. Their records are not on the dashboard.",
            en_action: "Contact the system administrator (the ingest log names each file and the reason).",
        },
    ),
    (
        "ingest-too-old-events",
        Meaning {
            ja_title: "古すぎて記録できなかったログ",
            ja_text: "CloudWatch Logs が、古すぎるとして一部の記録を受け付けませんでした（14日より前、または保存期間より前の記録）。",
            ja_action: "元のファイルは残っています。この期間の記録が必要な場合は、システム担当者に連絡してください（Athena で検索できます）。",
            en_title: "Records too old to store",
            en_text: "CloudWatch Logs refused some records as too old (older than 14 days, or than the log group's retention).",
            en_action: "Query that period with Athena; the files themselves are still in S3.",
        },
    ),
    (
        "ingest-throttles",
        Meaning {
            ja_title: "ログ取り込みの混雑",
            ja_text: "ログを取り込む処理（ingest）が、同時に実行できる数の上限に達して待たされました。",
            ja_action: "多くの場合は自動で追いつきます。続く場合はシステム担当者に連絡してください。",
            en_title: "Log ingestion throttled",
            en_text: "The ingest function hit its concurrency limit and was throttled.",
            en_action: "It usually catches up by itself. If it continues, contact the system administrator.",
        },
    ),
    (
        "notify-errors",
        Meaning {
            ja_title: "通知処理の失敗",
            ja_text: "不達などをお知らせする処理（notify）が失敗しました。お知らせが遅れるか、届かないことがあります。",
            ja_action: "システム担当者に連絡してください。",
            en_title: "Alerting failed",
            en_text: "The notify function failed. Alerts may be late or missing.",
            en_action: "Contact the system administrator.",
        },
    ),
    (
        "notify-throttles",
        Meaning {
            ja_title: "通知処理の混雑",
            ja_text: "不達などをお知らせする処理（notify）が、同時に実行できる数の上限に達して待たされました。",
            ja_action: "続く場合はシステム担当者に連絡してください。",
            en_title: "Alerting throttled",
            en_text: "The notify function hit its concurrency limit and was throttled.",
            en_action: "If it continues, contact the system administrator.",
        },
    ),
    (
        "api-errors",
        Meaning {
            ja_title: "ダッシュボード用 API の失敗",
            ja_text: "ダッシュボードにデータを返す処理（api）が失敗し、画面にエラーが表示されました。",
            ja_action: "時間をおいて再度お試しください。続く場合はシステム担当者に連絡してください。",
            en_title: "Dashboard API failed",
            en_text: "The api function failed and the dashboard showed an error.",
            en_action: "Try again later. If it continues, contact the system administrator.",
        },
    ),
    (
        "api-throttles",
        Meaning {
            ja_title: "ダッシュボード用 API の混雑",
            ja_text: "ダッシュボードにデータを返す処理（api）が、同時に実行できる数の上限に達しました。画面が「混雑しています」と表示することがあります。",
            ja_action: "時間をおいて再度お試しください。続く場合はシステム担当者に連絡してください。",
            en_title: "Dashboard API throttled",
            en_text: "The api function hit its concurrency limit; the dashboard may have been told to wait.",
            en_action: "Try again later. If it continues, contact the system administrator.",
        },
    ),
    (
        "ingest-dlq-messages",
        Meaning {
            ja_title: "取り込めなかったファイルの待ち",
            ja_text: "ログを取り込む処理（ingest）が再試行しても取り込めなかったファイルが、再処理待ちのキュー（DLQ）にあります。",
            ja_action: "システム担当者に連絡してください（技術情報：logdesk-ingest backfill で取り込み直せます）。",
            en_title: "Files waiting in the ingest DLQ",
            en_text: "Files ingest could not read even after retries wait in its dead-letter queue.",
            en_action: "Contact the system administrator (`logdesk-ingest backfill` reads them again).",
        },
    ),
    (
        "ses-events-dlq-messages",
        Meaning {
            ja_title: "お知らせできなかったメールイベントの待ち",
            ja_text: "不達などのお知らせにできなかったメールイベントが、再処理待ちのキュー（DLQ）にあります。",
            ja_action: "ダッシュボードで直近の不達・迷惑メール報告を確認し、システム担当者に連絡してください。",
            en_title: "Mail events waiting in the alert DLQ",
            en_text: "Mail events notify could not turn into alerts wait in its dead-letter queue.",
            en_action: "Check recent bounces and complaints on the dashboard, and contact the system administrator.",
        },
    ),
    (
        "ses-events-queue-age",
        Meaning {
            ja_title: "お知らせの遅れ",
            ja_text: "不達などのお知らせを待つメールイベントが、15分以上処理されずに残っています。",
            ja_action: "ダッシュボードで直近の不達を確認し、システム担当者に連絡してください。",
            en_title: "Alerts delayed",
            en_text: "Mail events have waited more than 15 minutes to be turned into alerts.",
            en_action: "Check recent bounces on the dashboard and contact the system administrator.",
        },
    ),
    (
        "ingest-dlq-age",
        Meaning {
            ja_title: "取り込めなかったファイルが消える前の警告",
            ja_text: "取り込めなかったファイルの記録が、再処理待ちのキュー（DLQ）に10日以上残っています。14日を過ぎると自動的に削除されます。",
            ja_action: "システム担当者に至急連絡してください。",
            en_title: "Ingest DLQ messages about to expire",
            en_text: "A message has waited in the ingest dead-letter queue for 10 days; it is deleted after 14.",
            en_action: "Contact the system administrator now.",
        },
    ),
    (
        "ses-events-dlq-age",
        Meaning {
            ja_title: "お知らせできなかったイベントが消える前の警告",
            ja_text: "お知らせできなかったメールイベントが、再処理待ちのキュー（DLQ）に10日以上残っています。14日を過ぎると自動的に削除されます。",
            ja_action: "システム担当者に至急連絡してください。",
            en_title: "Alert DLQ messages about to expire",
            en_text: "A mail event has waited in the alert dead-letter queue for 10 days; it is deleted after 14.",
            en_action: "Contact the system administrator now.",
        },
    ),
    (
        "firehose-delivery-failures",
        Meaning {
            ja_title: "メールイベントの保存の失敗",
            ja_text: "メールイベントを保存する処理（Firehose）が失敗しました。保存できなかったイベントは、別の場所に残してあります。",
            ja_action: "システム担当者に連絡してください。",
            en_title: "Mail events not stored",
            en_text: "Firehose failed to deliver mail events to S3; what it could not deliver is kept under ses/errors/.",
            en_action: "Contact the system administrator.",
        },
    ),
    (
        "firehose-freshness",
        Meaning {
            ja_title: "メールイベントの保存の遅れ",
            ja_text: "メールイベントが保存されるまで15分以上かかっています。",
            ja_action: "続く場合はシステム担当者に連絡してください。",
            en_title: "Mail events stored late",
            en_text: "Mail events are taking more than 15 minutes to reach S3.",
            en_action: "If it continues, contact the system administrator.",
        },
    ),
];

/// The meaning of an alarm of this stack, by the suffix of its name.
fn meaning(name: &str) -> Option<&'static Meaning> {
    KINDS
        .iter()
        .filter(|(kind, _)| name.ends_with(&format!("-{kind}")) || name == *kind)
        .max_by_key(|(kind, _)| kind.len())
        .map(|(_, m)| m)
}

impl AlarmMessage {
    /// Whether the alarm's name is one of the stack's known kinds.
    pub fn is_known(&self) -> bool {
        meaning(&self.name).is_some()
    }

    /// The e-mail: ASCII subject (as the other alerts), body in `lang` (Japanese also carries
    /// the English text after it).
    pub fn email(&self, lang: Lang, tz: &TimeZone) -> Email {
        let title = self.title_en();
        let subject: String = format!("[logdesk] {}: {title}", self.state.code())
            .chars()
            .take(SUBJECT_MAX)
            .collect();
        let mut body = String::new();
        if lang == Lang::Ja {
            body.push_str(&self.text(tz, Lang::Ja));
            body.push_str("\n---- English ----\n\n");
        }
        body.push_str(&self.text(tz, Lang::En));
        body.push_str(&self.technical());
        Email { subject, body }
    }

    /// The Slack payload: the same text, Japanese first.
    pub fn slack(&self, lang: Lang, tz: &TimeZone) -> Value {
        let (headline, mut text) = match lang {
            Lang::Ja => (self.headline_ja(), self.text(tz, Lang::Ja)),
            Lang::En => (self.headline_en(), self.text(tz, Lang::En)),
        };
        if lang == Lang::Ja {
            let _ = write!(text, "\n*English*\n{}", self.text(tz, Lang::En));
        }
        text.push_str(&self.technical());
        let text: String = text.chars().take(crate::alert::SLACK_SECTION_MAX).collect();
        json!({
            "text": headline,
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": headline}},
                {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            ],
        })
    }

    fn title_en(&self) -> String {
        meaning(&self.name)
            .map(|m| m.en_title.to_owned())
            .unwrap_or_else(|| self.name.clone())
    }

    fn headline_ja(&self) -> String {
        let title = meaning(&self.name)
            .map(|m| m.ja_title.to_owned())
            .unwrap_or_else(|| format!("監視アラーム「{}」", self.name));
        match self.state {
            AlarmState::Alarm => format!("【警報】{title}"),
            AlarmState::Ok => format!("【解消】{title}"),
            AlarmState::InsufficientData => format!("【データ不足】{title}"),
        }
    }

    fn headline_en(&self) -> String {
        let state = match self.state {
            AlarmState::Alarm => "ALARM",
            AlarmState::Ok => "Resolved",
            AlarmState::InsufficientData => "Insufficient data",
        };
        format!("[{state}] {}", self.title_en())
    }

    /// The message text in `lang`: headline, what happened, when, what it means, what to do.
    fn text(&self, tz: &TimeZone, lang: Lang) -> String {
        let (w, headline) = match lang {
            Lang::Ja => (&JA_WORDS, self.headline_ja()),
            Lang::En => (&EN_WORDS, self.headline_en()),
        };
        let mut t = String::new();
        let _ = writeln!(t, "{headline}");
        let _ = writeln!(t);
        let opening = match self.state {
            AlarmState::Alarm => w.alarm,
            AlarmState::Ok => w.ok,
            AlarmState::InsufficientData => w.insufficient,
        };
        let _ = writeln!(t, "{opening}");
        let _ = writeln!(t, "{}{}", w.time, self.when(tz, lang));
        let alarm = self.state == AlarmState::Alarm;
        match meaning(&self.name) {
            Some(m) => {
                let (text, action) = match lang {
                    Lang::Ja => (m.ja_text, m.ja_action),
                    Lang::En => (m.en_text, m.en_action),
                };
                let _ = writeln!(t, "{}{text}", w.what);
                if alarm {
                    let _ = writeln!(t, "{}{action}", w.action);
                }
            }
            None if alarm => {
                let _ = writeln!(t, "{}{}", w.action, w.contact);
            }
            None => {}
        }
        t
    }

    /// The raw facts, for the system administrator (技術情報 / technical details).
    fn technical(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(t);
        let _ = writeln!(t, "技術情報 / Technical details");
        let _ = writeln!(t, "  Alarm: {} ({})", self.name, self.state.code());
        if let Some(d) = &self.description {
            let _ = writeln!(t, "  Description: {d}");
        }
        if let Some(m) = &self.metric {
            let _ = writeln!(t, "  Metric: {m}");
        }
        if !self.reason.is_empty() {
            let _ = writeln!(t, "  Reason: {}", self.reason);
        }
        t
    }

    fn when(&self, tz: &TimeZone, lang: Lang) -> String {
        let Some(time) = self.time else {
            return match lang {
                Lang::Ja => "不明".to_owned(),
                Lang::En => "unknown".to_owned(),
            };
        };
        let zoned = time.to_zoned(tz.clone());
        let zone = tz.iana_name().unwrap_or("UTC");
        match lang {
            Lang::Ja => format!("{}（{zone}）", zoned.strftime("%Y年%-m月%-d日 %H:%M")),
            Lang::En => format!("{} ({zone})", zoned.strftime("%Y-%m-%d %H:%M")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = r#"{"AlarmName":"logdesk-ingest-errors","AlarmDescription":"ingest failed","AWSAccountId":"123456789012","NewStateValue":"ALARM","NewStateReason":"Threshold Crossed: 1 datapoint [2.0 (01/07/25 01:05:00)] was greater than or equal to the threshold (1.0).","StateChangeTime":"2025-07-01T01:10:12.345+0000","Region":"Asia Pacific (Tokyo)","OldStateValue":"OK","Trigger":{"MetricName":"Errors","Namespace":"AWS/Lambda","Statistic":"SUM","Unit":null,"Dimensions":[{"value":"logdesk-ingest","name":"FunctionName"}],"Period":300,"EvaluationPeriods":1,"ComparisonOperator":"GreaterThanOrEqualToThreshold","Threshold":1.0}}"#;

    fn tokyo() -> TimeZone {
        TimeZone::get("Asia/Tokyo").unwrap()
    }

    #[test]
    fn reads_the_alarm_and_its_time() {
        let a = parse(RAW).unwrap();
        assert_eq!(a.name, "logdesk-ingest-errors");
        assert_eq!(a.state, AlarmState::Alarm);
        assert_eq!(a.metric.as_deref(), Some("AWS/Lambda / Errors"));
        assert_eq!(
            a.time.unwrap().to_string(),
            "2025-07-01T01:10:12.345Z",
            "the +0000 offset is read"
        );
        assert!(a.is_known());
    }

    #[test]
    fn reads_an_sns_envelope_and_refuses_other_json() {
        let envelope = json!({"Type": "Notification", "MessageId": "x", "Message": RAW});
        assert!(parse(&envelope.to_string()).is_some());
        assert!(parse(r#"{"eventType":"Bounce"}"#).is_none());
        assert!(parse("not json").is_none());
        assert!(parse(r#"{"AlarmName":"x","NewStateValue":"MAYBE"}"#).is_none());
    }

    #[test]
    fn japanese_first_then_english_with_local_time() {
        let a = parse(RAW).unwrap();
        let email = a.email(Lang::Ja, &tokyo());
        assert_eq!(email.subject, "[logdesk] ALARM: Log ingestion failed");
        let ja = email.body.find("【警報】ログ取り込みの失敗").unwrap();
        let en = email.body.find("[ALARM] Log ingestion failed").unwrap();
        assert!(ja < en, "{}", email.body);
        assert!(
            email
                .body
                .contains("日時：2025年7月1日 10:10（Asia/Tokyo）")
        );
        assert!(email.body.contains("対応："));
        assert!(email.body.contains("Threshold Crossed"));
        let english = a.email(Lang::En, &tokyo());
        assert!(!english.body.contains("【警報】"));
    }

    #[test]
    fn resolved_alarm_asks_for_nothing() {
        let ok = RAW.replace("\"NewStateValue\":\"ALARM\"", "\"NewStateValue\":\"OK\"");
        let a = parse(&ok).unwrap();
        let slack = a.slack(Lang::Ja, &tokyo());
        assert_eq!(slack["text"], "【解消】ログ取り込みの失敗");
        let text = slack["blocks"][1]["text"]["text"].as_str().unwrap();
        assert!(!text.contains("対応：") && text.contains("対応は不要です。"));
    }

    #[test]
    fn unknown_alarm_keeps_its_name_and_description() {
        let other = RAW.replace("logdesk-ingest-errors", "someone-elses-alarm");
        let a = parse(&other).unwrap();
        assert!(!a.is_known());
        let email = a.email(Lang::Ja, &tokyo());
        assert!(email.body.contains("監視アラーム「someone-elses-alarm」"));
        assert!(email.body.contains("Description: ingest failed"));
    }

    #[test]
    fn longest_suffix_wins() {
        assert_eq!(
            meaning("logdesk-ses-events-dlq-age").unwrap().en_title,
            "Alert DLQ messages about to expire"
        );
        assert_eq!(
            meaning("logdesk-ingest-dlq-age").unwrap().en_title,
            "Ingest DLQ messages about to expire"
        );
    }
}
