namespace WinEksPatch.Errors;

/// <summary>What kind of failure an error is; the cmdlet layer maps it to a PowerShell ErrorCategory.
/// The engine does not reference PowerShell, so it keeps its own small vocabulary.</summary>
public enum ErrorKind
{
    InvalidArgument,
    ObjectNotFound,
    PermissionDenied,
    AuthenticationError,
    ResourceBusy,
    Throttled,
    OperationTimeout,
    ConnectionError,
    InvalidOperation,
    InvalidData,
    OperationStopped,

    /// <summary>Refused to protect a secret (a registry naming a foreign token realm).</summary>
    SecurityError,
}

/// <summary>
/// An error the module reports to the user: a stable id (becomes the first part of FullyQualifiedErrorId),
/// a kind (becomes the ErrorCategory), the thing it concerns (a cluster name, an instance id) and a message
/// that says what to do. Messages never contain credentials, tokens or presigned URLs.
/// </summary>
public sealed class WinEksPatchException : Exception
{
    public WinEksPatchException(string errorId, ErrorKind kind, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    /// <summary>Stable identifier, one of <see cref="ErrorIds"/>.</summary>
    public string ErrorId { get; }

    public ErrorKind Kind { get; }

    /// <summary>The object the error is about (cluster, node group, instance, parameter name).</summary>
    public object? Target { get; }

    /// <summary>AWS error code when the error came from an AWS API, for example <c>ResourceNotFoundException</c>.</summary>
    public string? AwsErrorCode { get; init; }

    /// <summary>AWS request id when the error came from an AWS API.</summary>
    public string? RequestId { get; init; }

    /// <summary>For a failure the module did not expect (UnexpectedFailure): where it came from, as the original exceptions'
    /// types and stack frames, without their messages (which may hold a URL or a token). Written to -Debug.</summary>
    public string? Origin { get; init; }
}

/// <summary>Every error id the module emits. Tests assert them exactly, so they never change once shipped.</summary>
public static class ErrorIds
{
    // Failures no other id names (UnexpectedFailure): a call that timed out, an answer that does not parse, a state the
    // code did not expect.
    public const string CallTimedOut = nameof(CallTimedOut);
    public const string InvalidResponse = nameof(InvalidResponse);
    public const string UnexpectedError = nameof(UnexpectedError);

    // Connection and input
    public const string InvalidRegion = nameof(InvalidRegion);
    public const string NoRegion = nameof(NoRegion);
    public const string InvalidCredential = nameof(InvalidCredential);
    public const string InvalidEndpointUrl = nameof(InvalidEndpointUrl);
    public const string ParametersConflict = nameof(ParametersConflict);
    public const string ProfileNotFound = nameof(ProfileNotFound);
    public const string NoCredentials = nameof(NoCredentials);
    public const string KubeConfigNotFound = nameof(KubeConfigNotFound);
    public const string KubeContextNotFound = nameof(KubeContextNotFound);
    public const string KubeConfigInvalid = nameof(KubeConfigInvalid);
    public const string ReportPathInvalid = nameof(ReportPathInvalid);
    public const string KubernetesUnauthorized = nameof(KubernetesUnauthorized);
    public const string KubernetesUnreachable = nameof(KubernetesUnreachable);
    public const string KubernetesApiError = nameof(KubernetesApiError);

    // AWS API failures, by cause
    public const string AwsResourceNotFound = nameof(AwsResourceNotFound);
    public const string AwsAccessDenied = nameof(AwsAccessDenied);
    public const string AwsAuthenticationFailed = nameof(AwsAuthenticationFailed);
    public const string AwsThrottled = nameof(AwsThrottled);
    public const string AwsValidationError = nameof(AwsValidationError);
    public const string AwsServiceError = nameof(AwsServiceError);
    public const string AwsEndpointUnreachable = nameof(AwsEndpointUnreachable);

    // Registries and images
    public const string InvalidImageReference = nameof(InvalidImageReference);
    public const string ImageNotFound = nameof(ImageNotFound);
    public const string ImageManifestInvalid = nameof(ImageManifestInvalid);
    public const string ImageNotWindows = nameof(ImageNotWindows);
    public const string ImageWindowsBuildMismatch = nameof(ImageWindowsBuildMismatch);
    public const string RegistryAccessDenied = nameof(RegistryAccessDenied);
    public const string RegistryTokenRealmUntrusted = nameof(RegistryTokenRealmUntrusted);
    public const string RegistryUnreachable = nameof(RegistryUnreachable);
    public const string RegistryError = nameof(RegistryError);

    // Simulator
    public const string SimulatorNotFound = nameof(SimulatorNotFound);
    public const string SimulatorFailed = nameof(SimulatorFailed);
    public const string SimulatorNotRunning = nameof(SimulatorNotRunning);
    public const string SimulatorGone = nameof(SimulatorGone);
    public const string SimulatorSessionRealTarget = nameof(SimulatorSessionRealTarget);
    public const string SimulatorFaultNotFound = nameof(SimulatorFaultNotFound);
    public const string SimulatorFaultsFileNotFound = nameof(SimulatorFaultsFileNotFound);
    public const string SimulatorIamPolicyFileNotFound = nameof(SimulatorIamPolicyFileNotFound);
    public const string SimulatorCaCertificateInvalid = nameof(SimulatorCaCertificateInvalid);
    public const string SimulatorCertificateUntrusted = nameof(SimulatorCertificateUntrusted);

    // Domain
    public const string ClusterNotFound = nameof(ClusterNotFound);
    public const string NodeGroupNotFound = nameof(NodeGroupNotFound);
    public const string NodeGroupNotWindows = nameof(NodeGroupNotWindows);
    public const string NoWindowsNodeGroups = nameof(NoWindowsNodeGroups);
    public const string PatchCycleStopped = nameof(PatchCycleStopped);
    public const string PipelineTargetsDiffer = nameof(PipelineTargetsDiffer);
    public const string NodeNotFound = nameof(NodeNotFound);
    public const string AmiNotFound = nameof(AmiNotFound);
    public const string AmiNotWindows = nameof(AmiNotWindows);
    public const string AmiOwnerNotTrusted = nameof(AmiOwnerNotTrusted);
    public const string AmiArchitectureMismatch = nameof(AmiArchitectureMismatch);
    public const string AmiWindowsBuildMismatch = nameof(AmiWindowsBuildMismatch);
    public const string AmiKubernetesVersionMismatch = nameof(AmiKubernetesVersionMismatch);
    public const string NodeGroupHasNoLaunchTemplate = nameof(NodeGroupHasNoLaunchTemplate);
    public const string ManagedNodeGroupNotCustom = nameof(ManagedNodeGroupNotCustom);
    public const string LaunchTemplateUserDataChanged = nameof(LaunchTemplateUserDataChanged);
    public const string LaunchTemplateAliasUnresolved = nameof(LaunchTemplateAliasUnresolved);
    public const string LaunchTemplateOverrideDiffers = nameof(LaunchTemplateOverrideDiffers);

    // Rollouts
    public const string RolloutCannotProgress = nameof(RolloutCannotProgress);
    public const string RolloutPlanInvalidated = nameof(RolloutPlanInvalidated);
    public const string InvalidRolloutLimit = nameof(InvalidRolloutLimit);
    public const string NodeGroupBusy = nameof(NodeGroupBusy);
    public const string RolloutLeaseLost = nameof(RolloutLeaseLost);
    public const string RolloutStateInvalid = nameof(RolloutStateInvalid);
    public const string RolloutStateMissing = nameof(RolloutStateMissing);
    public const string NodeGroupInstancesOutOfService = nameof(NodeGroupInstancesOutOfService);
    public const string InstanceRefreshInProgress = nameof(InstanceRefreshInProgress);
    public const string WarmPoolInstancesOutdated = nameof(WarmPoolInstancesOutdated);
    public const string LaunchTemplateOverrideNotOnTarget = nameof(LaunchTemplateOverrideNotOnTarget);
    public const string NodesLeftBlocked = nameof(NodesLeftBlocked);
    public const string ReplacementNotReady = nameof(ReplacementNotReady);
    public const string DrainTimeout = nameof(DrainTimeout);
    public const string DrainRefused = nameof(DrainRefused);
    public const string MultiplePodDisruptionBudgets = nameof(MultiplePodDisruptionBudgets);
    public const string CapacityBelowFloor = nameof(CapacityBelowFloor);
    public const string RolloutConflict = nameof(RolloutConflict);
    public const string ManagedUpdateFailed = nameof(ManagedUpdateFailed);
    public const string PatchCycleFailed = nameof(PatchCycleFailed);
    public const string InvalidImageSource = nameof(InvalidImageSource);

    // AMI builds (New-WinNodeAmi)
    public const string EksAmiNotFound = nameof(EksAmiNotFound);
    public const string WindowsVersionNotDetermined = nameof(WindowsVersionNotDetermined);
    public const string InstanceProfileNotFound = nameof(InstanceProfileNotFound);
    public const string SubnetNotFound = nameof(SubnetNotFound);
    public const string ComponentNotFound = nameof(ComponentNotFound);
    public const string ImageBuilderResourceConflict = nameof(ImageBuilderResourceConflict);
    public const string ImageBuildFailed = nameof(ImageBuildFailed);
    public const string ImageBuildCancelled = nameof(ImageBuildCancelled);
    public const string CacheListTooLong = nameof(CacheListTooLong);

    // EC2 Fast Launch
    public const string AmiNotAvailable = nameof(AmiNotAvailable);
    public const string FastLaunchFailed = nameof(FastLaunchFailed);
    public const string FastLaunchTimeout = nameof(FastLaunchTimeout);
    public const string FastLaunchNotEnabled = nameof(FastLaunchNotEnabled);
    public const string FastLaunchQuotaExceeded = nameof(FastLaunchQuotaExceeded);

    // Fleet plans (New-/Import-/Export-WinEksFleetPlan, Invoke-WinEksFleetPatch)
    public const string FleetPlanInvalid = nameof(FleetPlanInvalid);
    public const string FleetPlanNotFound = nameof(FleetPlanNotFound);
    public const string FleetTargetInvalid = nameof(FleetTargetInvalid);
    public const string FleetPlanFailed = nameof(FleetPlanFailed);
}
