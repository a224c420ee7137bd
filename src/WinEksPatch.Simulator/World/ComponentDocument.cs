using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace WinEksPatch.Simulator.World;

/// <summary>
/// An Image Builder component document (AWSTOE YAML: phases → steps → action/inputs), read for what the simulator
/// models: the image references that ExecutePowerShell steps pull with <c>ctr ... images pull &lt;ref&gt;</c>.
/// </summary>
public sealed class ComponentDocument
{
    private static readonly HashSet<string> CtrOptionsWithValue = new(StringComparer.Ordinal)
    {
        "-n", "--namespace", "-u", "--user", "--platform", "--snapshotter", "--label", "--max-concurrent-downloads", "--hosts-dir", "-a", "--address",
    };

    private ComponentDocument(IReadOnlyList<string> phases, IReadOnlyList<string> pulledImages)
    {
        Phases = phases;
        PulledImages = pulledImages;
    }

    public IReadOnlyList<string> Phases { get; }

    /// <summary>The image references pulled by <c>ctr images pull</c>, in document order, as written.</summary>
    public IReadOnlyList<string> PulledImages { get; }

    /// <summary>Parses the document; throws <see cref="FormatException"/> with the reason when it is not a valid component document.</summary>
    public static ComponentDocument Parse(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new FormatException($"The component document is not valid YAML: {e.Message}", e);
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new FormatException("The component document must be one YAML mapping.");
        }

        if (Child(root, "phases") is not YamlSequenceNode phases || phases.Children.Count == 0)
        {
            throw new FormatException("The component document must have a non-empty 'phases' list.");
        }

        var phaseNames = new List<string>();
        var pulled = new List<string>();
        foreach (YamlNode phaseNode in phases)
        {
            if (phaseNode is not YamlMappingNode phase || Scalar(phase, "name") is not { } phaseName || Child(phase, "steps") is not YamlSequenceNode steps)
            {
                throw new FormatException("Each phase needs a 'name' and a 'steps' list.");
            }

            phaseNames.Add(phaseName);
            foreach (YamlNode stepNode in steps)
            {
                if (stepNode is not YamlMappingNode step || Scalar(step, "name") is null || Scalar(step, "action") is not { } action)
                {
                    throw new FormatException($"Each step of phase '{phaseName}' needs a 'name' and an 'action'.");
                }

                if (action == "ExecutePowerShell" && Child(step, "inputs") is YamlMappingNode inputs && Child(inputs, "commands") is YamlSequenceNode commands)
                {
                    foreach (YamlNode command in commands)
                    {
                        if (command is YamlScalarNode { Value: { } text })
                        {
                            pulled.AddRange(text.Split('\n').Select(PulledImage).OfType<string>());
                        }
                    }
                }
            }
        }

        return new ComponentDocument(phaseNames, pulled);
    }

    /// <summary>The reference of a <c>ctr [-n k8s.io] images pull [options] &lt;ref&gt;</c> command line, or null.</summary>
    internal static string? PulledImage(string line)
    {
        List<string> tokens = [.. line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries)];
        int ctr = tokens.FindIndex(t => t.Trim('\'', '"', '&').EndsWith("ctr", StringComparison.OrdinalIgnoreCase) || t.Trim('\'', '"').EndsWith("ctr.exe", StringComparison.OrdinalIgnoreCase));
        if (ctr < 0)
        {
            return null;
        }

        int i = ctr + 1;
        while (i < tokens.Count && tokens[i].StartsWith('-'))
        {
            i += CtrOptionsWithValue.Contains(tokens[i]) ? 2 : 1;
        }

        if (i + 1 >= tokens.Count || tokens[i] is not ("images" or "image" or "i") || tokens[i + 1] != "pull")
        {
            return null;
        }

        for (i += 2; i < tokens.Count; i++)
        {
            if (tokens[i].StartsWith('-'))
            {
                i += CtrOptionsWithValue.Contains(tokens[i]) ? 1 : 0;
                continue;
            }

            return tokens[i].Trim('\'', '"');
        }

        return null;
    }

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? child) ? child : null;

    private static string? Scalar(YamlMappingNode node, string key) => Child(node, key) is YamlScalarNode { Value: { Length: > 0 } v } ? v : null;
}
