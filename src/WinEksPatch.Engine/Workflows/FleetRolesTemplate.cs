using System.Text.Json;
using System.Text.Json.Nodes;

namespace WinEksPatch.Workflows;

/// <summary>
/// The CloudFormation template (JSON) of the roles the fleet runbook needs, for a StackSet deployed to every target
/// account (and the central one): in each account the Automation execution role a child execution runs with, trusted by
/// the central account's Automation administration role and by SSM, with the module's policy (ReadOnly and Rollout, as
/// Get-WinEksPatchIamPolicy prints it) and AWS's AmazonSSMAutomationRole; in the central account only (a condition on the
/// account id), the administration role SSM assumes to start the children, which may assume the execution role
/// everywhere and read and stop on the execution's alarm. These are the roles "Running automations in multiple AWS
/// Regions and accounts" in the Systems Manager User Guide describes, named as it names them by default.
/// </summary>
public static class FleetRolesTemplate
{
    public const string ExecutionRoleName = "AWS-SystemsManager-AutomationExecutionRole";
    public const string AdministrationRoleName = "AWS-SystemsManager-AutomationAdministrationRole";

    /// <param name="modulePolicy">The module's policy document (JSON), as IamPolicy.Create writes it.</param>
    public static string Create(string modulePolicy)
    {
        ArgumentNullException.ThrowIfNull(modulePolicy);
        JsonNode Sub(string text) => new JsonObject { ["Fn::Sub"] = text };
        JsonNode Ref(string name) => new JsonObject { ["Ref"] = name };
        var template = new JsonObject
        {
            ["AWSTemplateFormatVersion"] = "2010-09-09",
            ["Description"] = "WinEksPatch fleet runbook roles: the SSM Automation execution role of each target account and, in the central account, the administration role (deploy with a StackSet to every account).",
            ["Parameters"] = new JsonObject
            {
                ["CentralAccountId"] = new JsonObject
                {
                    ["Type"] = "String",
                    ["AllowedPattern"] = "^\\d{12}$",
                    ["Description"] = "The account the fleet runbook's executions start in (Invoke-WinEksFleetPatch -Engine SsmAutomation -AutomationProfileName).",
                },
                ["ExecutionRoleName"] = new JsonObject { ["Type"] = "String", ["Default"] = ExecutionRoleName },
                ["AdministrationRoleName"] = new JsonObject { ["Type"] = "String", ["Default"] = AdministrationRoleName },
            },
            ["Conditions"] = new JsonObject
            {
                ["IsCentralAccount"] = new JsonObject { ["Fn::Equals"] = new JsonArray(Ref("AWS::AccountId"), Ref("CentralAccountId")) },
            },
            ["Resources"] = new JsonObject
            {
                ["ExecutionRole"] = new JsonObject
                {
                    ["Type"] = "AWS::IAM::Role",
                    ["Properties"] = new JsonObject
                    {
                        ["RoleName"] = Ref("ExecutionRoleName"),
                        // The central account, narrowed to its administration role by a condition: a role ARN as the
                        // principal would have to exist already, and in a StackSet it is made at the same time or later.
                        ["AssumeRolePolicyDocument"] = Policy(
                            new JsonObject
                            {
                                ["Effect"] = "Allow",
                                ["Principal"] = new JsonObject { ["AWS"] = Sub("arn:${AWS::Partition}:iam::${CentralAccountId}:root") },
                                ["Action"] = "sts:AssumeRole",
                                ["Condition"] = new JsonObject
                                {
                                    ["ArnEquals"] = new JsonObject { ["aws:PrincipalArn"] = Sub("arn:${AWS::Partition}:iam::${CentralAccountId}:role/${AdministrationRoleName}") },
                                },
                            },
                            new JsonObject { ["Effect"] = "Allow", ["Principal"] = new JsonObject { ["Service"] = "ssm.amazonaws.com" }, ["Action"] = "sts:AssumeRole" }),
                        ["ManagedPolicyArns"] = new JsonArray(Sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonSSMAutomationRole")),
                        ["Policies"] = new JsonArray(
                            new JsonObject { ["PolicyName"] = "WinEksPatch", ["PolicyDocument"] = JsonNode.Parse(modulePolicy) },
                            new JsonObject
                            {
                                ["PolicyName"] = "PassExecutionRole",
                                ["PolicyDocument"] = Policy(Statement("PassItselfToSsm", ["iam:PassRole"],
                                    Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ExecutionRoleName}"))),
                            }),
                    },
                },
                ["AdministrationRole"] = new JsonObject
                {
                    ["Type"] = "AWS::IAM::Role",
                    ["Condition"] = "IsCentralAccount",
                    ["Properties"] = new JsonObject
                    {
                        ["RoleName"] = Ref("AdministrationRoleName"),
                        ["AssumeRolePolicyDocument"] = Trust(new JsonObject { ["Service"] = "ssm.amazonaws.com" }),
                        ["Policies"] = new JsonArray(new JsonObject
                        {
                            ["PolicyName"] = "StartFleetExecutions",
                            ["PolicyDocument"] = Policy(
                                Statement("AssumeExecutionRoles", ["sts:AssumeRole"], Sub("arn:${AWS::Partition}:iam::*:role/${ExecutionRoleName}")),
                                Statement("ListOrganizationAccounts", ["organizations:ListAccountsForParent"], "*"),
                                // AlarmConfiguration: the execution reads its alarm and stops itself when it goes into ALARM.
                                Statement("WatchTheStopAlarm", ["cloudwatch:DescribeAlarms", "ssm:StopAutomationExecution"], "*")),
                        }),
                    },
                },
            },
            ["Outputs"] = new JsonObject
            {
                ["ExecutionRoleArn"] = new JsonObject { ["Value"] = new JsonObject { ["Fn::GetAtt"] = new JsonArray("ExecutionRole", "Arn") } },
            },
        };
        return template.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonObject Trust(params JsonObject[] principals) => Policy([.. principals.Select(p => new JsonObject
    {
        ["Effect"] = "Allow",
        ["Principal"] = p,
        ["Action"] = "sts:AssumeRole",
    })]);

    private static JsonObject Policy(params JsonObject[] statements) => new()
    {
        ["Version"] = "2012-10-17",
        ["Statement"] = new JsonArray([.. statements]),
    };

    private static JsonObject Statement(string sid, string[] actions, JsonNode resource) => new()
    {
        ["Sid"] = sid,
        ["Effect"] = "Allow",
        ["Action"] = new JsonArray([.. actions.Select(a => (JsonNode)a)]),
        ["Resource"] = resource,
    };
}
