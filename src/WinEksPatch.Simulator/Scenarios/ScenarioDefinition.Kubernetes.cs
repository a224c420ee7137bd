using System.Text.Json;

namespace WinEksPatch.Simulator.Scenarios;

/// <summary>A policy/v1 PodDisruptionBudget of a scenario cluster.</summary>
public sealed class PodDisruptionBudgetDefinition
{
    public string Namespace { get; set; } = "default";
    public string Name { get; set; } = "";
    /// <summary>An integer or a percentage string ("50%"); set this or <see cref="MaxUnavailable"/>.</summary>
    public JsonElement? MinAvailable { get; set; }
    public JsonElement? MaxUnavailable { get; set; }
    /// <summary>spec.selector.matchLabels.</summary>
    public Dictionary<string, string> Selector { get; set; } = [];
}
