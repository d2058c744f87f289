//! CSV for people who open it in Excel: column titles in the requested language and times
//! Excel reads as dates.
//!
//! The JSON keeps the machine names (`status_time`); a CSV asked for with `lang=ja` (as the
//! dashboard always asks) gets 「状態の日時」 in its header instead, and one without `lang`
//! keeps the machine names and times for scripts. Times in the JSON are RFC 3339 with an offset
//! (`2026-11-23T10:00:05.123+09:00`), which Excel keeps as text; in a CSV they are written
//! `2026-11-23 10:00:05`, in the display zone the answer names, which Excel turns into a date.

use logdesk_core::bounce::Lang;

/// Japanese titles of every CSV column of the API.
const JA: &[(&str, &str)] = &[
    ("time", "日時"),
    ("message_id", "メッセージ ID"),
    ("from", "差出人"),
    ("from_name", "差出人名"),
    ("to", "宛先"),
    ("subject", "件名"),
    ("status", "状態"),
    ("status_time", "状態の日時"),
    ("reason_code", "理由コード"),
    ("reason", "理由"),
    ("action", "対応"),
    ("source", "記録元"),
    ("server", "サーバー"),
    ("client_ip", "クライアント IP アドレス"),
    ("client", "クライアント"),
    ("ip", "IP アドレス"),
    ("host", "ホスト"),
    ("method", "メソッド"),
    ("path", "パス"),
    ("protocol", "プロトコル"),
    ("target_status", "サーバー側の状態"),
    ("sent_bytes", "送信バイト数"),
    ("referrer", "リファラー"),
    ("user_agent", "ユーザーエージェント"),
    ("ua", "ブラウザー"),
    ("level", "レベル"),
    ("message", "メッセージ"),
    ("request", "リクエスト"),
    ("upstream", "アップストリーム"),
    ("visit_first", "訪問の開始日時"),
    ("dwell_seconds", "滞在秒数"),
    ("count", "件数"),
    ("success", "正常"),
    ("client_errors", "クライアントエラー（4xx）"),
    ("server_errors", "サーバーエラー（5xx）"),
    ("p50", "応答時間の中央値（秒）"),
    ("p95", "応答時間 95% 以内（秒）"),
    ("max", "応答時間の最大（秒）"),
    ("response_time", "応答時間（秒）"),
];

/// English titles where the machine name is not plain English.
const EN: &[(&str, &str)] = &[
    ("time", "Time"),
    ("message_id", "Message ID"),
    ("from", "From"),
    ("from_name", "From name"),
    ("to", "To"),
    ("subject", "Subject"),
    ("status", "Status"),
    ("status_time", "Status time"),
    ("reason_code", "Reason code"),
    ("reason", "Reason"),
    ("action", "What to do"),
    ("source", "Logged by"),
    ("server", "Server"),
    ("client_ip", "Client IP"),
    ("client", "Client"),
    ("ip", "IP address"),
    ("host", "Host"),
    ("method", "Method"),
    ("path", "Path"),
    ("protocol", "Protocol"),
    ("target_status", "Server status"),
    ("sent_bytes", "Bytes sent"),
    ("referrer", "Referrer"),
    ("user_agent", "User agent"),
    ("ua", "Browser"),
    ("level", "Level"),
    ("message", "Message"),
    ("request", "Request"),
    ("upstream", "Upstream"),
    ("visit_first", "Visit started"),
    ("dwell_seconds", "Dwell (s)"),
    ("count", "Requests"),
    ("success", "OK"),
    ("client_errors", "Client errors (4xx)"),
    ("server_errors", "Server errors (5xx)"),
    ("p50", "Median (s)"),
    ("p95", "95% within (s)"),
    ("max", "Max (s)"),
    ("response_time", "Response time (s)"),
];

/// The title of column `name` in `lang`; the name itself when it has none.
pub fn title(name: &str, lang: Lang) -> &str {
    let table = match lang {
        Lang::Ja => JA,
        Lang::En => EN,
    };
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(name, |(_, t)| t)
}

/// The titles of `columns` in `lang`; the machine names when no language was asked for.
pub fn titles<'a>(columns: &[&'a str], lang: Option<Lang>) -> Vec<&'a str> {
    match lang {
        Some(lang) => columns.iter().map(|c| title(c, lang)).collect(),
        None => columns.to_vec(),
    }
}

/// A CSV cell for people (`for_people`: [`excel_time`]) or as it is.
pub fn cell(cell: String, for_people: bool) -> String {
    if for_people { excel_time(cell) } else { cell }
}

/// An RFC 3339 time with an offset (`2026-11-23T10:00:05.123+09:00`) as Excel reads a date and
/// time (`2026-11-23 10:00:05`, the same wall-clock time); any other text unchanged.
pub fn excel_time(cell: String) -> String {
    let b = cell.as_bytes();
    let shape = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    let zoned = shape && (cell.ends_with('Z') || matches!(b[b.len() - 6], b'+' | b'-'));
    if !zoned {
        return cell;
    }
    format!("{} {}", &cell[..10], &cell[11..19])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_in_both_languages() {
        assert_eq!(title("status_time", Lang::Ja), "状態の日時");
        assert_eq!(title("status_time", Lang::En), "Status time");
        assert_eq!(title("unheard_of", Lang::Ja), "unheard_of");
        assert_eq!(titles(&["time", "to"], Some(Lang::Ja)), ["日時", "宛先"]);
        assert_eq!(titles(&["time", "to"], None), ["time", "to"]);
        assert_eq!(
            cell("2026-11-23T10:00:05+09:00".into(), false),
            "2026-11-23T10:00:05+09:00"
        );
    }

    #[test]
    fn times_become_excel_dates_and_nothing_else_changes() {
        let t = |s: &str| excel_time(s.to_owned());
        assert_eq!(t("2026-11-23T10:00:05.123+09:00"), "2026-11-23 10:00:05");
        assert_eq!(t("2026-11-23T10:00:05+09:00"), "2026-11-23 10:00:05");
        assert_eq!(t("2026-11-23T01:00:05Z"), "2026-11-23 01:00:05");
        assert_eq!(t("2026-11-23"), "2026-11-23");
        assert_eq!(
            t("GET /2026-11-23T10:00:05+09:00"),
            "GET /2026-11-23T10:00:05+09:00"
        );
        assert_eq!(
            t("no-such-user@example.co.jp"),
            "no-such-user@example.co.jp"
        );
        assert_eq!(
            t("２０２６-11-23T10:00:05+09:00"),
            "２０２６-11-23T10:00:05+09:00"
        );
    }
}
