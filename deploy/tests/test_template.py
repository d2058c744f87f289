"""template.yaml through the SAM transform (samtranslator, offline), and what the transformed
template does to the account for a given set of parameters: no Slack URL in any environment,
a capped public API, mail sent unchanged by default (TLS optional, no open/click tracking), the
records retained when the stack goes, alarms that reach people, IAM that matches the code, and
physical names within every service's limit for the longest allowed stack name.

Run: .venv-deploy/bin/python -m unittest discover -s deploy/tests (cargo xtask deploy-check).
"""

from __future__ import annotations

import copy
import os
import re
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy"))

import yaml  # noqa: E402

from names import Resolver, _Loader, condition  # noqa: E402

TOKEN = "0" * 63 + "f"
SECRET_ARN = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:logdesk/slack-AbCdEf"
NO_VALUE = object()


class _NoManagedPolicies:
    """The IAM managed-policy lookup SAM asks for by name; no function here names one (every
    role is written out), so it is never consulted."""

    def load(self):
        return {}


def transformed() -> dict:
    """template.yaml after the SAM transform, as `sam deploy` would submit it."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "ap-northeast-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "offline")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "offline")
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    sam = yaml_parse((ROOT / "template.yaml").read_text())
    # What `sam build` + `sam package` do before the transform: the code is uploaded to S3.
    sam["Globals"]["Function"]["CodeUri"] = "s3://logdesk-artifacts/logdesk/code.zip"
    return transform(sam, {"AWS::Region": "ap-northeast-1"}, _NoManagedPolicies())


_TRANSFORMED: dict | None = None


def cfn() -> dict:
    global _TRANSFORMED
    if _TRANSFORMED is None:
        _TRANSFORMED = transformed()
    return copy.deepcopy(_TRANSFORMED)


class Deployed:
    """The transformed template's resources with conditions and parameter references
    resolved for `params` (defaults for the rest); other intrinsics stay as they are."""

    def __init__(self, t: dict, **params: str):
        self.t = t
        self.params = {k: str(v.get("Default", "")) for k, v in t.get("Parameters", {}).items()}
        for k, v in params.items():
            self.assert_allowed(k, v)
            self.params[k] = v
        res = {}
        for name, r in t["Resources"].items():
            if "Condition" in r and not self.cond(r["Condition"]):
                continue
            res[name] = self.ev(r)
        self.res = res

    def assert_allowed(self, name: str, value: str):
        p = self.t["Parameters"][name]
        if "AllowedValues" in p:
            assert value in [str(x) for x in p["AllowedValues"]], (name, value)
        if "AllowedPattern" in p:
            assert re.fullmatch(p["AllowedPattern"], value), (name, value)

    def cond(self, c) -> bool:
        return condition(self.t, c, self.ev)

    def ev(self, v):
        if isinstance(v, list):
            return [x for x in (self.ev(x) for x in v) if x is not NO_VALUE]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            ((k, a),) = v.items()
            if k == "Fn::If":
                return self.ev(a[1] if self.cond(a[0]) else a[2])
            if k == "Ref" and a == "AWS::NoValue":
                return NO_VALUE
            if k == "Ref" and a in self.params:
                return self.params[a]
        return {k: x for k, x in ((k, self.ev(x)) for k, x in v.items()) if x is not NO_VALUE}

    def of_type(self, kind: str) -> dict:
        return {n: r for n, r in self.res.items() if r["Type"] == kind}

    def props(self, name: str) -> dict:
        return self.res[name]["Properties"]

    def env(self, function: str) -> dict:
        return self.props(function)["Environment"]["Variables"]

    def statements(self, role: str) -> list[dict]:
        return [s for p in self.props(role)["Policies"] for s in p["PolicyDocument"]["Statement"]]

    def actions(self, role: str) -> set[str]:
        out = set()
        for s in self.statements(role):
            a = s["Action"]
            out.update(a if isinstance(a, list) else [a])
        return out


FUNCTIONS = ["IngestFunction", "NotifyFunction", "ApiFunction"]


class Transform(unittest.TestCase):
    def test_no_slack_url_in_any_environment(self):
        self.assertNotIn("SlackWebhookUrl", cfn()["Parameters"])
        for params in [{}, {"SlackWebhookSecret": "create"}, {"SlackWebhookSecret": SECRET_ARN}]:
            d = Deployed(cfn(), **params)
            for name, fn in d.of_type("AWS::Lambda::Function").items():
                for key, value in fn["Properties"].get("Environment", {}).get("Variables", {}).items():
                    self.assertNotRegex(key, "URL$", f"{name}.{key}")
                    self.assertNotIn("hooks.slack.com", str(value), f"{name}.{key}")
        self.assertEqual(Deployed(cfn()).env("NotifyFunction")["SLACK_WEBHOOK_SECRET_ARN"], "")
        created = Deployed(cfn(), SlackWebhookSecret="create")
        self.assertEqual(created.env("NotifyFunction")["SLACK_WEBHOOK_SECRET_ARN"], {"Ref": "SlackWebhookSecretStore"})
        existing = Deployed(cfn(), SlackWebhookSecret=SECRET_ARN)
        self.assertEqual(existing.env("NotifyFunction")["SLACK_WEBHOOK_SECRET_ARN"], SECRET_ARN)
        self.assertNotIn("SlackWebhookSecretStore", existing.res)

    def test_the_secret_is_readable_by_notify_alone_and_only_that_one(self):
        self.assertNotIn("secretsmanager:GetSecretValue", Deployed(cfn()).actions("NotifyRole"))
        for value, resource in [("create", {"Ref": "SlackWebhookSecretStore"}), (SECRET_ARN, SECRET_ARN)]:
            d = Deployed(cfn(), SlackWebhookSecret=value)
            read = [s for s in d.statements("NotifyRole") if s["Action"] == "secretsmanager:GetSecretValue"]
            self.assertEqual(len(read), 1)
            self.assertEqual(read[0]["Resource"], resource)
            for role in ["IngestRole", "ApiRole"]:
                self.assertFalse(any(a.startswith("secretsmanager:") for a in d.actions(role)))

    def test_a_public_api_has_reserved_concurrency(self):
        public = Deployed(cfn(), ApiAuthType="NONE", ApiTokenSha256=TOKEN)
        self.assertEqual(public.props("ApiFunction")["ReservedConcurrentExecutions"], "10")
        self.assertEqual(public.params["ApiReservedConcurrency"], "10")
        capped = Deployed(cfn(), ApiAuthType="NONE", ApiTokenSha256=TOKEN, ApiReservedConcurrency="3")
        self.assertEqual(capped.props("ApiFunction")["ReservedConcurrentExecutions"], "3")
        self.assertNotIn("ReservedConcurrentExecutions", Deployed(cfn()).props("ApiFunction"))

    def test_the_token_hash_must_be_64_hex_characters(self):
        pattern = cfn()["Parameters"]["ApiTokenSha256"]["AllowedPattern"]
        self.assertTrue(re.fullmatch(pattern, TOKEN) and re.fullmatch(pattern, ""))
        for bad in ["secret", TOKEN[:-1], TOKEN + "0", TOKEN.upper(), "g" * 64]:
            self.assertIsNone(re.fullmatch(pattern, bad), bad)
        rule = cfn()["Rules"]["TokenRequiredForPublicApi"]
        self.assertEqual(rule["RuleCondition"], {"Fn::Equals": [{"Ref": "ApiAuthType"}, "NONE"]})

    def test_tls_is_optional_by_default(self):
        tls = lambda d: d.props("SesConfigurationSet")["DeliveryOptions"]["TlsPolicy"]  # noqa: E731
        self.assertEqual(tls(Deployed(cfn())), "OPTIONAL")
        self.assertEqual(tls(Deployed(cfn(), RequireTls="true")), "REQUIRE")

    def test_no_open_or_click_destination_by_default(self):
        def types(d):
            return {
                t
                for r in d.of_type("AWS::SES::ConfigurationSetEventDestination").values()
                for t in r["Properties"]["EventDestination"]["MatchingEventTypes"]
            }

        self.assertFalse({"open", "click"} & types(Deployed(cfn())))
        self.assertTrue({"open", "click"} <= types(Deployed(cfn(), TrackOpensAndClicks="true")))

    def test_records_and_raw_objects_are_retained(self):
        t = cfn()["Resources"]
        for name in ["MailLogGroup", "LbLogGroup", "MailBucket", "LbLogBucket"]:
            self.assertEqual(t[name].get("DeletionPolicy"), "Retain", name)
            self.assertEqual(t[name].get("UpdateReplacePolicy"), "Retain", name)

    def test_lifecycles_are_separate_and_locks_expire(self):
        d = Deployed(cfn(), MailObjectExpirationDays="30", LbLogObjectExpirationDays="60")

        def rules(bucket):
            return {r["Id"]: r for r in d.props(bucket)["LifecycleConfiguration"]["Rules"]}

        self.assertEqual(rules("MailBucket")["expire-ses-events"]["ExpirationInDays"], "30")
        self.assertEqual(rules("LbLogBucket")["expire-lb-logs"]["ExpirationInDays"], "60")
        for bucket in ["MailBucket", "LbLogBucket"]:
            lock = rules(bucket)["expire-ingest-locks"]
            self.assertEqual((lock["Prefix"], lock["Status"]), ("logdesk-ingest-locks/", "Enabled"))

    def test_function_url_streams_as_the_code_does(self):
        self.assertNotIn("ApiInvokeMode", cfn()["Parameters"])
        url = Deployed(cfn()).of_type("AWS::Lambda::Url")
        self.assertEqual([u["Properties"]["InvokeMode"] for u in url.values()], ["RESPONSE_STREAM"])
        main = (ROOT / "functions" / "api" / "src" / "main.rs").read_text()
        self.assertIn("run_with_streaming_response", main)

    def test_tracing_is_a_parameter(self):
        off, on = Deployed(cfn()), Deployed(cfn(), XRayTracing="true")
        for fn, role in zip(FUNCTIONS, ["IngestRole", "NotifyRole", "ApiRole"]):
            self.assertEqual(off.props(fn)["TracingConfig"]["Mode"], "PassThrough")
            self.assertEqual(on.props(fn)["TracingConfig"]["Mode"], "Active")
            self.assertNotIn("xray:PutTraceSegments", off.actions(role))
            self.assertIn("xray:PutTraceSegments", on.actions(role))


class Alarms(unittest.TestCase):
    def test_every_alarm_is_explained_to_staff_and_reaches_the_alarms_topic(self):
        alarm_rs = (ROOT / "functions" / "notify" / "src" / "alarm.rs").read_text()
        explained = set(re.findall(r'\(\s*"([a-z-]+)",\s*Meaning', alarm_rs))
        d = Deployed(cfn())
        alarms = d.of_type("AWS::CloudWatch::Alarm")
        kinds = set()
        for name, a in alarms.items():
            p = a["Properties"]
            sub = p["AlarmName"]["Fn::Sub"]
            self.assertTrue(sub.startswith("${AWS::StackName}-"), name)
            kind = sub.removeprefix("${AWS::StackName}-")
            self.assertIn(kind, explained, f"{name}: alarm.rs has no text for {kind}")
            kinds.add(kind)
            self.assertIn({"Ref": "AlarmsTopic"}, p["AlarmActions"], name)
            self.assertIn({"Ref": "AlarmsTopic"}, p["OKActions"], name)
        self.assertEqual(kinds, explained, "alarm.rs explains alarms the stack does not create")
        subs = [
            s["Properties"]
            for s in d.of_type("AWS::SNS::Subscription").values()
            if s["Properties"]["TopicArn"] == {"Ref": "AlarmsTopic"}
        ]
        self.assertEqual([(s["Protocol"], s["Endpoint"]) for s in subs], [("lambda", {"Fn::GetAtt": ["NotifyFunction", "Arn"]})])
        for name in ["NotifyErrorsAlarm", "NotifyThrottlesAlarm"]:
            self.assertIn({"Ref": "AlertsTopic"}, alarms[name]["Properties"]["AlarmActions"], name)

    def test_the_required_alarms_exist_with_their_levels(self):
        d = Deployed(cfn())
        by_metric = {
            (a["Properties"]["Namespace"] if isinstance(a["Properties"]["Namespace"], str) else "own", a["Properties"]["MetricName"], str(a["Properties"]["Dimensions"])): a["Properties"]
            for a in d.of_type("AWS::CloudWatch::Alarm").values()
        }
        self.assertEqual(by_metric[("AWS/SES", "Reputation.BounceRate", "[]")]["Threshold"], 0.05)
        self.assertEqual(by_metric[("AWS/SES", "Reputation.ComplaintRate", "[]")]["Threshold"], 0.001)
        ages = [k for k in by_metric if k[1] == "ApproximateAgeOfOldestMessage"]
        queues = {str(q["Properties"]["QueueName"]) for q in d.of_type("AWS::SQS::Queue").values()}
        self.assertEqual(len(ages), len(queues), "one oldest-message-age alarm per queue")
        own = {k[1]: v for k, v in by_metric.items() if k[0] == "own"}
        for metric in ["SkippedObjects", "TooOldEvents"]:
            self.assertEqual(own[metric]["Namespace"], {"Fn::Sub": "logdesk/${AWS::StackName}"})
            self.assertEqual(own[metric]["Dimensions"], [{"Name": "FunctionName", "Value": {"Ref": "IngestFunction"}}])
        self.assertEqual(d.env("IngestFunction")["METRICS_NAMESPACE"], {"Fn::Sub": "logdesk/${AWS::StackName}"})
        self.assertTrue(any(k[:2] == ("AWS/Firehose", "DeliveryToS3.Success") for k in by_metric))
        self.assertTrue(any(k[:2] == ("AWS/Lambda", "Errors") and "IngestFunction" in k[2] for k in by_metric))

    def test_outputs_warn_when_nobody_hears(self):
        out = cfn()["Outputs"]["AlertRecipients"]["Value"]
        d = Deployed(cfn())
        self.assertTrue(d.cond("NobodyHearsAlerts"))
        self.assertTrue(d.ev(out).startswith("WARNING: nobody receives"))
        self.assertFalse(Deployed(cfn(), AlertEmail="ops@example.jp").cond("NobodyHearsAlerts"))
        self.assertFalse(Deployed(cfn(), SlackWebhookSecret="create").cond("NobodyHearsAlerts"))


# Actions a role needs for what AWS does on the function's behalf, not for SDK calls.
SERVICE_SIDE = {
    "logs:CreateLogStream",  # the function's own log stream (also an SDK call of ingest)
    "logs:PutLogEvents",
    "sqs:ReceiveMessage",  # the SQS event source mapping polls with notify's role
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:SendMessage",  # ingest's on-failure destination
    "s3:ListBucket",  # makes a missing lock a 404 (no listing call)
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}


class Iam(unittest.TestCase):
    def test_every_action_is_one_the_code_calls_or_the_service_needs(self):
        called = set()
        for rs in (ROOT / "functions").glob("*/src/**/*.rs"):
            called.update(re.findall(r"\.([a-z_0-9]+)\(\)", rs.read_text()))
        d = Deployed(cfn(), SlackWebhookSecret="create", ExistingLbLogBucket="old-logs", XRayTracing="true")
        for role in ["IngestRole", "NotifyRole", "ApiRole"]:
            for action in d.actions(role):
                if action in SERVICE_SIDE:
                    continue
                snake = re.sub(r"(?<!^)(?=[A-Z])", "_", action.split(":")[1]).lower()
                self.assertIn(snake, called, f"{role} grants {action}, which no function calls")

    def test_lock_listing_is_limited_to_the_lock_prefix(self):
        d = Deployed(cfn(), ExistingLbLogBucket="old-logs")
        listing = [s for s in d.statements("IngestRole") if s["Action"] == "s3:ListBucket"]
        self.assertEqual(len(listing), 2)
        for s in listing:
            self.assertEqual(s["Condition"], {"StringLike": {"s3:prefix": ["logdesk-ingest-locks/*"]}})

    def test_trust_policies_use_the_conditions_each_service_documents(self):
        t = cfn()["Resources"]

        def condition(role):
            return t[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]

        self.assertEqual(condition("FirehoseRole"), {"StringEquals": {"sts:ExternalId": {"Ref": "AWS::AccountId"}}})
        ses = condition("SesToFirehoseRole")["StringEquals"]
        self.assertEqual(set(ses), {"aws:SourceAccount", "aws:SourceArn"})


class Checkov(unittest.TestCase):
    def test_every_suppression_carries_its_reason(self):
        t = yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)
        skips = 0
        for name, r in t["Resources"].items():
            for skip in r.get("Metadata", {}).get("checkov", {}).get("skip", []):
                self.assertRegex(skip.get("id", ""), r"^CKV2?_AWS_\d+$", name)
                self.assertGreater(len(skip.get("comment", "").split()), 4, f"{name} {skip.get('id')}: say why")
                skips += 1
        self.assertGreater(skips, 0)


# Longest name each service accepts, by resource type and name property.
LIMITS = {
    "AWS::S3::Bucket": ("BucketName", 63),
    "AWS::Serverless::Function": ("FunctionName", 64),
    "AWS::SQS::Queue": ("QueueName", 80),
    "AWS::SNS::Topic": ("TopicName", 256),
    "AWS::KinesisFirehose::DeliveryStream": ("DeliveryStreamName", 64),
    "AWS::Logs::LogGroup": ("LogGroupName", 512),
    "AWS::SES::ConfigurationSet": ("Name", 64),
    "AWS::Events::Rule": ("Name", 64),
    "AWS::SecretsManager::Secret": ("Name", 512),
    "AWS::CloudWatch::Alarm": ("AlarmName", 255),
    "AWS::Athena::WorkGroup": ("Name", 128),
}


class StackName(unittest.TestCase):
    def test_every_name_fits_for_a_22_character_stack_in_the_longest_region(self):
        t = yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)
        stack = "logdesk-" + "x" * 14
        self.assertEqual(len(stack), 22)
        r = Resolver(t, stack, "123456789012", "ap-southeast-7")
        checked = 0
        for name, res in t["Resources"].items():
            if res["Type"] not in LIMITS:
                continue
            prop, limit = LIMITS[res["Type"]]
            value = res["Properties"].get(prop)
            if value is None:
                continue
            physical = r.ev(value)
            self.assertLessEqual(len(physical), limit, f"{name}: {physical}")
            checked += 1
        self.assertGreater(checked, 20)
        header = (ROOT / "template.yaml").read_text()[:2000]
        self.assertTrue("at most 22 characters" in header, "the template header states the limit")


if __name__ == "__main__":
    unittest.main()
