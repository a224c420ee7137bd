using WinEksPatch.Simulator.Automation;

namespace WinEksPatch.Simulator.World;

/// <summary>SSM documents and Automation executions of this account and region (Automation/ runs them).</summary>
public sealed partial class SimWorld
{
    /// <summary>By document name.</summary>
    public Dictionary<string, SsmDocument> Documents { get; } = new(StringComparer.Ordinal);

    /// <summary>By execution id, in start order.</summary>
    public Dictionary<string, AutomationExecution> AutomationExecutions { get; } = new(StringComparer.Ordinal);

    /// <summary>StartAutomationExecution's ClientTokens (lower case): the execution each started and its request.</summary>
    public Dictionary<string, (string ExecutionId, string Request)> AutomationClientTokens { get; } = new(StringComparer.Ordinal);
}
