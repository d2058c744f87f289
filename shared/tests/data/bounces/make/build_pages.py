import json, hashlib
T='https://tuono034s.com/web-entry/3575/'
SMD='https://note.com/sendmagic/n/neb6bbe7e51cf'
SMA='https://note.com/sendmagic/n/n875d8dcb6cb8'
SMS='https://note.com/sendmagic/n/n5afbf98aeb25'
MT='https://moneytimes.jp/archives/185548/2'
AKI='https://akisoftware.com/pmsrv/help/docomo.html'
DREAM='http://dream.jp/support/techinfo/mail/error/error05.html'
CCS='https://ccsnet.ne.jp/?p=132'
MED='https://mediarium.hatenadiary.org/entry/20070906'
ARENA='https://help.arena.ne.jp/hc/ja/articles/360038694154'
MOON='https://moongray.com/20170322'
SUM='https://sumari.jp/mail-error-message'
NTP='https://net-trouble.portal.jp.net/archives/11482'
BUS='http://faq.busblog.jp/faq/show/410'
PAS='https://www.pa-solution.net/as/scope3/chupicom/web/detail.aspx?id=921&a=102'
FP='https://fp46.net/category/pc%e3%83%bb%e3%83%8d%e3%83%83%e3%83%88%e3%83%af%e3%83%bc%e3%82%af/page/5'
NTT='https://support.ntt.com/mail/faq/detail/pid2300000e64'
DOP='http://www.doplaza.jp/life/mail/001563.php'
GW='http://help.g-wip.com/cat-285/550550.html'
SHOP='http://www.shopmaker.jp/ct/contents6.htm'
MSJA='https://support.microsoft.com/ja-jp/topic/f711b1bd-c517-9cc4-10fd-58acfac6ca59'
GJA='https://support.google.com/mail/answer/6596?hl=ja'
BUNKYO='http://open.shonan.bunkyo.ac.jp/sysroom/?p=7958'
FERRET='https://ferret-plus.com/8035?page=3'
HOCO='https://www.hocoroco.net/internet_lifeguide/errormail.html'
CATV='https://www.catv-yokohama.ne.jp/faq/internet/internet-email-usage/trouble-faq-internet-email-usage/11387'
MSL='https://learn.microsoft.com/ja-jp/exchange/troubleshoot/email-delivery/ndr/fix-error-code-550-5-1-0-in-exchange-online'
BLOGGER='https://bloggerblog0.blogspot.com/2021/09/smtp.html'
INTX='https://www.intx.co.jp/14091204/'
SMI='https://note.com/sendmagic/n/n079f49339312'
MEGA='https://faq.megaegg.jp/faq_detail.html?id=296'
SISI='github.com/sisimai/p5-sisimai@21cfb932:lib/Sisimai/'
rows=[
 # (status, diagnostic, domain, remote, expected, also, source)
 ('', "554 delivery error: dd This user doesn't have a yahoo.co.jp account (xxxxx@yahoo.co.jp) [-5] - mta7149.mail.djm.ynwp.yahoo.co.jp (in reply to end of DATA command)", 'yahoo.co.jp','', 'user_unknown','',T),
 ('', "550 Unknown user xxxxx@docomo.ne.jp (in reply to RCPT TO command)", 'docomo.ne.jp','', 'user_unknown','',T),
 ('', "550 Unknown user xxxxx@docomo.ne.jp (in reply to end of DATA command)", 'docomo.ne.jp','', 'filtered','sender_rejected',T),
 ('', "550 <xxxxx@ezweb.ne.jp>: User unknown (in reply to RCPT TO command)", 'ezweb.ne.jp','', 'user_unknown','',T),
 ('', "550 : User unknown (in reply to end of DATA command)", 'ezweb.ne.jp','', 'filtered','',T),
 ('', "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1", 'gmail.com','', 'user_unknown','',T),
 ('', "452-4.2.2 The email account that you tried to reach is over quota. Please direct 452-4.2.2 the recipient to 452 4.2.2", 'gmail.com','', 'mailbox_full','',T),
 ('', "500 Line Too Long", 'docomo.ne.jp','', 'content_rejected','',SMD),
 ('', "550 Unknown user xxx@docomo.ne.jp", 'docomo.ne.jp','mfsmax.docomo.ne.jp', 'filtered','user_unknown',SMD),
 ('', "552 Too much mail data xxx@docomo.ne.jp", 'docomo.ne.jp','', 'mailbox_full','',SMD),
 ('', "550 <xxx@ezweb.ne.jp>: User unknown", 'ezweb.ne.jp','', 'user_unknown','filtered',SMA),
 ('', "554 <xxx@@ezweb.ne.jp>: Relay access denied", 'ezweb.ne.jp','', 'no_relaying','user_unknown',SMA),
 ('', "550 Invalid recipient: <xxx@i.softbank.jp>", 'i.softbank.jp','', 'user_unknown','',SMS),
 ('', "553 xxx.example.jp does not exist", 'i.softbank.jp','', 'sender_rejected','',SMS),
 ('5.2.0', "reason: 550 Unknown user", 'docomo.ne.jp','', 'filtered','',MT),
 ('5.1.1', "reason: 550 Unknown user", 'docomo.ne.jp','', 'user_unknown','',MT),
 ('5.1.1', "reason: 550 Invalid recipient", 'softbank.ne.jp','', 'user_unknown','',MT),
 ('5.1.1', "reason: 550 Requested action not taken: mailbox unavailable", '','', 'user_unknown','',MT),
 ('', "552 Message size exceeds", '','', 'message_too_big','',MT),
 ('', "550 Unknown user xxxxx@docomo.ne.jp", 'docomo.ne.jp','mfsmax.docomo.ne.jp', 'filtered','user_unknown',AKI),
 ('', "< pwd1234567@m.point.ne.jp > ...User unknown", 'm.point.ne.jp','', 'user_unknown','',DREAM),
 ('', "<pwd1234567@m.point.ne.jp> のユーザーは登録されていません", 'm.point.ne.jp','', 'user_unknown','',DREAM),
 ('5.1.1', "host mx.example.ne.jp[210.2.0.1] said: 550 5.1.1 <user1@example.ne.jp>: Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)", 'example.ne.jp','', 'user_unknown','',CCS),
 ('5.7.1', "host abc.co.jp[111.111.245.0] said: 550 5.7.1 ... Relaying denied (in reply to RCPT TO command)", 'abc.co.jp','', 'no_relaying','',MED),
 ('', "451 Name server timeout", '','', 'network','',MED),
 ('5.7.1', "554 5.7.1 <user@example.jp>: Client host rejected: Access denied", '','', 'blocked','no_relaying',ARENA),
 ('4.7.0', "421 4.7.0 Too many bad command.", '','', 'syntax_error','',MOON),
 ('4.2.2', "450 4.2.2 xxxxx... Mail in the mailbox is full.", '','', 'mailbox_full','',MOON),
 ('4.2.2', "450 4.2.2 xxxxx... Mailbox is full.", '','', 'mailbox_full','',MOON),
 ('4.7.1', "450 4.7.1 The transmission has been permitted to this user only in the same domain.", '','', 'filtered','policy',MOON),
 ('4.3.2', "451 4.3.2 xxxxx... database error", '','', 'system_error','',MOON),
 ('4.5.1', "451 4.5.1 spool faile, please try again.", '','', 'system_error','',MOON),
 ('4.5.2', "451 4.5.2 xxxxx... domain doesn't exist", '','', 'host_unknown','',MOON),
 ('4.7.0', "451 4.7.0 connection was refused, Connection closed.", '','', 'blocked','network',MOON),
 ('4.7.0', "451 4.7.0 rejected for policy reasons.", '','', 'policy','spam_detected',MOON),
 ('4.3.1', "452 4.3.1 Mail system storage is full.", '','', 'mailbox_full','system_error',MOON),
 ('4.3.2', "452 4.3.2 Mail system is full.", '','', 'mailbox_full','system_error',MOON),
 ('', "Unrouteable address", '','', 'host_unknown','',SUM),
 ('', "Sorry, I wasn't able to establish an SMTP connection", '','', 'network','',SUM),
 ('4.4.2', "421 4.4.2 mx.example.jp Error: timeout exceeded", '','', 'network','',SUM),
 ('', "451 Temporarily unavailable - please try later", '','', 'system_error','network',SUM),
 ('4.7.1', "450 4.7.1 <user@example.jp>: Client host rejected: Greylisted for 5 minutes", '','', 'network','',SUM),
 ('', "511 sorry, no mailbox here by that name", '','', 'user_unknown','',SUM),
 ('5.1.1', "550 5.1.1 unknown or illegal alias: xxxxx@example.jp", '','', 'user_unknown','',SUM),
 ('', "550 rejecting spoofed message", '','', 'security','policy',SUM),
 ('', "550 can't accept user", '','', 'user_unknown','',SUM),
 ('4.7.1', "Message expired for domain example.com. Remote host said: 454 4.7.1 <user@example.com>: Relay access denied [RCPT_TO]", 'example.com','', 'no_relaying','expired',NTP),
 ('', "File too large", '','', 'message_too_big','',BUS),
 ('', "<user@example.jp>: user is over quota", '','', 'mailbox_full','',BUS),
 ('', "The user(s) account is temporarily over quota. <user@example.jp>", '','', 'mailbox_full','',BUS),
 ('', "Invalid recipient", '','', 'user_unknown','filtered',PAS),
 ('', "temporarily over quota.", '','', 'mailbox_full','',PAS),
 ('', "host xxxx.xxxx.docomo.ne.jp[192.0.2.1] said: 550 Unknown user xxxxxxx@docomo.ne.jp (in reply to end of DATA command)", 'docomo.ne.jp','', 'filtered','sender_rejected',FP),
 ('', "550 Unknown user user2@docomo.ne.jp", 'docomo.ne.jp','', 'filtered','user_unknown',NTT),
 ('', "The following addresses had permanent fatal errors -----(reason: 550 Unknown user", 'docomo.ne.jp','', 'filtered','user_unknown',DOP),
 ('', "550 Host unknown", '','', 'host_unknown','',GW),
 ('5.1.1', "550 5.1.1 xxxxxx@hogehoge.ne.jp... User unknown", 'hogehoge.ne.jp','', 'user_unknown','',GW),
 ('5.7.1', "550 5.7.1 Access denied", '','', 'blocked','policy',GW),
 ('', "<aaa@bbb.co.jp>: connect to mx.example.jp[192.0.2.9]: No route to host", 'bbb.co.jp','', 'network','',SHOP),
 ('', "不明なアドレスです", '','', 'user_unknown','',MSJA),
 ('', "ユーザーが見つかりません", '','', 'user_unknown','',MSJA),
 ('', "電子メール アドレスの形式が正しくありません", '','', 'user_unknown','',MSJA),
 ('', "無効な受信者です", '','', 'user_unknown','',MSJA),
 ('', "送信先のメール アカウントは存在しません", 'gmail.com','', 'user_unknown','',GJA),
 ('', "DNS Error: Domain name not found", '','', 'host_unknown','',BUNKYO),
 ('', "Message size exceeds maximum value", '','', 'message_too_big','',FERRET),
 ('', "user name is unknown", '','', 'user_unknown','',HOCO),
 ('', "host name is unknown", '','', 'host_unknown','',HOCO),
 ('', "mail box is full", '','', 'mailbox_full','',HOCO),
 ('', "could not send message for past 4 hour", '','', 'expired','network',HOCO),
 ('', "message is too large", '','', 'message_too_big','',HOCO),
 ('', "<recipient rejected>", '','', 'user_unknown','',CATV),
 ('', "ユーザー Neko (kijitora@example.co.jp) は Domino ディレクトリには見つかりません。", 'example.co.jp','', 'user_unknown','',SISI+'Lhost/Domino.pm'),
 ('', "メッセージを配信できません。", '','', 'undetermined','',SISI+'Lhost/InterScanMSS.pm'),
 ('4.3.0', "システムに一時的な問題があります。しばらくしてからもう一度お試しください。", 'gmail.com','', 'system_error','',BLOGGER),
 ('4.4.5', "サーバーがビジーです。しばらくしてからもう一度お試しください。", 'gmail.com','', 'system_error','rate_limited',BLOGGER),
 ('4.7.0', "IP が RCPT ドメインのホワイトリストにありません。接続を閉じます。", 'gmail.com','', 'blocked','',BLOGGER),
 ('4.7.0', "ご使用の IP アドレスから大量の迷惑メールが送信されたことを検出しました。ユーザーを迷惑メールから保護するため、ご使用の IP アドレスから送信されたメールを一時的にブロックしました。", 'gmail.com','', 'blocked','rate_limited',BLOGGER),
 ('4.7.0', "システムの一時的な問題です。しばらくしてからもう一度お試しください。", 'gmail.com','', 'system_error','',BLOGGER),
 ('4.7.0', "RCPT ドメインには TLS が必要です。接続を閉じます。", 'gmail.com','', 'security','',BLOGGER),
 ('4.7.0', "しばらくしてからもう一度お試しください。接続を閉じます。", 'gmail.com','', 'blocked','system_error',BLOGGER),
 ('', "<user@estate.ocn.ne.j>: Host or domain name not found. Name service error for name=estate.ocn.ne.j type=A: Host not found", 'estate.ocn.ne.j','defer113.ocn.ad.jp', 'host_unknown','',INTX),
 ('5.1.1', "550 5.1.1 <xxx@icloud.com>: user does not exist", 'icloud.com','', 'user_unknown','',SMI),
 ('5.1.1', "550 5.1.1 unknown or illegal alias: xxx@icloud.com", 'icloud.com','', 'user_unknown','',SMI),
 ('5.7.0', "550 5.7.0 Blocked- see https://support.proofpoint.com/dnsbl-lookup.cgi?ip=192.0.2.1", 'icloud.com','', 'blocked','',SMI),
 ('5.7.1', "550 5.7.1 Mail from IP 192.0.2.1 was rejected due to listing in Spamhaus XXX. For details please see http://www.spamhaus.org/query/bl?ip=192.0.2.1", 'icloud.com','', 'blocked','',SMI),
 ('5.1.1', "Sorry, no mailbox here by that name.(#5.1.1)", '','', 'user_unknown','',MEGA),
 ('5.2.2', "Recipient's mailbox is full, message returned to sender.(#5.2.2)", '','', 'mailbox_full','',MEGA),

]
dev=[];held=[]
for st,d,dom,rm,exp,also,src in rows:
    row={'status':st,'diagnostic':d,'remote_mta':rm,'recipient_domain':dom,'bounce_type':'Transient' if st.startswith('4') else 'Permanent','bounce_subtype':'General','expected':exp,'also':also,'source':src,'source_reason':'page'}
    h=int(hashlib.sha1((src+d).encode()).hexdigest(),16)
    (held if h%5==0 else dev).append(row)
import os
out=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..') + '/'
for name,rs in (('japan.jsonl',dev),('heldout-japan.jsonl',held)):
    with open(out+name,'w') as f:
        for r in rs: f.write(json.dumps(r,ensure_ascii=False)+'\n')
print(len(dev),len(held))
