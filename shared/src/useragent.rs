//! User-agent summaries: "Windows 10 (or later) + Edge 114", "iPhone iOS 17 + Safari",
//! "Googlebot (bot)", "curl 7.46 (tool)".
//!
//! Browsers and operating systems come from [`woothee`]: pure Rust, its dataset compiled in (no
//! file to load at start-up, which matters for Lambda cold starts) and correct for Edge (`Edg/`,
//! `EdgA/`, `EdgiOS/`), Chrome on iOS (`CriOS/`), Firefox on iOS (`FxiOS/`) and Samsung Internet.
//! Its last release is 0.13.0 (2021-10), so it lags on what appeared since; the regex-driven
//! alternatives (`ua-parser`, `uaparser`) need the uap-core `regexes.yaml` loaded and compiled at
//! run time (hundreds of milliseconds). So woothee stays, and a small ordered table in front of it
//! names what it misses or gets wrong (found by running woothee 0.13.0 on the strings in the
//! tests below):
//! - crawlers it reports as a browser (Applebot and Bytespider come out as "Safari") or only as
//!   "misc crawler" (GPTBot, ClaudeBot, PerplexityBot, …);
//! - HTTP libraries and tools it does not know (python-requests, Go-http-client,
//!   ELB-HealthChecker) and HeadlessChrome, which it calls Chrome;
//! - in-app browsers (LINE, Facebook, Instagram), which it calls "Webview".
//!
//! On top of woothee the summary applies what user agents froze: Windows 11 still sends
//! `Windows NT 10.0` (hence "Windows 10 (or later)"), every macOS browser sends 10.15.x (so the
//! label says just "macOS"), Chrome's reduced user agent on Android sends `Android 10; K`
//! ("Android 10 (or later)"), and iPadOS 13+ Safari sends a Mac user agent by default, so such
//! iPads read as macOS.
//!
//! Summaries are pure functions of the string; [`UaCache`] memoises them for log data, where a
//! million requests carry a few hundred distinct user agents.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::bounce::Lang;

/// What kind of device (or non-person) sent the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// A desktop or laptop computer (Windows, macOS, Linux, ChromeOS).
    Desktop,
    /// A phone (iPhone, Android with `Mobile`, feature phones).
    Phone,
    /// A tablet (iPad with an iPad user agent, Android without `Mobile`).
    Tablet,
    /// A crawler, HTTP library, monitor or headless browser: not a person at a browser.
    Bot,
    /// Anything else, including game consoles, TVs and unrecognised strings.
    Other,
}

/// A short description of one User-Agent header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UaSummary {
    /// Operating system: `Windows`, `macOS`, `iOS`, `iPadOS`, `Android`, `Linux`, `ChromeOS`, ….
    pub os: Option<String>,
    /// OS version as the string gives it: major (`17`, `14`), Windows name (`10`, `8.1`, `7`),
    /// macOS `10.15` (frozen by browsers, so not the real version).
    pub os_version: Option<String>,
    /// Browser, app, crawler or tool name (`Edge`, `Safari`, `LINE`, `Googlebot`, `curl`).
    pub browser: Option<String>,
    /// Major version of `browser` (`114`).
    pub browser_version: Option<String>,
    /// Kind of device.
    pub device: Device,
    /// Not a person at a browser: crawler, HTTP library, monitor, headless browser.
    pub is_bot: bool,
    /// Short human text for lists: "Windows 10 (or later) + Edge 114", "unknown" when absent.
    pub label: String,
}

/// The English words of [`UaSummary::label`] and their Japanese forms (full-width parentheses,
/// as Japanese text is written), in the order they are replaced.
const JA_WORDS: &[(&str, &str)] = &[
    (" (or later)", " 以降"),
    (" (bot)", "（ボット）"),
    (" (tool)", "（ツール）"),
    (" (in-app)", "（アプリ内ブラウザー）"),
    (" tablet", " タブレット"),
    ("in-app browser", "アプリ内ブラウザー"),
];

impl UaSummary {
    /// [`label`](UaSummary::label) in `lang`: in Japanese 「Windows 10 以降 + Edge 114」,
    /// 「Googlebot（ボット）」, 「不明」. Names and versions stay as they are.
    pub fn label_in(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.label.clone();
        }
        if self.label == "unknown" {
            return "不明".to_owned();
        }
        JA_WORDS
            .iter()
            .fold(self.label.clone(), |label, (en, ja)| label.replace(en, ja))
    }

    fn unknown() -> UaSummary {
        UaSummary {
            os: None,
            os_version: None,
            browser: None,
            browser_version: None,
            device: Device::Other,
            is_bot: false,
            label: "unknown".to_owned(),
        }
    }
}

/// Whether a table entry is a crawler or a tool (library, CLI, monitor, headless browser).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Crawler,
    Tool,
    InApp,
}

/// One name woothee misses: `token` is searched for (case-sensitive) anywhere in the string.
struct Known {
    token: &'static str,
    name: &'static str,
    kind: Kind,
}

const fn k(token: &'static str, name: &'static str, kind: Kind) -> Known {
    Known { token, name, kind }
}

/// Checked in order before woothee; the first entry whose token occurs wins, so more specific
/// tokens come first (`Googlebot-Image` before `Googlebot`), crawlers before tools (a crawler
/// driving HeadlessChrome is a crawler), tools before in-app browsers.
const KNOWN: &[Known] = &[
    // Google's crawlers and fetchers (developers.google.com/search/docs/crawling-indexing).
    k("Googlebot-Image", "Googlebot-Image", Kind::Crawler),
    k("Googlebot-Video", "Googlebot-Video", Kind::Crawler),
    k("Googlebot-News", "Googlebot-News", Kind::Crawler),
    k("Googlebot", "Googlebot", Kind::Crawler),
    k("AdsBot-Google", "AdsBot-Google", Kind::Crawler),
    k(
        "Mediapartners-Google",
        "Mediapartners-Google",
        Kind::Crawler,
    ),
    k(
        "Google-InspectionTool",
        "Google-InspectionTool",
        Kind::Crawler,
    ),
    k("GoogleOther", "GoogleOther", Kind::Crawler),
    k("Storebot-Google", "Storebot-Google", Kind::Crawler),
    k("Google-Extended", "Google-Extended", Kind::Crawler),
    k("APIs-Google", "APIs-Google", Kind::Crawler),
    k("FeedFetcher-Google", "FeedFetcher-Google", Kind::Crawler),
    // Search engines.
    k("bingbot", "bingbot", Kind::Crawler),
    k("BingPreview", "BingPreview", Kind::Crawler),
    k("msnbot", "msnbot", Kind::Crawler),
    // Applebot sends a full Safari user agent with "(Applebot/0.1; …)" at the end.
    k("Applebot", "Applebot", Kind::Crawler),
    k("YandexBot", "YandexBot", Kind::Crawler),
    k("YandexImages", "YandexImages", Kind::Crawler),
    k("Baiduspider", "Baiduspider", Kind::Crawler),
    k("DuckDuckBot", "DuckDuckBot", Kind::Crawler),
    k("Yahoo! Slurp", "Yahoo! Slurp", Kind::Crawler),
    k("Y!J-", "Yahoo! Japan", Kind::Crawler),
    k("Yeti/", "Naver Yeti", Kind::Crawler),
    k("SeznamBot", "SeznamBot", Kind::Crawler),
    k("PetalBot", "PetalBot", Kind::Crawler),
    k("Sogou", "Sogou", Kind::Crawler),
    // AI crawlers and fetchers.
    k("GPTBot", "GPTBot", Kind::Crawler),
    k("ChatGPT-User", "ChatGPT-User", Kind::Crawler),
    k("OAI-SearchBot", "OAI-SearchBot", Kind::Crawler),
    k("ClaudeBot", "ClaudeBot", Kind::Crawler),
    k("Claude-User", "Claude-User", Kind::Crawler),
    k("Claude-SearchBot", "Claude-SearchBot", Kind::Crawler),
    k("Claude-Web", "Claude-Web", Kind::Crawler),
    k("anthropic-ai", "anthropic-ai", Kind::Crawler),
    k("PerplexityBot", "PerplexityBot", Kind::Crawler),
    k("Perplexity-User", "Perplexity-User", Kind::Crawler),
    // Bytespider sends an Android Safari user agent with "(compatible; Bytespider; …)".
    k("Bytespider", "Bytespider", Kind::Crawler),
    k("Amazonbot", "Amazonbot", Kind::Crawler),
    k("CCBot", "CCBot", Kind::Crawler),
    k("meta-externalagent", "meta-externalagent", Kind::Crawler),
    k("cohere-ai", "cohere-ai", Kind::Crawler),
    k("Diffbot", "Diffbot", Kind::Crawler),
    // SEO tools.
    k("AhrefsBot", "AhrefsBot", Kind::Crawler),
    k("AhrefsSiteAudit", "AhrefsSiteAudit", Kind::Crawler),
    k("SemrushBot", "SemrushBot", Kind::Crawler),
    k("MJ12bot", "MJ12bot", Kind::Crawler),
    k("DotBot", "DotBot", Kind::Crawler),
    k("BLEXBot", "BLEXBot", Kind::Crawler),
    k("DataForSeoBot", "DataForSeoBot", Kind::Crawler),
    k("serpstatbot", "serpstatbot", Kind::Crawler),
    // Link previews.
    k("facebookexternalhit", "facebookexternalhit", Kind::Crawler),
    k("Twitterbot", "Twitterbot", Kind::Crawler),
    k("Slackbot", "Slackbot", Kind::Crawler),
    k("Discordbot", "Discordbot", Kind::Crawler),
    k("LinkedInBot", "LinkedInBot", Kind::Crawler),
    k("TelegramBot", "TelegramBot", Kind::Crawler),
    k("WhatsApp/", "WhatsApp", Kind::Crawler),
    k("Hatena", "Hatena", Kind::Crawler),
    k("ia_archiver", "ia_archiver", Kind::Crawler),
    k("archive.org_bot", "archive.org_bot", Kind::Crawler),
    // Headless browsers and page testers.
    k("HeadlessChrome", "HeadlessChrome", Kind::Tool),
    k("PhantomJS", "PhantomJS", Kind::Tool),
    k("Chrome-Lighthouse", "Lighthouse", Kind::Tool),
    // Health checks and monitors.
    k("ELB-HealthChecker", "ELB-HealthChecker", Kind::Tool),
    k(
        "Amazon-Route53-Health-Check-Service",
        "Route53-Health-Check",
        Kind::Tool,
    ),
    k("kube-probe", "kube-probe", Kind::Tool),
    k("UptimeRobot", "UptimeRobot", Kind::Tool),
    k("Pingdom", "Pingdom", Kind::Tool),
    k("Datadog", "Datadog", Kind::Tool),
    k("StatusCake", "StatusCake", Kind::Tool),
    // HTTP libraries and command-line tools.
    k("curl/", "curl", Kind::Tool),
    k("Wget/", "Wget", Kind::Tool),
    k("python-requests/", "python-requests", Kind::Tool),
    k("Python-urllib/", "Python-urllib", Kind::Tool),
    k("python-httpx/", "python-httpx", Kind::Tool),
    k("aiohttp/", "aiohttp", Kind::Tool),
    k("Scrapy/", "Scrapy", Kind::Tool),
    k("Go-http-client/", "Go-http-client", Kind::Tool),
    k("axios/", "axios", Kind::Tool),
    k("node-fetch", "node-fetch", Kind::Tool),
    k("undici", "undici", Kind::Tool),
    k("Apache-HttpClient/", "Apache-HttpClient", Kind::Tool),
    k("Java/", "Java", Kind::Tool),
    k("libwww-perl/", "libwww-perl", Kind::Tool),
    k("GuzzleHttp/", "Guzzle", Kind::Tool),
    k("PostmanRuntime/", "PostmanRuntime", Kind::Tool),
    k("Wfuzz/", "Wfuzz", Kind::Tool),
    k("zgrab/", "zgrab", Kind::Tool),
    k("masscan/", "masscan", Kind::Tool),
    k("Nmap Scripting Engine", "Nmap", Kind::Tool),
    k("sqlmap/", "sqlmap", Kind::Tool),
    // In-app browsers, which woothee reports as "Webview".
    k(" Line/", "LINE", Kind::InApp),
    k("FBAV/", "Facebook", Kind::InApp),
    k("FBAN/", "Facebook", Kind::InApp),
    k("Instagram ", "Instagram", Kind::InApp),
    k("KAKAOTALK", "KakaoTalk", Kind::InApp),
    k("YJApp-", "Yahoo! JAPAN", Kind::InApp),
];

/// Summarises a User-Agent header. Never panics; an empty string or `-` gives label "unknown".
pub fn summarize(ua: &str) -> UaSummary {
    let ua = ua.trim();
    if ua.is_empty() || ua == "-" {
        return UaSummary::unknown();
    }
    let known = KNOWN.iter().find(|k| ua.contains(k.token));
    match known {
        Some(k) if k.kind != Kind::InApp => {
            return non_person(k.name, version_after(ua, k.token), k.kind);
        }
        _ => {}
    }
    if let Some(name) = generic_crawler_name(ua) {
        return non_person(name, version_after(ua, name), Kind::Crawler);
    }
    let Some(w) = woothee::parser::Parser::new().parse(ua) else {
        return unrecognised(ua);
    };
    match w.category {
        "crawler" => {
            let name = if w.name == "misc crawler" {
                "crawler"
            } else {
                w.name
            };
            return non_person(name, None, Kind::Crawler);
        }
        "misc" => {
            // woothee's "HTTP Library" puts the tool in `version` (curl, wget, …).
            let name = if w.name == "HTTP Library" && w.version != woothee::woothee::VALUE_UNKNOWN {
                w.version
            } else {
                w.name
            };
            return non_person(name, version_after(ua, name), Kind::Tool);
        }
        _ => {}
    }
    browser_summary(ua, &w, known)
}

/// Summary for a crawler or tool: `Googlebot (bot)`, `curl 7.46 (tool)`.
fn non_person(name: &str, version: Option<&str>, kind: Kind) -> UaSummary {
    let label = match (kind, version) {
        (Kind::Crawler, _) => format!("{name} (bot)"),
        // Browser-style versions (`120.0.6099.28`) read best as the major alone.
        (_, Some(v)) if v.split('.').count() >= 4 => format!("{name} {} (tool)", major(v)),
        (_, Some(v)) => format!("{name} {} (tool)", major_minor(v)),
        (_, None) => format!("{name} (tool)"),
    };
    UaSummary {
        os: None,
        os_version: None,
        browser: Some(name.to_owned()),
        browser_version: version
            .map(major)
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
        device: Device::Bot,
        is_bot: true,
        label,
    }
}

/// A string nothing recognised: its first product token is the best short name there is.
fn unrecognised(ua: &str) -> UaSummary {
    let first = ua.split_whitespace().next().unwrap_or(ua);
    let label: String = first.chars().take(40).collect();
    UaSummary {
        label,
        ..UaSummary::unknown()
    }
}

/// A crawler the table does not name, by a product token containing `bot`, `Bot`, `spider` or
/// `crawler` (`compatible; Barkrowler/0.9` does not match; `FooBot/1.0` does). URLs and e-mail
/// addresses in the string are not names, and `BOT` in capitals is left alone because phone
/// models use it (`CUBOT X30`).
fn generic_crawler_name(ua: &str) -> Option<&str> {
    ua.split([' ', ';', '(', ')', ',', '+'])
        .filter(|t| !t.contains("://") && !t.contains('@'))
        .map(|t| t.split('/').next().unwrap_or(t))
        .filter(|t| !t.is_empty() && !t.contains('.'))
        // Cubot is a phone brand.
        .filter(|t| !t.eq_ignore_ascii_case("cubot"))
        .find(|t| {
            t.contains("bot") || t.contains("Bot") || {
                let l = t.to_ascii_lowercase();
                l.contains("spider") || l.contains("crawler")
            }
        })
        .filter(|t| !t.is_empty())
}

/// The version right after `name/` (or after `name` when it ends in `/`) in the string, if there
/// is one: (`curl/7.46.0`, `curl/`) → `7.46.0`.
fn version_after<'a>(ua: &'a str, name: &str) -> Option<&'a str> {
    let at = ua.find(name)? + name.len();
    let rest = ua.get(at..)?;
    let rest = if name.ends_with('/') {
        rest
    } else {
        rest.strip_prefix('/')?
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let v = rest.get(..end)?.trim_end_matches('.');
    (!v.is_empty() && v.starts_with(|c: char| c.is_ascii_digit())).then_some(v)
}

/// `114.0.1823.51` → `114`.
fn major(v: &str) -> &str {
    v.split('.').next().unwrap_or(v)
}

/// `7.46.0` → `7.46`.
fn major_minor(v: &str) -> &str {
    let mut dots = v.match_indices('.');
    match (dots.next(), dots.next()) {
        (Some(_), Some((second, _))) => v.get(..second).unwrap_or(v),
        _ => v,
    }
}

/// A person's browser (or app), from woothee's answer plus the frozen-version rules.
fn browser_summary(
    ua: &str,
    w: &woothee::parser::WootheeResult<'_>,
    in_app: Option<&Known>,
) -> UaSummary {
    let mut device = match w.category {
        "pc" => Device::Desktop,
        "smartphone" | "mobilephone" => Device::Phone,
        _ => Device::Other,
    };
    let (os, os_version, os_label) = os_summary(ua, w, &mut device);
    let (browser, browser_version, browser_label) = browser_part(ua, w, in_app);

    let label = match (os_label.is_empty(), browser_label.is_empty()) {
        (false, false) => format!("{os_label} + {browser_label}"),
        (false, true) => os_label,
        (true, false) => browser_label,
        (true, true) => return unrecognised(ua),
    };
    UaSummary {
        os,
        os_version,
        browser,
        browser_version,
        device,
        is_bot: false,
        label,
    }
}

/// OS name, OS version, and the OS part of the label; sets `device` where the OS tells it.
fn os_summary(
    ua: &str,
    w: &woothee::parser::WootheeResult<'_>,
    device: &mut Device,
) -> (Option<String>, Option<String>, String) {
    let wos_version: &str = &w.os_version;
    match w.os {
        os if os.starts_with("Windows") && os != "Windows Phone OS" && os != "Windows CE" => {
            let name = os.strip_prefix("Windows ").unwrap_or("");
            let version = woothee_value(name).filter(|n| !n.contains("UNKNOWN"));
            // Windows 11 sends NT 10.0 too, so 10 can mean 11.
            let label = match version.as_deref() {
                Some("10") => "Windows 10 (or later)".to_owned(),
                Some(v) => format!("Windows {v}"),
                None => "Windows".to_owned(),
            };
            (Some("Windows".to_owned()), version, label)
        }
        "Mac OSX" => {
            let v = woothee_value(wos_version).map(|v| major_minor(&v).to_owned());
            (Some("macOS".to_owned()), v, "macOS".to_owned())
        }
        "iPhone" | "iPod" | "iOS" => {
            *device = Device::Phone;
            let v = numeric_major(wos_version);
            let label = match &v {
                Some(v) => format!("{} iOS {v}", if w.os == "iOS" { "iPhone" } else { w.os }),
                None => format!("{} iOS", if w.os == "iOS" { "iPhone" } else { w.os }),
            };
            (Some("iOS".to_owned()), v, label)
        }
        "iPad" => {
            *device = Device::Tablet;
            let v = numeric_major(wos_version);
            // Apple renamed the iPad's OS iPadOS from version 13.
            let name = match v.as_deref().and_then(|v| v.parse::<u32>().ok()) {
                Some(n) if n >= 13 => "iPadOS",
                _ => "iOS",
            };
            let label = match &v {
                Some(v) => format!("iPad {name} {v}"),
                None => format!("iPad {name}"),
            };
            (Some(name.to_owned()), v, label)
        }
        "Android" => {
            // Google's rule: Android phones send "Mobile", tablets do not.
            *device = if ua.contains("Mobile") {
                Device::Phone
            } else {
                Device::Tablet
            };
            let v = numeric_major(wos_version);
            // Chrome's reduced user agent freezes "Android 10; K" whatever the real version.
            let frozen = ua.contains("Android 10; K)");
            let mut label = match &v {
                Some(v) => format!("Android {v}"),
                None => "Android".to_owned(),
            };
            if frozen {
                label.push_str(" (or later)");
            }
            if *device == Device::Tablet {
                label.push_str(" tablet");
            }
            (Some("Android".to_owned()), v, label)
        }
        "Linux" | "ChromeOS" | "BSD" => {
            *device = Device::Desktop;
            (Some(w.os.to_owned()), None, w.os.to_owned())
        }
        os => match woothee_value(os) {
            Some(os) => {
                let v = woothee_value(wos_version);
                let label = match &v {
                    Some(v) => format!("{os} {v}"),
                    None => os.clone(),
                };
                (Some(os), v, label)
            }
            None => (None, None, String::new()),
        },
    }
}

/// Browser name, major version, and the browser part of the label.
fn browser_part(
    ua: &str,
    w: &woothee::parser::WootheeResult<'_>,
    in_app: Option<&Known>,
) -> (Option<String>, Option<String>, String) {
    match in_app {
        Some(app) => {
            let v = version_after(ua, app.token).map(|v| major(v).to_owned());
            let label = match &v {
                Some(v) => format!("{} {v} (in-app)", app.name),
                None => format!("{} (in-app)", app.name),
            };
            (Some(app.name.to_owned()), v, label)
        }
        None => match w.name {
            "Webview" => (None, None, "in-app browser".to_owned()),
            name => {
                let name = woothee_value(name);
                let v = numeric_major(w.version);
                let label = match (&name, &v) {
                    // On iOS, Safari's version is the OS version: saying it twice is noise.
                    (Some(n), _) if n == "Safari" && matches!(w.os, "iPhone" | "iPad" | "iPod") => {
                        n.clone()
                    }
                    (Some(n), Some(v)) => format!("{n} {v}"),
                    (Some(n), None) => n.clone(),
                    (None, _) => String::new(),
                };
                (name, v, label)
            }
        },
    }
}

/// A woothee value that says something (not empty, not woothee's "UNKNOWN").
fn woothee_value(s: &str) -> Option<String> {
    (!s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN).then(|| s.to_owned())
}

/// The major version when it is a plain number.
fn numeric_major(s: &str) -> Option<String> {
    let m = major(s);
    (!m.is_empty() && m.bytes().all(|b| b.is_ascii_digit())).then(|| m.to_owned())
}

/// Memoised [`summarize`]: log data repeats a few hundred user agents across millions of lines.
///
/// Each distinct string also gets a small dense id ([`UaCache::id`]), so callers can group by
/// user agent with integers instead of strings.
#[derive(Debug, Default)]
pub struct UaCache {
    ids: HashMap<Box<str>, usize>,
    summaries: Vec<UaSummary>,
}

impl UaCache {
    /// An empty cache.
    pub fn new() -> UaCache {
        UaCache::default()
    }

    /// The id of `ua` (0, 1, 2, … in order of first sight), summarising it on first sight.
    pub fn id(&mut self, ua: &str) -> usize {
        if let Some(&id) = self.ids.get(ua) {
            return id;
        }
        let id = self.summaries.len();
        self.summaries.push(summarize(ua));
        self.ids.insert(ua.into(), id);
        id
    }

    /// The summary of `ua`, computed once per distinct string.
    pub fn get(&mut self, ua: &str) -> &UaSummary {
        let id = self.id(ua);
        // Ids are indexes into `summaries`, handed out only after the push.
        &self.summaries[id]
    }

    /// The summary behind an id from [`UaCache::id`]; `None` for an id this cache never gave.
    pub fn by_id(&self, id: usize) -> Option<&UaSummary> {
        self.summaries.get(id)
    }

    /// How many distinct strings have been summarised.
    pub fn len(&self) -> usize {
        self.summaries.len()
    }

    /// Whether nothing has been summarised yet.
    pub fn is_empty(&self) -> bool {
        self.summaries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn browser(
        os: &str,
        osv: Option<&str>,
        b: &str,
        bv: &str,
        device: Device,
        label: &str,
    ) -> UaSummary {
        UaSummary {
            os: Some(os.to_owned()),
            os_version: osv.map(str::to_owned),
            browser: Some(b.to_owned()),
            browser_version: Some(bv.to_owned()),
            device,
            is_bot: false,
            label: label.to_owned(),
        }
    }

    fn bot(name: &str, version: Option<&str>, label: &str) -> UaSummary {
        UaSummary {
            os: None,
            os_version: None,
            browser: Some(name.to_owned()),
            browser_version: version.map(str::to_owned),
            device: Device::Bot,
            is_bot: true,
            label: label.to_owned(),
        }
    }

    /// Real-world strings, one per tricky thing, compared as whole summaries.
    #[test]
    fn real_world_user_agents() {
        use Device::*;
        let cases: Vec<(&str, &str, UaSummary)> = vec![
            (
                "windows_chrome",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
                browser(
                    "Windows",
                    Some("10"),
                    "Chrome",
                    "120",
                    Desktop,
                    "Windows 10 (or later) + Chrome 120",
                ),
            ),
            (
                "windows_edge_edg_token",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 Edg/114.0.1823.51",
                browser(
                    "Windows",
                    Some("10"),
                    "Edge",
                    "114",
                    Desktop,
                    "Windows 10 (or later) + Edge 114",
                ),
            ),
            (
                "windows_firefox",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
                browser(
                    "Windows",
                    Some("10"),
                    "Firefox",
                    "121",
                    Desktop,
                    "Windows 10 (or later) + Firefox 121",
                ),
            ),
            (
                "windows_7_is_not_or_later",
                "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
                browser(
                    "Windows",
                    Some("7"),
                    "Chrome",
                    "109",
                    Desktop,
                    "Windows 7 + Chrome 109",
                ),
            ),
            (
                "ie11_trident_without_msie",
                "Mozilla/5.0 (Windows NT 6.3; Trident/7.0; rv:11.0) like Gecko",
                browser(
                    "Windows",
                    Some("8.1"),
                    "Internet Explorer",
                    "11",
                    Desktop,
                    "Windows 8.1 + Internet Explorer 11",
                ),
            ),
            (
                "mac_safari_frozen_10_15_7",
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
                browser(
                    "macOS",
                    Some("10.15"),
                    "Safari",
                    "17",
                    Desktop,
                    "macOS + Safari 17",
                ),
            ),
            (
                "mac_chrome",
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
                browser(
                    "macOS",
                    Some("10.15"),
                    "Chrome",
                    "120",
                    Desktop,
                    "macOS + Chrome 120",
                ),
            ),
            (
                "mac_firefox_dotted_os_version",
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0",
                browser(
                    "macOS",
                    Some("10.15"),
                    "Firefox",
                    "121",
                    Desktop,
                    "macOS + Firefox 121",
                ),
            ),
            (
                "iphone_safari_version_not_repeated",
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
                browser(
                    "iOS",
                    Some("17"),
                    "Safari",
                    "17",
                    Phone,
                    "iPhone iOS 17 + Safari",
                ),
            ),
            (
                "iphone_chrome_crios",
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
                browser(
                    "iOS",
                    Some("17"),
                    "Chrome",
                    "120",
                    Phone,
                    "iPhone iOS 17 + Chrome 120",
                ),
            ),
            (
                "iphone_edge_edgios",
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/120.0.2210.126 Mobile/15E148 Safari/605.1.15",
                browser(
                    "iOS",
                    Some("17"),
                    "Edge",
                    "120",
                    Phone,
                    "iPhone iOS 17 + Edge 120",
                ),
            ),
            (
                "iphone_firefox_fxios",
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15",
                browser(
                    "iOS",
                    Some("17"),
                    "Firefox",
                    "121",
                    Phone,
                    "iPhone iOS 17 + Firefox 121",
                ),
            ),
            (
                "iphone_line_in_app_woothee_says_webview",
                "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/13.14.0",
                browser(
                    "iOS",
                    Some("16"),
                    "LINE",
                    "13",
                    Phone,
                    "iPhone iOS 16 + LINE 13 (in-app)",
                ),
            ),
            (
                "android_line_in_app_webview_wv",
                "Mozilla/5.0 (Linux; Android 13; SM-G991B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36 Line/13.19.1/IAB",
                browser(
                    "Android",
                    Some("13"),
                    "LINE",
                    "13",
                    Phone,
                    "Android 13 + LINE 13 (in-app)",
                ),
            ),
            (
                "android_chrome",
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
                browser(
                    "Android",
                    Some("14"),
                    "Chrome",
                    "120",
                    Phone,
                    "Android 14 + Chrome 120",
                ),
            ),
            (
                "android_chrome_reduced_ua_k",
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
                browser(
                    "Android",
                    Some("10"),
                    "Chrome",
                    "120",
                    Phone,
                    "Android 10 (or later) + Chrome 120",
                ),
            ),
            (
                "android_edge_edga",
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.2210.115",
                browser(
                    "Android",
                    Some("10"),
                    "Edge",
                    "120",
                    Phone,
                    "Android 10 (or later) + Edge 120",
                ),
            ),
            (
                "android_samsung_internet",
                "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
                browser(
                    "Android",
                    Some("13"),
                    "SamsungBrowser",
                    "23",
                    Phone,
                    "Android 13 + SamsungBrowser 23",
                ),
            ),
            (
                "android_tablet_has_no_mobile_token",
                "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
                browser(
                    "Android",
                    Some("13"),
                    "Chrome",
                    "120",
                    Tablet,
                    "Android 13 tablet + Chrome 120",
                ),
            ),
            (
                "ipad_safari_ipados",
                "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
                browser(
                    "iPadOS",
                    Some("16"),
                    "Safari",
                    "16",
                    Tablet,
                    "iPad iPadOS 16 + Safari",
                ),
            ),
            (
                "linux_firefox",
                "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
                UaSummary {
                    os_version: None,
                    ..browser(
                        "Linux",
                        None,
                        "Firefox",
                        "121",
                        Desktop,
                        "Linux + Firefox 121",
                    )
                },
            ),
            (
                "windows_opera_opr",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
                browser(
                    "Windows",
                    Some("10"),
                    "Opera",
                    "106",
                    Desktop,
                    "Windows 10 (or later) + Opera 106",
                ),
            ),
            (
                "googlebot_desktop",
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                bot("Googlebot", Some("2"), "Googlebot (bot)"),
            ),
            (
                "googlebot_smartphone_looks_like_android_chrome",
                "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                bot("Googlebot", Some("2"), "Googlebot (bot)"),
            ),
            (
                "bingbot_chrome_style",
                "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
                bot("bingbot", Some("2"), "bingbot (bot)"),
            ),
            (
                "applebot_inside_full_safari_ua",
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
                bot("Applebot", Some("0"), "Applebot (bot)"),
            ),
            (
                "gptbot",
                "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
                bot("GPTBot", Some("1"), "GPTBot (bot)"),
            ),
            (
                "claudebot_email_contact",
                "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
                bot("ClaudeBot", Some("1"), "ClaudeBot (bot)"),
            ),
            (
                "bytespider_without_version_in_android_ua",
                "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
                bot("Bytespider", None, "Bytespider (bot)"),
            ),
            (
                "ahrefsbot",
                "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
                bot("AhrefsBot", Some("7"), "AhrefsBot (bot)"),
            ),
            (
                "unknown_bot_by_name",
                "Mozilla/5.0 (compatible; NewShinyBot/3.1; +https://example.com/bot)",
                bot("NewShinyBot", Some("3"), "NewShinyBot (bot)"),
            ),
            (
                "curl",
                "curl/7.46.0",
                bot("curl", Some("7"), "curl 7.46 (tool)"),
            ),
            (
                "python_requests",
                "python-requests/2.31.0",
                bot("python-requests", Some("2"), "python-requests 2.31 (tool)"),
            ),
            (
                "go_http_client",
                "Go-http-client/1.1",
                bot("Go-http-client", Some("1"), "Go-http-client 1.1 (tool)"),
            ),
            (
                "headless_chrome_woothee_says_chrome",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 Safari/537.36",
                bot("HeadlessChrome", Some("120"), "HeadlessChrome 120 (tool)"),
            ),
            (
                "elb_health_checker",
                "ELB-HealthChecker/2.0",
                bot(
                    "ELB-HealthChecker",
                    Some("2"),
                    "ELB-HealthChecker 2.0 (tool)",
                ),
            ),
            ("empty", "", UaSummary::unknown()),
            ("dash_means_absent", "-", UaSummary::unknown()),
            ("whitespace_only", "  ", UaSummary::unknown()),
            (
                "unrecognised_app_keeps_first_token",
                "MyShopApp/3.2 (build 77)",
                UaSummary {
                    label: "MyShopApp/3.2".to_owned(),
                    ..UaSummary::unknown()
                },
            ),
            (
                "cubot_phone_is_not_a_bot",
                "Mozilla/5.0 (Linux; Android 11; Cubot P40) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Mobile Safari/537.36",
                browser(
                    "Android",
                    Some("11"),
                    "Chrome",
                    "118",
                    Phone,
                    "Android 11 + Chrome 118",
                ),
            ),
        ];
        for (name, ua, want) in cases {
            assert_eq!(summarize(ua), want, "case {name}");
        }
    }

    #[test]
    fn cache_summarises_each_string_once_and_gives_dense_ids() {
        let mut cache = UaCache::new();
        assert!(cache.is_empty());
        assert_eq!(cache.id("curl/8.0.1"), 0);
        assert_eq!(cache.id("-"), 1);
        assert_eq!(cache.id("curl/8.0.1"), 0);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get("curl/8.0.1").label, "curl 8.0 (tool)");
        assert_eq!(cache.by_id(1), Some(&UaSummary::unknown()));
        assert_eq!(cache.by_id(2), None);
    }

    #[test]
    fn serialises_device_lowercase() {
        let json = serde_json::to_string(&summarize("curl/8.0.1")).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"os":null,"os_version":null,"browser":"curl","browser_version":"8","device":"bot","is_bot":true,"label":"curl 8.0 (tool)"}"#
        );
    }

    proptest::proptest! {
        #[test]
        fn summarize_never_panics(s in "\\PC*") {
            let _ = summarize(&s);
        }

        #[test]
        fn summarize_never_panics_on_ua_like_input(
            s in "(Mozilla/5\\.0 )?\\(?[A-Za-z0-9 ;:._/()+-]{0,80}(Chrome|Edg|CriOS|Line|bot|Bot)?/?[0-9.]{0,12}.{0,20}"
        ) {
            let _ = summarize(&s);
        }
    }

    #[test]
    fn labels_in_japanese() {
        let edge = summarize(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 Edg/114.0.1823.43",
        );
        assert_eq!(edge.label_in(Lang::Ja), "Windows 10 以降 + Edge 114");
        assert_eq!(edge.label_in(Lang::En), edge.label);
        let bot =
            summarize("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
        assert_eq!(bot.label_in(Lang::Ja), "Googlebot（ボット）");
        assert_eq!(
            summarize("curl/8.0.1").label_in(Lang::Ja),
            "curl 8.0（ツール）"
        );
        assert_eq!(summarize("").label_in(Lang::Ja), "不明");
    }
}
