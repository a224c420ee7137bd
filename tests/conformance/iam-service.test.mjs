// The simulator's IAM (awsQuery, 2010-05-08) read by the AWS SDK for JavaScript v3's own IAM client: GetInstanceProfile
// of a scenario profile and its role, NoSuchEntity as the SDK's NoSuchEntityException (404), and, under --iam-policy,
// iam:GetInstanceProfile authorized on the instance profile's ARN (IAM ARNs have no region) with refusals as awsQuery's
// AccessDenied, as Auto Scaling and STS give them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { IAMClient, GetInstanceProfileCommand } from "@aws-sdk/client-iam";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { startSimulator } from "./lib/simulator.mjs";

const profile = "demo-node-instance-profile";

// Neither policy allows more than it must: one has no IAM permission at all, the other iam:GetInstanceProfile on the
// demo cluster's instance profiles only.
const noIam = {
  Version: "2012-10-17",
  Statement: [{ Sid: "Read", Effect: "Allow", Action: ["ec2:Describe*", "autoscaling:Describe*"], Resource: "*" }],
};
const demoProfiles = {
  Version: "2012-10-17",
  Statement: [{ Sid: "DemoProfiles", Effect: "Allow", Action: "iam:GetInstanceProfile", Resource: "arn:aws:iam::*:instance-profile/demo-*" }],
};

function withPolicy(policy) {
  const dir = mkdtempSync(path.join(tmpdir(), "wineks-iam-service-"));
  const file = path.join(dir, "policy.json");
  writeFileSync(file, JSON.stringify(policy));
  return startSimulator({ extraArgs: ["--iam-policy", file] });
}

let open, denied, allowed;
before(async () => {
  [open, denied, allowed] = await Promise.all([startSimulator(), withPolicy(noIam), withPolicy(demoProfiles)]);
});
after(async () => { await Promise.all([open?.stop(), denied?.stop(), allowed?.stop()]); });

/** Asserts an awsQuery AccessDenied refusal of iam:GetInstanceProfile on the named profile's ARN. */
function accessDenied(name) {
  return (e) => {
    assert.equal(e.name, "AccessDenied");
    assert.equal(e.$fault, "client");
    assert.equal(e.$metadata.httpStatusCode, 403);
    assert.ok(e.$metadata.requestId, "the ErrorResponse's RequestId");
    assert.match(e.message, new RegExp(`^User: arn:aws:iam::\\d+:user/wineks-simulator is not authorized to perform: iam:GetInstanceProfile on resource: arn:aws:iam::\\d+:instance-profile/${name} because no identity-based policy allows the iam:GetInstanceProfile action$`));
    return true;
  };
}

test("GetInstanceProfile: the demo cluster's node instance profile holds demo-node-role", async () => {
  const { Account: account } = await new STSClient(open.aws).send(new GetCallerIdentityCommand({}));
  const out = await new IAMClient(open.aws).send(new GetInstanceProfileCommand({ InstanceProfileName: profile }));
  assert.equal(out.$metadata.httpStatusCode, 200);
  assert.ok(out.$metadata.requestId);
  const p = out.InstanceProfile;
  assert.equal(p.InstanceProfileName, profile);
  assert.equal(p.Path, "/");
  assert.match(p.InstanceProfileId, /^AIPA[A-Z2-7]{17}$/);
  assert.equal(p.Arn, `arn:aws:iam::${account}:instance-profile/${profile}`);
  assert.ok(p.CreateDate instanceof Date && !Number.isNaN(p.CreateDate.getTime()), "CreateDate is a timestamp");

  assert.equal(p.Roles.length, 1);
  const [role] = p.Roles;
  assert.equal(role.RoleName, "demo-node-role");
  assert.equal(role.Arn, `arn:aws:iam::${account}:role/demo-node-role`);
  assert.equal(role.Path, "/");
  assert.match(role.RoleId, /^AROA[A-Z2-7]{17}$/);
  assert.ok(role.CreateDate instanceof Date && !Number.isNaN(role.CreateDate.getTime()));
  // IAM returns policy documents URL-encoded; the SDK hands them over as they came.
  const trust = JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument));
  assert.deepEqual(trust.Statement, [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }]);
});

test("GetInstanceProfile of an unknown profile: NoSuchEntityException, 404", async () => {
  await assert.rejects(new IAMClient(open.aws).send(new GetInstanceProfileCommand({ InstanceProfileName: "no-such-profile" })), (e) => {
    assert.equal(e.name, "NoSuchEntityException");
    assert.equal(e.$fault, "client");
    assert.equal(e.$metadata.httpStatusCode, 404);
    assert.equal(e.message, "Instance Profile no-such-profile cannot be found.");
    return true;
  });
});

test("under a policy without iam:GetInstanceProfile the call is AccessDenied (awsQuery, 403)", async () => {
  await assert.rejects(new IAMClient(denied.aws).send(new GetInstanceProfileCommand({ InstanceProfileName: profile })), accessDenied(profile));
});

test("a policy allowing iam:GetInstanceProfile on instance-profile/demo-* lets the demo profile through, and no other", async () => {
  const iam = new IAMClient(allowed.aws);
  const out = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: profile }));
  assert.equal(out.InstanceProfile.Roles[0].RoleName, "demo-node-role");
  const other = "EC2InstanceProfileForImageBuilderECRContainerBuilds";
  await assert.rejects(iam.send(new GetInstanceProfileCommand({ InstanceProfileName: other })), accessDenied(other));
});
