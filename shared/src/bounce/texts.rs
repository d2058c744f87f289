//! Every text support staff read about a mail event, in one reviewed table: the reasons,
//! the events that are not failures, and the translations of the codes SES uses (bounce
//! type and subtype, event names, delay types, complaint feedback types).
//!
//! Japanese style (one term per concept): 不達 for a bounce, 迷惑メール報告 for a complaint,
//! 送信停止リスト for a suppression list, メールアドレス (never a bare アドレス), お客様 for
//! the person, 受信側 for servers, システム担当者, テンプレート, 再送. です・ます; respectful
//! forms for what the customer does, humble forms for what staff do toward the customer.
//! Full-width punctuation （）「」、。： in Japanese sentences. Codes are translated, with the
//! original kept in parentheses. Golden files (`shared/tests/data/bounces/golden/`) hold every
//! text, so a change shows up in review.

use super::{Explanation, Lang, ReasonCode, Severity, ex};

/// (Japanese, English) texts of one reason.
#[allow(clippy::too_many_lines)] // a data table: one arm of reviewed texts per reason
pub(super) fn reason_texts(code: ReasonCode) -> (Explanation, Explanation) {
    use ReasonCode as R;
    match code {
        R::MailboxFull => (
            ex(
                "受信箱がいっぱい",
                "お客様の受信箱の容量がいっぱいのため、メールを受け取れませんでした。",
                "お客様に受信箱の空き容量を確保していただくようお願いし、時間をおいて再送してください。難しい場合は、別のメールアドレスがないか伺ってください。",
            ),
            ex(
                "Mailbox full",
                "The customer's mailbox is full, so the message could not be received.",
                "Ask the customer to free some space in their mailbox, then resend later. If they cannot, ask whether they have another address.",
            ),
        ),
        R::UserUnknown => (
            ex(
                "メールアドレスが存在しない",
                "受信側のメールサーバーから、このメールアドレスは存在しないという応答がありました。入力ミスか、現在は使われていないメールアドレスの可能性があります。",
                "お客様にメールアドレスの綴りをご確認いただき、正しいメールアドレスを伺ってください。携帯電話のメールアドレス（docomo・au・SoftBank など）の場合は、お客様の迷惑メール設定が原因のこともあります。",
            ),
            ex(
                "Address does not exist",
                "The receiving mail server answered that this address does not exist. It may be mistyped or no longer in use.",
                "Ask the customer to check the spelling and tell you the correct address. For Japanese mobile addresses (docomo, au, SoftBank, ...), the customer's spam settings can also cause this.",
            ),
        ),
        R::HostUnknown => (
            ex(
                "ドメインが見つからない",
                "メールアドレスの「@（アットマーク）」より後ろ（ドメイン）が存在しないか、メールを受け取れる設定になっていません。",
                "メールアドレスの「@（アットマーク）」より後ろ（例：gmail.com）に誤りがないか、お客様にご確認ください。",
            ),
            ex(
                "Domain not found",
                "The part of the address after the @ (the domain) does not exist or is not set up to receive email.",
                "Ask the customer to check the part after the @ (for example gmail.com) for typos.",
            ),
        ),
        R::Suspended => (
            ex(
                "メールアドレスが停止中",
                "受信側から、このメールアドレスは停止中か無効になっているという応答がありました。長く使われていないメールアドレスによく見られます。",
                "お客様に、現在お使いのメールアドレスを伺ってください。",
            ),
            ex(
                "Mailbox disabled",
                "The receiving side answered that this address is suspended or disabled, often because it has not been used for a long time.",
                "Ask the customer for an address they currently use.",
            ),
        ),
        R::Blocked => (
            ex(
                "当社の送信元がブロックされている",
                "受信側のサーバーが、当社の送信元（サーバーやドメイン）からのメールをまとめて拒否しました。お客様側の設定ではなく、当社の送信側の問題です。",
                "お客様側での対応は不要です。システム担当者に、当社の送信元が迷惑メール送信元のリストに載っていないか確認を依頼してください。",
            ),
            ex(
                "Our sender is blocked",
                "The receiving server refused all mail from our sending server or domain, usually because of its reputation or a blocklist. It is not the customer's own setting.",
                "Nothing for the customer to do. Ask the system administrator to check our sender reputation and blocklists.",
            ),
        ),
        R::SpamDetected => (
            ex(
                "迷惑メールと判定",
                "受信側のサーバーが、このメールの内容を迷惑メールと判定して受け取りを拒否しました。",
                "同じ内容で再送しても届かない可能性があります。システム担当者に件名・本文・リンクの見直しを依頼してください。",
            ),
            ex(
                "Judged as spam",
                "The receiving server judged this message's content to be spam and refused it.",
                "Resending the same content will probably fail again. Ask the system administrator to review the subject, text and links.",
            ),
        ),
        R::Policy => (
            ex(
                "受信側のルールで拒否",
                "受信側のサーバーのルール（組織の方針など）により、メールが受け取られませんでした。",
                "お客様に、当社からのメールを受信できるよう、ご利用のメールサービスの管理者にご確認いただくようお願いしてください。続く場合は、システム担当者にご相談ください。",
            ),
            ex(
                "Refused by the receiving side's rules",
                "The receiving server's rules (an organisation's policy, for example) refused the message.",
                "Ask the customer to check with their mail administrator that our mail is allowed. If it keeps happening, tell the system administrator.",
            ),
        ),
        R::Filtered => (
            ex(
                "お客様の受信設定で拒否",
                "お客様の迷惑メール対策の設定（ドメイン指定受信など）や受信拒否の設定により、メールが受け取られませんでした。携帯電話のメールアドレスでは、この場合も「存在しない」という応答になることがあります。",
                "お客様に、当社からのメールを受信できるよう設定の変更をお願いし、設定後に再送してください。",
            ),
            ex(
                "Refused by the customer's filter",
                "The customer's spam settings (for example accepting only chosen domains) or block list refused the message. Japanese mobile carriers may answer this with \"unknown user\".",
                "Ask the customer to allow mail from our domain, then resend.",
            ),
        ),
        R::SenderRejected => (
            ex(
                "当社の送信元メールアドレスが拒否された",
                "受信側のサーバーが、当社の送信元メールアドレス（またはそのドメイン）を受け付けませんでした。お客様側の設定ではなく、当社の送信側の問題です。",
                "お客様側での対応は不要です。システム担当者に、送信元メールアドレスとドメインの設定の確認を依頼してください。",
            ),
            ex(
                "Our sender address refused",
                "The receiving server did not accept our sender address (or its domain). It is not the customer's own setting.",
                "Nothing for the customer to do. Ask the system administrator to check our sender address and its domain.",
            ),
        ),
        R::RateLimited => (
            ex(
                "一時的な受信制限",
                "短時間に多くのメールが届いたため、受信側のサーバーが一時的に受け取りを制限しました。",
                "時間をおいて再送してください。頻繁に起きる場合は、システム担当者にご相談ください。",
            ),
            ex(
                "Temporarily limited",
                "The receiving server temporarily limited mail from us because it received many messages in a short time.",
                "Resend later. If it happens often, tell the system administrator.",
            ),
        ),
        R::MessageTooBig => (
            ex(
                "メールが大きすぎる",
                "添付ファイルを含むメールのサイズが、受信側で受け取れる上限を超えていました。",
                "同じ内容で再送しても届きません。システム担当者に、添付ファイルを小さくするか、ダウンロード用のリンクに替えるよう依頼してください。",
            ),
            ex(
                "Message too large",
                "The message, including attachments, was larger than the receiving server accepts.",
                "Resending it unchanged will fail. Ask the system administrator to make the attachments smaller or use a download link instead.",
            ),
        ),
        R::ContentRejected => (
            ex(
                "内容や添付ファイルで拒否",
                "メールの内容や添付ファイルの種類が受信側で許可されておらず、受け取りを拒否されました。",
                "同じ内容で再送しても届かない可能性があります。システム担当者に、本文と添付ファイルの見直しを依頼してください。",
            ),
            ex(
                "Content or attachment refused",
                "The receiving server does not allow this kind of content or attachment and refused the message.",
                "Resending it unchanged will probably fail. Ask the system administrator to review the text and attachments.",
            ),
        ),
        R::Security => (
            ex(
                "送信元の認証に失敗（当社側の設定）",
                "当社から送られたメールであることを受信側が確認できなかったため（送信ドメイン認証の失敗）、受け取りを拒否されました。",
                "お客様側での対応は不要です。システム担当者に、送信ドメインの設定（SPF・DKIM・DMARC）の確認を依頼してください。",
            ),
            ex(
                "Sender authentication failed (our settings)",
                "The receiving server could not confirm that the message really came from us (sender authentication), so it refused it.",
                "Nothing for the customer to do. Ask the system administrator to check the domain's SPF, DKIM and DMARC settings.",
            ),
        ),
        R::NoRelaying => (
            ex(
                "受信側サーバーが受け付けない",
                "受信側のサーバーが、このメールアドレス宛てのメールを扱っていないため受け取りを拒否しました。受信側のドメインの設定に問題がある可能性があります。",
                "メールアドレスに誤りがないかお客様にご確認ください。正しい場合は、ご利用のメールサービスの管理者にお問い合わせいただくよう、お客様にお伝えください。",
            ),
            ex(
                "Relaying refused",
                "The receiving server does not handle mail for this address, so it refused the message. The receiving domain's mail settings may be wrong.",
                "Ask the customer to check the address. If it is correct, ask them to contact their mail administrator.",
            ),
        ),
        R::NotAccept => (
            ex(
                "メールを受け取らないドメイン",
                "メールアドレスの「@（アットマーク）」より後ろ（ドメイン）は、メールを受け取らない設定になっています。",
                "メールアドレスの「@（アットマーク）」より後ろに誤りがないか、お客様にご確認ください。正しい場合は、別のメールアドレスを伺ってください。",
            ),
            ex(
                "Domain takes no mail",
                "The part of the address after the @ (the domain) is set up not to receive email.",
                "Ask the customer to check the part after the @. If it is correct, ask for another address.",
            ),
        ),
        R::Network => (
            ex(
                "受信側サーバーと通信できない",
                "受信側のメールサーバーに接続できないか、通信が途中で切れました。受信側の一時的な障害の可能性があります。",
                "時間をおいて再送してください。続く場合は、メールアドレスの「@（アットマーク）」より後ろに誤りがないかご確認ください。",
            ),
            ex(
                "Could not reach the server",
                "We could not connect to the receiving mail server, or the connection failed. This is often a temporary problem on their side.",
                "Resend later. If it keeps failing, check the part of the address after the @.",
            ),
        ),
        R::SystemError => (
            ex(
                "受信側サーバーの障害",
                "受信側のメールサーバーで障害や設定の問題が起き、メールを受け取れませんでした。",
                "時間をおいて再送してください。続く場合は、ご利用のメールサービスに問題がないか、お客様にご確認ください。",
            ),
            ex(
                "Receiving server error",
                "The receiving mail server had a problem of its own (an error or a configuration fault) and could not take the message.",
                "Resend later. If it keeps failing, ask the customer whether their mail service has a problem.",
            ),
        ),
        R::SyntaxError => (
            ex(
                "送信手順の不一致",
                "受信側のサーバーが、当社の送信サーバーとのやり取り（送信手順）を受け付けませんでした。",
                "お客様側での対応は不要です。続く場合は、システム担当者にご相談ください。",
            ),
            ex(
                "Protocol error",
                "The receiving server did not accept the commands our sending server used.",
                "Nothing for the customer to do. If it keeps happening, tell the system administrator.",
            ),
        ),
        R::Expired => (
            ex(
                "配信期限切れ",
                "しばらく再送を続けましたが、届けられないまま配信の期限が過ぎました。",
                "時間をおいて再送してください。届かない場合は、別のメールアドレスがないかお客様に伺ってください。",
            ),
            ex(
                "Delivery timed out",
                "We kept retrying for a long time but could not deliver the message before the time limit.",
                "Resend later. If it still fails, ask the customer whether they have another address.",
            ),
        ),
        R::Suppressed => (
            ex(
                "送信停止中のメールアドレス（SES 共通リスト）",
                "このメールアドレスは最近、存在しないメールアドレスとして不達になったため、メール配信サービス（Amazon SES）が送信を止めました。",
                "お客様に正しいメールアドレスをご確認ください。メールアドレスが正しい場合は、システム担当者にご相談ください。",
            ),
            ex(
                "Sending stopped (SES global list)",
                "This address recently bounced as invalid, so the email service (Amazon SES) did not send to it.",
                "Confirm the correct address with the customer. If it is correct, contact the system administrator.",
            ),
        ),
        R::OnAccountSuppression => (
            ex(
                "当社の送信停止リストに登録済み",
                "このメールアドレスは当社の送信停止リストに登録されているため、送信しませんでした。以前の不達や迷惑メール報告で登録されます。",
                "メールアドレスが正しく、お客様がメールの受信を希望されている場合は、システム担当者に送信停止リストからの削除を依頼してください。",
            ),
            ex(
                "On our do-not-send list",
                "This address is on our own do-not-send list, so the message was not sent. Addresses are added after earlier bounces or spam reports.",
                "If the address is correct and the customer wants our mail, ask the system administrator to remove it from the list.",
            ),
        ),
        R::Complaint => (
            ex(
                "受信者が迷惑メールとして報告",
                "受信者が、このメールを迷惑メールとして報告しました。",
                "このメールアドレスへのお知らせ・宣伝メールの配信を停止してください。お客様にご連絡する場合は、迷惑メール報告には触れず、配信停止のご希望だけを伺ってください。",
            ),
            ex(
                "Reported as spam",
                "The recipient reported this message as spam.",
                "Stop newsletters and promotional mail to this address. If you contact the customer, do not mention the report; only ask whether they want to unsubscribe.",
            ),
        ),
        R::Rejected => (
            ex(
                "送信中止（ウイルス検出）",
                "メールにウイルスなどの危険な内容が見つかったため、メール配信サービス（Amazon SES）が送信しませんでした。",
                "同じ内容では送信できません。システム担当者に添付ファイルの確認を依頼してください。",
            ),
            ex(
                "Not sent (virus found)",
                "The email service (Amazon SES) found a virus or other harmful content in the message and did not send it.",
                "It cannot be sent as it is. Ask the system administrator to check the attachments.",
            ),
        ),
        R::Delayed => delay_texts(),
        R::TemplateError => (
            ex(
                "メールの作成に失敗",
                "メールのテンプレートに差し込む情報が足りず、メールを作成できなかったため送信していません。",
                "お客様側での対応は不要です。システム担当者に、テンプレートと差し込みデータの確認を依頼してください。",
            ),
            ex(
                "Message could not be built",
                "The email template was missing data it needed, so the message was not created or sent.",
                "Nothing for the customer to do. Ask the system administrator to check the template and its data.",
            ),
        ),
        R::AutoReply => (
            ex(
                "自動応答",
                "受信者の自動応答（不在通知など）が返ってきました。メールは届いている可能性が高いです。",
                "対応は不要です。",
            ),
            ex(
                "Automatic reply",
                "The recipient's automatic reply (such as an out-of-office notice) came back. The message was most likely delivered.",
                "No action needed.",
            ),
        ),
        R::Undetermined => (
            ex(
                "原因不明",
                "受信側から届かなかったという連絡がありましたが、理由は示されていませんでした。",
                "時間をおいて一度だけ再送してください。再び届かない場合は、別のメールアドレスがないかお客様に伺ってください。",
            ),
            ex(
                "Unknown reason",
                "The receiving side reported that the message was not delivered, but did not say why.",
                "Resend once later. If it fails again, ask the customer whether they have another address.",
            ),
        ),
    }
}

/// A delivery delay: SES is still retrying, so a resend now can reach the customer twice.
fn delay_texts() -> (Explanation, Explanation) {
    (
        ex(
            "配信が遅れている",
            "一時的な問題でまだ届いていません。メール配信サービスが自動で再送を続けています。",
            "メール配信サービスが自動で再送を続けています。二重に届くおそれがあるため、今は再送せずにお待ちください。最終的に届かなかった場合は、不達として記録されます。",
        ),
        ex(
            "Delivery delayed",
            "The message has not been delivered yet because of a temporary problem. The email service keeps retrying automatically.",
            "The email service keeps retrying automatically. Do not resend now: the customer could get it twice. If it finally fails, it will be recorded as a bounce.",
        ),
    )
}

/// The texts of a delivery delay, whatever its cause; its action replaces the cause's action.
pub fn delay_explanation(lang: Lang) -> Explanation {
    pick(delay_texts(), lang)
}

/// The explanation of an event that is not a failure (Send, Delivery, Open, Click,
/// Subscription), or of a failure event's kind in general; `None` for unknown events.
pub fn event_explanation(event: &str, lang: Lang) -> Option<Explanation> {
    let pair = match squash(event).as_str() {
        "send" => (
            ex(
                "送信済み",
                "メール配信サービス（Amazon SES）がメールを受け付け、送信を始めました。",
                "対応は不要です。配信完了か不達の記録をお待ちください。",
            ),
            ex(
                "Sent",
                "The email service (Amazon SES) accepted the message and started sending it.",
                "No action needed. Wait for the delivery or bounce record.",
            ),
        ),
        "delivery" => (
            ex(
                "配信完了",
                "受信側のメールサーバーがメールを受け取りました。",
                "お客様が見当たらないとおっしゃる場合は、迷惑メールフォルダー、メールの振り分け設定、ご登録のメールアドレスに誤りがないかをご確認いただくよう、お願いしてください。",
            ),
            ex(
                "Delivered",
                "The receiving mail server accepted the message.",
                "If the customer cannot find it, ask them to check their spam folder and filters, and that the address they gave us is correct.",
            ),
        ),
        "open" => (
            ex(
                "開封",
                "お客様がメールを開きました（画像の表示で記録されるため、記録されない場合もあります）。",
                "対応は不要です。",
            ),
            ex(
                "Opened",
                "The customer opened the message (recorded when images load, so some opens are not recorded).",
                "No action needed.",
            ),
        ),
        "click" => (
            ex(
                "クリック",
                "お客様がメール内のリンクをクリックしました。",
                "対応は不要です。",
            ),
            ex(
                "Clicked",
                "The customer clicked a link in the message.",
                "No action needed.",
            ),
        ),
        "subscription" => (
            ex(
                "配信設定の変更",
                "お客様がメールの配信設定（配信停止など）を変更しました。",
                "お客様のご希望どおりに配信されるよう、変更後の設定をご確認ください。",
            ),
            ex(
                "Subscription changed",
                "The customer changed their mail preferences (for example unsubscribed).",
                "Check the new settings so that mail follows the customer's wishes.",
            ),
        ),
        "bounce" => reason_texts(ReasonCode::Undetermined),
        "complaint" => reason_texts(ReasonCode::Complaint),
        "reject" => reason_texts(ReasonCode::Rejected),
        "renderingfailure" => reason_texts(ReasonCode::TemplateError),
        "deliverydelay" => delay_texts(),
        _ => return None,
    };
    Some(pick(pair, lang))
}

fn pick((ja, en): (Explanation, Explanation), lang: Lang) -> Explanation {
    match lang {
        Lang::Ja => ja,
        Lang::En => en,
    }
}

/// The kinds of code that SES puts in front of staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelKind {
    /// The event type (`Bounce`, `DeliveryDelay`, …).
    Event,
    /// The bounce type (`Permanent`, `Transient`, `Undetermined`).
    BounceType,
    /// The bounce subtype (`General`, `NoEmail`, …).
    BounceSubtype,
    /// The delivery delay type (`MailboxFull`, `TransientCommunicationFailure`, …).
    DelayType,
    /// The complaint feedback type (`abuse`, `not-spam`, …).
    ComplaintType,
    /// The reason SES gives for a Reject (`Bad content`).
    RejectReason,
}

/// (kind, SES code, Japanese, English). Sources: the SES developer guide's event publishing
/// contents (bounce types and subtypes, delay types, complaint feedback types from RFC 5965).
const LABELS: &[(LabelKind, &str, &str, &str)] = &[
    (LabelKind::Event, "Send", "送信済み", "Sent"),
    (LabelKind::Event, "Delivery", "配信完了", "Delivered"),
    (LabelKind::Event, "Bounce", "不達", "Bounced"),
    (
        LabelKind::Event,
        "Complaint",
        "迷惑メール報告",
        "Spam report",
    ),
    (
        LabelKind::Event,
        "Reject",
        "送信中止",
        "Not sent (rejected)",
    ),
    (LabelKind::Event, "Open", "開封", "Opened"),
    (LabelKind::Event, "Click", "クリック", "Clicked"),
    (
        LabelKind::Event,
        "Rendering Failure",
        "テンプレートエラー",
        "Template error",
    ),
    (
        LabelKind::Event,
        "DeliveryDelay",
        "配信遅延",
        "Delivery delayed",
    ),
    (
        LabelKind::Event,
        "Subscription",
        "配信設定の変更",
        "Subscription changed",
    ),
    (LabelKind::BounceType, "Permanent", "恒久的", "Permanent"),
    (LabelKind::BounceType, "Transient", "一時的", "Temporary"),
    (
        LabelKind::BounceType,
        "Undetermined",
        "不明",
        "Undetermined",
    ),
    (LabelKind::BounceSubtype, "General", "一般", "General"),
    (
        LabelKind::BounceSubtype,
        "NoEmail",
        "メールアドレスが存在しない",
        "No such address",
    ),
    (
        LabelKind::BounceSubtype,
        "Suppressed",
        "SES 共通の送信停止リスト",
        "SES global suppression list",
    ),
    (
        LabelKind::BounceSubtype,
        "OnAccountSuppressionList",
        "当社の送信停止リスト",
        "Our suppression list",
    ),
    (
        LabelKind::BounceSubtype,
        "MailboxFull",
        "受信箱がいっぱい",
        "Mailbox full",
    ),
    (
        LabelKind::BounceSubtype,
        "MessageTooLarge",
        "メールが大きすぎる",
        "Message too large",
    ),
    (
        LabelKind::BounceSubtype,
        "ContentRejected",
        "内容で拒否",
        "Content rejected",
    ),
    (
        LabelKind::BounceSubtype,
        "AttachmentRejected",
        "添付ファイルで拒否",
        "Attachment rejected",
    ),
    (
        LabelKind::BounceSubtype,
        "Undetermined",
        "不明",
        "Undetermined",
    ),
    (
        LabelKind::DelayType,
        "InternalFailure",
        "SES 内部の問題",
        "SES internal problem",
    ),
    (LabelKind::DelayType, "General", "一般", "General"),
    (
        LabelKind::DelayType,
        "MailboxFull",
        "受信箱がいっぱい",
        "Mailbox full",
    ),
    (
        LabelKind::DelayType,
        "SpamDetected",
        "迷惑メールと判定",
        "Judged as spam",
    ),
    (
        LabelKind::DelayType,
        "RecipientServerError",
        "受信側サーバーの障害",
        "Receiving server error",
    ),
    (
        LabelKind::DelayType,
        "IPFailure",
        "送信元 IP アドレスのブロック",
        "Sending IP blocked or throttled",
    ),
    (
        LabelKind::DelayType,
        "TransientCommunicationFailure",
        "一時的な通信障害",
        "Temporary connection problem",
    ),
    (
        LabelKind::DelayType,
        "BYOIPHostNameLookupUnavailable",
        "送信元 IP アドレスのホスト名を確認できない",
        "Sending IP host name lookup unavailable",
    ),
    (LabelKind::DelayType, "Undetermined", "不明", "Undetermined"),
    (
        LabelKind::DelayType,
        "SendingDeferral",
        "SES による送信の保留",
        "Sending deferred by SES",
    ),
    (
        LabelKind::ComplaintType,
        "abuse",
        "迷惑メール報告",
        "Spam report",
    ),
    (
        LabelKind::ComplaintType,
        "auth-failure",
        "送信ドメイン認証の失敗の報告",
        "Authentication failure report",
    ),
    (
        LabelKind::ComplaintType,
        "fraud",
        "詐欺メールの報告",
        "Fraud report",
    ),
    (
        LabelKind::ComplaintType,
        "not-spam",
        "迷惑メールではないという報告",
        "Not-spam report",
    ),
    (
        LabelKind::ComplaintType,
        "other",
        "その他の報告",
        "Other report",
    ),
    (
        LabelKind::ComplaintType,
        "virus",
        "ウイルスの報告",
        "Virus report",
    ),
    (
        LabelKind::RejectReason,
        "Bad content",
        "不正な内容",
        "Harmful content",
    ),
];

/// A code translated for staff: Japanese keeps the original in parentheses
/// (「恒久的（Permanent）」), English says it plainly ("Permanent"). An unknown code is shown
/// as it is; `None` for an empty one.
pub fn label(kind: LabelKind, code: &str, lang: Lang) -> Option<String> {
    let code = code.trim();
    if code.is_empty() {
        return None;
    }
    let key = squash(code);
    let found = LABELS
        .iter()
        .find(|(k, c, _, _)| *k == kind && squash(c) == key);
    Some(match (found, lang) {
        (Some((_, original, ja, _)), Lang::Ja) => format!("{ja}（{original}）"),
        (Some((_, _, _, en)), Lang::En) => (*en).to_owned(),
        (None, _) => code.to_owned(),
    })
}

/// Every (kind, code) pair with a translation, for golden tests and documentation.
pub fn labelled_codes() -> impl Iterator<Item = (LabelKind, &'static str)> {
    LABELS.iter().map(|(kind, code, _, _)| (*kind, *code))
}

/// Lower-case ASCII without spaces, `_` and `-`: "Rendering Failure" = "renderingfailure".
pub(crate) fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The translation of one code alone (「恒久的」, "Permanent"), without the original; `None`
/// for a code the table does not know.
pub fn translate(kind: LabelKind, code: &str, lang: Lang) -> Option<&'static str> {
    let key = squash(code.trim());
    LABELS
        .iter()
        .find(|(k, c, _, _)| *k == kind && squash(c) == key)
        .map(|(_, _, ja, en)| match lang {
            Lang::Ja => *ja,
            Lang::En => *en,
        })
}

/// A severity as staff read it: a short name and what it means for them.
pub fn severity_label(severity: Severity, lang: Lang) -> (&'static str, &'static str) {
    match (severity, lang) {
        (Severity::Permanent, Lang::Ja) => (
            "恒久的な問題",
            "このメールアドレスには、このままでは届きません。",
        ),
        (Severity::Permanent, Lang::En) => {
            ("Permanent", "This address will not receive mail as it is.")
        }
        (Severity::Temporary, Lang::Ja) => ("一時的な問題", "時間をおけば届く可能性があります。"),
        (Severity::Temporary, Lang::En) => ("Temporary", "A later attempt may well succeed."),
        (Severity::NeedsFix, Lang::Ja) => (
            "要対応",
            "当社側の設定やメールの内容、またはお客様の受信設定を変える必要があります。",
        ),
        (Severity::NeedsFix, Lang::En) => (
            "Needs a fix",
            "Something must change first: our settings, the content, or the customer's filter.",
        ),
        (Severity::Info, Lang::Ja) => ("お知らせ", "配信の失敗ではありません。"),
        (Severity::Info, Lang::En) => ("Info", "Not a delivery failure."),
        (Severity::Unknown, Lang::Ja) => ("原因不明", "原因は分かっていません。"),
        (Severity::Unknown, Lang::En) => ("Unknown", "The cause is unknown."),
    }
}

/// Every severity, from the most to the least urgent for staff.
pub const SEVERITIES: &[Severity] = &[
    Severity::Permanent,
    Severity::NeedsFix,
    Severity::Temporary,
    Severity::Unknown,
    Severity::Info,
];
