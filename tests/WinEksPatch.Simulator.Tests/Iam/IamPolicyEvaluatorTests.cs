using WinEksPatch.Simulator.Auth.Iam;

namespace WinEksPatch.Simulator.Tests.Iam;

/// <summary>
/// The identity-policy evaluator against the IAM user guide ("Policy evaluation logic", "Condition operators",
/// "Single-valued vs. multivalued context keys"): each case is one a plausible implementation gets wrong.
/// </summary>
public sealed class IamPolicyEvaluatorTests
{
    private const string Account = "111122223333";
    private const string Cluster = $"arn:aws:eks:us-west-2:{Account}:cluster/demo";

    private static string Policy(params string[] statements) =>
        $$"""{ "Version": "2012-10-17", "Statement": [ {{string.Join(", ", statements)}} ] }""";

    /// <summary>One Allow statement on ec2:CreateTags for every resource, gated by the given Condition block.</summary>
    private static string AllowWhen(string condition) =>
        Policy($$"""{ "Sid": "Gated", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*", "Condition": {{condition}} }""");

    /// <summary>The context with an ordinal comparer on purpose: matching key names case-insensitively is the evaluator's job.</summary>
    private static Dictionary<string, IReadOnlyList<string>> Context((string Key, string[] Values)[] keys) =>
        keys.ToDictionary(k => k.Key, k => (IReadOnlyList<string>)k.Values, StringComparer.Ordinal);

    private static IamEvaluation Evaluate(string policy, string action, string resource, params (string Key, string[] Values)[] context) =>
        IamPolicyDocument.Parse(policy).Evaluate(new IamRequest(action, resource, Context(context)));

    private static IamDecision Decide(string policy, string action, string resource, params (string Key, string[] Values)[] context) =>
        Evaluate(policy, action, resource, context).Decision;

    /// <summary>The decision for ec2:CreateTags on "*" under <see cref="AllowWhen"/>.</summary>
    private static IamDecision Gated(string condition, params (string Key, string[] Values)[] context) =>
        Decide(AllowWhen(condition), "ec2:CreateTags", "*", context);

    [Fact]
    public void An_explicit_deny_beats_an_allow_and_names_the_deny_statement()
    {
        string policy = Policy(
            """{ "Sid": "AllowEc2", "Effect": "Allow", "Action": "ec2:*", "Resource": "*" }""",
            """{ "Sid": "NoTerminate", "Effect": "Deny", "Action": "ec2:TerminateInstances", "Resource": "*" }""");

        Assert.Equal(new IamEvaluation(IamDecision.ExplicitDeny, "NoTerminate"), Evaluate(policy, "ec2:TerminateInstances", "*"));
        Assert.Equal(new IamEvaluation(IamDecision.Allow, "AllowEc2"), Evaluate(policy, "ec2:DescribeInstances", "*"));
    }

    [Fact]
    public void A_request_no_statement_matches_is_implicitly_denied_without_a_statement()
    {
        string policy = Policy("""{ "Effect": "Allow", "Action": "eks:DescribeCluster", "Resource": "*" }""");

        Assert.Equal(new IamEvaluation(IamDecision.ImplicitDeny, null), Evaluate(policy, "eks:ListClusters", "*"));
    }

    [Fact]
    public void A_statement_without_a_Sid_is_reported_by_its_index()
    {
        string policy = Policy(
            """{ "Sid": "Other", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*" }""",
            """{ "Effect": "Allow", "Action": "eks:DescribeCluster", "Resource": "*" }""");

        Assert.Equal(new IamEvaluation(IamDecision.Allow, "Statement[1]"), Evaluate(policy, "eks:DescribeCluster", Cluster));
    }

    [Fact]
    public void NotAction_with_Allow_allows_everything_except_the_listed_actions()
    {
        string policy = Policy("""{ "Effect": "Allow", "NotAction": "iam:*", "Resource": "*" }""");

        Assert.Equal(IamDecision.Allow, Decide(policy, "s3:GetObject", "arn:aws:s3:::bucket/key"));
        Assert.Equal(IamDecision.ImplicitDeny, Decide(policy, "iam:CreateUser", "*"));
    }

    [Fact]
    public void NotAction_with_Deny_denies_everything_except_the_listed_actions_when_MFA_is_absent()
    {
        // The user guide's example: without MFA, deny all but IAM actions.
        string policy = Policy(
            """{ "Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*" }""",
            """{ "Sid": "NoMfa", "Effect": "Deny", "NotAction": "iam:*", "Resource": "*", "Condition": { "BoolIfExists": { "aws:MultiFactorAuthPresent": "false" } } }""");

        Assert.Equal(IamDecision.ExplicitDeny, Decide(policy, "ec2:RunInstances", "*"));
        Assert.Equal(IamDecision.Allow, Decide(policy, "iam:ListUsers", "*"));
        Assert.Equal(IamDecision.Allow, Decide(policy, "ec2:RunInstances", "*", ("aws:MultiFactorAuthPresent", ["true"])));
    }

    [Fact]
    public void NotResource_with_Deny_denies_every_resource_except_the_listed_ones()
    {
        string policy = Policy(
            """{ "Effect": "Allow", "Action": "s3:*", "Resource": "*" }""",
            """{ "Sid": "OnlyLogs", "Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"] }""");

        Assert.Equal(IamDecision.Allow, Decide(policy, "s3:GetObject", "arn:aws:s3:::logs/2024/app.log"));
        Assert.Equal(IamDecision.ExplicitDeny, Decide(policy, "s3:GetObject", "arn:aws:s3:::payroll/2024.csv"));
    }

    [Fact]
    public void Actions_match_wildcards_case_insensitively_but_resources_match_case_sensitively()
    {
        string policy = Policy($$"""{ "Effect": "Allow", "Action": ["ec2:Describe*", "eks:DescribeCluster"], "Resource": ["*", "{{Cluster}}"] }""");

        Assert.Equal(IamDecision.Allow, Decide(policy, "EC2:describeinstances", "*"));
        Assert.Equal(IamDecision.ImplicitDeny, Decide(policy, "ec2:CreateTags", "*"));
        Assert.Equal(IamDecision.Allow, Decide(policy, "eks:describecluster", Cluster));

        string exact = Policy($$"""{ "Effect": "Allow", "Action": "eks:DescribeCluster", "Resource": "{{Cluster}}" }""");
        Assert.Equal(IamDecision.ImplicitDeny, Decide(exact, "eks:DescribeCluster", Cluster.Replace("demo", "Demo", StringComparison.Ordinal)));
        Assert.Equal(IamDecision.ImplicitDeny, Decide(exact, "eks:DescribeCluster", "*"));
    }

    [Fact]
    public void A_question_mark_matches_exactly_one_character()
    {
        string policy = Policy("""{ "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::log-??/*" }""");

        Assert.Equal(IamDecision.Allow, Decide(policy, "s3:GetObject", "arn:aws:s3:::log-01/a"));
        Assert.Equal(IamDecision.ImplicitDeny, Decide(policy, "s3:GetObject", "arn:aws:s3:::log-1/a"));
        Assert.Equal(IamDecision.ImplicitDeny, Decide(policy, "s3:GetObject", "arn:aws:s3:::log-001/a"));
    }

    [Fact]
    public void StringEquals_on_a_resource_tag_needs_the_tag_with_that_exact_value()
    {
        const string condition = """{ "StringEquals": { "aws:ResourceTag/kubernetes.io/cluster/demo": "owned" } }""";

        Assert.Equal(IamDecision.Allow, Gated(condition, ("aws:ResourceTag/kubernetes.io/cluster/demo", ["owned"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:ResourceTag/kubernetes.io/cluster/demo", ["Owned"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:ResourceTag/kubernetes.io/cluster/staging", ["owned"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition));
    }

    [Fact]
    public void StringLike_on_a_request_tag_applies_wildcards_to_the_value()
    {
        const string condition = """{ "StringLike": { "aws:RequestTag/Name": "win-*-node?" } }""";

        Assert.Equal(IamDecision.Allow, Gated(condition, ("aws:RequestTag/Name", ["win-2022-node1"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:RequestTag/Name", ["win-2022-node12"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:RequestTag/Name", ["linux-node1"])));
    }

    [Fact]
    public void ForAllValues_StringEquals_on_TagKeys_allows_a_subset_and_also_an_absent_or_empty_key()
    {
        const string condition = """{ "ForAllValues:StringEquals": { "aws:TagKeys": ["Name", "Owner"] } }""";

        Assert.Equal(IamDecision.Allow, Gated(condition, ("aws:TagKeys", ["Name"])));
        Assert.Equal(IamDecision.Allow, Gated(condition, ("aws:TagKeys", ["Owner", "Name"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:TagKeys", ["Name", "Secret"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:TagKeys", ["name"])));

        // "It also returns true if there are no context keys in the request": the reason IAM pairs it with Null.
        Assert.Equal(IamDecision.Allow, Gated(condition));
        Assert.Equal(IamDecision.Allow, Gated(condition, ("aws:TagKeys", [])));
        const string guarded = """{ "ForAllValues:StringEquals": { "aws:TagKeys": ["Name", "Owner"] }, "Null": { "aws:TagKeys": "false" } }""";
        Assert.Equal(IamDecision.ImplicitDeny, Gated(guarded));
        Assert.Equal(IamDecision.Allow, Gated(guarded, ("aws:TagKeys", ["Owner"])));
    }

    [Fact]
    public void ForAllValues_with_a_negated_operator_allows_only_when_no_value_is_listed()
    {
        const string condition = """{ "ForAllValues:StringNotEquals": { "aws:TagKeys": ["Secret", "Owner"] } }""";

        Assert.Equal(IamDecision.Allow, Gated(condition, ("aws:TagKeys", ["Name", "Team"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:TagKeys", ["Name", "Secret"])));
    }

    [Fact]
    public void ForAnyValue_StringLike_needs_at_least_one_matching_value_and_fails_for_an_absent_or_empty_key()
    {
        const string condition = """{ "ForAnyValue:StringLike": { "aws:TagKeys": "kubernetes.io/*" } }""";

        Assert.Equal(IamDecision.Allow, Gated(condition, ("aws:TagKeys", ["Name", "kubernetes.io/cluster/demo"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:TagKeys", ["Name", "Owner"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:TagKeys", [])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition));
    }

    [Fact]
    public void PassRole_is_allowed_only_to_the_named_service()
    {
        string policy = Policy($$"""
            { "Sid": "PassNodeRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::{{Account}}:role/*",
              "Condition": { "StringEquals": { "iam:PassedToService": "ec2.amazonaws.com" } } }
            """);
        string role = $"arn:aws:iam::{Account}:role/eks-windows-node";

        Assert.Equal(IamDecision.Allow, Decide(policy, "iam:PassRole", role, ("iam:PassedToService", ["ec2.amazonaws.com"])));
        Assert.Equal(IamDecision.ImplicitDeny, Decide(policy, "iam:PassRole", role, ("iam:PassedToService", ["lambda.amazonaws.com"])));
        Assert.Equal(IamDecision.ImplicitDeny, Decide(policy, "iam:PassRole", role));
        Assert.Equal(IamDecision.ImplicitDeny, Decide(policy, "iam:PassRole", "arn:aws:iam::999999999999:role/x", ("iam:PassedToService", ["ec2.amazonaws.com"])));
    }

    [Fact]
    public void ArnLike_and_ArnEquals_match_each_ARN_field_with_wildcards()
    {
        const string key = "aws:SourceArn";
        const string like = $$"""{ "ArnLike": { "{{key}}": "arn:aws:imagebuilder:us-*:{{Account}}:image/*" } }""";

        Assert.Equal(IamDecision.Allow, Gated(like, (key, [$"arn:aws:imagebuilder:us-west-2:{Account}:image/win/1.0.0/1"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(like, (key, [$"arn:aws:imagebuilder:eu-west-1:{Account}:image/win/1.0.0/1"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(like, (key, ["arn:aws:imagebuilder:us-west-2:999999999999:image/win/1.0.0/1"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(like, (key, ["not-an-arn"])));

        // The user guide gives ArnEquals the same wildcard matching as ArnLike.
        const string equals = $$"""{ "ArnEquals": { "{{key}}": "arn:aws:sns:*:{{Account}}:topic" } }""";
        Assert.Equal(IamDecision.Allow, Gated(equals, (key, [$"arn:aws:sns:us-east-1:{Account}:topic"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated("""{ "ArnNotLike": { "aws:SourceArn": "arn:aws:sns:*:*:topic" } }""", (key, [$"arn:aws:sns:us-east-1:{Account}:topic"])));
    }

    [Fact]
    public void Null_true_needs_the_key_absent_and_Null_false_needs_it_present()
    {
        (string, string[]) issued = ("aws:TokenIssueTime", ["2024-05-01T00:00:00Z"]);

        Assert.Equal(IamDecision.Allow, Gated("""{ "Null": { "aws:TokenIssueTime": "true" } }"""));
        Assert.Equal(IamDecision.ImplicitDeny, Gated("""{ "Null": { "aws:TokenIssueTime": "true" } }""", issued));
        Assert.Equal(IamDecision.ImplicitDeny, Gated("""{ "Null": { "aws:TokenIssueTime": "false" } }"""));
        Assert.Equal(IamDecision.Allow, Gated("""{ "Null": { "aws:TokenIssueTime": "false" } }""", issued));
    }

    [Fact]
    public void Bool_compares_true_and_false_case_insensitively()
    {
        const string condition = """{ "Bool": { "aws:SecureTransport": "true" } }""";

        Assert.Equal(IamDecision.Allow, Gated(condition, ("aws:SecureTransport", ["true"])));
        Assert.Equal(IamDecision.Allow, Gated(condition, ("aws:SecureTransport", ["TRUE"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:SecureTransport", ["false"])));
        Assert.Equal(IamDecision.Allow, Gated("""{ "Bool": { "aws:SecureTransport": true } }""", ("aws:SecureTransport", ["true"])));
    }

    [Fact]
    public void NumericLessThan_compares_numbers_not_strings()
    {
        const string condition = """{ "NumericLessThan": { "aws:MultiFactorAuthAge": "3600" } }""";

        Assert.Equal(IamDecision.Allow, Gated(condition, ("aws:MultiFactorAuthAge", ["600"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:MultiFactorAuthAge", ["3600"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:MultiFactorAuthAge", ["40000"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:MultiFactorAuthAge", ["soon"])));
    }

    [Fact]
    public void DateGreaterThan_takes_ISO_8601_and_epoch_seconds()
    {
        const string condition = """{ "DateGreaterThan": { "aws:CurrentTime": "2024-01-01T00:00:00Z" } }""";

        Assert.Equal(IamDecision.Allow, Gated(condition, ("aws:CurrentTime", ["2024-06-01T12:00:00Z"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:CurrentTime", ["2023-12-31T23:59:59Z"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:CurrentTime", ["2024-01-01T00:00:00Z"])));
        Assert.Equal(IamDecision.Allow, Gated(condition, ("aws:CurrentTime", ["1717243200"])));
        Assert.Equal(IamDecision.Allow, Gated("""{ "DateGreaterThan": { "aws:EpochTime": "1704067200" } }""", ("aws:EpochTime", ["2024-01-01T00:00:01Z"])));
    }

    [Fact]
    public void IpAddress_matches_IPv4_and_IPv6_ranges_and_NotIpAddress_the_rest()
    {
        const string condition = """{ "IpAddress": { "aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"] } }""";

        Assert.Equal(IamDecision.Allow, Gated(condition, ("aws:SourceIp", ["203.0.113.7"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:SourceIp", ["203.0.114.7"])));
        Assert.Equal(IamDecision.Allow, Gated(condition, ("aws:SourceIp", ["2001:db8:1234:5678::1"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:SourceIp", ["2001:db8:1234:5679::1"])));
        Assert.Equal(IamDecision.Allow, Gated("""{ "NotIpAddress": { "aws:SourceIp": "10.0.0.0/8" } }""", ("aws:SourceIp", ["192.0.2.1"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated("""{ "NotIpAddress": { "aws:SourceIp": "10.0.0.0/8" } }""", ("aws:SourceIp", ["10.1.2.3"])));
    }

    [Fact]
    public void IfExists_holds_for_an_absent_key_and_still_tests_a_present_one()
    {
        const string condition = """{ "StringEqualsIfExists": { "aws:ResourceTag/env": "prod" } }""";

        Assert.Equal(IamDecision.Allow, Gated(condition));
        Assert.Equal(IamDecision.Allow, Gated(condition, ("aws:ResourceTag/env", ["prod"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, ("aws:ResourceTag/env", ["dev"])));
    }

    [Fact]
    public void A_negated_operator_holds_for_an_absent_key_as_the_user_guide_says()
    {
        // "If the policy condition requires that the key is not matched, such as StringNotLike or ArnNotLike, and the
        // right key is not present, the condition is true."
        Assert.Equal(IamDecision.Allow, Gated("""{ "StringNotEquals": { "aws:ResourceTag/env": "prod" } }"""));
        Assert.Equal(IamDecision.Allow, Gated("""{ "StringNotLike": { "aws:ResourceTag/env": "prod*" } }"""));
        Assert.Equal(IamDecision.Allow, Gated("""{ "NumericNotEquals": { "ec2:VolumeSize": "8" } }"""));
        Assert.Equal(IamDecision.ImplicitDeny, Gated("""{ "StringNotEquals": { "aws:ResourceTag/env": "prod" } }""", ("aws:ResourceTag/env", ["prod"])));

        // So a Deny on a negated operator catches untagged resources too.
        string policy = Policy(
            """{ "Effect": "Allow", "Action": "ec2:*", "Resource": "*" }""",
            """{ "Sid": "OnlyProd", "Effect": "Deny", "Action": "ec2:*", "Resource": "*", "Condition": { "StringNotEquals": { "aws:ResourceTag/env": "prod" } } }""");
        Assert.Equal(IamDecision.ExplicitDeny, Decide(policy, "ec2:StopInstances", "*"));
        Assert.Equal(IamDecision.Allow, Decide(policy, "ec2:StopInstances", "*", ("aws:ResourceTag/env", ["prod"])));
    }

    [Fact]
    public void Several_values_for_one_key_are_ORed_and_NORed_under_a_negated_operator()
    {
        const string regions = """["us-east-1", "us-west-2"]""";

        Assert.Equal(IamDecision.Allow, Gated($$"""{ "StringEquals": { "aws:RequestedRegion": {{regions}} } }""", ("aws:RequestedRegion", ["us-west-2"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated($$"""{ "StringEquals": { "aws:RequestedRegion": {{regions}} } }""", ("aws:RequestedRegion", ["eu-west-1"])));
        Assert.Equal(IamDecision.ImplicitDeny, Gated($$"""{ "StringNotEquals": { "aws:RequestedRegion": {{regions}} } }""", ("aws:RequestedRegion", ["us-west-2"])));
        Assert.Equal(IamDecision.Allow, Gated($$"""{ "StringNotEquals": { "aws:RequestedRegion": {{regions}} } }""", ("aws:RequestedRegion", ["eu-west-1"])));
    }

    [Fact]
    public void Several_keys_and_several_operators_are_ANDed()
    {
        const string condition = """
            { "StringEquals": { "aws:RequestedRegion": "us-west-2", "aws:ResourceTag/team": "platform" },
              "Bool": { "aws:SecureTransport": "true" } }
            """;
        (string, string[]) region = ("aws:RequestedRegion", ["us-west-2"]), team = ("aws:ResourceTag/team", ["platform"]), tls = ("aws:SecureTransport", ["true"]);

        Assert.Equal(IamDecision.Allow, Gated(condition, region, team, tls));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, region, tls));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, region, team));
        Assert.Equal(IamDecision.ImplicitDeny, Gated(condition, region, team, ("aws:SecureTransport", ["false"])));
    }

    [Fact]
    public void Condition_key_names_are_case_insensitive_but_values_are_not_unless_IgnoreCase()
    {
        (string, string[]) env = ("aws:resourcetag/ENV", ["Prod"]);

        Assert.Equal(IamDecision.Allow, Gated("""{ "StringEquals": { "AWS:ResourceTag/env": "Prod" } }""", env));
        Assert.Equal(IamDecision.ImplicitDeny, Gated("""{ "StringEquals": { "aws:ResourceTag/env": "prod" } }""", env));
        Assert.Equal(IamDecision.Allow, Gated("""{ "StringEqualsIgnoreCase": { "aws:ResourceTag/env": "prod" } }""", env));
        Assert.Equal(IamDecision.ImplicitDeny, Gated("""{ "StringNotEqualsIgnoreCase": { "aws:ResourceTag/env": "PROD" } }""", env));
    }

    [Fact]
    public void Without_a_set_operator_a_multivalued_key_matches_when_any_value_matches()
    {
        // The user guide only says multivalued keys "require a condition set operator"; this evaluator then reads a
        // positive operator as any-value and a negated one as no-value.
        (string, string[]) keys = ("aws:TagKeys", ["Name", "Owner"]);

        Assert.Equal(IamDecision.Allow, Gated("""{ "StringEquals": { "aws:TagKeys": "Owner" } }""", keys));
        Assert.Equal(IamDecision.ImplicitDeny, Gated("""{ "StringNotEquals": { "aws:TagKeys": "Owner" } }""", keys));
    }

    [Fact]
    public void A_single_statement_object_and_the_2008_version_parse()
    {
        const string policy = """{ "Version": "2008-10-17", "Statement": { "Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*" } }""";

        Assert.Equal(new IamEvaluation(IamDecision.Allow, "Statement[0]"), IamPolicyDocument.Parse(policy).Evaluate(new IamRequest("sts:GetCallerIdentity", "*", new Dictionary<string, IReadOnlyList<string>>())));
    }

    [Theory]
    [InlineData("""{ "Version": "2012-10-17", "Statement": [ { "Action": "ec2:*", "Resource": "*" } ] }""", "Effect")]
    [InlineData("""{ "Version": "2012-10-17", "Statement": [ { "Effect": "allow", "Action": "ec2:*", "Resource": "*" } ] }""", "Invalid effect")]
    [InlineData("""{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "ec2:*", "NotAction": "iam:*", "Resource": "*" } ] }""", "both Action and NotAction")]
    [InlineData("""{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "ec2:*" } ] }""", "resources")]
    [InlineData("""{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": "*", "Action": "ec2:*", "Resource": "*" } ] }""", "principal")]
    [InlineData("""{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "ec2:*", "Resource": "*", "Condition": { "StringEqualz": { "a:b": "c" } } } ] }""", "StringEqualz")]
    [InlineData("""{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "ec2:*", "Resource": "*", "Condition": { "NullIfExists": { "a:b": "true" } } } ] }""", "NullIfExists")]
    [InlineData("""{ "Version": "2024-01-01", "Statement": [ { "Effect": "Allow", "Action": "ec2:*", "Resource": "*" } ] }""", "2024-01-01")]
    [InlineData("""{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "ec2:*", "Resource": "*", "Resources": "*" } ] }""", "Resources")]
    [InlineData("""{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "CreateTags", "Resource": "*" } ] }""", "vendor")]
    [InlineData("""{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "ec2:*", "Resource": "i-123" } ] }""", "ARN format")]
    [InlineData("""{ "Version": "2012-10-17", "Statement": [ { "Sid": "A", "Effect": "Allow", "Action": "ec2:*", "Resource": "*" }, { "Sid": "A", "Effect": "Deny", "Action": "iam:*", "Resource": "*" } ] }""", "unique")]
    [InlineData("""{ "Version": "2012-10-17", "Statement": [ { "Sid": "no-dashes", "Effect": "Allow", "Action": "ec2:*", "Resource": "*" } ] }""", "alpha-numeric")]
    [InlineData("""{ "Version": "2012-10-17" }""", "Statement")]
    [InlineData("""Version: 2012-10-17""", "not valid JSON")]
    [InlineData("""{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "ec2:*", "Resource": "*", } ] }""", "not valid JSON")]
    public void A_malformed_policy_is_refused_with_a_message_naming_the_problem(string policy, string problem)
    {
        IamPolicyFormatException error = Assert.Throws<IamPolicyFormatException>(() => IamPolicyDocument.Parse(policy));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_grammar_error_names_the_statement_it_is_in()
    {
        string policy = Policy(
            """{ "Sid": "Fine", "Effect": "Allow", "Action": "ec2:*", "Resource": "*" }""",
            """{ "Sid": "Broken", "Action": "ec2:*", "Resource": "*" }""");

        IamPolicyFormatException error = Assert.Throws<IamPolicyFormatException>(() => IamPolicyDocument.Parse(policy));
        Assert.Contains("Statement[1] (Sid Broken)", error.Message, StringComparison.Ordinal);
    }
}
