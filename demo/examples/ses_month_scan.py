"""What Athena scans over a month of SES events, JSON (gzip) against Parquet (Snappy).

Reads the objects `cargo run -p logdesk-demo --example ses_month -- DIR` writes (Firehose's
keys: ses/partitioned/<EventType>/<yyyy/MM/dd>/...gz), converts each object to one Parquet
file the way Firehose's record format conversion would (the Glue table's top-level columns,
keys lowercased, Snappy), and prints bytes per event type and the bytes three typical queries
scan in each format. With --per-day, each partition (event type and day) becomes one Parquet
file, as at volumes where Firehose's buffers fill: the best case for Parquet. Needs pyarrow
(`pip install pyarrow`); not part of the build.

    python3 demo/examples/ses_month_scan.py DIR [--per-day]
"""

import collections
import gzip
import io
import json
import pathlib
import sys

import pyarrow as pa
import pyarrow.parquet as pq

# The Glue table's columns (template.yaml, SesEventsTable).
COLUMNS = ["eventtype", "mail", "bounce", "complaint", "delivery", "reject", "open", "click",
           "failure", "deliverydelay", "subscription"]

# Leaf columns each query reads (Athena prunes nested Parquet columns to the leaves used).
QUERIES = {
    # template.yaml "deliveries on a day": Delivery, three UTC days.
    "deliveries of a day": ("Delivery", 3, ["delivery.timestamp", "delivery.recipients",
                            "delivery.smtpresponse", "delivery.processingtimemillis",
                            "mail.commonheaders.subject", "mail.source", "mail.messageid"]),
    # template.yaml "bounces of a day with reasons": Bounce, three UTC days.
    "bounces of a day": ("Bounce", 3, ["bounce.timestamp", "bounce.bouncedrecipients",
                         "bounce.bouncetype", "bounce.bouncesubtype",
                         "mail.commonheaders.subject", "mail.source", "mail.messageid"]),
    # One recipient's whole month: every event type, every day.
    "one recipient, whole month": (None, 30, ["eventtype", "mail.destination", "mail.messageid",
                                   "mail.timestamp", "mail.commonheaders.subject"]),
}


def lower(v):
    if isinstance(v, dict):
        return {k.lower(): lower(x) for k, x in v.items()}
    if isinstance(v, list):
        return [lower(x) for x in v]
    return v


def main(root, per_day):
    files = sorted(pathlib.Path(root).rglob("*.gz"))
    if per_day:
        merged = collections.defaultdict(list)
        for f in files:
            merged[f.parent].append(f)
        files = [fs for _, fs in sorted(merged.items())]
    else:
        files = [[f] for f in files]
    per_type = collections.defaultdict(lambda: [0, 0, 0, 0])  # events, raw, gzip, parquet
    # (type, day) -> {"gz": bytes, "cols": {leaf path: compressed bytes}}
    parts = collections.defaultdict(lambda: {"gz": 0, "cols": collections.Counter()})
    for group in files:
        f = group[0]
        kind, day = f.parts[-5], "/".join(f.parts[-4:-1])
        bodies = [g.read_bytes() for g in group]
        body = b"".join(bodies)
        raw = b"".join(gzip.decompress(b) for b in bodies)
        rows = [lower(json.loads(l)) for l in raw.splitlines() if l.strip()]
        rows = [{c: r.get(c) for c in COLUMNS} for r in rows]
        table = pa.Table.from_pylist(rows)
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="snappy")
        meta = pq.ParquetFile(io.BytesIO(buf.getvalue())).metadata
        t = per_type[kind]
        t[0] += len(rows); t[1] += len(raw); t[2] += len(body); t[3] += len(buf.getvalue())
        p = parts[(kind, day)]
        p["gz"] += len(body)
        for g in range(meta.num_row_groups):
            rg = meta.row_group(g)
            for c in range(rg.num_columns):
                col = rg.column(c)
                path = col.path_in_schema.replace(".list.element", "").replace(".list.item", "")
                p["cols"][path] += col.total_compressed_size
    days = sorted({d for (_, d) in parts})
    print(f"{len(files)} objects, {len(days)} days")
    print("event type | events | JSON bytes | gzip bytes | Parquet bytes")
    tot = [0, 0, 0, 0]
    for kind, t in sorted(per_type.items(), key=lambda x: -x[1][2]):
        print(f"{kind} | {t[0]} | {t[1]} | {t[2]} | {t[3]}")
        tot = [a + b for a, b in zip(tot, t)]
    print(f"total | {tot[0]} | {tot[1]} | {tot[2]} | {tot[3]}")
    print("query | JSON gzip scanned | Parquet scanned")
    for name, (kind, ndays, leaves) in QUERIES.items():
        use = days[-ndays:]
        js = pqs = 0
        for (k, d), p in parts.items():
            if d in use and (kind is None or k == kind):
                js += p["gz"]
                pqs += sum(v for path, v in p["cols"].items()
                           if any(path == l or path.startswith(l + ".") for l in leaves))
        print(f"{name} | {js} | {pqs}")


if __name__ == "__main__":
    main(sys.argv[1], "--per-day" in sys.argv[2:])
