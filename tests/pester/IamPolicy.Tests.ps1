BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
    function Get-Actions($policy) { ($policy | ConvertFrom-Json).Statement | ForEach-Object { $_.Action } | Sort-Object -Unique }
}

Describe 'Get-WinEksPatchIamPolicy' {
    It 'ReadOnly allows no change' {
        $policy = Get-WinEksPatchIamPolicy -Scope ReadOnly
        ($policy | ConvertFrom-Json).Version | Should -Be '2012-10-17'
        Get-Actions $policy | Where-Object { $_ -match ':(Create|Update|Set|Terminate|Suspend|Resume|Delete|Cancel|Tag)' } | Should -BeNullOrEmpty
    }

    It 'scopes EKS ARNs and Auto Scaling writes to the named cluster' {
        $statements = (Get-WinEksPatchIamPolicy -Scope Rollout -ClusterName demo -AccountId 111122223333 -Region us-west-2 | ConvertFrom-Json).Statement
        ($statements | Where-Object Sid -eq 'WinEksPatchReadEks').Resource | Should -Contain 'arn:aws:eks:us-west-2:111122223333:cluster/demo'
        ($statements | Where-Object Sid -eq 'WinEksPatchRolloutGroups').Condition.StringEquals.'aws:ResourceTag/kubernetes.io/cluster/demo' | Should -Be 'owned'
    }

    It 'names every ARN in the partition of the region: <Region> is <Partition>' -ForEach @(
        @{ Region = 'us-west-2'; Partition = 'aws' }, @{ Region = 'cn-north-1'; Partition = 'aws-cn' }, @{ Region = 'us-gov-west-1'; Partition = 'aws-us-gov' }
    ) {
        $statements = (Get-WinEksPatchIamPolicy -ClusterName demo -AccountId 111122223333 -Region $Region -NodeRoleName demo-node-role | ConvertFrom-Json).Statement
        $arns = @($statements.Resource) + @($statements | ForEach-Object { $_.Condition.ArnLike.'ec2:LaunchTemplate' }) | Where-Object { $_ -and $_ -ne '*' }
        $arns.Count | Should -BeGreaterThan 10
        $arns | Where-Object { $_ -notlike "arn:${Partition}:*" } | Should -BeNullOrEmpty
    }

    It 'allows every AWS call a whole patch cycle makes' {
        $null = Start-WinEksSimulator -Scenario demo -TimeScale 600
        try {
            $report = Invoke-WinEksPatch -ClusterName demo -Force -WarningAction SilentlyContinue
            $allowed = Get-Actions (Get-WinEksPatchIamPolicy -Scope ReadOnly, Rollout)
            $made = $report.ApiCalls | Where-Object Service -ne 'kubernetes' | ForEach-Object { "$($_.Service):$($_.Operation)" } | Sort-Object -Unique
            $made.Count | Should -BeGreaterThan 5
            $made | Where-Object { $_ -notin $allowed } | Should -BeNullOrEmpty
        }
        finally { Stop-WinEksSimulator }
    }

    It 'allows every AWS call an image build makes with ReadOnly and Build, and Build grants no rollout writes' {
        $null = Start-WinEksSimulator -Scenario demo -TimeScale 600
        try {
            $cache = (Get-WinImageCachePlan -ClusterName demo -NodeGroupName demo-win-selfmanaged -WarningAction SilentlyContinue).Image
            $ami = New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -CacheImage $cache -Confirm:$false -WarningAction SilentlyContinue
            $ami.ImageId | Should -Match '^ami-'
            $made = [WinEksPatch.Commands.AwsCmdlet]::LastApiCalls | Where-Object Service -ne 'kubernetes' | ForEach-Object { "$($_.Service):$($_.Operation)" } | Sort-Object -Unique
            $made | Should -Contain 'imagebuilder:CreateImage'
            $made | Where-Object { $_ -notin (Get-Actions (Get-WinEksPatchIamPolicy -Scope ReadOnly, Build)) } | Should -BeNullOrEmpty
        }
        finally { Stop-WinEksSimulator }
        $buildOnly = Get-Actions (Get-WinEksPatchIamPolicy -Scope Build)
        $buildOnly | Where-Object { $_ -match '^(autoscaling|eks):' -and $_ -notmatch ':(Describe|List|Get)' } | Should -BeNullOrEmpty
        $buildOnly | Should -Not -Contain 'ec2:TerminateInstances'
    }

    It '-StackSetTemplate writes the fleet runbook''s roles as CloudFormation: the execution role everywhere with the policy, the administration role centrally' {
        $policy = Get-WinEksPatchIamPolicy -Scope ReadOnly, Rollout -NodeRoleName fleet-node-role
        $template = Get-WinEksPatchIamPolicy -Scope ReadOnly, Rollout -NodeRoleName fleet-node-role -StackSetTemplate | ConvertFrom-Json -AsHashtable
        $template.AWSTemplateFormatVersion | Should -Be '2010-09-09'
        $template.Parameters.CentralAccountId.AllowedPattern | Should -Be '^\d{12}$'
        @($template.Resources.Values | ForEach-Object { $_.Type } | Sort-Object -Unique) | Should -Be 'AWS::IAM::Role'

        $execution = $template.Resources.ExecutionRole.Properties
        $execution.RoleName.Ref | Should -Be 'ExecutionRoleName'
        $template.Parameters.ExecutionRoleName.Default | Should -Be 'AWS-SystemsManager-AutomationExecutionRole'
        # The central account, narrowed to its administration role (a role ARN as principal must exist before the policy).
        $central = $execution.AssumeRolePolicyDocument.Statement | Where-Object { $_.Principal.AWS }
        $central.Principal.AWS.'Fn::Sub' | Should -Be 'arn:${AWS::Partition}:iam::${CentralAccountId}:root'
        $central.Condition.ArnEquals.'aws:PrincipalArn'.'Fn::Sub' | Should -Be 'arn:${AWS::Partition}:iam::${CentralAccountId}:role/${AdministrationRoleName}'
        $execution.AssumeRolePolicyDocument.Statement.Principal.Service | Should -Contain 'ssm.amazonaws.com'
        $execution.ManagedPolicyArns.'Fn::Sub' | Should -Be 'arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonSSMAutomationRole'
        # The module's policy, exactly as the cmdlet prints it.
        (($execution.Policies | Where-Object PolicyName -eq WinEksPatch).PolicyDocument | ConvertTo-Json -Depth 20 -Compress) | Should -Be ($policy | ConvertFrom-Json -AsHashtable | ConvertTo-Json -Depth 20 -Compress)

        $admin = $template.Resources.AdministrationRole
        $admin.Condition | Should -Be 'IsCentralAccount'
        $template.Conditions.IsCentralAccount.'Fn::Equals'.Ref | Should -Be @('AWS::AccountId', 'CentralAccountId')
        $actions = $admin.Properties.Policies.PolicyDocument.Statement.Action
        $actions | Should -Contain 'sts:AssumeRole'
        $actions | Should -Contain 'cloudwatch:DescribeAlarms'
        $actions | Should -Contain 'ssm:StopAutomationExecution'
        { Get-WinEksPatchIamPolicy -StackSetTemplate -ClusterName demo } | Should -Throw '*-StackSetTemplate makes one template for every account*'
    }
}
