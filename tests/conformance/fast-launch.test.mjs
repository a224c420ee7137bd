// EC2 Fast Launch for Windows AMIs as the AWS SDK for JavaScript v3 sees it: EnableFastLaunch, DescribeFastLaunchImages
// (filters, paging) and DisableFastLaunch, every field of their results, and one error by name. The scenario is the demo
// one with copies of the newest EKS-optimized Windows AMIs shared by another account (a private AMI shared with this
// account may be configured for Fast Launch; its ownerId is not reported). Simulated time is moved with the admin
// clock advance.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  EC2Client, DescribeImagesCommand, EnableFastLaunchCommand, DescribeFastLaunchImagesCommand, DisableFastLaunchCommand,
  DescribeLaunchTemplatesCommand, paginateDescribeFastLaunchImages,
} from "@aws-sdk/client-ec2";
import { startSimulator, admin } from "./lib/simulator.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const moduleDir = process.env.WINEKSPATCH_MODULE_DIR ?? path.resolve(here, "../../out/WinEksPatch");
const sharer = "444455556666";

let sim, ec2, dir;
before(async () => {
  // The shipped demo scenario plus sharedCopiesFrom in its AMI catalogue.
  const demo = readFileSync(path.join(moduleDir, "simulator", "Scenarios", "demo.json"), "utf8");
  const scenario = demo.replace(/"linux":\s*true/, `"linux": true, "sharedCopiesFrom": ["${sharer}"]`);
  assert.notEqual(scenario, demo);
  dir = mkdtempSync(path.join(os.tmpdir(), "fast-launch-"));
  writeFileSync(path.join(dir, "fast-launch.json"), scenario);
  sim = await startSimulator({ scenario: path.join(dir, "fast-launch.json") });
  ec2 = new EC2Client(sim.aws);
});
after(async () => {
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sharedWindowsAmis = async () => (await ec2.send(new DescribeImagesCommand({ Owners: [sharer] }))).Images
  .filter((i) => i.Platform === "windows").map((i) => i.ImageId).sort();

test("EnableFastLaunch → enabling → enabled; DescribeFastLaunchImages reads every field; DisableFastLaunch → gone", async () => {
  const [imageId] = await sharedWindowsAmis();
  assert.ok(imageId, "the scenario shares Windows AMIs");
  const { LaunchTemplates: [template] } = await ec2.send(new DescribeLaunchTemplatesCommand({}));

  const enabled = await ec2.send(new EnableFastLaunchCommand({
    ImageId: imageId, ResourceType: "snapshot", SnapshotConfiguration: { TargetResourceCount: 8 },
    LaunchTemplate: { LaunchTemplateName: template.LaunchTemplateName, Version: "$Default" }, MaxParallelLaunches: 6,
  }));
  assert.equal(enabled.ImageId, imageId);
  assert.equal(enabled.ResourceType, "snapshot");
  assert.deepEqual(enabled.SnapshotConfiguration, { TargetResourceCount: 8 });
  assert.deepEqual(enabled.LaunchTemplate, { LaunchTemplateId: template.LaunchTemplateId, LaunchTemplateName: template.LaunchTemplateName, Version: "$Default" });
  assert.equal(enabled.MaxParallelLaunches, 6);
  assert.equal(enabled.OwnerId, undefined); // "not populated for AMIs that are shared with you"
  assert.equal(enabled.State, "enabling");
  assert.equal(enabled.StateTransitionReason, "Client.UserInitiated");
  assert.ok(enabled.StateTransitionTime instanceof Date && !Number.isNaN(enabled.StateTransitionTime.getTime()));

  await admin(sim.info, "clock/advance?seconds=120");
  const { FastLaunchImages: [item], NextToken } = await ec2.send(new DescribeFastLaunchImagesCommand({ ImageIds: [imageId] }));
  assert.equal(NextToken, undefined);
  assert.equal(item.ImageId, imageId);
  assert.equal(item.ResourceType, "snapshot");
  assert.equal(item.SnapshotConfiguration.TargetResourceCount, 8);
  assert.equal(item.LaunchTemplate.LaunchTemplateId, template.LaunchTemplateId);
  assert.equal(item.LaunchTemplate.LaunchTemplateName, template.LaunchTemplateName);
  assert.equal(item.LaunchTemplate.Version, "$Default");
  assert.equal(item.MaxParallelLaunches, 6);
  assert.equal(item.OwnerId, undefined);
  assert.equal(item.State, "enabled");
  assert.equal(item.StateTransitionReason, "Client.UserInitiated");
  assert.ok(item.StateTransitionTime > enabled.StateTransitionTime);

  // Filters: state and resource-type match; an owner-id filter on another account matches nothing.
  const byState = await ec2.send(new DescribeFastLaunchImagesCommand({ Filters: [{ Name: "state", Values: ["enabled"] }, { Name: "resource-type", Values: ["snapshot"] }] }));
  assert.deepEqual(byState.FastLaunchImages.map((i) => i.ImageId), [imageId]);
  const byOwner = await ec2.send(new DescribeFastLaunchImagesCommand({ Filters: [{ Name: "owner-id", Values: ["999999999999"] }] }));
  assert.deepEqual(byOwner.FastLaunchImages ?? [], []);

  const disabled = await ec2.send(new DisableFastLaunchCommand({ ImageId: imageId }));
  assert.equal(disabled.ImageId, imageId);
  assert.equal(disabled.ResourceType, "snapshot");
  assert.equal(disabled.SnapshotConfiguration.TargetResourceCount, 8);
  assert.equal(disabled.LaunchTemplate.LaunchTemplateId, template.LaunchTemplateId);
  assert.equal(disabled.MaxParallelLaunches, 6);
  assert.equal(disabled.OwnerId, undefined);
  assert.equal(disabled.State, "disabling");
  assert.equal(disabled.StateTransitionReason, "Client.UserInitiated");
  assert.ok(disabled.StateTransitionTime instanceof Date);

  await admin(sim.info, "clock/advance?seconds=180");
  const after = await ec2.send(new DescribeFastLaunchImagesCommand({ ImageIds: [imageId] }));
  assert.deepEqual(after.FastLaunchImages ?? [], []);
});

test("DescribeFastLaunchImages pages with the SDK's paginator", async () => {
  const images = await sharedWindowsAmis();
  assert.ok(images.length >= 3);
  for (const imageId of images.slice(0, 3)) await ec2.send(new EnableFastLaunchCommand({ ImageId: imageId }));
  const seen = [];
  let pages = 0;
  for await (const page of paginateDescribeFastLaunchImages({ client: ec2, pageSize: 2 }, {})) {
    pages++;
    seen.push(...page.FastLaunchImages.map((i) => i.ImageId));
  }
  assert.equal(pages, 2);
  assert.deepEqual(seen, images.slice(0, 3));
  // Defaults when nothing is given: five snapshots, six parallel launches.
  const { FastLaunchImages: [first] } = await ec2.send(new DescribeFastLaunchImagesCommand({ ImageIds: [images[0]] }));
  assert.equal(first.SnapshotConfiguration.TargetResourceCount, 5);
  assert.equal(first.MaxParallelLaunches, 6);
  assert.equal(first.State, "enabling");
});

test("MaxParallelLaunches below 6 is InvalidParameterValue", async () => {
  const [imageId] = await sharedWindowsAmis();
  await assert.rejects(ec2.send(new EnableFastLaunchCommand({ ImageId: imageId, MaxParallelLaunches: 5 })),
    (e) => e.name === "InvalidParameterValue" && /maxParallelLaunches/.test(e.message) && e.$metadata.httpStatusCode === 400);
});
