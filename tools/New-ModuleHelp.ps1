#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Generates the module's MAML help (en-US/WinEksPatch.dll-Help.xml) from the project's own sources.
.DESCRIPTION
    platyPS is not available here, so the build makes the help itself: texts come from the XML documentation comments
    of the cmdlet classes and their parameter properties (WinEksPatch.xml, produced by the compiler), structure
    (parameter sets, types, positions, pipeline input, output types) from the imported module's command metadata.
    Conventions in the doc comments of a cmdlet class:
      <summary><para type="synopsis">...</para><para type="description">...</para>...</summary>
      <example><code>Get-WinEksCluster -Name demo</code><para>What it shows.</para></example>   (one or more)
    A parameter's text is the <summary> of its property, wherever in the class hierarchy it is declared.
    Run in a fresh pwsh: it imports the built module.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDirectory,
    [Parameter(Mandatory)] [string] $DocumentationFile
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$module = Import-Module (Join-Path $ModuleDirectory 'WinEksPatch.psd1') -PassThru
$docs = [xml](Get-Content $DocumentationFile -Raw)
$members = @{}
foreach ($member in $docs.doc.members.member) { $members[$member.name] = $member }

function Get-DocText([System.Xml.XmlNode] $node) {
    if (-not $node) { return '' }
    # <see cref="T:Foo.Bar"/> and <c>x</c> become plain text.
    $text = $node.InnerXml -replace '<see cref="[A-Z]:(?:[\w.]+\.)?([\w`]+)"\s*/>', '$1' -replace '<see langword="(\w+)"\s*/>', '$1' -replace '</?c>', ''
    $text = [System.Net.WebUtility]::HtmlDecode(($text -replace '<[^>]+>', ''))
    return (($text -split "`n" | ForEach-Object Trim) -join ' ').Trim()
}

function Get-Paragraphs([System.Xml.XmlNode] $summary, [string] $type) {
    if (-not $summary) { return @() }
    @($summary.SelectNodes("para[@type='$type']") | ForEach-Object { Get-DocText $_ })
}

$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
$outDir = Join-Path $ModuleDirectory 'en-US'
New-Item -ItemType Directory -Force -Path $outDir | Out-Null
$path = Join-Path $outDir 'WinEksPatch.dll-Help.xml'
$w = [System.Xml.XmlWriter]::Create($path, $settings)
$maml = 'http://schemas.microsoft.com/maml/2004/10'
$cmd = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$dev = 'http://schemas.microsoft.com/maml/dev/2004/10'

function Write-Paras([string] $element, [string[]] $paras) {
    $w.WriteStartElement('maml', $element, $maml)
    foreach ($p in $paras) { $w.WriteElementString('maml', 'para', $maml, $p) }
    $w.WriteEndElement()
}

$common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
$missing = [System.Collections.Generic.List[string]]::new()

$w.WriteStartDocument()
$w.WriteStartElement('helpItems', 'http://msh')
$w.WriteAttributeString('schema', 'maml')
foreach ($command in $module.ExportedCmdlets.Values | Sort-Object Name) {
    $type = $command.ImplementingType
    $classDoc = $members["T:$($type.FullName)"]
    $summary = if ($classDoc) { $classDoc.SelectSingleNode('summary') } else { $null }
    $synopsis = @(Get-Paragraphs $summary 'synopsis')
    $description = @(Get-Paragraphs $summary 'description')
    $examples = if ($classDoc) { @($classDoc.SelectNodes('example')) } else { @() }
    if (-not $synopsis) { $missing.Add("$($command.Name): synopsis") }
    if (-not $description) { $missing.Add("$($command.Name): description") }
    if ($examples.Count -lt 2) { $missing.Add("$($command.Name): at least two examples") }

    $w.WriteStartElement('command', 'command', $cmd)
    $w.WriteAttributeString('xmlns', 'maml', $null, $maml)
    $w.WriteAttributeString('xmlns', 'dev', $null, $dev)
    $w.WriteStartElement('command', 'details', $cmd)
    $w.WriteElementString('command', 'name', $cmd, $command.Name)
    Write-Paras 'description' $synopsis
    $w.WriteElementString('command', 'verb', $cmd, $command.Verb)
    $w.WriteElementString('command', 'noun', $cmd, $command.Noun)
    $w.WriteEndElement()
    Write-Paras 'description' $description

    $parameters = $command.Parameters.Values | Where-Object { $_.Name -notin $common }
    $shouldProcess = $command.Parameters.ContainsKey('WhatIf')
    # Defaults as the cmdlet sets them: a fresh instance's property values (switches: False; nothing set: None).
    $instance = [Activator]::CreateInstance($type)
    $defaults = @{}
    foreach ($p in $parameters) {
        $value = $type.GetProperty($p.Name).GetValue($instance)
        $defaults[$p.Name] = if ($value -is [System.Management.Automation.SwitchParameter]) { "$($value.IsPresent)" }
            elseif ($null -eq $value -or "$value" -eq '') { 'None' }
            elseif ($value -is [array]) { $value -join ', ' }
            else { "$value" }
    }
    $parameterText = @{}
    $parameterText['WhatIf'] = 'Shows what would change, and changes nothing.'
    $parameterText['Confirm'] = 'Asks before each change.'
    $defaults['WhatIf'] = 'False'
    $defaults['Confirm'] = 'False'

    foreach ($p in $parameters) {
        $property = $type.GetProperty($p.Name)
        $doc = if ($property) { $members["P:$($property.DeclaringType.FullName).$($p.Name)"] } else { $null }
        $text = if ($doc) { Get-DocText $doc.SelectSingleNode('summary') } else { '' }
        if (-not $text) { $missing.Add("$($command.Name) -$($p.Name): parameter text") }
        $parameterText[$p.Name] = $text
    }

    function Write-Parameter($p, $attr) {
        $pipeline = @()
        if ($attr.ValueFromPipeline) { $pipeline += 'ByValue' }
        if ($attr.ValueFromPipelineByPropertyName) { $pipeline += 'ByPropertyName' }
        $w.WriteStartElement('command', 'parameter', $cmd)
        $w.WriteAttributeString('required', "$($attr.IsMandatory)".ToLowerInvariant())
        $w.WriteAttributeString('globbing', 'false')
        $w.WriteAttributeString('pipelineInput', $(if ($pipeline) { "True ($($pipeline -join ', '))" } else { 'False' }))
        $w.WriteAttributeString('position', $(if ($attr.Position -ge 0) { "$($attr.Position)" } else { 'named' }))
        $w.WriteElementString('maml', 'name', $maml, $p.Name)
        Write-Paras 'description' @($parameterText[$p.Name])
        if ($p.ParameterType -ne [System.Management.Automation.SwitchParameter]) {
            $w.WriteStartElement('command', 'parameterValue', $cmd)
            $w.WriteAttributeString('required', 'true')
            $w.WriteString($p.ParameterType.Name)
            $w.WriteEndElement()
        }
        $w.WriteStartElement('dev', 'type', $dev)
        $w.WriteElementString('maml', 'name', $maml, $p.ParameterType.FullName)
        $w.WriteEndElement()
        $w.WriteElementString('dev', 'defaultValue', $dev, $defaults[$p.Name])
        $w.WriteEndElement()
    }

    $w.WriteStartElement('command', 'syntax', $cmd)
    foreach ($set in $command.ParameterSets) {
        $w.WriteStartElement('command', 'syntaxItem', $cmd)
        $w.WriteElementString('maml', 'name', $maml, $command.Name)
        foreach ($sp in $set.Parameters | Where-Object { $_.Name -notin $common -or $_.Name -in 'WhatIf', 'Confirm' }) {
            # CommandParameterInfo carries the set-specific IsMandatory/Position/ValueFromPipeline*.
            Write-Parameter $command.Parameters[$sp.Name] $sp
        }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    # No parameters element at all for a cmdlet without parameters of its own: an empty one prints as an empty entry.
    $listed = @($parameters) + @(if ($shouldProcess) { $command.Parameters['WhatIf'], $command.Parameters['Confirm'] })
    if ($listed.Count -gt 0) {
        $w.WriteStartElement('command', 'parameters', $cmd)
        foreach ($p in $listed | Sort-Object Name) {
            $attr = $p.ParameterSets.Values | Select-Object -First 1
            Write-Parameter $p $attr
        }
        $w.WriteEndElement()
    }

    # INPUTS: what the pipeline binds, by value or by property name.
    $w.WriteStartElement('command', 'inputTypes', $cmd)
    $byValue = @($parameters | Where-Object { $_.ParameterSets.Values.ValueFromPipeline -contains $true })
    $byName = @($parameters | Where-Object { $_.ParameterSets.Values.ValueFromPipelineByPropertyName -contains $true })
    $inputs = @()
    foreach ($p in $byValue) { $inputs += , @($p.ParameterType.FullName, "-$($p.Name) from the pipeline.") }
    if ($byName) {
        $inputs += , @('System.Management.Automation.PSObject', "Any object with a property named like these parameters binds to them: $(($byName | ForEach-Object { $_.Name }) -join ', ') (for example the output of Get-WinNodeGroup or Get-WinPatchStatus).")
    }
    if (-not $inputs) { $inputs += , @('None', 'Nothing is taken from the pipeline.') }
    foreach ($input in $inputs) {
        $w.WriteStartElement('command', 'inputType', $cmd)
        $w.WriteStartElement('dev', 'type', $dev)
        $w.WriteElementString('maml', 'name', $maml, $input[0])
        $w.WriteEndElement()
        Write-Paras 'description' @($input[1])
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    # OUTPUTS: the declared output types (None when the cmdlet writes nothing).
    $w.WriteStartElement('command', 'returnValues', $cmd)
    $outputs = @($command.OutputType | Where-Object { $_.Name -ne 'System.Void' })
    if (-not $outputs) { $outputs = @([pscustomobject]@{ Name = 'None' }) }
    foreach ($output in $outputs) {
        $w.WriteStartElement('command', 'returnValue', $cmd)
        $w.WriteStartElement('dev', 'type', $dev)
        $w.WriteElementString('maml', 'name', $maml, $output.Name)
        $w.WriteEndElement()
        Write-Paras 'description' @($(if ($output.Name -eq 'None') { 'This cmdlet writes no objects.' } else { "The format files show it as a table; Format-List * shows every field." }))
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'examples', $cmd)
    $i = 0
    foreach ($example in $examples) {
        $i++
        $w.WriteStartElement('command', 'example', $cmd)
        $w.WriteElementString('maml', 'title', $maml, "-------------------------- Example $i --------------------------")
        $code = ($example.SelectSingleNode('code').InnerText -split "`n" | ForEach-Object { $_.Trim() } | Where-Object { $_ }) -join "`n"
        $w.WriteElementString('dev', 'code', $dev, $code)
        $w.WriteStartElement('dev', 'remarks', $dev)
        foreach ($para in $example.SelectNodes('para')) { $w.WriteElementString('maml', 'para', $maml, (Get-DocText $para)) }
        $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    # RELATED LINKS: the module's other cmdlets its own examples use, and the about topics.
    $related = @($examples | ForEach-Object { [regex]::Matches($_.SelectSingleNode('code').InnerText, '\b[A-Z][a-z]+-Win[A-Za-z]+|\b[A-Z][a-z]+-NodeGroupAmi|\bInvoke-NodeReplacement') } |
        ForEach-Object Value | Where-Object { $_ -ne $command.Name -and $module.ExportedCmdlets.ContainsKey($_) } | Select-Object -Unique)
    $related += 'about_WinEksPatch'
    if ($shouldProcess -or $command.Name -eq 'Invoke-WinEksPatch') { $related += 'about_WinEksPatch_Unattended' }
    $w.WriteStartElement('command', 'relatedLinks', $cmd)
    foreach ($link in $related) {
        $w.WriteStartElement('maml', 'navigationLink', $maml)
        $w.WriteElementString('maml', 'linkText', $maml, $link)
        $w.WriteElementString('maml', 'uri', $maml, '')
        $w.WriteEndElement()
    }
    $w.WriteEndElement()
    $w.WriteEndElement()
}
$w.WriteEndElement()
$w.WriteEndDocument()
$w.Dispose()

if ($missing.Count -gt 0) {
    throw "Help is incomplete:`n  " + ($missing -join "`n  ")
}
Write-Host "    help written to $path"
