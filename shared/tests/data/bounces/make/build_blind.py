"""Builds blind.jsonl: a third unseen set, measured once and never read line by line (see
../README.md, "Blind set").

Input: BLIND_DUMPS, a colon-separated list of Sisimai's dumps (make/dump.pl) of the test
mails of three other bounce handlers, each file named after its folder:
  cf.jsonl  github.com/cfortune/PHP-Bounce-Handler@956e65b  eml/
  zo.jsonl  github.com/zoonru/PHP-Bounce-Handler@13f8b3a    eml/
  fl.jsonl  github.com/wRAR/flufl.bounce@796a6b9            flufl/bounce/tests/data/
The reason is Sisimai's, mapped as build_sisimai.py maps it. A line whose diagnostic is
already in the corpus (any part) is dropped.
"""
import glob, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from build_sisimai import row_of  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = {
    'cf': 'github.com/cfortune/PHP-Bounce-Handler@956e65b:eml/',
    'zo': 'github.com/zoonru/PHP-Bounce-Handler@13f8b3a:eml/',
    'fl': 'github.com/wRAR/flufl.bounce@796a6b9:flufl/bounce/tests/data/',
}


def norm(d):
    return ' '.join(d.split()).lower()


def main():
    seen = set()
    for path in glob.glob(os.path.join(HERE, '..', '*.jsonl')):
        if os.path.basename(path) != 'blind.jsonl':
            for line in open(path):
                seen.add(norm(json.loads(line)['diagnostic']))
    rows = []
    for path in os.environ['BLIND_DUMPS'].split(':'):
        prefix = SOURCES[os.path.basename(path).split('.')[0]]
        for line in open(path, encoding='utf-8', errors='replace'):
            try:
                r = json.loads(line)
            except ValueError:
                continue
            row = row_of(r, prefix + os.path.basename(r['file']))
            if row is None or norm(row['diagnostic']) in seen:
                continue
            seen.add(norm(row['diagnostic']))
            rows.append(row)
    with open(os.path.join(HERE, '..', 'blind.jsonl'), 'w') as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + '\n')
    print(len(rows))


if __name__ == '__main__':
    main()
