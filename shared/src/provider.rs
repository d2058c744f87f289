//! Mail providers: which company runs a recipient's mailbox, named from the address's domain
//! (or, failing that, from the host name of the server that answered).
//!
//! Support staff need the provider for two things: to say it ("docomo のメールアドレス"),
//! and to give the advice that fits it, since the Japanese mobile carriers answer their
//! customers' reception filters (指定受信, なりすまし拒否) with texts like "Unknown user" and
//! each carrier has its own settings screen. The bounce classifier also reads the provider:
//! the same words mean different things from different providers (see `bounce::rules`).
//!
//! Domains: the providers' own help pages list them (docomo: docomo.ne.jp; au: au.com and
//! ezweb.ne.jp; SoftBank: softbank.ne.jp, i.softbank.jp and the old *.vodafone.ne.jp;
//! Rakuten Mobile: rakumail.jp; Yahoo! JAPAN: yahoo.co.jp, ymail.ne.jp; Microsoft:
//! outlook.com, outlook.jp, hotmail.*, live.*, msn.com; Apple: icloud.com, me.com, mac.com).

use serde::{Deserialize, Serialize};

use crate::bounce::{Lang, ReasonCode};

/// A mail provider with its own rules or advice. Everything else is [`None`] at the call site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// NTT docomo (docomo.ne.jp).
    Docomo,
    /// au / KDDI (au.com, ezweb.ne.jp).
    Au,
    /// SoftBank (softbank.ne.jp, i.softbank.jp, and the old Vodafone and Disney domains).
    SoftBank,
    /// Rakuten Mobile (rakumail.jp).
    RakutenMobile,
    /// Yahoo! JAPAN mail (yahoo.co.jp, ymail.ne.jp).
    YahooJapan,
    /// OCN (ocn.ne.jp and its subdomains).
    Ocn,
    /// BIGLOBE (biglobe.ne.jp and its subdomains).
    Biglobe,
    /// So-net (so-net.ne.jp and its subdomains).
    SoNet,
    /// @nifty (nifty.com, nifty.ne.jp).
    Nifty,
    /// Gmail and Google Workspace (gmail.com, googlemail.com; Google's servers for others).
    Gmail,
    /// Outlook.com, Hotmail and Microsoft 365 / Exchange Online.
    Microsoft,
    /// Yahoo Inc. (yahoo.com and the international Yahoo domains, AOL).
    Yahoo,
    /// iCloud Mail (icloud.com, me.com, mac.com).
    ICloud,
}

/// (domain suffix, provider). A suffix matches the whole domain or any subdomain.
const DOMAINS: &[(&str, Provider)] = &[
    ("docomo.ne.jp", Provider::Docomo),
    ("au.com", Provider::Au),
    ("ezweb.ne.jp", Provider::Au),
    ("uqmobile.jp", Provider::Au),
    ("softbank.ne.jp", Provider::SoftBank),
    ("i.softbank.jp", Provider::SoftBank),
    ("vodafone.ne.jp", Provider::SoftBank),
    ("disney.ne.jp", Provider::SoftBank),
    ("rakumail.jp", Provider::RakutenMobile),
    ("yahoo.co.jp", Provider::YahooJapan),
    ("ymail.ne.jp", Provider::YahooJapan),
    ("ocn.ne.jp", Provider::Ocn),
    ("biglobe.ne.jp", Provider::Biglobe),
    ("so-net.ne.jp", Provider::SoNet),
    ("nifty.com", Provider::Nifty),
    ("nifty.ne.jp", Provider::Nifty),
    ("gmail.com", Provider::Gmail),
    ("googlemail.com", Provider::Gmail),
    ("outlook.com", Provider::Microsoft),
    ("outlook.jp", Provider::Microsoft),
    ("hotmail.com", Provider::Microsoft),
    ("hotmail.co.jp", Provider::Microsoft),
    ("live.jp", Provider::Microsoft),
    ("live.com", Provider::Microsoft),
    ("msn.com", Provider::Microsoft),
    ("yahoo.com", Provider::Yahoo),
    ("ymail.com", Provider::Yahoo),
    ("aol.com", Provider::Yahoo),
    ("icloud.com", Provider::ICloud),
    ("me.com", Provider::ICloud),
    ("mac.com", Provider::ICloud),
];

/// (host name suffix, provider): the servers that answer for these providers, also when the
/// recipient's own domain is a company's (Microsoft 365, Google Workspace).
const HOSTS: &[(&str, Provider)] = &[
    ("docomo.ne.jp", Provider::Docomo),
    ("ezweb.ne.jp", Provider::Au),
    ("au.com", Provider::Au),
    ("kddi.com", Provider::Au),
    ("softbank.ne.jp", Provider::SoftBank),
    ("softbank.jp", Provider::SoftBank),
    ("yahoo.co.jp", Provider::YahooJapan),
    ("ocn.ad.jp", Provider::Ocn),
    ("ocn.ne.jp", Provider::Ocn),
    ("biglobe.ne.jp", Provider::Biglobe),
    ("so-net.ne.jp", Provider::SoNet),
    ("nifty.com", Provider::Nifty),
    ("protection.outlook.com", Provider::Microsoft),
    ("outlook.com", Provider::Microsoft),
    ("hotmail.com", Provider::Microsoft),
    ("google.com", Provider::Gmail),
    ("googlemail.com", Provider::Gmail),
    ("yahoodns.net", Provider::Yahoo),
    ("yahoo.com", Provider::Yahoo),
    ("icloud.com", Provider::ICloud),
    ("me.com", Provider::ICloud),
];

impl Provider {
    /// The provider of a recipient domain (`docomo.ne.jp`) or address (`taro@docomo.ne.jp`).
    pub fn from_domain(domain_or_address: &str) -> Option<Provider> {
        let domain = domain_or_address.rsplit('@').next().unwrap_or_default();
        lookup(DOMAINS, domain)
    }

    /// The provider that runs a mail server (`mfsmax.docomo.ne.jp`,
    /// `…mail.protection.outlook.com`).
    pub fn from_host(host: &str) -> Option<Provider> {
        lookup(HOSTS, host)
    }

    /// Every provider.
    pub const ALL: &'static [Provider] = &[
        Provider::Docomo,
        Provider::Au,
        Provider::SoftBank,
        Provider::RakutenMobile,
        Provider::YahooJapan,
        Provider::Ocn,
        Provider::Biglobe,
        Provider::SoNet,
        Provider::Nifty,
        Provider::Gmail,
        Provider::Microsoft,
        Provider::Yahoo,
        Provider::ICloud,
    ];

    /// The provider's name as its customers know it.
    pub fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Provider::Docomo, _) => "docomo",
            (Provider::Au, _) => "au",
            (Provider::SoftBank, _) => "SoftBank",
            (Provider::RakutenMobile, Lang::Ja) => "楽天モバイル",
            (Provider::RakutenMobile, Lang::En) => "Rakuten Mobile",
            (Provider::YahooJapan, Lang::Ja) => "Yahoo!メール（Yahoo! JAPAN）",
            (Provider::YahooJapan, Lang::En) => "Yahoo! JAPAN Mail",
            (Provider::Ocn, _) => "OCN",
            (Provider::Biglobe, _) => "BIGLOBE",
            (Provider::SoNet, _) => "So-net",
            (Provider::Nifty, _) => "@nifty",
            (Provider::Gmail, _) => "Gmail",
            (Provider::Microsoft, _) => "Outlook.com / Microsoft 365",
            (Provider::Yahoo, _) => "Yahoo Mail",
            (Provider::ICloud, _) => "iCloud",
        }
    }

    /// "docomo のメールアドレス" / "a docomo address": how staff name the address.
    pub fn address_label(self, lang: Lang) -> String {
        match lang {
            Lang::Ja => format!("{} のメールアドレス", self.name(lang)),
            Lang::En => format!("a {} address", self.name(lang)),
        }
    }

    /// A Japanese mobile carrier, whose customers filter mail from computers by default.
    pub fn is_mobile_carrier(self) -> bool {
        matches!(
            self,
            Provider::Docomo | Provider::Au | Provider::SoftBank | Provider::RakutenMobile
        )
    }

    /// Advice for this provider and reason, when the provider changes what staff should say.
    /// The words follow each provider's own help pages (the names of the settings screens).
    pub fn advice(self, reason: ReasonCode, lang: Lang) -> Option<&'static str> {
        use ReasonCode as R;
        let filtering = matches!(
            reason,
            R::Filtered | R::UserUnknown | R::SenderRejected | R::Policy
        );
        if !filtering {
            return match (reason, lang, self) {
                (R::MailboxFull, Lang::Ja, p) if p.is_mobile_carrier() => Some(
                    "携帯電話のメールは保存できる容量が小さいため、お客様に不要なメールの削除をお願いしてください。",
                ),
                (R::MailboxFull, Lang::En, p) if p.is_mobile_carrier() => Some(
                    "Mobile carrier mailboxes are small: ask the customer to delete mail they no longer need.",
                ),
                (R::MailboxFull, Lang::Ja, Provider::Gmail) => Some(
                    "Gmail の容量は Google ドライブ・Google フォトと共有です。お客様に空き容量の確保をお願いしてください。",
                ),
                (R::MailboxFull, Lang::En, Provider::Gmail) => Some(
                    "Gmail shares its storage with Google Drive and Google Photos: ask the customer to free some space.",
                ),
                _ => None,
            };
        }
        let text = match (self, lang) {
            (Provider::Docomo, Lang::Ja) => {
                "docomo では、お客様の「迷惑メール対策」の設定（受信リスト設定・拒否リスト設定・なりすましメール拒否など）で当社からのメールが止められると、「Unknown user」と応答されることがあります。お客様に、My docomo の迷惑メール対策設定で当社のドメインを受信リストに登録していただくようお願いしてください。"
            }
            (Provider::Docomo, Lang::En) => {
                "docomo answers \"Unknown user\" when the customer's spam settings (receive list, reject list, spoofed-mail blocking) stop our mail. Ask the customer to add our domain to the receive list in the spam settings of My docomo."
            }
            (Provider::Au, Lang::Ja) => {
                "au では、お客様の「迷惑メールフィルター」の設定（受信リスト・なりすまし規制など）で当社からのメールが止められると、「User unknown」と応答されることがあります。お客様に、au の迷惑メールフィルター設定で当社のドメインを受信リストに登録していただくようお願いしてください。"
            }
            (Provider::Au, Lang::En) => {
                "au answers \"User unknown\" when the customer's spam filter (receive list, spoofing restriction) stops our mail. Ask the customer to add our domain to the receive list in au's spam filter settings."
            }
            (Provider::SoftBank, Lang::Ja) => {
                "SoftBank では、お客様の「迷惑メールフィルター」の設定（受信許可リストなど）で当社からのメールが止められることがあります。お客様に、My SoftBank のメールフィルター設定で当社のドメインを受信許可リストに登録していただくようお願いしてください。"
            }
            (Provider::SoftBank, Lang::En) => {
                "SoftBank's spam filter (the allowed senders list) can stop our mail. Ask the customer to add our domain to the allowed list in the mail filter settings of My SoftBank."
            }
            (Provider::RakutenMobile, Lang::Ja) => {
                "楽天モバイルのメール（楽メール）では、お客様の迷惑メール設定で当社からのメールが止められることがあります。お客様に、楽メールの設定で当社のドメインからの受信を許可していただくようお願いしてください。"
            }
            (Provider::RakutenMobile, Lang::En) => {
                "Rakuten Mobile's mail (Rakumail) spam settings can stop our mail. Ask the customer to allow our domain in Rakumail's settings."
            }
            (Provider::YahooJapan, Lang::Ja) => {
                "Yahoo!メールでは、お客様の受信拒否やフィルターの設定で当社からのメールが止められることがあります。お客様に、Yahoo!メールの設定で当社のドメインが拒否されていないかご確認いただくようお願いしてください。"
            }
            (Provider::YahooJapan, Lang::En) => {
                "Yahoo! JAPAN Mail's block list and filters can stop our mail. Ask the customer to check that our domain is not blocked in their Yahoo! JAPAN Mail settings."
            }
            (Provider::Ocn | Provider::Biglobe | Provider::SoNet | Provider::Nifty, Lang::Ja) => {
                "プロバイダーの迷惑メールフィルターで当社からのメールが止められることがあります。お客様に、ご契約のプロバイダーの迷惑メール対策の設定で当社のドメインを許可していただくようお願いしてください。"
            }
            (Provider::Ocn | Provider::Biglobe | Provider::SoNet | Provider::Nifty, Lang::En) => {
                "The provider's spam filter can stop our mail. Ask the customer to allow our domain in their provider's spam settings."
            }
            _ => return None,
        };
        Some(text)
    }
}

/// The provider whose suffix matches `name` (ASCII case and a trailing dot ignored).
fn lookup(table: &[(&str, Provider)], name: &str) -> Option<Provider> {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() {
        return None;
    }
    table.iter().find_map(|(suffix, provider)| {
        let hit = name == *suffix
            || name
                .strip_suffix(suffix)
                .is_some_and(|head| head.ends_with('.'));
        hit.then_some(*provider)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_hosts() {
        assert_eq!(
            Provider::from_domain("docomo.ne.jp"),
            Some(Provider::Docomo)
        );
        assert_eq!(
            Provider::from_domain("Taro@EZweb.ne.jp"),
            Some(Provider::Au)
        );
        assert_eq!(
            Provider::from_domain("i.softbank.jp"),
            Some(Provider::SoftBank)
        );
        assert_eq!(
            Provider::from_domain("t.vodafone.ne.jp"),
            Some(Provider::SoftBank)
        );
        assert_eq!(Provider::from_domain("xyz.ocn.ne.jp"), Some(Provider::Ocn));
        assert_eq!(Provider::from_domain("notdocomo.ne.jp"), None);
        assert_eq!(Provider::from_domain(""), None);
        assert_eq!(
            Provider::from_host("example-jp.mail.protection.outlook.com."),
            Some(Provider::Microsoft)
        );
        assert_eq!(
            Provider::from_host("mfsmax.docomo.ne.jp"),
            Some(Provider::Docomo)
        );
    }

    #[test]
    fn carriers_have_filter_advice_in_both_languages() {
        for p in Provider::ALL.iter().filter(|p| p.is_mobile_carrier()) {
            for lang in [Lang::Ja, Lang::En] {
                assert!(p.advice(ReasonCode::Filtered, lang).is_some(), "{p:?}");
            }
        }
        assert_eq!(
            Provider::Docomo.address_label(Lang::Ja),
            "docomo のメールアドレス"
        );
    }
}
