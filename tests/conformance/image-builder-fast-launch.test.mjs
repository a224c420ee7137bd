// Image Builder distribution configurations with fastLaunchConfigurations as @aws-sdk/client-imagebuilder sees them:
// created, read back, updated, refused where the Image Builder API Reference's constraints say so; and a build that
// distributes to its own region ends with EC2 Fast Launch enabled on its AMI, as @aws-sdk/client-ec2's
// DescribeFastLaunchImages reports it. Simulated time is moved with the admin clock advance.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  ImagebuilderClient, CreateDistributionConfigurationCommand, GetDistributionConfigurationCommand, UpdateDistributionConfigurationCommand,
  CreateImageRecipeCommand, CreateInfrastructureConfigurationCommand, CreateImageCommand, GetImageCommand, InvalidParameterValueException,
} from "@aws-sdk/client-imagebuilder";
import { EC2Client, DescribeFastLaunchImagesCommand, DescribeImagesCommand, DescribeLaunchTemplatesCommand } from "@aws-sdk/client-ec2";
import { startSimulator, admin } from "./lib/simulator.mjs";

let sim, ib, ec2, template;
before(async () => {
  sim = await startSimulator();
  ib = new ImagebuilderClient(sim.aws);
  ec2 = new EC2Client(sim.aws);
  ({ LaunchTemplates: [template] } = await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ["demo-win-selfmanaged"] })));
});
after(async () => { await sim?.stop(); });

const distribution = (fastLaunchConfigurations) => [{
  region: "us-west-2",
  amiDistributionConfiguration: { name: "wineks-fast-{{imagebuilder:buildDate}}" },
  fastLaunchConfigurations,
}];

test("fastLaunchConfigurations round-trip through Create, Get and Update; a launch template by id and name is refused", async () => {
  const fast = {
    enabled: true, snapshotConfiguration: { targetResourceCount: 4 }, maxParallelLaunches: 8,
    launchTemplate: { launchTemplateId: template.LaunchTemplateId, launchTemplateVersion: "$Latest" }, accountId: "111122223333",
  };
  const { distributionConfigurationArn } = await ib.send(new CreateDistributionConfigurationCommand({
    name: "wineks-fast", distributions: distribution([fast]), clientToken: randomUUID(),
  }));
  const { distributionConfiguration: got } = await ib.send(new GetDistributionConfigurationCommand({ distributionConfigurationArn }));
  assert.deepEqual(got.distributions[0].fastLaunchConfigurations, [fast]);

  const updated = { enabled: false };
  await ib.send(new UpdateDistributionConfigurationCommand({ distributionConfigurationArn, distributions: distribution([updated]), clientToken: randomUUID() }));
  const { distributionConfiguration: after } = await ib.send(new GetDistributionConfigurationCommand({ distributionConfigurationArn }));
  assert.deepEqual(after.distributions[0].fastLaunchConfigurations, [updated]);
  assert.ok(after.dateUpdated);

  await assert.rejects(ib.send(new CreateDistributionConfigurationCommand({
    name: "wineks-both", clientToken: randomUUID(),
    distributions: distribution([{ enabled: true, launchTemplate: { launchTemplateId: template.LaunchTemplateId, launchTemplateName: template.LaunchTemplateName } }]),
  })), (e) => e instanceof InvalidParameterValueException && e.$metadata.httpStatusCode === 400 && /launchTemplate/.test(e.message));
  await assert.rejects(ib.send(new CreateDistributionConfigurationCommand({
    name: "wineks-many", clientToken: randomUUID(), distributions: distribution([{ enabled: true, snapshotConfiguration: { targetResourceCount: 0 } }]),
  })), (e) => e instanceof InvalidParameterValueException && /targetResourceCount/.test(e.message));
});

test("a build distributed with an enabled configuration leaves its AMI with EC2 Fast Launch enabling, then enabled", async () => {
  const parent = (await ec2.send(new DescribeImagesCommand({ Owners: ["amazon"], Filters: [{ Name: "name", Values: ["Windows_Server-2022-English-Core-EKS_Optimized-1.31-*"] }] })))
    .Images.sort((a, b) => a.CreationDate.localeCompare(b.CreationDate)).at(-1).ImageId;
  const recipe = await ib.send(new CreateImageRecipeCommand({
    name: "wineks-fast", semanticVersion: "1.0.0", parentImage: parent, clientToken: randomUUID(),
    components: [{ componentArn: "arn:aws:imagebuilder:us-west-2:aws:component/update-windows/x.x.x" }],
  }));
  const infra = await ib.send(new CreateInfrastructureConfigurationCommand({ name: "wineks-fast", instanceProfileName: "EC2InstanceProfileForImageBuilder", clientToken: randomUUID() }));
  const dist = await ib.send(new CreateDistributionConfigurationCommand({
    name: "wineks-fast-build", clientToken: randomUUID(),
    distributions: distribution([{ enabled: true, snapshotConfiguration: { targetResourceCount: 2 } }]),
  }));
  const { imageBuildVersionArn } = await ib.send(new CreateImageCommand({
    imageRecipeArn: recipe.imageRecipeArn, infrastructureConfigurationArn: infra.infrastructureConfigurationArn,
    distributionConfigurationArn: dist.distributionConfigurationArn, clientToken: randomUUID(),
  }));
  let image;
  for (let i = 0; i < 200; i++) {
    ({ image } = await ib.send(new GetImageCommand({ imageBuildVersionArn })));
    if (image.state.status === "AVAILABLE" || image.state.status === "FAILED") break;
    await admin(sim.info, "clock/advance?seconds=60");
  }
  assert.equal(image.state.status, "AVAILABLE");
  const amiId = image.outputResources.amis[0].image;

  const { FastLaunchImages: [config] } = await ec2.send(new DescribeFastLaunchImagesCommand({ ImageIds: [amiId] }));
  assert.ok(["enabling", "enabled"].includes(config.State), config.State);
  assert.equal(config.SnapshotConfiguration.TargetResourceCount, 2);
  assert.equal(config.MaxParallelLaunches, 6); // EnableFastLaunch's default
  assert.equal(config.OwnerId, "111122223333");

  await admin(sim.info, "clock/advance?seconds=300");
  const { FastLaunchImages: [enabled] } = await ec2.send(new DescribeFastLaunchImagesCommand({ ImageIds: [amiId] }));
  assert.equal(enabled.State, "enabled");
});
