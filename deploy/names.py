#!/usr/bin/env python3
"""Derive deploy/names.json from template.yaml, or check that it is up to date.

The local demo creates the resources the template would, under the same names. Those names
live in template.yaml as !Sub patterns; this script evaluates them for one stack name, account
and Region (parameters at their defaults) so the demo reads them from one file instead of
keeping a second list by hand.

    python3 deploy/names.py           # print the JSON
    python3 deploy/names.py --write   # rewrite deploy/names.json
    python3 deploy/names.py --check   # exit 1 if deploy/names.json is stale (for CI)

Needs PyYAML only. Evaluates the few intrinsics the naming uses (Ref, Sub, GetAtt, Join,
Split, If, Equals, Not, And, Or); anything else raises, so a new construct cannot slip through
silently.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
NAMES = ROOT / "deploy" / "names.json"

# The stack the local demo mirrors. 123456789012 and us-east-1 are moto's defaults.
STACK, ACCOUNT, REGION = "logdesk-local", "123456789012", "us-east-1"


class _Loader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short-form tags into long-form dicts."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _tag)


class Resolver:
    def __init__(self, template: dict, stack: str, account: str, region: str):
        self.t = template
        self.res = template["Resources"]
        self.pseudo = {
            "AWS::StackName": stack,
            "AWS::AccountId": account,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.region, self.account = region, account

    # -- intrinsics -------------------------------------------------------------------
    def ev(self, v):
        if isinstance(v, list):
            return [self.ev(x) for x in v]
        if not isinstance(v, dict):
            return v
        if len(v) != 1:
            return {k: self.ev(x) for k, x in v.items()}
        (k, a), = v.items()
        if k == "Ref":
            return self.ref(a)
        if k == "Fn::GetAtt":
            return self.getatt(*a)
        if k == "Fn::Sub":
            text, extra = (a, {}) if isinstance(a, str) else (a[0], self.ev(a[1]))
            return re.sub(r"\$\{(!?)([^}]+)\}", lambda m: "${" + m.group(2) + "}" if m.group(1)
                          else str(extra[m.group(2)] if m.group(2) in extra else self.sub_var(m.group(2))), text)
        if k == "Fn::Join":
            return a[0].join(str(x) for x in self.ev(a[1]) if x is not None)
        if k == "Fn::Split":
            return self.ev(a[1]).split(a[0])
        if k == "Fn::If":
            return self.ev(a[1] if self.cond(a[0]) else a[2])
        if k.startswith("Fn::") or k == "Condition":
            raise ValueError(f"names.py cannot evaluate {k}")
        return {k: self.ev(a)}

    def sub_var(self, name: str):
        if "." in name:
            return self.getatt(*name.split(".", 1))
        return self.ref(name)

    def ref(self, name: str):
        if name == "AWS::NoValue":
            return None
        if name in self.pseudo:
            return self.pseudo[name]
        params = self.t.get("Parameters", {})
        if name in params:
            d = params[name].get("Default", "")
            if params[name]["Type"] == "CommaDelimitedList":
                return [x for x in str(d).split(",") if x]
            return str(d)
        r = self.res[name]
        p = r.get("Properties", {})
        kind = r["Type"]
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{self.region}:{self.account}:{self.ev(p['TopicName'])}"
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{self.ev(p['QueueName'])}"
        key = {
            "AWS::S3::Bucket": "BucketName",
            "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::Serverless::Function": "FunctionName",
            "AWS::SES::ConfigurationSet": "Name",
            "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
            "AWS::Athena::WorkGroup": "Name",
        }.get(kind)
        if key:
            return self.ev(p[key])
        if kind == "AWS::Glue::Database":
            return self.ev(p["DatabaseInput"]["Name"])
        raise ValueError(f"names.py has no physical name for {name} ({kind})")

    def getatt(self, name: str, attr: str):
        kind = self.res[name]["Type"]
        p = self.res[name].get("Properties", {})
        if kind == "AWS::SQS::Queue" and attr == "Arn":
            return f"arn:aws:sqs:{self.region}:{self.account}:{self.ev(p['QueueName'])}"
        if kind == "AWS::SQS::Queue" and attr == "QueueName":
            return self.ev(p["QueueName"])
        if kind == "AWS::S3::Bucket" and attr == "Arn":
            return f"arn:aws:s3:::{self.ev(p['BucketName'])}"
        raise ValueError(f"names.py cannot evaluate GetAtt {name}.{attr}")

    def cond(self, c):
        return condition(self.t, c, self.ev)


def condition(template: dict, c, ev) -> bool:
    """The value of condition `c` (a name in the template's Conditions, or a condition
    function), with `ev` evaluating the operands of Fn::Equals."""
    if isinstance(c, str):
        return condition(template, template["Conditions"][c], ev)
    (k, a), = c.items()
    if k == "Fn::Equals":
        return str(ev(a[0])) == str(ev(a[1]))
    if k == "Fn::Not":
        return not condition(template, a[0], ev)
    if k == "Fn::And":
        return all(condition(template, x, ev) for x in a)
    if k == "Fn::Or":
        return any(condition(template, x, ev) for x in a)
    if k == "Condition":
        return condition(template, a, ev)
    raise ValueError(f"names.py cannot evaluate condition {k}")


def derive(stack: str = STACK, account: str = ACCOUNT, region: str = REGION) -> dict:
    t = yaml.load(TEMPLATE.read_text(), Loader=_Loader)
    r = Resolver(t, stack, account, region)
    res = t["Resources"]
    prop = lambda name, *path: _dig(res[name]["Properties"], path)

    def function(logical: str) -> dict:
        env = {k: r.ev(v) for k, v in prop(logical, "Environment", "Variables").items()}
        return {
            "name": r.ref(logical),
            "binary": res[logical]["Metadata"]["BuildProperties"]["Binary"],
            "log_group": r.ev(prop(logical, "LoggingConfig", "LogGroup")),
            "env": {k: ("" if v is None else str(v)) for k, v in env.items()},
        }

    def s3_trigger(event: str) -> dict:
        e = res["IngestFunction"]["Properties"]["Events"][event]["Properties"]
        rules = e["Filter"]["S3Key"]["Rules"]
        return {
            "bucket": r.ev(e["Bucket"]),
            "prefix": next(x["Value"] for x in rules if x["Name"] == "prefix"),
            "events": e["Events"],
            "function": r.ref("IngestFunction"),
        }

    sqs = res["NotifyFunction"]["Properties"]["Events"]["SesEvents"]["Properties"]
    firehose = prop("MailFirehose", "ExtendedS3DestinationConfiguration")
    return {
        "_comment": (
            "GENERATED from template.yaml by `python3 deploy/names.py --write`; do not edit by hand "
            "(`--check` fails when stale). Names are the template's !Sub patterns evaluated for "
            "AWS::StackName=stack_name, AWS::AccountId=account_id, AWS::Region=region and every "
            "parameter at its default: buckets <stack>-mail|lb-logs|athena-<account>-<region>, "
            "record log groups /logdesk/<stack>/lb|mail, function log groups /aws/lambda/<stack>-<fn>, "
            "topics/queues/functions <stack>-<name>, configuration set and workgroup <stack>, Glue "
            "database <stack> with '-' -> '_'. Queue 'url' is the AWS form; an emulator may return "
            "its own URL for the same name. The SES events subscription is not raw: each SQS body "
            "is the SNS notification JSON whose Message is the SES record. AUTH_MODE=iam means the "
            "Function URL authenticates and the function checks nothing, which is also what a "
            "localhost server needs."
        ),
        "stack_name": stack,
        "account_id": account,
        "region": region,
        "buckets": {
            "mail": r.ref("MailBucket"),
            "lb_logs": r.ref("LbLogBucket"),
            "athena_results": r.ref("AthenaResultsBucket"),
        },
        "prefixes": {
            "ses": function("IngestFunction")["env"]["SES_PREFIX"],
            "ses_partitioned": s3_trigger("MailObjects")["prefix"],
            "ses_errors": firehose["ErrorOutputPrefix"].split("!{", 1)[0],
            "lb": function("IngestFunction")["env"]["LB_PREFIX"],
            "firehose_prefix": firehose["Prefix"],
            "firehose_error_prefix": firehose["ErrorOutputPrefix"],
        },
        "log_groups": {
            "lb": r.ref("LbLogGroup"),
            "mail": r.ref("MailLogGroup"),
            "nginx_access": r.ref("NginxAccessLogGroup"),
            "nginx_error": r.ref("NginxErrorLogGroup"),
            "firehose_errors": r.ref("FirehoseLogGroup"),
        },
        "retention_days": {
            "lb": int(r.ref("LbLogRetentionDays")),
            "mail": int(r.ref("MailLogRetentionDays")),
            "functions": int(r.ref("FunctionLogRetentionDays")),
        },
        "topics": {
            "ses_events": {"name": r.ev(prop("SesEventsTopic", "TopicName")), "arn": r.ref("SesEventsTopic")},
            "alerts": {"name": r.ev(prop("AlertsTopic", "TopicName")), "arn": r.ref("AlertsTopic")},
        },
        "queues": {
            logical_key: {
                "name": r.getatt(logical, "QueueName"),
                "arn": r.getatt(logical, "Arn"),
                "url": r.ref(logical),
            }
            for logical_key, logical in [
                ("ses_events", "SesEventsQueue"),
                ("ses_events_dlq", "SesEventsDLQ"),
                ("ingest_dlq", "IngestDLQ"),
            ]
        },
        "subscriptions": [
            {
                "topic": r.ref("SesEventsTopic"),
                "protocol": prop("SesEventsSubscription", "Protocol"),
                "endpoint": r.ev(prop("SesEventsSubscription", "Endpoint")),
                "raw_message_delivery": prop("SesEventsSubscription", "RawMessageDelivery"),
            }
        ],
        "ses_configuration_set": r.ref("SesConfigurationSet"),
        "firehose": r.ref("MailFirehose"),
        "s3_triggers": [s3_trigger("MailObjects"), s3_trigger("LbLogObjects")],
        "sqs_triggers": [
            {
                "queue": r.ev(sqs["Queue"]),
                "function": r.ref("NotifyFunction"),
                "batch_size": sqs["BatchSize"],
                "batching_window_seconds": int(r.ev(sqs["MaximumBatchingWindowInSeconds"])),
                "report_batch_item_failures": "ReportBatchItemFailures" in sqs["FunctionResponseTypes"],
            }
        ],
        "functions": {
            "ingest": function("IngestFunction"),
            "notify": function("NotifyFunction"),
            "api": function("ApiFunction"),
        },
        "glue_database": r.ref("GlueDatabase"),
        "glue_tables": [
            r.ev(x["Properties"]["TableInput"]["Name"]) for x in res.values() if x["Type"] == "AWS::Glue::Table"
        ],
        "athena_workgroup": r.ref("AthenaWorkGroup"),
    }


def _dig(d, path):
    for p in path:
        d = d[p]
    return d


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite deploy/names.json")
    mode.add_argument("--check", action="store_true", help="fail if deploy/names.json is stale")
    args = ap.parse_args()
    text = json.dumps(derive(), indent=2, ensure_ascii=False) + "\n"
    if args.write:
        NAMES.write_text(text)
    elif args.check:
        if not NAMES.exists() or NAMES.read_text() != text:
            sys.stderr.write("deploy/names.json is stale: run `python3 deploy/names.py --write`\n")
            return 1
        print("deploy/names.json matches template.yaml")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
