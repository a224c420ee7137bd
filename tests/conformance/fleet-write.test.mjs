// The fleet's mutating operations as the AWS SDK for JavaScript v3 sees them: Auto Scaling capacity, processes,
// protection, tags and scaling activities; EC2 launch templates, tags and termination; EKS node group updates.
// Simulated time is moved with the admin clock advance, which runs every fleet event that falls due.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  AutoScalingClient, DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand, UpdateAutoScalingGroupCommand, DescribeScalingActivitiesCommand,
  SuspendProcessesCommand, ResumeProcessesCommand, SetInstanceProtectionCommand, TerminateInstanceInAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand, DeleteTagsCommand, DescribeTagsCommand, paginateDescribeScalingActivities, EnterStandbyCommand, ExitStandbyCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  EC2Client, DescribeLaunchTemplatesCommand, DescribeLaunchTemplateVersionsCommand, CreateLaunchTemplateVersionCommand, ModifyLaunchTemplateCommand,
  CreateTagsCommand, DeleteTagsCommand as Ec2DeleteTagsCommand, DescribeInstancesCommand, TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  EKSClient, UpdateNodegroupConfigCommand, UpdateNodegroupVersionCommand, DescribeUpdateCommand, ListUpdatesCommand, paginateListUpdates,
  InvalidParameterException, ResourceInUseException, ResourceNotFoundException,
} from "@aws-sdk/client-eks";
import { startSimulator, admin } from "./lib/simulator.mjs";

const group = "demo-win-selfmanaged";
let sim, asg, ec2, eks;
before(async () => {
  sim = await startSimulator();
  asg = new AutoScalingClient(sim.aws);
  ec2 = new EC2Client(sim.aws);
  eks = new EKSClient(sim.aws);
});
after(async () => { await sim?.stop(); });

const describeGroup = async (name = group) =>
  (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups[0];

test("Auto Scaling: desired capacity launches, activities page newest first, validation errors are ValidationError", async () => {
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: 5 }));
  let g = await describeGroup();
  assert.equal(g.DesiredCapacity, 5);
  assert.equal(g.Instances.filter((i) => i.LifecycleState === "Pending").length, 1);
  await admin(sim.info, "clock/advance?seconds=900");
  g = await describeGroup();
  assert.equal(g.Instances.filter((i) => i.LifecycleState === "InService").length, 5);

  const activities = [];
  for await (const page of paginateDescribeScalingActivities({ client: asg, pageSize: 1 }, { AutoScalingGroupName: group })) activities.push(...page.Activities);
  assert.ok(activities.length >= 1);
  assert.equal(activities[0].StatusCode, "Successful");
  assert.match(activities[0].Description, /^Launching a new EC2 instance: i-0[0-9a-f]{16}$/);
  assert.ok(activities[0].StartTime instanceof Date && activities[0].EndTime instanceof Date);
  assert.equal(JSON.parse(activities[0].Details)["Availability Zone"].startsWith("us-west-2"), true);

  await assert.rejects(asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: 99 })),
    (e) => e.name === "ValidationError" && /above max value 8/.test(e.message) && e.$metadata.httpStatusCode === 400);
  await assert.rejects(asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: "nope", MinSize: 1 })), (e) => e.name === "ValidationError");
});

test("Auto Scaling: standby keeps an instance in the group but out of its desired capacity", async () => {
  let g = await describeGroup();
  const desired = g.DesiredCapacity;
  const [standby] = g.Instances.filter((i) => i.LifecycleState === "InService").map((i) => i.InstanceId);
  const entered = await asg.send(new EnterStandbyCommand({ AutoScalingGroupName: group, InstanceIds: [standby], ShouldDecrementDesiredCapacity: false }));
  assert.equal(entered.Activities.length, 1);
  assert.equal(entered.Activities[0].Description, `Moving EC2 instance to Standby: ${standby}`);
  assert.equal(entered.Activities[0].StatusCode, "Successful");
  g = await describeGroup();
  assert.equal(g.Instances.find((i) => i.InstanceId === standby).LifecycleState, "Standby");
  assert.equal(g.DesiredCapacity, desired);
  // Without the decrement the group launches a replacement for the instance on standby.
  assert.equal(g.Instances.filter((i) => i.LifecycleState === "Pending").length, 1);
  await assert.rejects(asg.send(new EnterStandbyCommand({ AutoScalingGroupName: group, InstanceIds: [standby], ShouldDecrementDesiredCapacity: true })),
    (e) => e.name === "ValidationError" && e.message === `The instance ${standby} is not in InService.`);

  const exited = await asg.send(new ExitStandbyCommand({ AutoScalingGroupName: group, InstanceIds: [standby] }));
  assert.equal(exited.Activities[0].Description, `Moving EC2 instance out of Standby: ${standby}`);
  g = await describeGroup();
  assert.equal(g.Instances.find((i) => i.InstanceId === standby).LifecycleState, "InService");
  assert.equal(g.DesiredCapacity, desired + 1);
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: desired }));
  await admin(sim.info, "clock/advance?seconds=900");
});

test("Auto Scaling: processes, protection, termination and tags", async () => {
  await asg.send(new SuspendProcessesCommand({ AutoScalingGroupName: group, ScalingProcesses: ["AZRebalance", "Launch"] }));
  let g = await describeGroup();
  assert.deepEqual(g.SuspendedProcesses.map((p) => p.ProcessName).sort(), ["AZRebalance", "Launch"]);
  await asg.send(new ResumeProcessesCommand({ AutoScalingGroupName: group, ScalingProcesses: ["AZRebalance", "Launch"] }));
  g = await describeGroup();
  assert.deepEqual(g.SuspendedProcesses, []);

  const [first, second] = g.Instances.filter((i) => i.LifecycleState === "InService").map((i) => i.InstanceId);
  await asg.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: group, InstanceIds: [first], ProtectedFromScaleIn: true }));
  g = await describeGroup();
  assert.equal(g.Instances.find((i) => i.InstanceId === first).ProtectedFromScaleIn, true);
  await assert.rejects(asg.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: group, InstanceIds: ["i-0123456789abcdef0"], ProtectedFromScaleIn: true })),
    (e) => e.name === "ValidationError");

  const { Activity } = await asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: second, ShouldDecrementDesiredCapacity: true }));
  assert.equal(Activity.Description, `Terminating EC2 instance: ${second}`);
  assert.match(Activity.Cause, /taken out of service in response to a user request, shrinking the capacity/);
  assert.equal((await describeGroup()).DesiredCapacity, 4);

  await asg.send(new CreateOrUpdateTagsCommand({ Tags: [{ ResourceId: group, ResourceType: "auto-scaling-group", Key: "wineks:rollout", Value: "r-1", PropagateAtLaunch: false }] }));
  const { Tags } = await asg.send(new DescribeTagsCommand({ Filters: [{ Name: "auto-scaling-group", Values: [group] }, { Name: "key", Values: ["wineks:rollout"] }] }));
  assert.deepEqual(Tags.map((t) => [t.Key, t.Value, t.PropagateAtLaunch]), [["wineks:rollout", "r-1", false]]);
  await asg.send(new DeleteTagsCommand({ Tags: [{ ResourceId: group, ResourceType: "auto-scaling-group", Key: "wineks:rollout" }] }));
  assert.equal((await asg.send(new DescribeTagsCommand({ Filters: [{ Name: "key", Values: ["wineks:rollout"] }] }))).Tags.length, 0);
  await assert.rejects(asg.send(new DescribeTagsCommand({ Filters: [{ Name: "colour", Values: ["x"] }] })), (e) => e.name === "ValidationError");
});

test("EC2: launch template versions from a source version, default version, tags and termination", async () => {
  const { LaunchTemplates } = await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [group] }));
  const lt = LaunchTemplates[0];
  assert.equal(lt.DefaultVersionNumber, 1);
  const { LaunchTemplateVersions: [v1] } = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.LaunchTemplateId, Versions: ["$Default"] }));
  const { LaunchTemplateVersion: v2, Warning } = await ec2.send(new CreateLaunchTemplateVersionCommand({
    LaunchTemplateId: lt.LaunchTemplateId, SourceVersion: "1", LaunchTemplateData: { ImageId: "ami-0123456789abcdef0" },
  }));
  assert.equal(v2.VersionNumber, 2);
  assert.equal(v2.LaunchTemplateData.UserData, v1.LaunchTemplateData.UserData);
  assert.equal(Warning.Errors[0].Code, "InvalidAMIID.NotFound");
  const { LaunchTemplate } = await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: lt.LaunchTemplateId, DefaultVersion: "2" }));
  assert.equal(LaunchTemplate.DefaultVersionNumber, 2);
  assert.equal(LaunchTemplate.LatestVersionNumber, 2);
  await assert.rejects(ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.LaunchTemplateId, Versions: ["9"] })),
    (e) => e.name === "InvalidLaunchTemplateId.VersionNotFound");
  await assert.rejects(ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ["lt-0123456789abcdef0"] })), (e) => e.name === "InvalidLaunchTemplateId.NotFound");

  const g = await describeGroup();
  const id = g.Instances.find((i) => i.LifecycleState === "InService" && !i.ProtectedFromScaleIn).InstanceId;
  await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "patch", Value: "pending" }] }));
  let { Reservations } = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:patch", Values: ["pending"] }] }));
  assert.deepEqual(Reservations.flatMap((r) => r.Instances.map((i) => i.InstanceId)), [id]);
  await ec2.send(new Ec2DeleteTagsCommand({ Resources: [id], Tags: [{ Key: "patch" }] }));
  ({ Reservations } = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:patch", Values: ["pending"] }] })));
  assert.equal(Reservations.length, 0);
  await assert.rejects(ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "aws:x", Value: "y" }] })), (e) => e.name === "InvalidParameterValue");

  const { TerminatingInstances: [change] } = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  assert.equal(change.CurrentState.Name, "shutting-down");
  await admin(sim.info, "clock/advance?seconds=300");
  ({ Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })));
  assert.equal(Reservations[0].Instances[0].State.Name, "terminated");
});

test("EKS: config and version updates, DescribeUpdate and ListUpdates, errors", async () => {
  const { update: config } = await eks.send(new UpdateNodegroupConfigCommand({ clusterName: "demo", nodegroupName: "win-managed", updateConfig: { maxUnavailable: 2 } }));
  assert.equal(config.type, "ConfigUpdate");
  assert.equal(config.status, "InProgress");
  assert.ok(config.createdAt instanceof Date);
  await assert.rejects(eks.send(new UpdateNodegroupVersionCommand({ clusterName: "demo", nodegroupName: "win-managed" })), (e) => e instanceof ResourceInUseException);
  await admin(sim.info, "clock/advance?seconds=60");
  const { update: done } = await eks.send(new DescribeUpdateCommand({ name: "demo", nodegroupName: "win-managed", updateId: config.id }));
  assert.equal(done.status, "Successful");

  const { update } = await eks.send(new UpdateNodegroupVersionCommand({ clusterName: "demo", nodegroupName: "win-managed", force: true }));
  assert.equal(update.type, "VersionUpdate");
  assert.ok(update.params.some((p) => p.type === "ReleaseVersion" && /^1\.31-2026\.09\./.test(p.value)));
  await admin(sim.info, "clock/advance?seconds=7200");
  const { update: finished } = await eks.send(new DescribeUpdateCommand({ name: "demo", nodegroupName: "win-managed", updateId: update.id }));
  assert.equal(finished.status, "Successful");
  const { updateIds } = await eks.send(new ListUpdatesCommand({ name: "demo", nodegroupName: "win-managed" }));
  assert.deepEqual(updateIds, [config.id, update.id]);
  const pages = [];
  for await (const page of paginateListUpdates({ client: eks, pageSize: 1 }, { name: "demo", nodegroupName: "win-managed" })) pages.push(page.updateIds);
  assert.deepEqual(pages, [[config.id], [update.id]]);

  await assert.rejects(eks.send(new UpdateNodegroupVersionCommand({ clusterName: "demo", nodegroupName: "win-managed", version: "1.40" })), (e) => e instanceof InvalidParameterException);
  await assert.rejects(eks.send(new DescribeUpdateCommand({ name: "demo", nodegroupName: "win-managed", updateId: "nope" })), (e) => e instanceof ResourceNotFoundException);
});
