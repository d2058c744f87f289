import json, hashlib, os, re
MAP = {
 'userunknown':('user_unknown',''), 'hasmoved':('user_unknown',''),
 'hostunknown':('host_unknown',''), 'mailboxfull':('mailbox_full',''),
 'systemfull':('mailbox_full','system_error'), 'suspend':('suspended',''),
 'blocked':('blocked',''), 'badreputation':('blocked',''),
 'spamdetected':('spam_detected',''), 'policyviolation':('policy',''),
 'filtered':('filtered',''), 'rejected':('sender_rejected',''),
 'toomanyconn':('rate_limited',''), 'speeding':('rate_limited',''), 'ratelimited':('rate_limited',''),
 'mesgtoobig':('message_too_big',''), 'exceedlimit':('message_too_big',''),
 'contenterror':('content_rejected',''), 'notcompliantrfc':('content_rejected',''),
 'virusdetected':('content_rejected',''),
 'authfailure':('security',''), 'requireptr':('security',''), 'securityerror':('security',''),
 'failedstarttls':('security','network'),
 'norelaying':('no_relaying',''), 'networkerror':('network',''), 'expired':('expired',''),
 'notaccept':('not_accept',''), 'systemerror':('system_error',''), 'mailererror':('system_error',''),
 'syntaxerror':('syntax_error',''), 'vacation':('auto_reply',''), 'suppressed':('suppressed',''),
}
COMMIT='21cfb932'


def row_of(r, src):
    """One corpus row from one record of Sisimai's dump, or None when it has no use."""
    if r['reason'] not in MAP: return None
    d=r['diagnosticcode'].strip()
    if not d: return None
    st=r['deliverystatus']
    m=re.match(r'^([245])\.(\d+)\.(\d+)$',st)
    if not m or int(m.group(3))>=900: st=''
    cls = st[:1] or str(r['replycode'] or '')[:1]
    bt = 'Transient' if cls=='4' else 'Permanent'
    exp,also=MAP[r['reason']]
    carrier=re.search(r'(docomo|ezweb|au\.com|softbank|vodafone|pdx\.ne\.jp|disney\.ne\.jp)',r['destination']+' '+r['rhost'])
    if carrier and r['reason']=='rejected' and 'unknown user' in d.lower():
        exp,also='filtered','sender_rejected'
    low=d.lower()
    # Where experts disagree: the text alone cannot tell what Sisimai's MTA modules decide
    # from the SMTP stage or the bounce's format; the reader's reading of the text is the
    # second acceptable answer.
    if not also:
        if r['reason']=='filtered' and re.search(r"user unknown|unknown user|no such user|does not exist|not found|mailbox unavailable|doesn't have",low):
            also='user_unknown'
        elif r['reason']=='userunknown' and re.search(r'end of data|filter',low):
            also='filtered'
        elif r['reason']=='expired' and re.search(r'timed out|connect|not reachable|refused',low):
            also='network'
        elif r['reason']=='networkerror' and re.search(r'expired|queue too long|could not be delivered for',low):
            also='expired'
        elif r['reason'] in ('blocked','badreputation') and re.search(r'rate limit|deferred|too many',low):
            also='rate_limited'
        elif r['reason']=='securityerror' and not re.search(r'auth|tls|spf|dkim|dmarc|secur|verif|ptr|dns',low):
            also='policy'
    return {'status':st,'diagnostic':d,'remote_mta':r['rhost'],'recipient_domain':r['destination'],
         'bounce_type':bt,'bounce_subtype':'General','expected':exp,'also':also,
         'source':src,'source_reason':'sisimai:'+r['reason']}


def main():
    seen=set(); dev=[]; held=[]
    for line in open(os.environ.get('SISIMAI_DUMP', 'sisimai-dump.jsonl')):
        r=json.loads(line)
        src='github.com/sisimai/p5-sisimai@%s:%s'%(COMMIT,r['file'].replace('/tmp/sisimai/',''))
        row=row_of(r, src)
        if row is None or row['diagnostic'] in seen: continue
        seen.add(row['diagnostic'])
        h=int(hashlib.sha1(r['file'].encode()).hexdigest(),16)
        (held if h%5==0 else dev).append(row)
    out=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    for name,rows in (('sisimai.jsonl',dev),('heldout-sisimai.jsonl',held)):
        with open(os.path.join(out,name),'w') as f:
            for row in rows: f.write(json.dumps(row,ensure_ascii=False)+'\n')
    print(len(dev),len(held))


if __name__ == '__main__':
    main()
