import { Names, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { ControlLoop } from './control-loop';
import { acknowledgeServiceStatements } from '../nag-acknowledgments';

/** What a service brings to the loop it joins. */
export interface Membership {
  readonly service: ecs.BaseService;
  /** The service's entry: its controller configuration, without what the loop owns. */
  readonly entry: Record<string, unknown>;
  /** The port the controller reads on each task, or 0 (a queue). */
  readonly statusPort: number;
  readonly topic?: sns.ITopic;
  /** A dry run never scales: no UpdateService permission. */
  readonly dryRun: boolean;
  readonly maxTasks: number;
  /** Grants the controller what the metric source needs beyond the tasks (a queue's counters). */
  readonly grantSource?: (controller: iam.IGrantable) => void;
}

/**
 * Why this service cannot join this loop, if it cannot: the controller reaches the tasks from
 * inside the loop's VPC, and it calls ECS in its own account and region.
 */
export function membershipErrors(scope: Construct, loop: ControlLoop, service: ecs.BaseService): string[] {
  const errors: string[] = [];
  const here = Stack.of(scope);
  const there = Stack.of(loop);
  const differs = (a: string, b: string) => !Token.isUnresolved(a) && !Token.isUnresolved(b) && a !== b;
  if (differs(here.account, there.account) || differs(here.region, there.region)) {
    errors.push(`\`loop\` must be in the service's account and region (${here.account}/${here.region}), got ${there.account}/${there.region}: the controller calls ECS and reads the tasks in its own account and region`);
  } else if (Token.isUnresolved(here.region) !== Token.isUnresolved(there.region)
    || Token.isUnresolved(here.account) !== Token.isUnresolved(there.account)) {
    errors.push('`loop` and the service must both be in stacks with an explicit `env` (account and region), or both environment-agnostic: CDK cannot tell that they share an account and region');
  }
  const vpc = service.cluster.vpc;
  if (vpc !== loop.vpc && !(Token.isUnresolved(vpc.vpcId) ? false : vpc.vpcId === loop.vpc.vpcId)) {
    errors.push(`\`loop\` must run in the service's VPC (${vpc.node.path}), got ${loop.vpc.node.path}: the controller reads every task's status port from inside the VPC`);
  }
  return errors;
}

/**
 * Joins a service to a loop from the service's own scope (and so its own stack): the
 * statements that let the loop's controller act on this cluster and service alone, the rule
 * that lets it reach the tasks' status port, and the service's entry (an SSM parameter the
 * controller lists, or, in a FastAutoscaler's own loop, its environment). Everything names
 * the loop, nothing in the loop names the service: a platform stack never depends on the
 * application stacks, and a service removed from the app takes its permissions with it.
 */
export function joinLoop(scope: Construct, loop: ControlLoop, m: Membership): void {
  const { service } = m;
  const cluster = service.cluster;
  const stack = Stack.of(scope);
  const taskArnPattern = stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*` });
  const statements = [
    // ListTasks is authorized on the container-instance resource type; the cluster is
    // scoped through its condition key.
    new iam.PolicyStatement({ actions: ['ecs:ListTasks'], resources: ['*'], conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } } }),
    new iam.PolicyStatement({ actions: ['ecs:DescribeTasks'], resources: [taskArnPattern], conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } } }),
    new iam.PolicyStatement({
      actions: m.dryRun ? ['ecs:DescribeServices'] : ['ecs:DescribeServices', 'ecs:UpdateService'],
      resources: [service.serviceArn],
    }),
  ];

  // A shared loop: the service's own role, which the loop's controller assumes to act on this
  // service alone (IAM caps a role's inline policies at 10,240 characters, about a dozen
  // services' statements: one role a service keeps a loop of any size within it). A loop of one:
  // a policy of its own on the controller's role.
  let grantee: iam.IGrantable;
  let permissions: Construct;
  let roleArn: string | undefined;
  if (loop.registryPath) {
    const role = new iam.Role(scope, 'LoopRole', {
      path: loop.serviceRolePath,
      assumedBy: new iam.ArnPrincipal(loop.controllerRole.roleArn),
      description: `fast-autoscaler: what the loop ${loop.node.path} may do on ${scope.node.path}`,
    });
    statements.forEach(st => role.addToPrincipalPolicy(st));
    grantee = role;
    permissions = role;
    roleArn = role.roleArn;
  } else {
    const policy = new iam.Policy(scope, 'LoopPermissions', { roles: [loop.controllerRole], statements });
    grantee = new StatementsInPolicy(loop.controllerRole, policy);
    permissions = policy;
  }
  // Covers an encrypted topic too (kms:GenerateDataKey* and kms:Decrypt on its key).
  m.topic?.grantPublish(grantee);
  m.grantSource?.(grantee);
  acknowledgeServiceStatements(permissions, taskArnPattern);

  // The tasks' status (or metrics) port; a queue is read through the SQS API, not on the tasks.
  if (m.statusPort > 0) {
    service.connections.allowFrom(loop.securityGroup, ec2.Port.tcp(m.statusPort), 'fast-autoscaler controller reads the status port');
  }

  loop.countTasks(m.maxTasks);
  const entry = { ...m.entry, ...(roleArn ? { roleArn } : {}) };
  if (!loop.registryPath) {
    loop.addInlineService(entry);
    return;
  }
  const registration = new ssm.StringParameter(scope, 'LoopRegistration', {
    parameterName: `${loop.registryPath}/${Names.uniqueResourceName(scope, { maxLength: 200, separator: '-' })}`,
    description: `fast-autoscaler: ${scope.node.path} in the loop ${loop.node.path}`,
    stringValue: stack.toJsonString(entry),
    // Standard (free) up to 4 KB, advanced beyond: an entry with many Prometheus labels may need it.
    tier: ssm.ParameterTier.INTELLIGENT_TIERING,
  });
  // The controller sees the service only once it may act on it.
  registration.node.addDependency(permissions);
}

/**
 * A principal that puts what it is granted into one policy of the service's own stack,
 * attached to the loop's role: grants made through it never change the loop's stack.
 */
class StatementsInPolicy extends iam.PrincipalBase {
  public readonly principalAccount: string | undefined;

  constructor(private readonly role: iam.IRole, private readonly policy: iam.Policy) {
    super();
    this.principalAccount = role.principalAccount;
  }

  public get policyFragment(): iam.PrincipalPolicyFragment {
    return this.role.policyFragment;
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }

  public toString(): string {
    return `StatementsInPolicy(${this.policy.node.path})`;
  }

  public dedupeString(): string | undefined {
    return undefined;
  }
}
