// A Windows launch as the AWS SDK for JavaScript v3 sees it: EC2 GetConsoleOutput (no output while Sysprep specialize and
// OOBE run, then EC2Launch v2's lines ending with "Windows is Ready to use", which is what tools such as kitchen-ec2 wait
// for), its documented errors by name, and the boot phases on the simulator report's timeline. Simulated time is moved
// with the admin clock advance; the clock does not run by itself (time scale 1, advances of minutes).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { EC2Client, DescribeInstancesCommand, GetConsoleOutputCommand } from "@aws-sdk/client-ec2";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand } from "@aws-sdk/client-auto-scaling";
import { startSimulator, admin } from "./lib/simulator.mjs";

const group = "demo-win-selfmanaged";
let sim, ec2, asg;
before(async () => {
  sim = await startSimulator();
  ec2 = new EC2Client(sim.aws);
  asg = new AutoScalingClient(sim.aws);
});
after(async () => { await sim?.stop(); });

const members = async () => (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }))).AutoScalingGroups[0];

/** EC2Launch v2's console lines: "yyyy/MM/dd HH:mm:ssZ: message". */
const consoleLine = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)Z: (.+)$/;

test("GetConsoleOutput: nothing before Windows is ready, then EC2Launch v2's lines ending with 'Windows is Ready to use'", async () => {
  const before = await members();
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: before.DesiredCapacity + 1 }));
  const known = new Set(before.Instances.map((i) => i.InstanceId));
  const launched = (await members()).Instances.find((i) => !known.has(i.InstanceId)).InstanceId;

  await admin(sim.info, "clock/advance?seconds=120"); // running; Sysprep specialize and OOBE take at least 170 s more
  const early = await ec2.send(new GetConsoleOutputCommand({ InstanceId: launched }));
  assert.equal(early.InstanceId, launched);
  assert.equal(early.Output, undefined);

  await admin(sim.info, "clock/advance?seconds=300");
  const ready = await ec2.send(new GetConsoleOutputCommand({ InstanceId: launched, Latest: true }));
  assert.equal(ready.InstanceId, launched);
  assert.ok(ready.Timestamp instanceof Date && !Number.isNaN(ready.Timestamp.getTime()));
  const lines = Buffer.from(ready.Output, "base64").toString("utf8").split("\r\n").filter((l) => l.length > 0);
  for (const line of lines) assert.match(line, consoleLine);
  const last = lines.at(-1).match(consoleLine);
  assert.equal(last[7], "Message: Windows is Ready to use");
  // The ready line is stamped when the output was last updated (to the second).
  const stamped = Date.UTC(+last[1], +last[2] - 1, +last[3], +last[4], +last[5], +last[6]);
  assert.equal(stamped, Math.floor(ready.Timestamp.getTime() / 1000) * 1000);
  assert.ok(lines.some((l) => l.endsWith(`: Instance-ID: ${launched}`)));
  assert.ok(lines[0].endsWith(": Windows sysprep configuration complete."));

  // The same story on the report's timeline, phase by phase.
  const report = await admin(sim.info, "report", { method: "GET" });
  const node = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [launched] }))).Reservations[0].Instances[0].PrivateDnsName;
  const mine = report.events.filter((e) => e.node === node && !e.kind.startsWith("Pod"));
  assert.deepEqual(mine.map((e) => e.kind), ["InstanceLaunched", "InstanceRunning", "OsReady", "NodeAdded", "NodeReady", "NodeUsable"]);
  assert.ok(mine.every((e) => e.cluster === "demo" && e.nodeGroup === group));
  const osReady = mine.find((e) => e.kind === "OsReady");
  assert.equal(osReady.detail, "Sysprep specialize and OOBE");
  assert.equal(new Date(osReady.at).getTime(), ready.Timestamp.getTime());
});

test("GetConsoleOutput refusals are EC2's: InvalidInstanceID.NotFound and InvalidInstanceID.Malformed", async () => {
  await assert.rejects(ec2.send(new GetConsoleOutputCommand({ InstanceId: "i-0123456789abcdef0" })), (e) =>
    e.name === "InvalidInstanceID.NotFound" && e.$metadata.httpStatusCode === 400 && e.message === "The instance ID 'i-0123456789abcdef0' does not exist");
  await assert.rejects(ec2.send(new GetConsoleOutputCommand({ InstanceId: "i-nope" })), (e) =>
    e.name === "InvalidInstanceID.Malformed" && e.$metadata.httpStatusCode === 400);
});
