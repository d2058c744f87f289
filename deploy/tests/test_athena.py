"""Every load-balancer table's regex in template.yaml against the official sample lines of
every kind: each table reads its own kind's lines and none of the others', since all kinds
share the delivery folders and a line a table does not match becomes an all-NULL row.

Athena's RegexSerDe uses java.util.regex with Matcher.matches(), i.e. the whole line must
match; Python's re.fullmatch is the same test. The regexes use only constructs both engines
read the same way (character classes, `[^\\s]`, `{n}`, lazy `+?`, optional groups, `\\"` as a
plain quote), so Python's verdict is Java's. RegexSerDe maps groups to columns by position;
Athena tolerates trailing groups beyond the columns (its own ALB regex has one), which the
test allows and nothing more.

Run: .venv-deploy/bin/python -m unittest discover -s deploy/tests (cargo xtask deploy-check).
"""

from __future__ import annotations

import base64
import json
import re
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy"))

import yaml  # noqa: E402

from names import _Loader  # noqa: E402  (the CloudFormation-tag YAML loader)

DATA = ROOT / "shared" / "tests" / "data"
HERE = Path(__file__).resolve().parent / "data"

# The raw table of each kind, and the official sample lines of that kind.
KINDS = {
    "alb_access_logs_raw": [DATA / "alb-samples.log"],
    "nlb_access_logs_raw": [DATA / "nlb-samples.log"],
    "clb_access_logs_raw": [DATA / "clb-samples.log"],
    "alb_connection_logs_raw": [DATA / "alb-connection-samples.log"],
}
# Lines that share the folders but belong to no table.
NOBODY = [HERE / "alb-health-check-samples.log"]
# Real-world ALB lines: never another kind's.
ALB_EDGE_CASES = DATA / "lb" / "alb-edge-cases.log"

PRESTO = {"string": "varchar", "int": "integer", "double": "double", "bigint": "bigint"}


def lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.strip()]


def template() -> dict:
    return yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)


def glue_tables(t: dict) -> dict[str, dict]:
    """TableInput of every Glue table, by table name."""
    return {
        r["Properties"]["TableInput"]["Name"]: r["Properties"]["TableInput"]
        for r in t["Resources"].values()
        if r["Type"] == "AWS::Glue::Table"
    }


def regex_of(table: dict) -> re.Pattern:
    return re.compile(table["StorageDescriptor"]["SerdeInfo"]["Parameters"]["input.regex"])


class AthenaRegexes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tables = glue_tables(template())

    def test_every_regex_table_is_covered(self):
        regex_tables = {
            name
            for name, t in self.tables.items()
            if t.get("StorageDescriptor", {}).get("SerdeInfo", {}).get("SerializationLibrary", "").endswith("RegexSerDe")
        }
        self.assertEqual(regex_tables, set(KINDS))

    def test_each_table_reads_all_its_own_lines_with_enough_groups(self):
        for name, files in KINDS.items():
            table = self.tables[name]
            rx = regex_of(table)
            columns = table["StorageDescriptor"]["Columns"]
            self.assertGreaterEqual(rx.groups, len(columns), name)
            self.assertLessEqual(rx.groups, len(columns) + 1, f"{name}: one spare group at most")
            for path in files:
                for line in lines(path):
                    m = rx.fullmatch(line)
                    self.assertIsNotNone(m, f"{name} does not read its own line: {line}")
                    self.check_types(name, columns, m)

    def check_types(self, name: str, columns: list[dict], m: re.Match):
        """Numeric columns get numbers (or '-', which Athena reads as NULL)."""
        for i, col in enumerate(columns, start=1):
            value = m.group(i)
            if col["Type"] in ("int", "bigint") and value not in (None, "", "-"):
                int(value)
            if col["Type"] == "double" and value not in (None, "", "-"):
                float(value)
        first = m.group(1)
        self.assertTrue(first, f"{name}: the view's filter column must not be empty")

    def test_no_table_reads_another_kinds_lines(self):
        for name in KINDS:
            rx = regex_of(self.tables[name])
            others = [p for other, files in KINDS.items() if other != name for p in files]
            others += NOBODY
            if name != "alb_access_logs_raw":
                others.append(ALB_EDGE_CASES)
            for path in others:
                for line in lines(path):
                    self.assertIsNone(rx.fullmatch(line), f"{name} wrongly reads {path.name}: {line}")

    def test_alb_reads_the_real_world_lines_it_can(self):
        rx = regex_of(self.tables["alb_access_logs_raw"])
        edge = lines(ALB_EDGE_CASES)
        read = [line for line in edge if rx.fullmatch(line)]
        # Athena's regex cannot read every malformed request line; most real lines it must.
        self.assertGreaterEqual(len(read), len(edge) // 2, "ALB edge cases mostly unread")


class AthenaViews(unittest.TestCase):
    """Each view selects its raw table without NULL rows, with the raw table's columns."""

    def test_views_match_their_raw_tables(self):
        tables = glue_tables(template())
        for raw in KINDS:
            view_name = raw.removesuffix("_raw")
            view = tables[view_name]
            self.assertEqual(view["TableType"], "VIRTUAL_VIEW")
            self.assertEqual(view["Parameters"]["presto_view"], "true")
            parts = view["ViewOriginalText"]["Fn::Join"][1]
            self.assertEqual(parts[0], "/* Presto View: ")
            self.assertEqual(parts[2], " */")
            text = parts[1]["Fn::Base64"]["Fn::Sub"]
            spec = json.loads(text.replace("${GlueDatabase}", "logdesk_test"))
            base64.b64encode(json.dumps(spec).encode())  # encodable as Glue stores it
            self.assertRegex(spec["originalSql"], rf"^SELECT \* FROM {raw} WHERE \w+ IS NOT NULL$")
            raw_cols = tables[raw]["StorageDescriptor"]["Columns"] + [{"Name": "day", "Type": "string"}]
            want = [{"name": c["Name"], "type": PRESTO[c["Type"]]} for c in raw_cols]
            self.assertEqual(spec["columns"], want, view_name)
            self.assertEqual(view["StorageDescriptor"]["Columns"], raw_cols, view_name)
            column = spec["originalSql"].split("WHERE ")[1].split()[0]
            self.assertIn(column, [c["Name"] for c in raw_cols], view_name)


if __name__ == "__main__":
    unittest.main()
