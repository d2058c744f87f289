"""Builds fresh.jsonl: a second held-out set, from public sources the rules were never
written against (see ../README.md, "Fresh set").

Inputs (paths in the environment, made as the README says):
  FRESH_SISIMAI_DUMPS  Sisimai's dump (make/dump.pl) of the mails of sisimai/set-of-emails
                       that p5-sisimai@21cfb932 does not have, and of p5-sisimai's own
                       maildir/err, maildir/dos, maildir/mac and mailbox files (the corpus
                       so far used maildir/bsd only); colon-separated list of files
  FRESH_BP_DUMP        Sisimai's dump of Mail-DeliveryStatus-BounceParser's t/corpus/*.msg
  FRESH_RHOST_DIR      go-sisimai's rhost/for-*.go (the provider messages quoted there)

Every line whose diagnostic (case and spacing aside) is already in the corpus is dropped.
"""
import glob, json, os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from build_sisimai import MAP, row_of  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'fresh.jsonl')
SET_OF_EMAILS = 'github.com/sisimai/set-of-emails@18e585c'
P5 = 'github.com/sisimai/p5-sisimai@21cfb932:set-of-emails/'
BP = 'github.com/rjbs/Mail-DeliveryStatus-BounceParser@HEAD:t/corpus/'
GO = 'github.com/sisimai/go-sisimai@ed142de:rhost/'

# Mail::DeliveryStatus::BounceParser's corpus: its tests assert a std_reason per file
# (user_unknown, over_quota, domain_error, spam, message_too_large); ours is read from
# the server's words with that as the guide: (expected, also) by file name.
BP_REASON = {
    'aol.unknown': ('user_unknown', ''),
    'att-via-sendmail.unknown': ('suspended', 'user_unknown'),
    'badrcptto': ('user_unknown', 'filtered'),
    'boxbe-cr': ('filtered', 'policy'),
    'cam-unknown': ('user_unknown', ''),
    'cox-via-sendmail.unknown': ('user_unknown', ''),
    'deactivated-mailbox': ('suspended', 'user_unknown'),
    'doesnotexist': ('user_unknown', ''), 'doesnotexist2': ('user_unknown', ''),
    'domino.unknown': ('user_unknown', ''),
    'generic-postfix-via-sendmail.unknown': ('user_unknown', ''),
    'gmail-via-sendmail.unknown': ('user_unknown', ''),
    'hotmail-via-sendmail.unknown': ('user_unknown', ''),
    'iis-multiple-bounce': ('user_unknown', 'filtered'),
    'junkemailfilter': ('blocked', 'policy'),
    'mailbox-unknown': ('user_unknown', ''),
    'malformed-dns': ('host_unknown', 'network'),
    'me-user-unknown': ('user_unknown', ''),
    'misidentified-recipient': ('expired', 'network'),
    'no-such-domain': ('host_unknown', ''),
    'nomailbox': ('user_unknown', ''),
    'non-autoreply': ('user_unknown', ''),
    'not-a-relay': ('no_relaying', ''),
    'novell-with-rhs': ('user_unknown', ''),
    'polish-unknown': ('user_unknown', 'suspended'),
    'postfix-host-unknown': ('host_unknown', ''),
    'postfix-malformed': ('host_unknown', 'network'),
    'postfix-orig': ('no_relaying', ''),
    'postfix-smtp-550': ('user_unknown', ''),
    'quota': ('mailbox_full', ''), 'quota-2': ('mailbox_full', ''),
    'quota-4': ('message_too_big', 'mailbox_full'),
    'quota-6': ('mailbox_full', ''), 'quota-7': ('mailbox_full', ''),
    'rcpt-dne': ('user_unknown', 'filtered'),
    'rcpthosts': ('no_relaying', ''),
    'relaying-denied': ('no_relaying', ''),
    'spam-rejection12': ('blocked', 'spam_detected'),
    'spam-rejection20': ('spam_detected', 'sender_rejected'),
    'spam-rejection22': ('policy', 'spam_detected'),
    'spam-rejection29': ('spam_detected', 'policy'),
    'spam-rejection36': ('spam_detected', 'blocked'),
    'spam-rejection43': ('blocked', 'spam_detected'),
    'user-unknown-disabled': ('suspended', 'user_unknown'),
    'warning-9': ('security', 'user_unknown'),
    'whitelist': ('filtered', 'blocked'),
    'yahoo-via-sendmail.unknown': ('suspended', 'user_unknown'),
}


def bp_reason(name):
    if name in BP_REASON:
        return BP_REASON[name]
    if name.startswith(('spam', 'surfcontrol')):
        return ('spam_detected', '')
    if name.startswith('message-too-large'):
        return ('message_too_big', '')
    if 'unknown' in name or name.startswith('warning-3'):
        return ('user_unknown', '')
    if name.startswith(('quota', 'warning-7', 'warning-8')):
        return ('mailbox_full', '')
    return None


def norm(d):
    return ' '.join(d.split()).lower()


def bounce_type(status, text):
    code = status[:1] or (re.match(r'\s*([245])\d\d\b', text) or [None, ''])[1]
    return 'Transient' if code == '4' else 'Permanent'


def sisimai_rows():
    for path in filter(None, os.environ.get('FRESH_SISIMAI_DUMPS', '').split(':')):
        for line in open(path):
            r = json.loads(line)
            f = r['file']
            if '/p5/' in f:
                src = P5 + f.split('/p5/')[1]
            else:
                src = SET_OF_EMAILS + ':' + f.split('/emails/')[-1].replace('maclf/', 'maildir/mac/')
            row = row_of(r, src)
            if row:
                yield row


def bp_rows():
    path = os.environ.get('FRESH_BP_DUMP')
    if not path:
        return
    for line in open(path):
        r = json.loads(line)
        name = os.path.basename(r['file'])[:-4]
        reason = bp_reason(name)
        d = r['diagnosticcode'].strip()
        if reason is None or not d:
            continue
        st = r['deliverystatus']
        if not re.match(r'^[245]\.\d+\.\d+$', st) or int(st.split('.')[2]) >= 900:
            st = ''
        yield {'status': st, 'diagnostic': d, 'remote_mta': r['rhost'],
               'recipient_domain': r['destination'], 'bounce_type': bounce_type(st, d),
               'bounce_subtype': 'General', 'expected': reason[0], 'also': reason[1],
               'source': BP + name + '.msg', 'source_reason': 'bounceparser'}


def rhost_messages(path):
    """(sisimai reason, message) for each provider message quoted in a comment."""
    reason, cur = None, None
    for line in open(path):
        m = re.match(r'\s*"([a-z]+)"\s*:\s*\[\]', line)
        if m:
            if cur: yield reason, ' '.join(cur)
            reason, cur = m.group(1), None
            continue
        m = re.match(r'\s*//\s+-\s+(.*)', line)
        if m and reason:
            if cur: yield reason, ' '.join(cur)
            cur = [m.group(1).strip()]
            continue
        m = re.match(r'\s*//\s{2,}(\S.*)', line)
        if m and cur is not None:
            cur.append(m.group(1).strip())
            continue
        if cur: yield reason, ' '.join(cur)
        cur = None
    if cur: yield reason, ' '.join(cur)


def microsoft_messages(path):
    """(sisimai reason, 'status text') from the table of Microsoft's NDR texts."""
    reason = None
    for line in open(path):
        m = re.match(r'\s*"([a-z]+)"\s*:\s*\[\]', line)
        if m:
            reason = m.group(1)
        m = re.match(r'\s*\[4\]string\{"([245]\.\d+\.\d+)",\s*"",\s*"",\s*"([^"]{20,})"', line)
        if m and reason:
            yield reason, m.group(1) + ' ' + m.group(2).strip().capitalize()


def rhost_rows():
    d = os.environ.get('FRESH_RHOST_DIR')
    if not d:
        return
    for path in sorted(glob.glob(os.path.join(d, 'for-*.go'))):
        provider = os.path.basename(path)[4:-3]
        pairs = microsoft_messages(path) if provider == 'microsoft' else rhost_messages(path)
        for reason, text in pairs:
            text = re.sub(r'(\w)- (\w)', r'\1\2', text)  # words the comment broke in two
            if provider != 'microsoft' and not re.match(r'[245]\d\d ', text):
                continue  # an explanation, not a server's words
            text = re.sub(r'\s*https?://\S+.*$', '', text) if len(text) > 300 else text
            m = re.match(r'(?:([245]\d\d) )?([245]\.\d+\.\d+)\b', text)
            r = {'reason': reason, 'diagnosticcode': text, 'deliverystatus': m[2] if m else '',
                 'replycode': (m[1] if m else '') or text[:3], 'rhost': '', 'destination': ''}
            row = row_of(r, GO + os.path.basename(path))
            if row:
                yield row


# Texts quoted on Japanese pages that the corpus has not used, with the reason the page
# gives (status, diagnostic, recipient domain, expected, also, source).
PAGES = [
    ('5.1.1', '550 5.1.1 Recipient not found', '', 'user_unknown', '',
     'https://english.awaisora.com/?p=1145'),
    ('5.1.1', '550 5.1.1 - User unknown', '', 'user_unknown', '',
     'https://pasokon360.com/mail-send-error.html'),
    ('', 'Invalid Address', '', 'user_unknown', '', 'https://mt-design.info/5980'),
    ('', 'no mailbox here by that name', '', 'user_unknown', '',
     'https://www.hocoroco.net/internet_lifeguide/errormail.html'),
    ('', "This user doesn't have a ***.**.** account", '', 'user_unknown', '',
     'https://helpforest.com/office/ol_err/ol020002.htm'),
    ('', 'server dropped connection', '', 'network', '',
     'https://helpforest.com/office/ol_err/ol020002.htm'),
    ('', 'could not send message for past 4 hours', '', 'expired', 'delayed',
     'http://museum-web2.sakuraha.jp/20040701103314/support/post/manual/trouble/smtp_451.html'),
    ('', '<no_user@example.com>: host mx.example.com[333.333.333.333] said: 550 5.1.1 '
         '<no_user@example.com>... User unknown (in reply to RCPT TO command)', 'example.com',
     'user_unknown', '', 'http://www.shopmaker.jp/ct/contents6.htm'),
    ('', '<aaa@bbb.co.jp>: connect to mx.example.jp[999.999.999.999]: No route to host',
     'bbb.co.jp', 'network', '', 'http://www.shopmaker.jp/ct/contents6.htm'),
]


def page_rows():
    for st, d, dom, exp, also, src in PAGES:
        yield {'status': st, 'diagnostic': d, 'remote_mta': '', 'recipient_domain': dom,
               'bounce_type': bounce_type(st, d), 'bounce_subtype': 'General',
               'expected': exp, 'also': also, 'source': src, 'source_reason': 'page'}


def reader_also(row):
    """Where the reader's reading of the words differs from the source's reason, that
    reading is the second acceptable answer (as build_sisimai.py does for its set)."""
    if row['also']:
        return
    low = row['diagnostic'].lower()
    exp = row['expected']
    if exp != 'host_unknown' and re.search(r'recipient domain|nonexistent ?domain', low):
        row['also'] = 'host_unknown'
    elif exp == 'sender_rejected' and re.search(r'from \d+\.\d+\.\d+\.\d+|\bip\b', low):
        row['also'] = 'blocked'
    elif exp == 'mailbox_full' and 'system resources' in low:
        row['also'] = 'system_error'
    elif exp == 'blocked' and re.search(r'reverse dns|ptr', low):
        row['also'] = 'security'
    elif exp == 'expired' and re.search(r'timed out|connection', low):
        row['also'] = 'network'


def main():
    seen = set()
    for path in glob.glob(os.path.join(HERE, '..', '*.jsonl')):
        if os.path.basename(path) == 'fresh.jsonl':
            continue
        for line in open(path):
            seen.add(norm(json.loads(line)['diagnostic']))
    rows = []
    for row in (*sisimai_rows(), *bp_rows(), *rhost_rows(), *page_rows()):
        key = norm(row['diagnostic'])
        if key in seen:
            continue
        reader_also(row)
        seen.add(key)
        rows.append(row)
    with open(OUT, 'w') as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + '\n')
    print(len(rows))


if __name__ == '__main__':
    main()
