using System.Net.Http.Json;
using System.Text.Json;
using System.Xml.Linq;
using Amazon.EC2;
using Amazon.EC2.Model;
using WinEksPatch.Simulator.Hosting;
using WinEksPatch.Simulator.Tests.Infrastructure;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Tests.Aws;

/// <summary>
/// The fleet over time: Auto Scaling keeps desired capacity (launch → running → node registered → Ready; terminate →
/// node gone), scaling activities, launch faults, suspended processes, new launch template versions, EKS managed
/// node group updates. Each test has its own simulator and drives the virtual clock with Advance (time scale 1, so
/// nothing happens between advances), which runs every event that falls due in order.
/// </summary>
public sealed class FleetBehaviourTests : IAsyncLifetime
{
    private static readonly XNamespace AsNs = "http://autoscaling.amazonaws.com/doc/2011-01-01/";
    private static readonly DateTimeOffset Start = new(2026, 10, 1, 8, 0, 0, TimeSpan.Zero);
    private const string SelfManaged = "demo-win-selfmanaged";

    private SimulatorHost _sim = null!;
    private string? _scenarioFile;

    public async Task InitializeAsync() => _sim = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo", StartTime = Start });

    public async Task DisposeAsync()
    {
        Assert.Empty(_sim.World.Scheduler.Errors);
        await _sim.DisposeAsync();
        if (_scenarioFile is not null)
        {
            File.Delete(_scenarioFile);
        }
    }

    private Task<SignedHttp.Response> AutoScaling(string action, IDictionary<string, string>? parameters = null) =>
        SignedHttp.QueryAsync(_sim.Info.Endpoint, "autoscaling", "2011-01-01", action, parameters);

    private AmazonEC2Client Ec2() => new(new Amazon.Runtime.BasicAWSCredentials(_sim.Info.AccessKeyId, _sim.Info.SecretAccessKey),
        new AmazonEC2Config { ServiceURL = _sim.Info.Endpoint, AuthenticationRegion = "us-west-2", MaxErrorRetry = 0 });

    private Task<SignedHttp.Response> Eks(string method, string path, string? body = null, IDictionary<string, string>? query = null) =>
        SignedHttp.SendAsync(_sim.Info.Endpoint, "eks", method, path, query, body);

    private void Advance(TimeSpan by) => _sim.Clock.Advance(by);

    private T InWorld<T>(Func<SimWorld, T> read)
    {
        lock (_sim.World.Gate)
        {
            return read(_sim.World);
        }
    }

    private List<Ec2Instance> Members(string group) => InWorld(w => w.AutoScalingGroups[group].InstanceIds.Select(id => w.Instances[id]).ToList());

    private async Task<XElement> ActivitiesOf(string group)
    {
        SignedHttp.Response r = await AutoScaling("DescribeScalingActivities", new Dictionary<string, string> { ["AutoScalingGroupName"] = group });
        Assert.Equal(200, r.Status);
        return XDocument.Parse(r.Body).Root!;
    }

    [Fact]
    public async Task SetDesiredCapacity_launches_an_instance_whose_node_registers_after_a_Windows_boot()
    {
        SignedHttp.Response r = await AutoScaling("SetDesiredCapacity", new Dictionary<string, string> { ["AutoScalingGroupName"] = SelfManaged, ["DesiredCapacity"] = "5" });
        Assert.Equal(200, r.Status);
        Ec2Instance launched = Assert.Single(Members(SelfManaged), i => i.LaunchTime >= Start);
        Assert.Equal("pending", launched.State);
        Assert.Equal("Pending", launched.LifecycleState);

        XElement activity = (await ActivitiesOf(SelfManaged)).Descendants(AsNs + "member").First();
        Assert.Equal("Launching a new EC2 instance: " + launched.InstanceId, activity.Element(AsNs + "Description")!.Value);
        Assert.Contains("a user request explicitly set group desired capacity changing the desired capacity from 4 to 5", activity.Element(AsNs + "Cause")!.Value, StringComparison.Ordinal);
        Assert.Equal("PreInService", activity.Element(AsNs + "StatusCode")!.Value);

        Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(("running", "InService"), InWorld(_ => (launched.State, launched.LifecycleState)));
        Assert.Null(InWorld(w => w.NodeOf(launched)));
        Assert.Equal("Successful", (await ActivitiesOf(SelfManaged)).Descendants(AsNs + "StatusCode").First().Value);

        // A Windows node takes minutes to bootstrap; then it registers NotReady and turns Ready.
        Advance(TimeSpan.FromMinutes(8));
        KubeNode node = InWorld(w => w.NodeOf(launched))!;
        Assert.True(node.Ready);
        Assert.Equal("windows", node.Labels["kubernetes.io/os"]);
        Assert.Equal("10.0.20348", node.Labels["node.kubernetes.io/windows-build"]);
        Assert.Equal("windows", node.Labels["workload"]); // from --node-labels in the launch template's bootstrap user data
        Assert.False(node.Labels.ContainsKey("eks.amazonaws.com/nodegroup"));
        Assert.Equal(InWorld(w => w.Images[launched.ImageId].OsVersion), node.KernelVersion);
        Assert.Equal($"aws:///{launched.AvailabilityZone}/{launched.InstanceId}", node.ProviderId);
        Assert.True(node.CreationTimestamp - launched.LaunchTime >= TimeSpan.FromMinutes(4));
        Assert.Contains(launched.Tags, t => t.Key == "aws:autoscaling:groupName" && t.Value == SelfManaged);
    }

    [Fact]
    public async Task A_new_Windows_node_takes_Windows_pods_only_once_the_VPC_resource_controller_advertises_its_pod_ips()
    {
        SignedHttp.Response r = await AutoScaling("SetDesiredCapacity", new Dictionary<string, string> { ["AutoScalingGroupName"] = SelfManaged, ["DesiredCapacity"] = "5" });
        Assert.Equal(200, r.Status);
        Ec2Instance launched = Assert.Single(Members(SelfManaged), i => i.LaunchTime >= Start);
        while (InWorld(w => w.NodeOf(launched)) is not { Ready: true })
        {
            Advance(TimeSpan.FromSeconds(1));
        }

        // Ready, but without pod IPs: with every other Windows node cordoned, a Windows pod that needs a new home stays Pending.
        KubeNode node = InWorld(w => w.NodeOf(launched))!;
        Assert.Empty(node.ExtendedResources);
        string uid = InWorld(w =>
        {
            foreach (KubeNode other in w.Nodes.Values.Where(n => n.ClusterName == "demo" && n.OperatingSystem == "windows" && n != node))
            {
                other.Unschedulable = true;
                w.NodeChanged(other);
            }

            KubePod victim = w.Pods.Values.First(p => p.ClusterName == "demo" && p.Namespace == "shop" && p.OwnerName!.StartsWith("web-iis", StringComparison.Ordinal));
            w.DeletePodGracefully(victim, 0, PodDeletionCause.Delete);
            return victim.Uid;
        });
        Advance(TimeSpan.FromSeconds(1));
        KubePod pending = InWorld(w => w.Pods.Values.Single(p => p.Namespace == "shop" && p.OwnerName!.StartsWith("web-iis", StringComparison.Ordinal) && p.NodeName is null));
        Assert.NotEqual(uid, pending.Uid);
        Assert.Contains(InWorld(w => w.KubeEvents.ToList()), e => e.InvolvedName == pending.Name && e.Reason == "FailedScheduling"
            && e.Message.Contains("1 Insufficient vpc.amazonaws.com/PrivateIPv4Address", StringComparison.Ordinal));

        // Seconds later the controller advertises them (m5.2xlarge: 14 secondary IPs of the primary interface) and the pod lands there.
        Advance(TimeSpan.FromSeconds(25));
        Assert.Equal(("m5.2xlarge", "14"), InWorld(_ => (launched.InstanceType, node.ExtendedResources.GetValueOrDefault(WindowsPodIps.ResourceName))));
        Assert.Equal(node.Name, InWorld(_ => pending.NodeName));
    }

    [Fact]
    public async Task TerminateInstanceInAutoScalingGroup_shrinks_or_replaces_and_the_node_goes_away()
    {
        List<Ec2Instance> before = Members(SelfManaged);
        SignedHttp.Response r = await AutoScaling("TerminateInstanceInAutoScalingGroup", new Dictionary<string, string>
        {
            ["InstanceId"] = before[0].InstanceId,
            ["ShouldDecrementDesiredCapacity"] = "true",
        });
        Assert.Equal(200, r.Status);
        XElement activity = XDocument.Parse(r.Body).Root!.Descendants(AsNs + "Activity").Single();
        Assert.Equal("Terminating EC2 instance: " + before[0].InstanceId, activity.Element(AsNs + "Description")!.Value);
        Assert.Equal(("shutting-down", "Terminating", 3), InWorld(w => (before[0].State, before[0].LifecycleState, w.AutoScalingGroups[SelfManaged].DesiredCapacity)));
        Assert.False(InWorld(w => w.NodeOf(before[0]))!.Ready);

        Advance(TimeSpan.FromMinutes(3));
        Assert.Equal("terminated", InWorld(_ => before[0].State));
        Assert.Null(InWorld(w => w.NodeOf(before[0])));
        Assert.Equal(3, Members(SelfManaged).Count);

        // Without the decrement the group launches a replacement at once.
        r = await AutoScaling("TerminateInstanceInAutoScalingGroup", new Dictionary<string, string>
        {
            ["InstanceId"] = before[1].InstanceId,
            ["ShouldDecrementDesiredCapacity"] = "false",
        });
        Assert.Equal(200, r.Status);
        Assert.Single(Members(SelfManaged), i => i.State == "pending");

        // Desired 3 with min 2: one more decrement is allowed, then the min size stops it.
        await AutoScaling("SetDesiredCapacity", new Dictionary<string, string> { ["AutoScalingGroupName"] = SelfManaged, ["DesiredCapacity"] = "2" });
        r = await AutoScaling("TerminateInstanceInAutoScalingGroup", new Dictionary<string, string>
        {
            ["InstanceId"] = before[3].InstanceId,
            ["ShouldDecrementDesiredCapacity"] = "true",
        });
        Assert.Equal(400, r.Status);
        Assert.Contains("<Code>ValidationError</Code>", r.Body, StringComparison.Ordinal);
        Assert.Contains("Terminating instance without replacement will violate group's min size constraint", r.Body, StringComparison.Ordinal);

        r = await AutoScaling("TerminateInstanceInAutoScalingGroup", new Dictionary<string, string> { ["InstanceId"] = "i-0123456789abcdef0", ["ShouldDecrementDesiredCapacity"] = "false" });
        Assert.Equal(400, r.Status);
        Assert.Contains("No managed instance found for instance ID: i-0123456789abcdef0", r.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_launch_fault_fails_the_activity_with_InsufficientInstanceCapacity_and_the_group_retries()
    {
        using var http = new HttpClient();
        HttpResponseMessage added = await http.PostAsJsonAsync(_sim.Info.AdminEndpoint + "/fleet/faults", new { kind = "launch-failure", group = "demo-win-*", count = 1 });
        Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync());
        HttpResponseMessage bad = await http.PostAsJsonAsync(_sim.Info.AdminEndpoint + "/fleet/faults", new { kind = "meteor" });
        Assert.Equal(400, (int)bad.StatusCode);

        await AutoScaling("SetDesiredCapacity", new Dictionary<string, string> { ["AutoScalingGroupName"] = SelfManaged, ["DesiredCapacity"] = "5" });
        Assert.Equal(4, Members(SelfManaged).Count);
        XElement failed = (await ActivitiesOf(SelfManaged)).Descendants(AsNs + "member").First();
        Assert.Equal("Failed", failed.Element(AsNs + "StatusCode")!.Value);
        Assert.Contains("We currently do not have sufficient m5.2xlarge capacity", failed.Element(AsNs + "StatusMessage")!.Value, StringComparison.Ordinal);

        Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(5, Members(SelfManaged).Count);
        JsonElement faults = JsonDocument.Parse(await http.GetStringAsync(_sim.Info.AdminEndpoint + "/fleet/faults")).RootElement.GetProperty("faults");
        Assert.Equal(1, faults[0].GetProperty("hits").GetInt32());
    }

    [Fact]
    public async Task Never_register_and_not_ready_faults_keep_nodes_out_of_service()
    {
        lock (_sim.World.Gate)
        {
            _sim.World.AddFleetFault(new FleetFaultRule { Kind = "never-register", Group = SelfManaged, Count = 1 });
            _sim.World.AddFleetFault(new FleetFaultRule { Kind = "not-ready", Group = SelfManaged, Count = 1 });
        }

        await AutoScaling("SetDesiredCapacity", new Dictionary<string, string> { ["AutoScalingGroupName"] = SelfManaged, ["DesiredCapacity"] = "6" });
        Advance(TimeSpan.FromMinutes(20));
        List<Ec2Instance> launched = Members(SelfManaged).Where(i => i.LaunchTime >= Start).ToList();
        Assert.Equal(2, launched.Count);
        Assert.All(launched, i => Assert.Equal("running", i.State));
        List<KubeNode?> nodes = launched.Select(i => InWorld(w => w.NodeOf(i))).ToList();
        Assert.Single(nodes, n => n is null);
        Assert.Single(nodes, n => n is { Ready: false });
    }

    [Fact]
    public async Task Suspended_Launch_holds_back_capacity_until_resumed()
    {
        SignedHttp.Response r = await AutoScaling("SuspendProcesses", new Dictionary<string, string>
        {
            ["AutoScalingGroupName"] = SelfManaged,
            ["ScalingProcesses.member.1"] = "Launch",
            ["ScalingProcesses.member.2"] = "AZRebalance",
        });
        Assert.Equal(200, r.Status);
        await AutoScaling("SetDesiredCapacity", new Dictionary<string, string> { ["AutoScalingGroupName"] = SelfManaged, ["DesiredCapacity"] = "5" });
        Assert.Equal(4, Members(SelfManaged).Count);

        SignedHttp.Response described = await AutoScaling("DescribeAutoScalingGroups", new Dictionary<string, string> { ["AutoScalingGroupNames.member.1"] = SelfManaged });
        List<string> suspended = XDocument.Parse(described.Body).Descendants(AsNs + "ProcessName").Select(e => e.Value).ToList();
        Assert.Equal(["Launch", "AZRebalance"], suspended);

        r = await AutoScaling("ResumeProcesses", new Dictionary<string, string> { ["AutoScalingGroupName"] = SelfManaged, ["ScalingProcesses.member.1"] = "Launch" });
        Assert.Equal(200, r.Status);
        Assert.Equal(5, Members(SelfManaged).Count);

        r = await AutoScaling("SuspendProcesses", new Dictionary<string, string> { ["AutoScalingGroupName"] = SelfManaged, ["ScalingProcesses.member.1"] = "Teleport" });
        Assert.Equal(400, r.Status);
        Assert.Contains("<Code>ValidationError</Code>", r.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_launch_template_version_moves_new_launches_to_the_new_AMI_and_scale_in_takes_old_ones_first()
    {
        using AmazonEC2Client ec2 = Ec2();
        string templateId = InWorld(w => w.AutoScalingGroups[SelfManaged].LaunchTemplate.LaunchTemplateId);
        string newest = InWorld(w => w.SsmParameters["/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.31/image_id"].Value);
        DescribeLaunchTemplateVersionsResponse v1 = await ec2.DescribeLaunchTemplateVersionsAsync(new DescribeLaunchTemplateVersionsRequest { LaunchTemplateId = templateId, Versions = ["$Latest"] });
        string userData = v1.LaunchTemplateVersions.Single().LaunchTemplateData.UserData;

        CreateLaunchTemplateVersionResponse created = await ec2.CreateLaunchTemplateVersionAsync(new CreateLaunchTemplateVersionRequest
        {
            LaunchTemplateId = templateId,
            SourceVersion = "1",
            VersionDescription = "patch 2026-09",
            LaunchTemplateData = new RequestLaunchTemplateData { ImageId = newest },
        });
        Assert.Equal(2, created.LaunchTemplateVersion.VersionNumber);
        Assert.Equal(newest, created.LaunchTemplateVersion.LaunchTemplateData.ImageId);
        Assert.Equal(userData, created.LaunchTemplateVersion.LaunchTemplateData.UserData); // byte for byte
        Assert.False(created.LaunchTemplateVersion.DefaultVersion);

        SignedHttp.Response r = await AutoScaling("UpdateAutoScalingGroup", new Dictionary<string, string>
        {
            ["AutoScalingGroupName"] = SelfManaged,
            ["LaunchTemplate.LaunchTemplateId"] = templateId,
            ["LaunchTemplate.Version"] = "2",
            ["MaxSize"] = "9",
            ["DesiredCapacity"] = "6",
        });
        Assert.Equal(200, r.Status);
        List<Ec2Instance> fresh = Members(SelfManaged).Where(i => i.LaunchTime >= Start).ToList();
        Assert.Equal(2, fresh.Count);
        Assert.All(fresh, i => Assert.Equal((newest, "2"), (i.ImageId, i.LaunchTemplate!.Version)));

        r = await AutoScaling("SetDesiredCapacity", new Dictionary<string, string> { ["AutoScalingGroupName"] = SelfManaged, ["DesiredCapacity"] = "3" });
        Assert.Equal(200, r.Status);
        List<Ec2Instance> leaving = Members(SelfManaged).Where(i => i.LifecycleState == "Terminating").ToList();
        Assert.Equal(3, leaving.Count);
        Assert.All(leaving, i => Assert.Equal("1", i.LaunchTemplate!.Version));

        r = await AutoScaling("UpdateAutoScalingGroup", new Dictionary<string, string> { ["AutoScalingGroupName"] = SelfManaged, ["LaunchTemplate.LaunchTemplateId"] = templateId, ["LaunchTemplate.Version"] = "7" });
        Assert.Equal(400, r.Status);
        Assert.Contains("You must use a valid fully-formed launch template", r.Body, StringComparison.Ordinal);
        r = await AutoScaling("UpdateAutoScalingGroup", new Dictionary<string, string> { ["AutoScalingGroupName"] = SelfManaged, ["DesiredCapacity"] = "20" });
        Assert.Contains("Desired capacity:20 must be between the specified min size:2 and max size:9", r.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EC2_TerminateInstances_on_a_group_member_is_replaced_by_the_group()
    {
        using AmazonEC2Client ec2 = Ec2();
        string victim = Members(SelfManaged)[0].InstanceId;
        TerminateInstancesResponse response = await ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [victim] });
        InstanceStateChange change = Assert.Single(response.TerminatingInstances);
        Assert.Equal((InstanceStateName.Running, InstanceStateName.ShuttingDown), (change.PreviousState.Name, change.CurrentState.Name));
        Assert.Single(Members(SelfManaged), i => i.State == "pending");
        Assert.Contains("EC2 health check indicating it has been terminated", (await ActivitiesOf(SelfManaged)).ToString(), StringComparison.Ordinal);

        AmazonEC2Exception e = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = ["i-0123456789abcdef0"] }));
        Assert.Equal("InvalidInstanceID.NotFound", e.ErrorCode);
    }

    [Fact]
    public async Task EKS_UpdateNodegroupVersion_replaces_every_node_of_a_managed_group_and_scales_back()
    {
        await RestartWithOutdatedManagedGroup();
        string asgName = InWorld(w => w.Nodegroups[("demo", "win-managed")].AutoScalingGroupName);
        List<string> oldInstances = Members(asgName).Select(i => i.InstanceId).ToList();
        string newest = InWorld(w => w.SsmParameters["/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.31/image_id"].Value);

        SignedHttp.Response r = await Eks("POST", "/clusters/demo/node-groups/win-managed/update-version", "{}");
        Assert.Equal(200, r.Status);
        JsonElement update = JsonDocument.Parse(r.Body).RootElement.GetProperty("update");
        string id = update.GetProperty("id").GetString()!;
        Assert.Equal(("InProgress", "VersionUpdate"), (update.GetProperty("status").GetString(), update.GetProperty("type").GetString()));
        // Surge: max(2 × 3 zones, maxUnavailable 1) capped by the 3 outdated nodes.
        Assert.Equal((6, 9), InWorld(w => (w.AutoScalingGroups[asgName].DesiredCapacity, w.AutoScalingGroups[asgName].MaxSize)));

        r = await Eks("POST", "/clusters/demo/node-groups/win-managed/update-version", "{}");
        Assert.Equal(409, r.Status);
        Assert.Equal("ResourceInUseException", r.Message.Headers.GetValues("x-amzn-ErrorType").Single());

        Advance(TimeSpan.FromHours(2));
        r = await Eks("GET", $"/clusters/demo/updates/{id}", query: new Dictionary<string, string> { ["nodegroupName"] = "win-managed" });
        Assert.Equal("Successful", JsonDocument.Parse(r.Body).RootElement.GetProperty("update").GetProperty("status").GetString());
        List<Ec2Instance> members = Members(asgName).Where(i => i.State != "terminated").ToList();
        Assert.Equal(3, members.Count);
        Assert.All(members, i => Assert.Equal(newest, i.ImageId));
        Assert.DoesNotContain(members, i => oldInstances.Contains(i.InstanceId));
        Assert.Equal((3, 6), InWorld(w => (w.AutoScalingGroups[asgName].DesiredCapacity, w.AutoScalingGroups[asgName].MaxSize)));
        List<KubeNode> nodes = InWorld(w => w.Nodes.Values.Where(n => n.Labels.GetValueOrDefault("eks.amazonaws.com/nodegroup") == "win-managed").ToList());
        Assert.Equal(3, nodes.Count);
        Assert.All(nodes, n => Assert.True(n.Ready && !n.Unschedulable && n.Taints.Count == 0 && n.Labels["eks.amazonaws.com/nodegroup-image"] == newest));

        r = await Eks("GET", "/clusters/demo/updates", query: new Dictionary<string, string> { ["nodegroupName"] = "win-managed" });
        Assert.Equal(id, JsonDocument.Parse(r.Body).RootElement.GetProperty("updateIds")[0].GetString());
        r = await Eks("GET", "/clusters/demo/node-groups/win-managed");
        Assert.StartsWith("1.31-2026.09.", JsonDocument.Parse(r.Body).RootElement.GetProperty("nodegroup").GetProperty("releaseVersion").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task EKS_update_takes_at_most_maxUnavailable_old_nodes_at_a_time_and_terminates_each_60_s_after_its_cordon(int maxUnavailable)
    {
        await RestartWithOutdatedManagedGroup();
        // Without budgets every drain is immediate, so maxUnavailable (and the wait for new nodes) is all that holds EKS back.
        InWorld(w =>
        {
            w.PodDisruptionBudgets.Clear();
            return 0;
        });
        if (maxUnavailable != 1)
        {
            Assert.Equal(200, (await Eks("POST", "/clusters/demo/node-groups/win-managed/update-config", $$$"""{"updateConfig":{"maxUnavailable":{{{maxUnavailable}}} } }""")).Status);
            Advance(TimeSpan.FromMinutes(2));
        }

        string asgName = InWorld(w => w.Nodegroups[("demo", "win-managed")].AutoScalingGroupName);
        HashSet<string> old = [.. Members(asgName).Select(i => i.InstanceId)];
        SignedHttp.Response r = await Eks("POST", "/clusters/demo/node-groups/win-managed/update-version", "{}");
        string id = JsonDocument.Parse(r.Body).RootElement.GetProperty("update").GetProperty("id").GetString()!;

        // Sampled every 5 simulated seconds: when each old node was first seen cordoned, and its instance first seen leaving service.
        var cordoned = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var leaving = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        int mostAtOnce = 0;
        string status = "InProgress";
        for (int step = 0; step < 2 * 720 && status == "InProgress"; step++)
        {
            Advance(TimeSpan.FromSeconds(5));
            (DateTimeOffset now, List<(string Id, bool Cordoned, bool InService)> states, status) = InWorld(w => (w.Scheduler.Now,
                old.Select(i => (i, w.Nodes.Values.Any(n => n.ProviderId.EndsWith("/" + i, StringComparison.Ordinal) && n.Unschedulable),
                    w.Instances[i].LifecycleState == "InService")).ToList(),
                w.EksUpdates.Single(u => u.Id == id).Status));
            foreach ((string instance, bool isCordoned, bool inService) in states)
            {
                if (isCordoned)
                {
                    cordoned.TryAdd(instance, now);
                }

                if (!inService)
                {
                    leaving.TryAdd(instance, now);
                }
            }

            mostAtOnce = Math.Max(mostAtOnce, states.Count(s => s.Cordoned && s.InService));
        }

        Assert.Equal("Successful", status);
        Assert.Equal(old.Order(), cordoned.Keys.Order());
        Assert.Equal(maxUnavailable, mostAtOnce);
        foreach (string instance in old)
        {
            // 60 s exactly in the simulator; sampling every 5 s blurs each end by up to 5 s.
            Assert.InRange((leaving[instance] - cordoned[instance]).TotalSeconds, 55, 65);
        }
    }

    [Fact]
    public async Task EKS_update_fails_with_PodEvictionFailure_when_a_budget_blocks_evictions_for_15_minutes_and_violates_none()
    {
        // The managed scenario's legacy cluster: one ledger replica whose budget (minAvailable 1) allows no eviction.
        await _sim.DisposeAsync();
        _sim = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "managed", StartTime = Start });
        string ledgerNode = InWorld(w => w.Pods.Values.Single(p => p.ClusterName == "legacy" && p.OwnerName?.StartsWith("ledger", StringComparison.Ordinal) == true).NodeName!);

        SignedHttp.Response r = await Eks("POST", "/clusters/legacy/node-groups/win-legacy/update-version", "{}");
        string id = JsonDocument.Parse(r.Body).RootElement.GetProperty("update").GetProperty("id").GetString()!;
        Advance(TimeSpan.FromHours(1));
        r = await Eks("GET", $"/clusters/legacy/updates/{id}", query: new Dictionary<string, string> { ["nodegroupName"] = "win-legacy" });
        JsonElement update = JsonDocument.Parse(r.Body).RootElement.GetProperty("update");
        Assert.Equal("Failed", update.GetProperty("status").GetString());
        JsonElement error = update.GetProperty("errors")[0];
        Assert.Equal("PodEvictionFailure", error.GetProperty("errorCode").GetString());
        Assert.Contains("Reached max retries while trying to evict pods from nodes in node group win-legacy", error.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal(ledgerNode, error.GetProperty("resourceIds")[0].GetString());

        // The ledger pod still runs where it was: EKS's drain went through the eviction API and its budget.
        Assert.Equal(ledgerNode, InWorld(w => w.Pods.Values.Single(p => p.ClusterName == "legacy" && p.OwnerName?.StartsWith("ledger", StringComparison.Ordinal) == true).NodeName));
        using var http = new HttpClient();
        using JsonDocument report = JsonDocument.Parse(await http.GetStringAsync(_sim.Info.AdminEndpoint + "/report"));
        Assert.Equal(0, report.RootElement.GetProperty("pdbViolations").GetArrayLength());

        // Forced, EKS deletes the blocked pod after its 15 minutes: the update succeeds and the report counts the violation.
        r = await Eks("POST", "/clusters/legacy/node-groups/win-legacy/update-version", "{\"force\":true}");
        id = JsonDocument.Parse(r.Body).RootElement.GetProperty("update").GetProperty("id").GetString()!;
        Advance(TimeSpan.FromHours(2));
        r = await Eks("GET", $"/clusters/legacy/updates/{id}", query: new Dictionary<string, string> { ["nodegroupName"] = "win-legacy" });
        Assert.Equal("Successful", JsonDocument.Parse(r.Body).RootElement.GetProperty("update").GetProperty("status").GetString());
        using JsonDocument after = JsonDocument.Parse(await http.GetStringAsync(_sim.Info.AdminEndpoint + "/report"));
        List<JsonElement> violations = after.RootElement.GetProperty("pdbViolations").EnumerateArray().ToList();
        Assert.Contains(violations, v => (v.GetProperty("pdb").GetString(), v.GetProperty("cause").GetString()) == ("ledger", "Delete"));
    }

    [Fact]
    public async Task EKS_update_requests_are_validated()
    {
        SignedHttp.Response r = await Eks("POST", "/clusters/demo/node-groups/win-managed/update-version", "{\"version\":\"1.33\"}");
        Assert.Equal(400, r.Status);
        Assert.Equal("InvalidParameterException", r.Message.Headers.GetValues("x-amzn-ErrorType").Single());
        r = await Eks("POST", "/clusters/demo/node-groups/win-managed/update-version", "{\"releaseVersion\":\"1.31-1999.01.01\"}");
        Assert.Equal(400, r.Status);
        r = await Eks("POST", "/clusters/demo/node-groups/nope/update-version", "{}");
        Assert.Equal(404, r.Status);
        r = await Eks("POST", "/clusters/demo/node-groups/win-managed/update-version", "{not json");
        Assert.Equal(400, r.Status);
        r = await Eks("POST", "/clusters/demo/node-groups/win-managed/update-config", "{\"scalingConfig\":{\"desiredSize\":9}}");
        Assert.Equal(400, r.Status);
        Assert.Equal("Desired capacity 9 can't be greater than max size 6", JsonDocument.Parse(r.Body).RootElement.GetProperty("message").GetString());

        r = await Eks("POST", "/clusters/demo/node-groups/win-managed/update-config", "{\"scalingConfig\":{\"desiredSize\":4},\"updateConfig\":{\"maxUnavailable\":2},\"labels\":{\"addOrUpdateLabels\":{\"patch\":\"2026-09\"}}}");
        Assert.Equal(200, r.Status);
        Assert.Equal("ConfigUpdate", JsonDocument.Parse(r.Body).RootElement.GetProperty("update").GetProperty("type").GetString());
        Assert.Equal((4, 2), InWorld(w => (w.AutoScalingGroups[w.Nodegroups[("demo", "win-managed")].AutoScalingGroupName].DesiredCapacity, w.Nodegroups[("demo", "win-managed")].MaxUnavailable)));
        Assert.All(InWorld(w => w.Nodes.Values.Where(n => n.Labels.GetValueOrDefault("eks.amazonaws.com/nodegroup") == "win-managed").ToList()),
            n => Assert.Equal("2026-09", n.Labels["patch"]));
    }

    /// <summary>The demo scenario with the managed Windows group two months behind, so an update has somewhere to go, and
    /// two payments replicas, so that its budget (minAvailable 1) lets EKS's drain through one at a time.</summary>
    private async Task RestartWithOutdatedManagedGroup()
    {
        await _sim.DisposeAsync();
        string demo = await File.ReadAllTextAsync(Path.Combine(Scenarios.ScenarioLoader.ScenarioDirectory, "demo.json"));
        string outdated = demo.Replace("\"amiType\": \"WINDOWS_CORE_2022_x86_64\",\n          \"monthsBehind\": 0", "\"amiType\": \"WINDOWS_CORE_2022_x86_64\",\n          \"monthsBehind\": 2", StringComparison.Ordinal);
        Assert.NotEqual(demo, outdated);
        string replicated = outdated.Replace("\"name\": \"payments\", \"kind\": \"Deployment\", \"replicas\": 1,", "\"name\": \"payments\", \"kind\": \"Deployment\", \"replicas\": 2,", StringComparison.Ordinal);
        Assert.NotEqual(outdated, replicated);
        outdated = replicated;
        _scenarioFile = Path.Combine(Path.GetTempPath(), $"fleet-outdated-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_scenarioFile, outdated);
        _sim = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = _scenarioFile, StartTime = Start });
    }
}
