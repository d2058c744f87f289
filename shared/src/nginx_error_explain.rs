//! nginx error messages for people: the common ones recognised, explained in plain words with
//! what an engineer would check, and every message reduced to a [`group_key`] so that ten
//! identical "upstream timed out" lines become one line with a count.
//!
//! The key keeps the words of a message and drops what changes from one occurrence to the next
//! (numbers, quoted paths, addresses), so `limiting requests, excess: 15.614 by zone "blog"` and
//! `… excess: 6.874 …` fall together while a timeout and a refused connection stay apart.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::bounce::Lang;

/// What kind of problem a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The application did not answer in time.
    UpstreamTimeout,
    /// nginx could not connect to the application.
    UpstreamConnectFailed,
    /// Every application server is marked down.
    NoLiveUpstreams,
    /// The application closed the connection before answering.
    UpstreamPrematureClose,
    /// An upload larger than `client_max_body_size`.
    BodyTooLarge,
    /// A TLS handshake failed (old clients, scanners, a broken certificate chain).
    SslHandshake,
    /// PHP wrote a warning or error (PHP-FPM through FastCGI).
    PhpMessage,
    /// PHP-FPM found no script for the path.
    PhpScriptNotFound,
    /// A request for a file that does not exist.
    FileNotFound,
    /// Requests over the rate limit (`limit_req`).
    RateLimited,
    /// A large answer was buffered to a temporary file.
    BufferedToFile,
    /// nginx started, reloaded or stopped.
    Signal,
    /// Anything else.
    Other,
}

/// A message in plain words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ErrorExplanation {
    /// A few words, for a heading.
    pub title: &'static str,
    /// What happened.
    pub explanation: &'static str,
    /// What an engineer checks.
    pub check: &'static str,
}

/// Matchers in order; the first that matches wins.
static MATCHERS: LazyLock<Vec<(Regex, ErrorKind)>> = LazyLock::new(|| {
    [
        (r"upstream timed out", ErrorKind::UpstreamTimeout),
        (r"no live upstreams", ErrorKind::NoLiveUpstreams),
        (
            r"connect\(\) (to \S+ )?failed|connect\(\) to .* failed",
            ErrorKind::UpstreamConnectFailed,
        ),
        (
            r"upstream prematurely closed|recv\(\) failed \(104",
            ErrorKind::UpstreamPrematureClose,
        ),
        (
            r"client intended to send too large body",
            ErrorKind::BodyTooLarge,
        ),
        (
            r"(?i)SSL_do_handshake\(\) failed|ssl handshake|SSL routines",
            ErrorKind::SslHandshake,
        ),
        (r"Primary script unknown", ErrorKind::PhpScriptNotFound),
        (
            r"PHP message:|FastCGI sent in stderr",
            ErrorKind::PhpMessage,
        ),
        (
            r#"open\(\) ".*" failed \(2: No such file"#,
            ErrorKind::FileNotFound,
        ),
        (r"is not found \(2: No such file", ErrorKind::FileNotFound),
        (r"limiting (requests|connections)", ErrorKind::RateLimited),
        (r"buffered to a temporary file", ErrorKind::BufferedToFile),
        (
            r"signal process started|signal \d+ \(|exiting|gracefully shutting down",
            ErrorKind::Signal,
        ),
    ]
    .into_iter()
    .filter_map(|(re, kind)| Regex::new(re).ok().map(|re| (re, kind)))
    .collect()
});

/// The kind of an nginx error message.
pub fn kind_of(message: &str) -> ErrorKind {
    MATCHERS
        .iter()
        .find(|(re, _)| re.is_match(message))
        .map_or(ErrorKind::Other, |(_, kind)| *kind)
}

static VARIABLE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    // Quoted strings, addresses, paths and numbers: what differs between two occurrences.
    Regex::new(r#""[^"]*"|\b\d+(\.\d+)*(:\d+)?\b|\b[0-9a-f]*:[0-9a-f:]+\b|/[^\s,"]*"#).ok()
});

/// The message with its variable parts replaced by `…`, for grouping identical messages.
pub fn group_key(message: &str) -> String {
    let head = message.split(", client:").next().unwrap_or(message);
    match VARIABLE.as_ref() {
        Some(re) => re.replace_all(head.trim(), "…").into_owned(),
        None => head.trim().to_owned(),
    }
}

impl ErrorKind {
    /// The explanation in `lang`; `None` for [`ErrorKind::Other`].
    pub fn explain(self, lang: Lang) -> Option<ErrorExplanation> {
        let (title, explanation, check) = match lang {
            Lang::Ja => self.ja()?,
            Lang::En => self.en()?,
        };
        Some(ErrorExplanation {
            title,
            explanation,
            check,
        })
    }

    fn ja(self) -> Option<(&'static str, &'static str, &'static str)> {
        Some(match self {
            ErrorKind::UpstreamTimeout => (
                "アプリケーションの応答が時間切れ",
                "nginx がアプリケーション（upstream）からの応答を待ちましたが、決められた時間内に返ってきませんでした。お客様には 504 エラーが表示されています。",
                "アプリケーションの処理時間（遅い SQL、外部 API の待ち）、サーバーの負荷、proxy_read_timeout または fastcgi_read_timeout の設定を確認します。",
            ),
            ErrorKind::UpstreamConnectFailed => (
                "アプリケーションに接続できない",
                "nginx がアプリケーションに接続しようとしましたが、断られたか、接続先が見つかりませんでした。お客様には 502 エラーが表示されています。",
                "アプリケーション（PHP-FPM など）が動いているか、接続先のポートやソケットファイル、再起動の記録を確認します。",
            ),
            ErrorKind::NoLiveUpstreams => (
                "使えるアプリケーションサーバーがない",
                "直前の失敗が続いたため、nginx はすべての接続先を一時的に使えないと判断し、リクエストを送りませんでした。",
                "同じ時間帯の「接続できない」「時間切れ」のエラーを確認し、アプリケーションサーバーの状態と max_fails、fail_timeout の設定を確認します。",
            ),
            ErrorKind::UpstreamPrematureClose => (
                "アプリケーションが途中で接続を切った",
                "アプリケーションが応答を返し終える前に接続を切りました。処理中に異常終了した可能性があります。",
                "アプリケーションのエラーログ、メモリ不足による強制終了、PHP-FPM の request_terminate_timeout を確認します。",
            ),
            ErrorKind::BodyTooLarge => (
                "送信データが大きすぎる",
                "お客様が送ろうとしたデータ（画像のアップロードなど）が上限を超えたため、nginx が受け付けませんでした。お客様には 413 エラーが表示されています。",
                "想定内の大きさなら client_max_body_size を見直します。お客様には、ファイルを小さくして送り直していただくようご案内できます。",
            ),
            ErrorKind::SslHandshake => (
                "暗号化通信（SSL/TLS）の開始に失敗",
                "ブラウザーや機械的なアクセスとの間で暗号化通信を始められませんでした。古い端末や、サイトを調べて回るプログラムからのアクセスでよく起こります。",
                "件数が急に増えていなければ対応は不要です。多い場合は証明書の有効期限と中間証明書、ssl_protocols と ssl_ciphers の設定を確認します。",
            ),
            ErrorKind::PhpMessage => (
                "PHP の警告・エラー",
                "PHP-FPM で動くプログラムが警告やエラーを出しました。警告（Warning）だけならページは表示されていることが多いですが、Fatal error の場合はページが表示されていません。",
                "メッセージにあるファイル名と行番号のプログラムを確認し、開発担当者に修正を依頼します。",
            ),
            ErrorKind::PhpScriptNotFound => (
                "PHP のファイルが見つからない",
                "PHP-FPM が、リクエストされたパスに当たる PHP ファイルを見つけられませんでした。",
                "nginx の root と SCRIPT_FILENAME の設定、ファイルの置き場所と読み取り権限を確認します。",
            ),
            ErrorKind::FileNotFound => (
                "ファイルが存在しない",
                "存在しないファイルへのアクセスがありました。設定ファイルやバックアップを探す機械的なアクセスがほとんどです。",
                "同じ IP アドレスからの大量のアクセスでなければ対応は不要です。リンク切れの場合はリンク元のページを直します。",
            ),
            ErrorKind::RateLimited => (
                "アクセスが多すぎるため制限",
                "短い時間にアクセスが集中したため、nginx が設定どおりに一部のリクエストを断りました（limit_req）。",
                "制限された IP アドレスが攻撃や機械的なアクセスか、正常なお客様かを訪問者の画面で確認し、必要なら limit_req の設定を見直します。",
            ),
            ErrorKind::BufferedToFile => (
                "大きな応答を一時ファイルに保存",
                "アプリケーションからの応答が大きかったため、nginx が一時ファイルを使いました。エラーではなく、お客様への影響はありません。",
                "頻繁に出る場合は proxy_buffers または fastcgi_buffers の大きさを見直します。",
            ),
            ErrorKind::Signal => (
                "nginx の起動・設定の再読み込み",
                "nginx が起動、設定の再読み込み、または停止をしました。",
                "予定した作業（デプロイや証明書の更新）の時刻と合っているかを確認します。",
            ),
            ErrorKind::Other => return None,
        })
    }

    fn en(self) -> Option<(&'static str, &'static str, &'static str)> {
        Some(match self {
            ErrorKind::UpstreamTimeout => (
                "The application did not answer in time",
                "nginx waited for the application (upstream) and gave up; the visitor saw a 504 error.",
                "Check the application's slow work (SQL, external APIs), the server load and proxy_read_timeout / fastcgi_read_timeout.",
            ),
            ErrorKind::UpstreamConnectFailed => (
                "Could not connect to the application",
                "nginx could not open a connection to the application; the visitor saw a 502 error.",
                "Check that the application (PHP-FPM, …) is running, its port or socket file, and recent restarts.",
            ),
            ErrorKind::NoLiveUpstreams => (
                "No application server available",
                "After repeated failures nginx marked every upstream as down and sent nothing.",
                "Look at the timeouts and connection failures just before, the servers' health, and max_fails / fail_timeout.",
            ),
            ErrorKind::UpstreamPrematureClose => (
                "The application closed the connection early",
                "The application closed the connection before its answer was complete; it may have crashed.",
                "Check the application's error log, out-of-memory kills and PHP-FPM's request_terminate_timeout.",
            ),
            ErrorKind::BodyTooLarge => (
                "Upload too large",
                "The visitor sent more data than allowed (an upload, say) and nginx refused it with 413.",
                "Raise client_max_body_size if such sizes are expected, or ask the visitor to send a smaller file.",
            ),
            ErrorKind::SslHandshake => (
                "TLS handshake failed",
                "A secure connection could not be set up; common with old devices and scanners.",
                "Nothing to do unless it grows; then check the certificate's expiry and chain, ssl_protocols and ssl_ciphers.",
            ),
            ErrorKind::PhpMessage => (
                "PHP warning or error",
                "The PHP program (PHP-FPM) reported a warning or error. With a warning the page usually still works; a fatal error breaks it.",
                "Look at the file and line in the message and have the developers fix it.",
            ),
            ErrorKind::PhpScriptNotFound => (
                "PHP script not found",
                "PHP-FPM found no PHP file for the requested path.",
                "Check nginx's root and SCRIPT_FILENAME, the file's location and permissions.",
            ),
            ErrorKind::FileNotFound => (
                "File does not exist",
                "A file that does not exist was requested; mostly scanners looking for configuration files or backups.",
                "Nothing to do unless one address sends many; fix the linking page if it is a broken link.",
            ),
            ErrorKind::RateLimited => (
                "Requests over the rate limit",
                "Too many requests came in a short time, and nginx refused some as configured (limit_req).",
                "See on the visits screen whether the address is a bot or a real visitor; adjust limit_req if needed.",
            ),
            ErrorKind::BufferedToFile => (
                "Large answer buffered to a file",
                "An answer was large, so nginx used a temporary file. Not an error; visitors are not affected.",
                "If frequent, review proxy_buffers / fastcgi_buffers.",
            ),
            ErrorKind::Signal => (
                "nginx started or reloaded",
                "nginx started, reloaded its configuration or stopped.",
                "Check that it matches planned work (a deployment, a certificate renewal).",
            ),
            ErrorKind::Other => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_messages_are_recognised() {
        let cases = [
            (
                "upstream timed out (110: Connection timed out) while reading response header from upstream",
                ErrorKind::UpstreamTimeout,
            ),
            (
                "connect() failed (111: Connection refused) while connecting to upstream",
                ErrorKind::UpstreamConnectFailed,
            ),
            (
                "connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or directory) while connecting to upstream",
                ErrorKind::UpstreamConnectFailed,
            ),
            (
                "no live upstreams while connecting to upstream",
                ErrorKind::NoLiveUpstreams,
            ),
            (
                "client intended to send too large body: 15728640 bytes",
                ErrorKind::BodyTooLarge,
            ),
            (
                "SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking",
                ErrorKind::SslHandshake,
            ),
            (
                "FastCGI sent in stderr: \"PHP message: PHP Warning:  Undefined array key\"",
                ErrorKind::PhpMessage,
            ),
            (
                "FastCGI sent in stderr: \"Primary script unknown\" while reading response header",
                ErrorKind::PhpScriptNotFound,
            ),
            (
                "open() \"/var/www/blog/.env\" failed (2: No such file or directory)",
                ErrorKind::FileNotFound,
            ),
            (
                "limiting requests, excess: 15.614 by zone \"blog\"",
                ErrorKind::RateLimited,
            ),
            ("signal process started", ErrorKind::Signal),
            ("something new", ErrorKind::Other),
        ];
        for (msg, kind) in cases {
            assert_eq!(kind_of(msg), kind, "{msg}");
        }
    }

    #[test]
    fn every_known_kind_is_explained_in_both_languages() {
        for kind in [
            ErrorKind::UpstreamTimeout,
            ErrorKind::UpstreamConnectFailed,
            ErrorKind::NoLiveUpstreams,
            ErrorKind::UpstreamPrematureClose,
            ErrorKind::BodyTooLarge,
            ErrorKind::SslHandshake,
            ErrorKind::PhpMessage,
            ErrorKind::PhpScriptNotFound,
            ErrorKind::FileNotFound,
            ErrorKind::RateLimited,
            ErrorKind::BufferedToFile,
            ErrorKind::Signal,
        ] {
            for lang in [Lang::Ja, Lang::En] {
                let e = kind.explain(lang);
                assert!(
                    e.is_some_and(|e| !e.title.is_empty() && !e.check.is_empty()),
                    "{kind:?}"
                );
            }
            // Japanese texts use full-width punctuation only.
            let ja = kind
                .explain(Lang::Ja)
                .map(|e| format!("{}{}{}", e.title, e.explanation, e.check));
            assert!(
                ja.is_some_and(|s| !s.contains('(') && !s.contains(',') && !s.contains(':')),
                "{kind:?}"
            );
        }
        assert_eq!(ErrorKind::Other.explain(Lang::Ja), None);
    }

    #[test]
    fn variable_parts_do_not_split_groups() {
        let a = group_key("limiting requests, excess: 15.614 by zone \"blog\", client: 1.2.3.4");
        let b = group_key("limiting requests, excess: 6.874 by zone \"blog\"");
        assert_eq!(a, b);
        let c = group_key("open() \"/var/www/blog/.env\" failed (2: No such file or directory)");
        let d =
            group_key("open() \"/var/www/blog/backup.zip\" failed (2: No such file or directory)");
        assert_eq!(c, d);
        assert_ne!(
            group_key("upstream timed out (110: Connection timed out)"),
            c
        );
    }
}
