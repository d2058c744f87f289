#!/usr/bin/env bash
# Runs every Logs Insights query and filter pattern listed in docs/insights-queries.md against
# a real log group, as the API sends them: the emulator runs none of them, so this is how to
# know AWS accepts them and answers the fields the API reads.
#
#   deploy/check-queries.sh [LOG_GROUP] [HOURS] [MAIL_GROUP]   (default /logdesk/lb, 24,
#                                                                /logdesk/mail)
#
# Blocks whose query starts with `filter k = "mail"` run against MAIL_GROUP.
#
# Needs the AWS CLI (credentials and region of the test stack) and python3. Exit status 0 when
# every query completed with the fields its block names, 1 otherwise.
set -euo pipefail

group=${1:-/logdesk/lb}
hours=${2:-24}
mail_group=${3:-/logdesk/mail}
doc="$(dirname "$0")/../docs/insights-queries.md"
end_s=$(date +%s)
start_s=$((end_s - hours * 3600))
failed=0

# The blocks: "Check: …" line, then the ```insights block; one record per block, NUL-separated
# as "check<TAB>query".
blocks() {
  python3 - "$doc" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
for check, query in re.findall(r"Check: ([^\n]*)\n```insights\n(.*?)\n```", text, re.S):
    sys.stdout.write(check + "\t" + query + "\0")
PY
}

# Waits for query $1 to end; prints its final status.
wait_for() {
  local status
  for _ in $(seq 1 120); do
    status=$(aws logs get-query-results --query-id "$1" --query status --output text)
    case "$status" in
      Complete|Failed|Cancelled|Timeout|Unknown) echo "$status"; return ;;
    esac
    sleep 2
  done
  echo "Timeout"
}

# Checks the JSON results on stdin against "fields a, b, c" ($1); prints what is wrong.
check_fields() {
  python3 -c '
import json, sys
check = sys.argv[1]
out = json.load(sys.stdin)
rows = [{f["field"]: f.get("value") for f in r} for r in out.get("results", [])]
if not check.startswith("fields "):
    sys.exit(0)
if not rows:
    print("no rows in the range: fields not checked")
    sys.exit(0)
want = [f.strip() for f in check[len("fields "):].split(",")]
for i, r in enumerate(rows):
    missing = [f for f in want if f not in r]
    if missing:
        print(f"row {i} lacks {missing}: {r}")
        sys.exit(1)
    b = r.get("bucket")
    if b is not None and float(b) != int(float(b)):
        print(f"row {i}: bucket {b!r} is not a whole number")
        sys.exit(1)
print(f"{len(rows)} rows, every one with {want}")
' "$1"
}

while IFS=$'\t' read -r -d '' check query; do
  bounded="filter toMillis(@timestamp) >= $((start_s * 1000)) and toMillis(@timestamp) < $(((end_s + 1) * 1000))
| $query"
  first=$(printf '%s' "$query" | grep -v '^filter k = ' | head -1)
  printf '== %s …\n' "$first"
  target=$group
  case "$query" in 'filter k = "mail"'*) target=$mail_group ;; esac
  if ! id=$(aws logs start-query --log-group-name "$target" --start-time "$start_s" \
      --end-time "$((end_s + 1))" --limit 10000 --query-string "$bounded" \
      --query queryId --output text); then
    echo "   REFUSED by StartQuery"; failed=1; continue
  fi
  status=$(wait_for "$id")
  if [ "$status" != "Complete" ]; then
    echo "   ended $status"; failed=1; continue
  fi
  if ! aws logs get-query-results --query-id "$id" --output json | check_fields "$check" | sed 's/^/   /'; then
    failed=1
  fi
done < <(blocks)

# The filter-pattern shapes of the table (each sent once; a pattern AWS does not accept is an
# InvalidParameterException).
patterns=(
  '{ $.ip = "203.0.113.9" }'
  '{ $.s = 404 }'
  '{ ($.s >= 500 && $.s <= 599 || $.ts >= 500 && $.ts <= 599) }'
  '{ $.tr = %Root=1-ab% }'
  '{ $.ip = "203.0.113.9" && ($.s >= 500 && $.s <= 599 || $.ts >= 500 && $.ts <= 599) && $.tr = %Root=1-ab% }'
  '%[Tt][Aa][Rr][Oo]@%'
  '"203.0.113.9"'
)
for p in "${patterns[@]}"; do
  if aws logs filter-log-events --log-group-name "$group" --start-time "$((start_s * 1000))" \
      --end-time "$((end_s * 1000))" --limit 1 --filter-pattern "$p" \
      --query 'length(events)' --output text >/dev/null; then
    echo "== pattern accepted: $p"
  else
    echo "== pattern REFUSED: $p"; failed=1
  fi
done

exit "$failed"
