// CloudWatch alarms as the AWS SDK for JavaScript v3 sees them (JSON 1.0, query-compatible errors): each account and
// region has its own alarms, DescribeAlarms filters and pages as documented, SetAlarmState moves an alarm, and the
// errors are the model's. The fleet scenario has an OK alarm on each cluster's web tier.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand, SetAlarmStateCommand, DeleteAlarmsCommand,
  ResourceNotFound, InvalidParameterCombinationException, InvalidFormatFault, MissingRequiredParameterException,
} from "@aws-sdk/client-cloudwatch";
import { startSimulator, admin, useSimulatorProfiles } from "./lib/simulator.mjs";

let sim;
before(async () => {
  sim = await startSimulator({ scenario: "fleet" });
  useSimulatorProfiles(sim.info);
});
after(async () => { await sim?.stop(); });

const cloudwatch = (profile, region) => new CloudWatchClient({ profile, region, maxAttempts: 1 });

test("each account and region has its own alarms", async () => {
  const { MetricAlarms: [alarm] } = await cloudwatch("dev", "us-west-2").send(new DescribeAlarmsCommand({ AlarmNames: ["dev-usw2-windows-5xx"] }));
  const dev = sim.info.accounts.find((a) => a.profile === "dev");
  assert.equal(alarm.AlarmArn, `arn:aws:cloudwatch:us-west-2:${dev.accountId}:alarm:dev-usw2-windows-5xx`);
  assert.equal(alarm.StateValue, "OK");
  assert.equal(alarm.MetricName, "HTTPCode_Target_5XX_Count");
  assert.equal(alarm.ComparisonOperator, "GreaterThanThreshold");
  assert.ok(alarm.StateUpdatedTimestamp instanceof Date);
  assert.deepEqual(alarm.Dimensions, [{ Name: "LoadBalancer", Value: "app/dev-usw2-web/50dc6c495c0c9188" }]);
  // Another account in the same region, or the same account in another region: not there.
  for (const [profile, region] of [["prod", "us-west-2"], ["dev", "eu-west-1"]]) {
    const { MetricAlarms } = await cloudwatch(profile, region).send(new DescribeAlarmsCommand({ AlarmNames: ["dev-usw2-windows-5xx"] }));
    assert.deepEqual(MetricAlarms, [], `${profile} ${region}`);
  }
});

test("PutMetricAlarm makes an alarm with no data yet; DescribeAlarms filters by prefix and state and pages", async () => {
  const client = cloudwatch("staging", "eu-west-1");
  for (const name of ["staging-euw1-nodes-a", "staging-euw1-nodes-b", "staging-euw1-nodes-c"]) {
    await client.send(new PutMetricAlarmCommand({
      AlarmName: name, Namespace: "ContainerInsights", MetricName: "node_status_condition_ready", Statistic: "Minimum",
      Dimensions: [{ Name: "ClusterName", Value: "staging-euw1" }], Period: 60, EvaluationPeriods: 2, Threshold: 1, ComparisonOperator: "LessThanThreshold",
    }));
  }
  const fresh = await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: "staging-euw1-nodes-", StateValue: "INSUFFICIENT_DATA" }));
  assert.deepEqual(fresh.MetricAlarms.map((a) => a.AlarmName), ["staging-euw1-nodes-a", "staging-euw1-nodes-b", "staging-euw1-nodes-c"]);
  assert.equal(fresh.MetricAlarms[0].StateReason, "Unchecked: Initial alarm creation");
  const seen = [];
  let NextToken;
  do {
    const page = await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: "staging-euw1-", MaxRecords: 2, NextToken }));
    seen.push(...page.MetricAlarms.map((a) => a.AlarmName));
    NextToken = page.NextToken;
  } while (NextToken);
  assert.deepEqual(seen, ["staging-euw1-nodes-a", "staging-euw1-nodes-b", "staging-euw1-nodes-c", "staging-euw1-windows-5xx"]);
  const ok = await client.send(new DescribeAlarmsCommand({ StateValue: "OK" }));
  assert.deepEqual(ok.MetricAlarms.map((a) => a.AlarmName), ["staging-euw1-windows-5xx"]);
  // Composite alarms are returned only when asked for (there are none).
  const both = await client.send(new DescribeAlarmsCommand({ AlarmTypes: ["CompositeAlarm", "MetricAlarm"], AlarmNamePrefix: "staging-euw1-windows" }));
  assert.deepEqual(both.CompositeAlarms, []);
  await client.send(new DeleteAlarmsCommand({ AlarmNames: ["staging-euw1-nodes-a", "staging-euw1-nodes-b", "staging-euw1-nodes-c"] }));
  assert.deepEqual((await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: "staging-euw1-nodes-" }))).MetricAlarms, []);
});

test("SetAlarmState moves an alarm; a transition moves StateTransitionedTimestamp, a repeat does not", async () => {
  const client = cloudwatch("prod", "eu-west-1");
  const name = "prod-euw1-windows-5xx";
  const describe = async () => (await client.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms[0];
  const before = await describe();
  await client.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: "ALARM", StateReason: "testing the gate", StateReasonData: "{\"version\":\"1.0\"}" }));
  const tripped = await describe();
  assert.equal(tripped.StateValue, "ALARM");
  assert.equal(tripped.StateReason, "testing the gate");
  assert.equal(tripped.StateReasonData, "{\"version\":\"1.0\"}");
  assert.ok(tripped.StateTransitionedTimestamp > before.StateTransitionedTimestamp);
  await admin(sim.info, "clock/advance?seconds=60");
  await client.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: "ALARM", StateReason: "still" }));
  const again = await describe();
  assert.equal(again.StateTransitionedTimestamp.getTime(), tripped.StateTransitionedTimestamp.getTime());
  assert.ok(again.StateUpdatedTimestamp > tripped.StateUpdatedTimestamp);
  await client.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: "OK", StateReason: "back" }));
});

test("errors are the model's, with their awsQuery codes", async () => {
  const client = cloudwatch("dev", "us-west-2");
  await assert.rejects(client.send(new SetAlarmStateCommand({ AlarmName: "no-such-alarm", StateValue: "ALARM", StateReason: "x" })), (e) => {
    assert.ok(e instanceof ResourceNotFound, e.name);
    assert.equal(e.$metadata.httpStatusCode, 404);
    assert.equal(e.Error.Code, "ResourceNotFound");
    assert.match(e.message, /no-such-alarm/);
    return true;
  });
  await assert.rejects(client.send(new DescribeAlarmsCommand({ AlarmNames: ["a"], AlarmNamePrefix: "b" })),
    (e) => e instanceof InvalidParameterCombinationException && e.Error.Code === "InvalidParameterCombination");
  await assert.rejects(client.send(new SetAlarmStateCommand({ AlarmName: "dev-usw2-windows-5xx", StateValue: "ALARM", StateReason: "x", StateReasonData: "{not json" })),
    (e) => e instanceof InvalidFormatFault && e.Error.Code === "InvalidFormat");
  await assert.rejects(client.send(new PutMetricAlarmCommand({ AlarmName: "half", ComparisonOperator: "GreaterThanThreshold" })),
    (e) => e instanceof MissingRequiredParameterException && e.Error.Code === "MissingParameter");
  await assert.rejects(client.send(new DescribeAlarmsCommand({ StateValue: "RED" })), (e) => e.Error.Code === "ValidationError" && e.$metadata.httpStatusCode === 400);
  await assert.rejects(client.send(new DeleteAlarmsCommand({ AlarmNames: ["dev-usw2-windows-5xx", "no-such-alarm"] })), (e) => e instanceof ResourceNotFound);
  // All or nothing: the alarm that exists is still there.
  assert.equal((await client.send(new DescribeAlarmsCommand({ AlarmNames: ["dev-usw2-windows-5xx"] }))).MetricAlarms.length, 1);
});

test("an alarm fault names an alarm of its account and region", async () => {
  const dev = sim.info.accounts.find((a) => a.profile === "dev");
  const rule = { kind: "alarm", imageId: "ami-0123456789abcdef0", alarmName: "dev-usw2-windows-5xx", afterSeconds: 120 };
  await assert.rejects(admin(sim.info, `fleet/faults?account=${dev.accountId}&region=eu-west-1`, { body: rule }), /400 .*no CloudWatch alarm named dev-usw2-windows-5xx/);
  await assert.rejects(admin(sim.info, "fleet/faults", { body: { ...rule, alarmName: undefined } }), /400 .*alarmName/);
  const added = await admin(sim.info, "fleet/faults", { body: rule });
  assert.equal(added.alarmName, "dev-usw2-windows-5xx");
  await admin(sim.info, `fleet/faults/${added.id}`, { method: "DELETE" });
});
