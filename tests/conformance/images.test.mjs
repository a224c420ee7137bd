// Container images, ECR and EC2 Image Builder as clients nobody here wrote see them: @aws-sdk/client-ecr,
// @aws-sdk/client-imagebuilder, @aws-sdk/client-ec2, and plain fetch following the registry's auth challenges.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { ECRClient, GetAuthorizationTokenCommand, DescribeRepositoriesCommand, DescribeImagesCommand, BatchGetImageCommand, RepositoryNotFoundException } from "@aws-sdk/client-ecr";
import {
  ImagebuilderClient, CreateComponentCommand, GetComponentCommand, ListComponentsCommand, CreateImageRecipeCommand, GetImageRecipeCommand,
  CreateInfrastructureConfigurationCommand, CreateDistributionConfigurationCommand, CreateImagePipelineCommand, StartImagePipelineExecutionCommand,
  CreateImageCommand, GetImageCommand, ListImagesCommand, ListImagePipelineImagesCommand, CancelImageCreationCommand, DeleteComponentCommand,
  ResourceAlreadyExistsException, InvalidParameterValueException, ResourceNotFoundException, ResourceDependencyException,
  GetInfrastructureConfigurationCommand, GetDistributionConfigurationCommand, GetImagePipelineCommand, DeleteImageRecipeCommand,
  DeleteInfrastructureConfigurationCommand, DeleteDistributionConfigurationCommand, DeleteImagePipelineCommand,
  paginateListImageRecipes, paginateListInfrastructureConfigurations, paginateListDistributionConfigurations, paginateListImagePipelines,
  paginateListComponentBuildVersions,
} from "@aws-sdk/client-imagebuilder";
import { EC2Client, DescribeImagesCommand as Ec2DescribeImagesCommand } from "@aws-sdk/client-ec2";
import { startSimulator, admin } from "./lib/simulator.mjs";

const ECR_HOST = "111122223333.dkr.ecr.us-west-2.amazonaws.com";
let sim;
before(async () => { sim = await startSimulator(); });
after(async () => { await sim?.stop(); });

/** GET with the registry auth dance a docker client does: Basic for ECR, anonymous bearer token otherwise. */
async function registryGet(host, path, { basic, accept } = {}) {
  const url = `${sim.info.registries[host]}${path}`;
  const headers = { accept: accept ?? "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" };
  let response = await fetch(url, { headers });
  if (response.status !== 401) return response;
  const challenge = response.headers.get("www-authenticate");
  if (challenge.startsWith("Basic")) {
    assert.ok(basic, "ECR challenge needs the GetAuthorizationToken credentials");
    return fetch(url, { headers: { ...headers, authorization: `Basic ${basic}` } });
  }
  const params = Object.fromEntries([...challenge.slice("Bearer ".length).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  const tokenUrl = new URL(params.realm);
  tokenUrl.searchParams.set("service", params.service);
  if (params.scope) tokenUrl.searchParams.set("scope", params.scope);
  const { token } = await (await fetch(tokenUrl)).json();
  return fetch(url, { headers: { ...headers, authorization: `Bearer ${token}` } });
}

test("info line maps registry hosts to URLs", () => {
  assert.deepEqual(Object.keys(sim.info.registries).sort(), [ECR_HOST, "mcr.microsoft.com", "public.ecr.aws"]);
});

test("registry: bearer-token dance on public.ecr.aws, manifest list with Windows os.version, config and ranged layer", async () => {
  const index = await registryGet("public.ecr.aws", "/v2/aws-observability/aws-for-fluent-bit/manifests/windowsservercore-stable");
  assert.equal(index.status, 200);
  assert.equal(index.headers.get("content-type"), "application/vnd.docker.distribution.manifest.list.v2+json");
  const indexBytes = Buffer.from(await index.arrayBuffer());
  assert.equal(index.headers.get("docker-content-digest"), "sha256:" + createHash("sha256").update(indexBytes).digest("hex"));
  const entry = JSON.parse(indexBytes).manifests.find((m) => m.platform["os.version"].startsWith("10.0.20348."));
  assert.equal(entry.platform.os, "windows");

  const manifest = await (await registryGet("public.ecr.aws", `/v2/aws-observability/aws-for-fluent-bit/manifests/${entry.digest}`)).json();
  const config = await (await registryGet("public.ecr.aws", `/v2/aws-observability/aws-for-fluent-bit/blobs/${manifest.config.digest}`)).json();
  assert.equal(config["os.version"], entry.platform["os.version"]);
  assert.equal(config.rootfs.diff_ids.length, manifest.layers.length);

  const own = manifest.layers.at(-2); // the image's own (distributable) layer, stored in this registry
  assert.equal(own.mediaType, "application/vnd.docker.image.rootfs.diff.tar.gzip");
  const url = `${sim.info.registries["public.ecr.aws"]}/v2/aws-observability/aws-for-fluent-bit/blobs/${own.digest}`;
  const { token } = await (await fetch(`${sim.info.registries["public.ecr.aws"]}/token?service=public.ecr.aws&scope=repository:aws-observability/aws-for-fluent-bit:pull`)).json();
  const part = await fetch(url, { headers: { authorization: `Bearer ${token}`, range: "bytes=1000-1999" } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get("content-range"), `bytes 1000-1999/${own.size}`);
  assert.equal((await part.arrayBuffer()).byteLength, 1000);

  const missing = await registryGet("public.ecr.aws", "/v2/aws-observability/aws-for-fluent-bit/manifests/no-such-tag");
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).errors[0].code, "MANIFEST_UNKNOWN");
});

test("ECR: token opens the registry; DescribeImages reports the guide's 533.05 MB; errors are typed", async () => {
  const ecr = new ECRClient(sim.aws);
  const auth = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData[0];
  assert.equal(auth.proxyEndpoint, `https://${ECR_HOST}`);
  assert.ok(auth.expiresAt instanceof Date);
  assert.match(Buffer.from(auth.authorizationToken, "base64").toString(), /^AWS:/);

  const index = await registryGet(ECR_HOST, "/v2/fluentd-windows/manifests/latest", { basic: auth.authorizationToken });
  assert.equal(index.status, 200);
  const unauthorized = await fetch(`${sim.info.registries[ECR_HOST]}/v2/fluentd-windows/manifests/latest`);
  assert.equal(unauthorized.status, 401);
  assert.match(unauthorized.headers.get("www-authenticate"), /^Basic realm="https:\/\/111122223333\.dkr\.ecr\.us-west-2\.amazonaws\.com\/",service="ecr\.amazonaws\.com"$/);

  const repos = (await ecr.send(new DescribeRepositoriesCommand({}))).repositories.map((r) => r.repositoryName);
  assert.deepEqual(repos, ["fluentd-windows", "shop/orders-api", "shop/web-iis"]);
  const images = await ecr.send(new DescribeImagesCommand({ repositoryName: "fluentd-windows", filter: { tagStatus: "TAGGED" } }));
  assert.equal(images.imageDetails.length, 1);
  assert.equal(images.imageDetails[0].imageSizeInBytes, 533_050_000);
  assert.ok(images.imageDetails[0].imagePushedAt instanceof Date);

  const batch = await ecr.send(new BatchGetImageCommand({ repositoryName: "shop/web-iis", imageIds: [{ imageTag: "2026.06.1" }, { imageTag: "nope" }] }));
  assert.equal(JSON.parse(batch.images[0].imageManifest).mediaType, "application/vnd.oci.image.index.v1+json");
  assert.equal(batch.failures[0].failureCode, "ImageNotFound");
  await assert.rejects(ecr.send(new DescribeImagesCommand({ repositoryName: "nope" })), (e) => e instanceof RepositoryNotFoundException);
});

function cacheComponentYaml(images) {
  return [
    "name: wineks-image-cache",
    "schemaVersion: 1.0",
    "phases:",
    "  - name: build",
    "    steps:",
    "      - name: PullImages",
    "        action: ExecutePowerShell",
    "        inputs:",
    "          commands:",
    ...images.map((i) => `            - ctr -n k8s.io images pull --user "AWS:$env:ECR_PASSWORD" ${i}`),
  ].join("\n");
}

test("Image Builder: resources, idempotency, phases on the virtual clock, AMI in EC2 with tags and cache", async () => {
  const ib = new ImagebuilderClient(sim.aws);
  const amazon = await ib.send(new ListComponentsCommand({ owner: "Amazon", filters: [{ name: "name", values: ["update-windows"] }] }));
  assert.ok(amazon.componentVersionList.length >= 1);
  assert.match(amazon.componentVersionList[0].arn, /^arn:aws:imagebuilder:us-west-2:aws:component\/update-windows\//);
  // Every filter ListComponents documents, ANDed; values ORed; any other filter name refused.
  const windows = await ib.send(new ListComponentsCommand({ owner: "Amazon", filters: [{ name: "platform", values: ["Windows"] }, { name: "type", values: ["BUILD"] }] }));
  assert.ok(windows.componentVersionList.some((c) => c.name === "update-windows"));
  assert.ok(windows.componentVersionList.every((c) => c.platform === "Windows" && c.type === "BUILD"));
  const linux = await ib.send(new ListComponentsCommand({ owner: "Amazon", filters: [{ name: "name", values: ["update-windows"] }, { name: "platform", values: ["Linux"] }] }));
  assert.equal(linux.componentVersionList.length, 0);
  await assert.rejects(ib.send(new ListComponentsCommand({ owner: "Amazon", filters: [{ name: "parentImage", values: ["x"] }] })),
    (e) => e instanceof InvalidParameterValueException && /not a filter of ListComponents/.test(e.message));

  const data = cacheComponentYaml([`${ECR_HOST}/fluentd-windows:latest`, "mcr.microsoft.com/windows/servercore:ltsc2022"]);
  const token = randomUUID();
  const created = await ib.send(new CreateComponentCommand({ name: "wineks-image-cache", semanticVersion: "1.0.0", platform: "Windows", data, clientToken: token }));
  assert.equal(created.componentBuildVersionArn, "arn:aws:imagebuilder:us-west-2:111122223333:component/wineks-image-cache/1.0.0/1");
  const again = await ib.send(new CreateComponentCommand({ name: "wineks-image-cache", semanticVersion: "1.0.0", platform: "Windows", data, clientToken: token }));
  assert.equal(again.componentBuildVersionArn, created.componentBuildVersionArn);
  await assert.rejects(ib.send(new CreateComponentCommand({ name: "wineks-image-cache", semanticVersion: "1.0.0", platform: "Windows", data, clientToken: randomUUID() })),
    (e) => e instanceof ResourceAlreadyExistsException);
  assert.equal((await ib.send(new GetComponentCommand({ componentBuildVersionArn: created.componentBuildVersionArn }))).component.data, data);

  const recipe = await ib.send(new CreateImageRecipeCommand({
    name: "wineks-demo", semanticVersion: "1.0.0", parentImage: "ssm:/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.31/image_id",
    components: [{ componentArn: "arn:aws:imagebuilder:us-west-2:aws:component/update-windows/x.x.x" }, { componentArn: created.componentBuildVersionArn }],
    blockDeviceMappings: [{ deviceName: "/dev/sda1", ebs: { volumeSize: 100, volumeType: "gp3", deleteOnTermination: true } }],
    clientToken: randomUUID(),
  }));
  const gotRecipe = (await ib.send(new GetImageRecipeCommand({ imageRecipeArn: recipe.imageRecipeArn }))).imageRecipe;
  assert.equal(gotRecipe.blockDeviceMappings[0].ebs.volumeSize, 100);
  assert.ok(gotRecipe.dateCreated);

  await assert.rejects(ib.send(new CreateInfrastructureConfigurationCommand({ name: "bad", instanceProfileName: "NoSuchProfile", clientToken: randomUUID() })),
    (e) => e instanceof InvalidParameterValueException && /instance profile/.test(e.message));
  await assert.rejects(ib.send(new CreateInfrastructureConfigurationCommand({ name: "bad", instanceProfileName: "EC2InstanceProfileForImageBuilder", subnetId: "subnet-0nope", clientToken: randomUUID() })),
    (e) => e instanceof InvalidParameterValueException && /subnet/.test(e.message));
  const infra = await ib.send(new CreateInfrastructureConfigurationCommand({
    name: "wineks-demo", instanceProfileName: "EC2InstanceProfileForImageBuilder", instanceTypes: ["m5.xlarge"], terminateInstanceOnFailure: true,
    instanceMetadataOptions: { httpTokens: "required" }, clientToken: randomUUID(),
  }));
  const dist = await ib.send(new CreateDistributionConfigurationCommand({
    name: "wineks-demo", clientToken: randomUUID(),
    distributions: [{ region: "us-west-2", amiDistributionConfiguration: { name: "wineks-demo-{{imagebuilder:buildDate}}", amiTags: { "wineks:cluster": "demo" } } }],
  }));
  const pipeline = await ib.send(new CreateImagePipelineCommand({
    name: "wineks-demo", imageRecipeArn: recipe.imageRecipeArn, infrastructureConfigurationArn: infra.infrastructureConfigurationArn,
    distributionConfigurationArn: dist.distributionConfigurationArn, clientToken: randomUUID(),
  }));
  await assert.rejects(ib.send(new DeleteComponentCommand({ componentBuildVersionArn: created.componentBuildVersionArn })), (e) => e instanceof ResourceDependencyException);

  const { imageBuildVersionArn } = await ib.send(new StartImagePipelineExecutionCommand({ imagePipelineArn: pipeline.imagePipelineArn, clientToken: randomUUID() }));
  const seen = [];
  for (let i = 0; i < 200; i++) {
    const { image } = await ib.send(new GetImageCommand({ imageBuildVersionArn }));
    if (seen.at(-1) !== image.state.status) seen.push(image.state.status);
    if (image.state.status === "AVAILABLE" || image.state.status === "FAILED") break;
    await admin(sim.info, "clock/advance?seconds=60");
  }
  assert.deepEqual(seen, ["PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE"]);

  const { image } = await ib.send(new GetImageCommand({ imageBuildVersionArn }));
  const amiId = image.outputResources.amis[0].image;
  const ec2 = new EC2Client(sim.aws);
  const ami = (await ec2.send(new Ec2DescribeImagesCommand({ Owners: ["self"], ImageIds: [amiId] }))).Images[0];
  assert.equal(ami.OwnerId, "111122223333");
  const tags = Object.fromEntries(ami.Tags.map((t) => [t.Key, t.Value]));
  assert.equal(tags["wineks:cluster"], "demo");
  assert.equal(tags.Ec2ImageBuilderArn, imageBuildVersionArn);
  assert.match(ami.Name, /^wineks-demo-\d{4}-\d\d-\d\dT/);
  const pipelineImages = await ib.send(new ListImagePipelineImagesCommand({ imagePipelineArn: pipeline.imagePipelineArn }));
  assert.equal(pipelineImages.imageSummaryList[0].arn, imageBuildVersionArn);
  assert.ok((await ib.send(new ListImagesCommand({}))).imageVersionList.some((v) => imageBuildVersionArn.startsWith(v.arn + "/")));
  await assert.rejects(ib.send(new GetImageCommand({ imageBuildVersionArn: "arn:aws:imagebuilder:us-west-2:111122223333:image/nope/1.0.0/1" })),
    (e) => e instanceof ResourceNotFoundException);
});

test("Image Builder: a cache component naming an image the registries lack fails the build with the image named; cancel works", async () => {
  const ib = new ImagebuilderClient(sim.aws);
  const component = await ib.send(new CreateComponentCommand({
    name: "broken-cache", semanticVersion: "1.0.0", platform: "Windows", clientToken: randomUUID(),
    data: cacheComponentYaml([`${ECR_HOST}/does-not-exist:1.0`]),
  }));
  const recipe = await ib.send(new CreateImageRecipeCommand({
    name: "broken", semanticVersion: "1.0.0", parentImage: "ssm:/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.31/image_id",
    components: [{ componentArn: component.componentBuildVersionArn }], clientToken: randomUUID(),
  }));
  const infra = await ib.send(new CreateInfrastructureConfigurationCommand({ name: "broken", instanceProfileName: "EC2InstanceProfileForImageBuilder", clientToken: randomUUID() }));
  const { imageBuildVersionArn } = await ib.send(new CreateImageCommand({ imageRecipeArn: recipe.imageRecipeArn, infrastructureConfigurationArn: infra.infrastructureConfigurationArn, clientToken: randomUUID() }));
  await admin(sim.info, "clock/advance?seconds=7200");
  const { image } = await ib.send(new GetImageCommand({ imageBuildVersionArn }));
  assert.equal(image.state.status, "FAILED");
  assert.match(image.state.reason, /does-not-exist:1\.0/);

  const second = await ib.send(new CreateImageCommand({ imageRecipeArn: recipe.imageRecipeArn, infrastructureConfigurationArn: infra.infrastructureConfigurationArn, clientToken: randomUUID() }));
  await ib.send(new CancelImageCreationCommand({ imageBuildVersionArn: second.imageBuildVersionArn, clientToken: randomUUID() }));
  assert.equal((await ib.send(new GetImageCommand({ imageBuildVersionArn: second.imageBuildVersionArn }))).image.state.status, "CANCELLED");
});

test("Image Builder: every resource kind lists page by page, reads back, and deletes only once nothing depends on it", async () => {
  const ib = new ImagebuilderClient(sim.aws);
  const parentImage = "ssm:/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.31/image_id";
  const component = await ib.send(new CreateComponentCommand({
    name: "lifecycle-cache", semanticVersion: "1.0.0", platform: "Windows", clientToken: randomUUID(),
    data: cacheComponentYaml(["mcr.microsoft.com/windows/servercore:ltsc2022"]),
  }));
  const recipes = [];
  for (const semanticVersion of ["1.0.0", "1.0.1", "1.0.2"]) {
    recipes.push((await ib.send(new CreateImageRecipeCommand({
      name: "lifecycle", semanticVersion, parentImage, components: [{ componentArn: component.componentBuildVersionArn }], clientToken: randomUUID(),
    }))).imageRecipeArn);
  }
  const names = ["lifecycle-a", "lifecycle-b"];
  const infras = [];
  const dists = [];
  for (const name of names) {
    infras.push((await ib.send(new CreateInfrastructureConfigurationCommand({
      name, instanceProfileName: "EC2InstanceProfileForImageBuilder", instanceTypes: ["m5.xlarge"], clientToken: randomUUID(),
    }))).infrastructureConfigurationArn);
    dists.push((await ib.send(new CreateDistributionConfigurationCommand({
      name, clientToken: randomUUID(), distributions: [{ region: "us-west-2", amiDistributionConfiguration: { name: `${name}-{{imagebuilder:buildDate}}` } }],
    }))).distributionConfigurationArn);
  }
  const pipelines = [];
  for (const name of names) {
    pipelines.push((await ib.send(new CreateImagePipelineCommand({
      name, imageRecipeArn: recipes[2], infrastructureConfigurationArn: infras[0], distributionConfigurationArn: dists[0], clientToken: randomUUID(),
    }))).imagePipelineArn);
  }

  /** Every item of a paginator, and how many pages it took. */
  const collect = async (paginator, list) => {
    const pages = [];
    for await (const page of paginator) pages.push(page[list]);
    return { arns: pages.flat().map((i) => i.arn).sort(), pages: pages.length };
  };
  const byName = (values) => ({ filters: [{ name: "name", values }] });
  assert.deepEqual(await collect(paginateListImageRecipes({ client: ib, pageSize: 2 }, byName(["lifecycle"])), "imageRecipeSummaryList"),
    { arns: [...recipes].sort(), pages: 2 });
  assert.deepEqual(await collect(paginateListInfrastructureConfigurations({ client: ib, pageSize: 1 }, byName(names)), "infrastructureConfigurationSummaryList"),
    { arns: [...infras].sort(), pages: 2 });
  assert.deepEqual(await collect(paginateListDistributionConfigurations({ client: ib, pageSize: 1 }, byName(names)), "distributionConfigurationSummaryList"),
    { arns: [...dists].sort(), pages: 2 });
  assert.deepEqual(await collect(paginateListImagePipelines({ client: ib, pageSize: 1 }, byName(names)), "imagePipelineList"),
    { arns: [...pipelines].sort(), pages: 2 });
  const builds = await collect(paginateListComponentBuildVersions({ client: ib, pageSize: 1 },
    { componentVersionArn: component.componentBuildVersionArn.replace(/\/1$/, "") }), "componentSummaryList");
  assert.deepEqual(builds.arns, [component.componentBuildVersionArn]);

  const { infrastructureConfiguration } = await ib.send(new GetInfrastructureConfigurationCommand({ infrastructureConfigurationArn: infras[1] }));
  assert.deepEqual([infrastructureConfiguration.name, infrastructureConfiguration.instanceProfileName, infrastructureConfiguration.instanceTypes],
    ["lifecycle-b", "EC2InstanceProfileForImageBuilder", ["m5.xlarge"]]);
  const { distributionConfiguration } = await ib.send(new GetDistributionConfigurationCommand({ distributionConfigurationArn: dists[1] }));
  assert.equal(distributionConfiguration.distributions[0].amiDistributionConfiguration.name, "lifecycle-b-{{imagebuilder:buildDate}}");
  const { imagePipeline } = await ib.send(new GetImagePipelineCommand({ imagePipelineArn: pipelines[0] }));
  assert.deepEqual([imagePipeline.imageRecipeArn, imagePipeline.infrastructureConfigurationArn, imagePipeline.distributionConfigurationArn],
    [recipes[2], infras[0], dists[0]]);

  // What a pipeline uses cannot go while the pipeline is there; what nothing uses can.
  const inUse = (e) => e instanceof ResourceDependencyException;
  await assert.rejects(ib.send(new DeleteImageRecipeCommand({ imageRecipeArn: recipes[2] })), inUse);
  await assert.rejects(ib.send(new DeleteInfrastructureConfigurationCommand({ infrastructureConfigurationArn: infras[0] })), inUse);
  await assert.rejects(ib.send(new DeleteDistributionConfigurationCommand({ distributionConfigurationArn: dists[0] })), inUse);
  await assert.rejects(ib.send(new DeleteComponentCommand({ componentBuildVersionArn: component.componentBuildVersionArn })), inUse);
  assert.equal((await ib.send(new DeleteImageRecipeCommand({ imageRecipeArn: recipes[0] }))).imageRecipeArn, recipes[0]);
  for (const imagePipelineArn of pipelines) {
    assert.equal((await ib.send(new DeleteImagePipelineCommand({ imagePipelineArn }))).imagePipelineArn, imagePipelineArn);
  }
  for (const imageRecipeArn of recipes.slice(1)) await ib.send(new DeleteImageRecipeCommand({ imageRecipeArn }));
  for (const infrastructureConfigurationArn of infras) await ib.send(new DeleteInfrastructureConfigurationCommand({ infrastructureConfigurationArn }));
  for (const distributionConfigurationArn of dists) await ib.send(new DeleteDistributionConfigurationCommand({ distributionConfigurationArn }));
  await ib.send(new DeleteComponentCommand({ componentBuildVersionArn: component.componentBuildVersionArn }));

  const gone = (e) => e instanceof ResourceNotFoundException;
  await assert.rejects(ib.send(new GetImagePipelineCommand({ imagePipelineArn: pipelines[1] })), gone);
  await assert.rejects(ib.send(new GetInfrastructureConfigurationCommand({ infrastructureConfigurationArn: infras[0] })), gone);
  await assert.rejects(ib.send(new GetDistributionConfigurationCommand({ distributionConfigurationArn: dists[1] })), gone);
  await assert.rejects(ib.send(new GetComponentCommand({ componentBuildVersionArn: component.componentBuildVersionArn })), gone);
  assert.deepEqual(await collect(paginateListImageRecipes({ client: ib }, byName(["lifecycle"])), "imageRecipeSummaryList"), { arns: [], pages: 1 });
});
