// Auto Scaling lifecycle hooks and instance refreshes as the AWS SDK for JavaScript v3 sees them: the documented
// shapes, the waits (Pending:Wait, Terminating:Wait) and how they end (completed, heartbeat, timeout, hook deleted),
// a refresh that replaces the group's instances, and the documented errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  AutoScalingClient, DescribeAutoScalingGroupsCommand, PutLifecycleHookCommand, DescribeLifecycleHooksCommand, DeleteLifecycleHookCommand,
  CompleteLifecycleActionCommand, RecordLifecycleActionHeartbeatCommand, TerminateInstanceInAutoScalingGroupCommand, SetDesiredCapacityCommand,
  StartInstanceRefreshCommand, DescribeInstanceRefreshesCommand, CancelInstanceRefreshCommand, paginateDescribeInstanceRefreshes,
  DescribeScalingActivitiesCommand, InstanceRefreshInProgressFault, ActiveInstanceRefreshNotFoundFault,
  PutWarmPoolCommand, DescribeWarmPoolCommand, DeleteWarmPoolCommand, paginateDescribeWarmPool,
  UpdateAutoScalingGroupCommand, DetachInstancesCommand,
} from "@aws-sdk/client-auto-scaling";
import { startSimulator, admin } from "./lib/simulator.mjs";

const group = "demo-win-selfmanaged";
let sim, asg;
before(async () => {
  sim = await startSimulator();
  asg = new AutoScalingClient(sim.aws);
});
after(async () => { await sim?.stop(); });

const describeGroup = async () => (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }))).AutoScalingGroups[0];
const stateOf = async (id) => (await describeGroup()).Instances.find((i) => i.InstanceId === id)?.LifecycleState;
const advance = (seconds) => admin(sim.info, `clock/advance?seconds=${seconds}`);
const inService = async () => (await describeGroup()).Instances.filter((i) => i.LifecycleState === "InService").map((i) => i.InstanceId);

test("Lifecycle hooks: put, describe with defaults and the global timeout, validation", async () => {
  await asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: group, LifecycleHookName: "nth", LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING", HeartbeatTimeout: 300 }));
  await asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: group, LifecycleHookName: "warmup", LifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING", HeartbeatTimeout: 60, DefaultResult: "ABANDON" }));
  const { LifecycleHooks } = await asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group }));
  const nth = LifecycleHooks.find((h) => h.LifecycleHookName === "nth");
  assert.deepEqual({ ...nth }, {
    LifecycleHookName: "nth", AutoScalingGroupName: group, LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
    HeartbeatTimeout: 300, GlobalTimeout: 30000, DefaultResult: "ABANDON",
  });
  const named = await asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group, LifecycleHookNames: ["warmup"] }));
  assert.deepEqual(named.LifecycleHooks.map((h) => h.LifecycleHookName), ["warmup"]);

  await assert.rejects(asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: group, LifecycleHookName: "x", LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING", HeartbeatTimeout: 10 })),
    (e) => e.name === "ValidationError" && /heartbeatTimeout/.test(e.message));
  await assert.rejects(asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: group, LifecycleHookName: "x", LifecycleTransition: "autoscaling:EC2_INSTANCE_REBOOTING" })),
    (e) => e.name === "ValidationError");
  await assert.rejects(asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: "no-such-group" })), (e) => e.name === "ValidationError");
  await assert.rejects(asg.send(new DeleteLifecycleHookCommand({ AutoScalingGroupName: group, LifecycleHookName: "no-such-hook" })), (e) => e.name === "ValidationError");
});

test("Lifecycle hooks: a terminated instance waits in Terminating:Wait until completed; a heartbeat moves its timeout", async () => {
  const [victim] = await inService();
  const { Activity } = await asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: victim, ShouldDecrementDesiredCapacity: false }));
  assert.equal(Activity.Description, `Terminating EC2 instance: ${victim}`);
  assert.equal(await stateOf(victim), "Terminating:Wait");
  const activity = (await asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: group }))).Activities.find((a) => a.ActivityId === Activity.ActivityId);
  assert.equal(activity.StatusCode, "MidLifecycleAction");

  await advance(250);
  await asg.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: group, LifecycleHookName: "nth", InstanceId: victim }));
  await advance(250); // 500 s after the start, past the first 300 s timeout: the heartbeat at 250 s moved it to 550 s
  assert.equal(await stateOf(victim), "Terminating:Wait");
  await asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: group, LifecycleHookName: "nth", InstanceId: victim, LifecycleActionResult: "CONTINUE" }));
  assert.equal(await stateOf(victim), "Terminating:Proceed");
  await advance(300);
  assert.equal(await stateOf(victim), undefined, "gone from the group once shut down");
  await assert.rejects(asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: group, LifecycleHookName: "nth", InstanceId: victim, LifecycleActionResult: "CONTINUE" })),
    (e) => e.name === "ValidationError" && e.message === `No active Lifecycle Action found with instance ID ${victim}`);
});

test("Lifecycle hooks: the heartbeat timeout applies the default result; ABANDON on a launch terminates it and the group launches another", async () => {
  await advance(900); // the replacement launched above passes its launch hook (60 s, ABANDON) unanswered and is replaced
  let g = await describeGroup();
  assert.equal(g.Instances.filter((i) => i.LifecycleState === "Pending:Wait").length, 1, "the next replacement waits on the launch hook");
  const cancelled = (await asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: group }))).Activities.filter((a) => a.StatusCode === "Cancelled");
  assert.ok(cancelled.length >= 1);
  assert.match(cancelled[0].StatusMessage, /^Instance failed to complete user's Lifecycle Action: Lifecycle Action with token [0-9a-f-]{36} was abandoned: Lifecycle Action Completed with ABANDON Result$/);

  const waiting = g.Instances.find((i) => i.LifecycleState === "Pending:Wait").InstanceId;
  await asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: group, LifecycleHookName: "warmup", InstanceId: waiting, LifecycleActionResult: "CONTINUE" }));
  assert.equal(await stateOf(waiting), "InService");

  // Deleting a terminating hook completes what waits on it with CONTINUE: the instance goes.
  const [next] = await inService();
  await asg.send(new DeleteLifecycleHookCommand({ AutoScalingGroupName: group, LifecycleHookName: "warmup" }));
  await asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: next, ShouldDecrementDesiredCapacity: true }));
  assert.equal(await stateOf(next), "Terminating:Wait");
  await asg.send(new DeleteLifecycleHookCommand({ AutoScalingGroupName: group, LifecycleHookName: "nth" }));
  assert.equal(await stateOf(next), "Terminating:Proceed");
  assert.deepEqual((await asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group }))).LifecycleHooks, []);
  await advance(900);
});

test("Instance refresh: replaces every instance keeping the healthy percentage, one at a time; refused while one runs; cancel", async () => {
  const before = await inService();
  const { InstanceRefreshId } = await asg.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: group, Preferences: { MinHealthyPercentage: 100, InstanceWarmup: 60 } }));
  assert.match(InstanceRefreshId, /^[0-9a-f-]{36}$/);
  await assert.rejects(asg.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: group })),
    (e) => e instanceof InstanceRefreshInProgressFault && e.name === "InstanceRefreshInProgressFault");

  let lowest = before.length;
  let refresh;
  for (let i = 0; i < 200; i++) {
    await advance(30);
    lowest = Math.min(lowest, (await inService()).length);
    [refresh] = (await asg.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: group }))).InstanceRefreshes;
    if (refresh.Status === "Successful") break;
  }

  assert.equal(refresh.InstanceRefreshId, InstanceRefreshId);
  assert.equal(refresh.Status, "Successful");
  assert.equal(refresh.PercentageComplete, 100);
  assert.ok(refresh.StartTime instanceof Date && refresh.EndTime instanceof Date);
  assert.equal(refresh.Preferences.MinHealthyPercentage, 100);
  const after = await inService();
  assert.equal(after.length, before.length);
  assert.deepEqual(after.filter((id) => before.includes(id)), [], "every instance was replaced");
  assert.ok(lowest >= before.length - 1, `at most one instance out of service at a time (lowest in service: ${lowest})`);

  const second = await asg.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: group }));
  const cancelled = await asg.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: group }));
  assert.equal(cancelled.InstanceRefreshId, second.InstanceRefreshId);
  await advance(30);
  const pages = [];
  for await (const page of paginateDescribeInstanceRefreshes({ client: asg, pageSize: 1 }, { AutoScalingGroupName: group })) pages.push(...page.InstanceRefreshes);
  assert.deepEqual(pages.map((r) => r.InstanceRefreshId), [second.InstanceRefreshId, InstanceRefreshId], "newest first, one per page");
  assert.equal(pages[0].Status, "Cancelled");
  await assert.rejects(asg.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: group })),
    (e) => e instanceof ActiveInstanceRefreshNotFoundFault && e.name === "ActiveInstanceRefreshNotFoundFault");
});

test("Warm pool: filled from the launch template of its time, drawn on by a scale-out before any new launch, deleted", async () => {
  await advance(900);
  await asg.send(new PutWarmPoolCommand({ AutoScalingGroupName: group, MinSize: 2, MaxGroupPreparedCapacity: -1, PoolState: "Stopped" }));
  let pool = await asg.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: group }));
  assert.deepEqual({ ...pool.WarmPoolConfiguration, InstanceReusePolicy: { ...pool.WarmPoolConfiguration.InstanceReusePolicy } },
    { MaxGroupPreparedCapacity: -1, MinSize: 2, PoolState: "Stopped", InstanceReusePolicy: { ReuseOnScaleIn: false } });
  const g = await describeGroup();
  assert.equal(pool.Instances.length, Math.max(2, g.MaxSize - g.DesiredCapacity), "max size minus desired, at least MinSize");
  assert.ok(pool.Instances.every((i) => i.LifecycleState === "Warmed:Pending"));
  assert.equal(g.WarmPoolSize, pool.Instances.length);
  assert.equal(g.WarmPoolConfiguration.PoolState, "Stopped");
  assert.ok(!g.Instances.some((i) => pool.Instances.some((w) => w.InstanceId === i.InstanceId)), "warm instances are not the group's");

  await advance(900);
  pool = await asg.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: group }));
  assert.ok(pool.Instances.every((i) => i.LifecycleState === "Warmed:Stopped"));
  const warmed = pool.Instances[0].InstanceId;
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: g.DesiredCapacity + 1 }));
  assert.equal(await stateOf(warmed), "Pending", "the scale-out took the first warmed instance");
  const [activity] = (await asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: group }))).Activities;
  assert.equal(activity.Description, `Launching a new EC2 instance from warm pool: ${warmed}`);
  await advance(600);
  assert.equal(await stateOf(warmed), "InService");

  const pages = [];
  for await (const page of paginateDescribeWarmPool({ client: asg, pageSize: 1 }, { AutoScalingGroupName: group })) pages.push(...page.Instances);
  assert.ok(pages.length >= 2 && !pages.some((i) => i.InstanceId === warmed));
  await asg.send(new DeleteWarmPoolCommand({ AutoScalingGroupName: group, ForceDelete: true }));
  pool = await asg.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: group }));
  assert.equal(pool.WarmPoolConfiguration, undefined);
  assert.deepEqual(pool.Instances ?? [], []);
  await assert.rejects(asg.send(new DeleteWarmPoolCommand({ AutoScalingGroupName: group })), (e) => e.name === "ValidationError");
  await assert.rejects(asg.send(new PutWarmPoolCommand({ AutoScalingGroupName: group, PoolState: "Frozen" })), (e) => e.name === "ValidationError");
});

test("Capacity Rebalancing: a rebalance recommendation makes the group launch a replacement first, then terminate the instance at risk", async () => {
  await advance(900);
  const rebalanceFor = async (id) => (await fetch(`${sim.info.endpoint}/_sim/fleet/instances/${id}/rebalance-recommendation`, { method: "POST" })).json();
  let g = await describeGroup();
  assert.equal(g.CapacityRebalance, false);
  const [first, second] = await inService();
  assert.deepEqual(await rebalanceFor(first), { instanceId: first, replacing: false }, "off: nothing happens");

  await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: group, CapacityRebalance: true }));
  g = await describeGroup();
  assert.equal(g.CapacityRebalance, true);
  const before = g.Instances.map((i) => i.InstanceId);
  assert.deepEqual(await rebalanceFor(second), { instanceId: second, replacing: true });
  g = await describeGroup();
  const launched = g.Instances.filter((i) => !before.includes(i.InstanceId));
  assert.equal(launched.length, 1, "the replacement is launched first");
  assert.equal(await stateOf(second), "InService", "the instance at risk serves until its replacement does");
  await advance(900);
  assert.equal(await stateOf(launched[0].InstanceId), "InService");
  assert.equal(await stateOf(second), undefined, "then it is terminated");
  const activities = (await asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: group, MaxRecords: 100 }))).Activities;
  assert.ok(activities.some((a) => a.Description === `Terminating EC2 instance: ${second}` && /rebalance recommendation/.test(a.Cause)));
  await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: group, CapacityRebalance: false }));
});

test("Mixed instances policy: an override with its own launch template launches from it; Overrides replace the list", async () => {
  const all = (await asg.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups;
  const mixed = all.find((g) => g.MixedInstancesPolicy && g.AutoScalingGroupName.startsWith("eks-win-managed"));
  assert.ok(mixed, "the demo's managed Windows group launches through a mixed instances policy");
  const spec = mixed.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification;
  await asg.send(new UpdateAutoScalingGroupCommand({
    AutoScalingGroupName: mixed.AutoScalingGroupName,
    MixedInstancesPolicy: { LaunchTemplate: {
      LaunchTemplateSpecification: { LaunchTemplateId: spec.LaunchTemplateId, Version: spec.Version },
      Overrides: [{ InstanceType: "m5.2xlarge", LaunchTemplateSpecification: { LaunchTemplateId: spec.LaunchTemplateId, Version: "1" } }, { InstanceType: "m5.xlarge" }],
    } },
  }));
  const [g] = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [mixed.AutoScalingGroupName] }))).AutoScalingGroups;
  assert.deepEqual(g.MixedInstancesPolicy.LaunchTemplate.Overrides.map((o) => [o.InstanceType, o.LaunchTemplateSpecification?.Version]), [["m5.2xlarge", "1"], ["m5.xlarge", undefined]]);
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: g.AutoScalingGroupName, DesiredCapacity: g.DesiredCapacity + 1 }));
  const [after] = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [g.AutoScalingGroupName] }))).AutoScalingGroups;
  const launched = after.Instances.find((i) => !g.Instances.some((b) => b.InstanceId === i.InstanceId));
  assert.equal(launched.InstanceType, "m5.2xlarge");
  assert.deepEqual([launched.LaunchTemplate.LaunchTemplateId, launched.LaunchTemplate.Version], [spec.LaunchTemplateId, "1"]);
  await assert.rejects(asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: g.AutoScalingGroupName,
    MixedInstancesPolicy: { LaunchTemplate: { Overrides: [{ InstanceType: "m5.large", LaunchTemplateSpecification: { LaunchTemplateId: "lt-0123456789abcdef0", Version: "1" } }] } } })),
  (e) => e.name === "ValidationError" && /lt-0123456789abcdef0, does not exist/.test(e.message));
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: g.AutoScalingGroupName, DesiredCapacity: g.DesiredCapacity }));
});

test("DetachInstances: the instance is Detaching, then leaves the group and keeps running; without the decrement the group launches another", async () => {
  await advance(900);
  let g = await describeGroup();
  const [leaving] = await inService();
  const { Activities } = await asg.send(new DetachInstancesCommand({ AutoScalingGroupName: group, InstanceIds: [leaving], ShouldDecrementDesiredCapacity: false }));
  assert.equal(Activities[0].Description, `Detaching EC2 instance: ${leaving}`);
  assert.equal(await stateOf(leaving), "Detaching");
  assert.equal((await describeGroup()).Instances.filter((i) => i.LifecycleState === "Pending").length, 1, "a replacement, desired unchanged");
  await advance(60);
  assert.equal(await stateOf(leaving), undefined);
  assert.equal((await describeGroup()).DesiredCapacity, g.DesiredCapacity);
  await assert.rejects(asg.send(new DetachInstancesCommand({ AutoScalingGroupName: group, InstanceIds: [leaving], ShouldDecrementDesiredCapacity: true })),
    (e) => e.name === "ValidationError");
});
