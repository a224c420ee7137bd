// SSM documents and Automation executions as the AWS SDK for JavaScript v3 sees them: a document is created and
// described, an execution runs its steps (branch, sleep on the simulated clock, an approval, a PowerShell script) with
// its status, step outputs and failures readable through the API, and a multi-account, multi-Region execution runs one
// child per account and Region under its rate control, and stops when its alarm goes into ALARM.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  SSMClient, CreateDocumentCommand, DescribeDocumentCommand, GetDocumentCommand, ListDocumentsCommand, StartAutomationExecutionCommand,
  GetAutomationExecutionCommand, DescribeAutomationExecutionsCommand, DescribeAutomationStepExecutionsCommand, SendAutomationSignalCommand,
  StopAutomationExecutionCommand, DocumentAlreadyExists, InvalidDocumentContent, InvalidDocument, InvalidAutomationExecutionParametersException,
  AutomationExecutionNotFoundException, InvalidAutomationSignalException, IdempotentParameterMismatch,
} from "@aws-sdk/client-ssm";
import { CloudWatchClient, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { startSimulator, admin, powershellDll, useSimulatorProfiles } from "./lib/simulator.mjs";

let sim;
before(async () => {
  sim = await startSimulator({ scenario: "fleet", extraArgs: ["--powershell", powershellDll()] });
  useSimulatorProfiles(sim.info);
  for (const profile of ["dev", "prod"]) {
    for (const region of ["us-west-2", "eu-west-1"]) {
      await ssm(profile, region).send(new CreateDocumentCommand({ Name: "Greet", DocumentType: "Automation", DocumentFormat: "YAML", Content: runbook }));
    }
  }
});
after(async () => { await sim?.stop(); });

const ssm = (profile = "dev", region = "us-west-2") => new SSMClient({ profile, region, maxAttempts: 1 });
const account = (profile) => sim.info.accounts.find((a) => a.profile === profile);

// A runbook of every action the simulator runs. The script returns where it ran (its credentials and Region, as
// Automation gives them) and what it was given.
const runbook = `
schemaVersion: '0.3'
description: Greets, after a wait and an approval.
parameters:
  Name: { type: String, allowedPattern: '^[a-z]+$' }
  Skip: { type: Boolean, default: false }
  Approvers: { type: StringList, default: [] }
  Fail: { type: Boolean, default: false }
mainSteps:
  - name: Decide
    action: aws:branch
    inputs:
      Choices:
        - { NextStep: Greet, Variable: '{{ Skip }}', BooleanEquals: true }
      Default: Wait
  - name: Wait
    action: aws:sleep
    inputs: { Duration: PT1H }
  - name: Approve
    action: aws:approve
    inputs: { Approvers: '{{ Approvers }}', MinRequiredApprovals: 1, Message: 'Greet {{ Name }}?' }
  - name: Greet
    action: aws:executeScript
    timeoutSeconds: 120
    inputs:
      Runtime: PowerShell 7.4
      InputPayload: { Name: '{{ Name }}', Fail: '{{ Fail }}', Execution: '{{ automation:EXECUTION_ID }}' }
      Script: |-
        $in = $env:InputPayload | ConvertFrom-Json
        if ($in.Fail -eq 'true') { throw "no greeting for $($in.Name)" }
        return @{ Greeting = "hello $($in.Name)"; Region = $env:AWS_REGION; Key = $env:AWS_ACCESS_KEY_ID; Execution = $in.Execution }
    outputs:
      - { Name: Greeting, Selector: $.Payload.Greeting, Type: String }
      - { Name: Region, Selector: $.Payload.Region, Type: String }
      - { Name: Key, Selector: $.Payload.Key, Type: String }
    isEnd: true
outputs:
  - Greet.Greeting
`;

const waitFor = async (client, id, statuses, seconds = 60, step = undefined) => {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const { AutomationExecution: e } = await client.send(new GetAutomationExecutionCommand({ AutomationExecutionId: id }));
    if (statuses.includes(e.AutomationExecutionStatus) && (step === undefined || e.CurrentStepName === step)) return e;
    if (Date.now() > deadline) throw new Error(`execution ${id} is ${e.AutomationExecutionStatus}, not ${statuses}: ${JSON.stringify(e.StepExecutions?.map((s) => [s.StepName, s.StepStatus, s.FailureMessage]))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

test("a document is created, described, read back and listed; the errors are the service's", async () => {
  const client = ssm();
  const { Document: d } = await client.send(new DescribeDocumentCommand({ Name: "Greet" }));
  assert.equal(d.DocumentType, "Automation");
  assert.equal(d.SchemaVersion, "0.3");
  assert.equal(d.Owner, account("dev").accountId);
  assert.deepEqual(d.Parameters.map((p) => [p.Name, p.Type, p.DefaultValue]), [["Name", "String", undefined], ["Skip", "Boolean", "false"], ["Approvers", "StringList", "[]"], ["Fail", "Boolean", "false"]]);
  assert.equal((await client.send(new GetDocumentCommand({ Name: "Greet" }))).Content, runbook);
  const { DocumentIdentifiers } = await client.send(new ListDocumentsCommand({ Filters: [{ Key: "DocumentType", Values: ["Automation"] }] }));
  assert.deepEqual(DocumentIdentifiers.map((i) => i.Name), ["Greet"]);
  await assert.rejects(client.send(new CreateDocumentCommand({ Name: "Greet", DocumentType: "Automation", DocumentFormat: "YAML", Content: runbook })), DocumentAlreadyExists);
  await assert.rejects(client.send(new CreateDocumentCommand({ Name: "Odd", DocumentType: "Automation", DocumentFormat: "YAML",
    Content: "schemaVersion: '0.3'\nmainSteps:\n  - { name: A, action: aws:invokeLambdaFunction }\n" })), (e) => e instanceof InvalidDocumentContent && /aws:invokeLambdaFunction/.test(e.message));
  await assert.rejects(ssm("staging").send(new DescribeDocumentCommand({ Name: "Greet" })), InvalidDocument, "staging has no such document");
});

test("parameters are checked against the document before anything runs", async () => {
  const client = ssm();
  for (const [Parameters, pattern] of [[{}, /"Name" is required/], [{ Name: ["Bob"] }, /allowed pattern/], [{ Name: ["bob"], Color: ["red"] }, /"Color" is not defined/],
    [{ Name: ["bob"], Skip: ["maybe"] }, /true or false/]]) {
    await assert.rejects(client.send(new StartAutomationExecutionCommand({ DocumentName: "Greet", Parameters })),
      (e) => e instanceof InvalidAutomationExecutionParametersException && pattern.test(e.message), JSON.stringify(Parameters));
  }
  await assert.rejects(client.send(new StartAutomationExecutionCommand({ DocumentName: "Nope" })), InvalidDocument);
  await assert.rejects(client.send(new GetAutomationExecutionCommand({ AutomationExecutionId: "00000000-0000-0000-0000-000000000000" })), AutomationExecutionNotFoundException);
});

test("an execution sleeps on the simulated clock, waits for its approval, runs its script, and reports each step", async () => {
  const client = ssm();
  const me = `arn:aws:iam::${account("dev").accountId}:user/wineks-simulator`;
  const { AutomationExecutionId: id } = await client.send(new StartAutomationExecutionCommand({ DocumentName: "Greet", Parameters: { Name: ["alice"], Approvers: [me] } }));
  let e = await waitFor(client, id, ["InProgress"], 60, "Wait");
  assert.deepEqual(e.StepExecutions.map((s) => [s.StepName, s.StepStatus]), [["Decide", "Success"], ["Wait", "InProgress"]], "the branch chose the sleep");
  await assert.rejects(client.send(new SendAutomationSignalCommand({ AutomationExecutionId: id, SignalType: "Approve" })), InvalidAutomationSignalException, "not waiting for an approval yet");
  await admin(sim.info, "clock/advance?seconds=3600");
  e = await waitFor(client, id, ["Waiting"]);
  assert.equal(e.CurrentStepName, "Approve");
  await client.send(new SendAutomationSignalCommand({ AutomationExecutionId: id, SignalType: "Approve", Payload: { Comment: ["go"] } }));
  e = await waitFor(client, id, ["Success", "Failed"]);
  assert.equal(e.AutomationExecutionStatus, "Success", e.FailureMessage);
  assert.deepEqual(e.StepExecutions.map((s) => [s.StepName, s.StepStatus]), [["Decide", "Success"], ["Wait", "Success"], ["Approve", "Success"], ["Greet", "Success"]]);
  const greet = e.StepExecutions[3];
  assert.deepEqual(greet.Outputs.Greeting, ["hello alice"]);
  assert.deepEqual(greet.Outputs.Region, ["us-west-2"]);
  assert.deepEqual(greet.Outputs.Key, [account("dev").accessKeyId], "the script runs with its account's credentials");
  assert.equal(JSON.parse(greet.Outputs.OutputPayload[0]).Payload.Execution, id);
  assert.deepEqual(e.Outputs["Greet.Greeting"], ["hello alice"]);
  assert.equal(e.StepExecutions[2].Outputs.ApprovalStatus[0], "Approved");
  assert.ok(e.StepExecutions[1].ExecutionEndTime - e.StepExecutions[1].ExecutionStartTime >= 3600_000, "an hour of simulated time");
  const { StepExecutions: steps } = await client.send(new DescribeAutomationStepExecutionsCommand({ AutomationExecutionId: id, Filters: [{ Key: "Action", Values: ["aws:executeScript"] }] }));
  assert.deepEqual(steps.map((s) => s.StepName), ["Greet"]);
  const { AutomationExecutionMetadataList: listed } = await client.send(new DescribeAutomationExecutionsCommand({ Filters: [{ Key: "ExecutionId", Values: [id] }] }));
  assert.equal(listed[0].AutomationExecutionStatus, "Success");
});

test("a script that throws fails its step and the execution, with its message; a stop cancels a waiting execution", async () => {
  const client = ssm();
  const { AutomationExecutionId: failing } = await client.send(new StartAutomationExecutionCommand({ DocumentName: "Greet", Parameters: { Name: ["bob"], Skip: ["true"], Fail: ["true"] } }));
  const failed = await waitFor(client, failing, ["Success", "Failed"]);
  assert.equal(failed.AutomationExecutionStatus, "Failed");
  assert.match(failed.FailureMessage, /^Step Greet failed: no greeting for bob/);
  assert.equal(failed.StepExecutions.at(-1).StepStatus, "Failed");
  assert.equal(failed.StepExecutions.at(-1).FailureMessage, "no greeting for bob");

  const { AutomationExecutionId: waiting } = await client.send(new StartAutomationExecutionCommand({ DocumentName: "Greet", Parameters: { Name: ["carol"] } }));
  await waitFor(client, waiting, ["InProgress"], 60, "Wait");
  await client.send(new StopAutomationExecutionCommand({ AutomationExecutionId: waiting }));
  const stopped = await waitFor(client, waiting, ["Cancelled"]);
  assert.deepEqual(stopped.StepExecutions.map((s) => [s.StepName, s.StepStatus]), [["Decide", "Success"], ["Wait", "Cancelled"]]);
  await assert.rejects(client.send(new StopAutomationExecutionCommand({ AutomationExecutionId: waiting })), /Cancelled and cannot be stopped/);
});

test("TargetLocations run one child per account and Region, at most TargetLocationMaxConcurrency at once", async () => {
  const client = ssm();
  const accounts = [account("dev").accountId, account("prod").accountId];
  const { AutomationExecutionId: id } = await client.send(new StartAutomationExecutionCommand({
    DocumentName: "Greet", Parameters: { Name: ["fleet"], Skip: ["true"] },
    TargetLocations: [{ Accounts: accounts, Regions: ["us-west-2", "eu-west-1"], TargetLocationMaxConcurrency: "2", TargetLocationMaxErrors: "0" }],
  }));
  const parent = await waitFor(client, id, ["Success", "Failed"], 180);
  assert.equal(parent.AutomationExecutionStatus, "Success", parent.FailureMessage);
  const { AutomationExecutionMetadataList: [listed] } = await client.send(new DescribeAutomationExecutionsCommand({ Filters: [{ Key: "ExecutionId", Values: [id] }] }));
  assert.equal(listed.AutomationType, "CrossAccount");
  assert.deepEqual(parent.StepExecutions.map((s) => [s.TargetLocation.Accounts[0], s.TargetLocation.Regions[0], s.StepStatus]),
    accounts.flatMap((a) => [[a, "us-west-2", "Success"], [a, "eu-west-1", "Success"]]));
  const { AutomationExecutionMetadataList: children } = await client.send(new DescribeAutomationExecutionsCommand({ Filters: [{ Key: "ParentExecutionId", Values: [id] }] }));
  assert.equal(children.length, 4);
  for (const step of parent.StepExecutions) {
    const { AutomationExecution: child } = await client.send(new GetAutomationExecutionCommand({ AutomationExecutionId: step.Outputs.ExecutionId[0] }));
    assert.equal(child.ParentAutomationExecutionId, id);
    const greet = child.StepExecutions.find((s) => s.StepName === "Greet");
    assert.deepEqual(greet.Outputs.Region, step.TargetLocation.Regions, "each child runs in its Region");
    assert.deepEqual(greet.Outputs.Key, [sim.info.accounts.find((a) => a.accountId === step.TargetLocation.Accounts[0]).accessKeyId], "and with its account's credentials");
  }
  // At most two children at once: no moment has three of them running.
  const spans = parent.StepExecutions.map((s) => [s.ExecutionStartTime.getTime(), s.ExecutionEndTime.getTime()]);
  const running = spans.map(([start]) => spans.filter(([s, e]) => s <= start && start < e).length);
  assert.ok(Math.max(...running) === 2, `two at a time, never three: ${running}`);
  // The child is in its own account: prod sees its executions there (and not dev's).
  const prodChild = parent.StepExecutions.find((s) => s.TargetLocation.Accounts[0] === account("prod").accountId).Outputs.ExecutionId[0];
  const { AutomationExecution: there } = await ssm("prod").send(new GetAutomationExecutionCommand({ AutomationExecutionId: prodChild }));
  assert.equal(there.AutomationExecutionStatus, "Success");
});

test("TargetLocations may name an organizational unit: every account in it, less ExcludeAccounts", async () => {
  const client = ssm();
  const start = (location) => client.send(new StartAutomationExecutionCommand({
    DocumentName: "Greet", Parameters: { Name: ["units"], Skip: ["true"] },
    TargetLocations: [{ Regions: ["us-west-2"], TargetLocationMaxConcurrency: "2", ...location }],
  }));
  const accountsOf = async (id) => (await waitFor(client, id, ["Success", "Failed"], 120)).StepExecutions.map((s) => s.TargetLocation.Accounts[0]).sort();
  const all = await start({ Accounts: ["ou-f1t2-nonprod1"] });
  assert.deepEqual(await accountsOf(all.AutomationExecutionId), [account("dev").accountId, account("staging").accountId].sort());
  const some = await start({ Accounts: ["ou-f1t2-nonprod1"], ExcludeAccounts: [account("dev").accountId] });
  assert.deepEqual(await accountsOf(some.AutomationExecutionId), [account("staging").accountId]);
  await assert.rejects(start({ Accounts: ["ou-zzzz-nosuchunit"] }), /organizational unit ou-zzzz-nosuchunit has no account/);
});

test("a ClientToken makes a start idempotent: the same request returns the same execution, another is refused", async () => {
  const client = ssm();
  const ClientToken = "6f1c2a9e-0b5d-4c1e-9a3b-7d2e8f4a1c05";
  const request = { DocumentName: "Greet", Parameters: { Name: ["token"], Skip: ["true"] }, ClientToken };
  const first = await client.send(new StartAutomationExecutionCommand(request));
  const again = await client.send(new StartAutomationExecutionCommand({ ...request, ClientToken: ClientToken.toUpperCase() }));
  assert.equal(again.AutomationExecutionId, first.AutomationExecutionId, "case insensitive, as the token is");
  await assert.rejects(client.send(new StartAutomationExecutionCommand({ ...request, Parameters: { Name: ["other"] } })),
    (e) => e instanceof IdempotentParameterMismatch);
  await assert.rejects(client.send(new StartAutomationExecutionCommand({ ...request, ClientToken: "not-a-uuid" })), /UUID format/);
  await waitFor(client, first.AutomationExecutionId, ["Success"]);
});

test("past TargetLocationMaxErrors no further location starts, and the parent fails naming the locations", async () => {
  const client = ssm();
  const { AutomationExecutionId: id } = await client.send(new StartAutomationExecutionCommand({
    DocumentName: "Greet", Parameters: { Name: ["fleet"], Skip: ["true"], Fail: ["true"] },
    TargetLocations: [{ Accounts: [account("dev").accountId, account("prod").accountId], Regions: ["us-west-2"], TargetLocationMaxConcurrency: "1", TargetLocationMaxErrors: "0" }],
  }));
  const parent = await waitFor(client, id, ["Success", "Failed"], 120);
  assert.equal(parent.AutomationExecutionStatus, "Failed");
  assert.equal(parent.StepExecutions.length, 1, "the second location never started");
  assert.match(parent.FailureMessage, /TargetLocationMaxErrors was exceeded/);
});

test("an execution whose alarm goes into ALARM is stopped, and its running children with it", async () => {
  const client = ssm();
  const alarm = "dev-usw2-windows-5xx";
  const { AutomationExecutionId: id } = await client.send(new StartAutomationExecutionCommand({
    DocumentName: "Greet", Parameters: { Name: ["alarmed"] },
    TargetLocations: [{ Accounts: [account("dev").accountId, account("prod").accountId], Regions: ["us-west-2"], TargetLocationMaxConcurrency: "2" }],
    AlarmConfiguration: { Alarms: [{ Name: alarm }] },
  }));
  await waitFor(client, id, ["InProgress"]);
  const cloudwatch = new CloudWatchClient({ profile: "dev", region: "us-west-2", maxAttempts: 1 });
  await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: alarm, StateValue: "ALARM", StateReason: "5XX above 50" }));
  try {
    const parent = await waitFor(client, id, ["Cancelled", "Success", "Failed"]);
    assert.equal(parent.AutomationExecutionStatus, "Cancelled");
    assert.deepEqual(parent.TriggeredAlarms, [{ Name: alarm, State: "ALARM" }]);
    assert.match(parent.FailureMessage, /dev-usw2-windows-5xx went into ALARM/);
    for (const step of parent.StepExecutions) {
      const { AutomationExecution: child } = await client.send(new GetAutomationExecutionCommand({ AutomationExecutionId: step.Outputs.ExecutionId[0] }));
      assert.equal(child.AutomationExecutionStatus, "Cancelled");
    }
    await assert.rejects(client.send(new StartAutomationExecutionCommand({ DocumentName: "Greet", Parameters: { Name: ["x"] }, AlarmConfiguration: { Alarms: [{ Name: "no-such-alarm" }] } })),
      /no-such-alarm does not exist/);
  } finally {
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: alarm, StateValue: "OK", StateReason: "back" }));
  }
});
