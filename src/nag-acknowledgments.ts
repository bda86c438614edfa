import { CfnElement, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/**
 * The autoscaler's own deliberate deviations from cdk-nag's AwsSolutions pack, each
 * acknowledged on the one resource it concerns, with its reason. Uses the core
 * `Validations` API: the library does not depend on cdk-nag, and the user's own
 * resources are never acknowledged.
 */
export interface NagSubjects {
  readonly table: IConstruct;
  readonly controller: IConstruct & { readonly role?: iam.IRole };
  readonly controllerCfn: CfnElement;
  readonly stateMachine: IConstruct & { readonly role: iam.IRole };
  /** The schedule's dead-letter queue. */
  readonly deadLetterQueue: IConstruct;
  /** A shared loop's: the IAM path of the services' roles the controller may assume, as written in the policy. */
  readonly serviceRolePattern?: string;
}

export function acknowledgeNagFindings(scope: IConstruct, s: NagSubjects): void {
  const ack = acknowledgeFinding;

  const noRecovery = 'The table holds only the controller\'s working memory (lease, a window of recommendations, counters); losing it costs one scale-in window, so point-in-time recovery buys nothing.';
  ack(s.table, 'AwsSolutions-DDB3', noRecovery);
  acknowledgeScannerFinding(s.table, 'CKV_AWS_28', noRecovery);
  acknowledgeScannerFinding(s.controller, 'CKV_AWS_116',
    'The controller is only invoked synchronously, by its state machine, which retries a failed tick and counts failures in a row; a Lambda dead-letter queue receives asynchronous invocations alone, of which there are none.');
  ack(s.controller, 'AwsSolutions-L1',
    'The runtime is pinned to Node.js 22 on purpose: the controller is tested on exactly that runtime, and a pinned runtime keeps templates stable.');
  ack(s.stateMachine, 'AwsSolutions-SF1',
    'Logging ALL events of a state machine that ticks every few seconds costs more than the rest of the autoscaler; errors are logged, and every tick logs one line from the Lambda.');
  ack(s.stateMachine, 'AwsSolutions-SF2',
    'X-Ray traces of a 3-second loop would cost more than the loop; the Lambda emits metrics and logs for every tick.');
  if (s.controller.role) {
    ack(s.controller.role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'CDK attaches the AWS-managed basic execution policy to every function it creates a role for: logs:CreateLogGroup, CreateLogStream and PutLogEvents on any log group. The function writes only to its own log group; the README says so.');
    ack(s.controller.role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'CDK attaches the AWS-managed VPC access policy to every VPC function: Lambda needs its network-interface actions (on "*") to put the function in the VPC, where it must be to read the tasks\' status port. The README says so.');
  }
  ack(s.deadLetterQueue, 'AwsSolutions-SQS3',
    'This queue is itself a dead-letter queue: it receives the scheduled starts EventBridge Scheduler could not deliver.');
  ack(s.stateMachine.role, 'AwsSolutions-IAM5[Resource::*]',
    'The log-delivery actions of Step Functions logging are authorized on "*" only.');

  // Findings that name logical ids are acknowledged once the ids are final.
  scope.node.addValidation({
    validate: () => {
      const stack = Stack.of(scope);
      const functionId = stack.resolve(s.controllerCfn.logicalId);
      ack(s.stateMachine.role, `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
        'Step Functions may invoke any version of the controller function, and only that function.');
      if (s.serviceRolePattern && s.controller.role) {
        ack(s.controller.role, `AwsSolutions-IAM5[Resource::${nagPattern(stack.resolve(s.serviceRolePattern))}]`,
          'The controller may assume the roles under its loop\'s own IAM path: each joined service creates one, scoped to that service, from its own stack; their names are not known to the loop\'s stack.');
      }
      return [];
    },
  });
}

/**
 * The findings on a service's own statements for the loop's controller (a policy in the
 * service's stack): ListTasks on "*" with the cluster condition, DescribeTasks on the cluster's tasks.
 */
export function acknowledgeServiceStatements(policy: IConstruct, taskArnPattern: string): void {
  // A service's own role for a shared loop: its statements only, assumed by the loop's controller.
  acknowledgeFinding(policy, 'AwsSolutions-IAM5[Resource::*]',
    'ecs:ListTasks is authorized on "*" only; it is scoped to this cluster by the ecs:cluster condition.');
  policy.node.addValidation({
    validate: () => {
      acknowledgeFinding(policy, `AwsSolutions-IAM5[Resource::${nagPattern(Stack.of(policy).resolve(taskArnPattern))}]`,
        'DescribeTasks is scoped to the tasks of this cluster (and by the ecs:cluster condition); task ids are not known in advance.');
      return [];
    },
  });
}

/**
 * Acknowledges one cdk-nag finding on a construct. `Validations.acknowledge` rejects ids
 * holding more than one "::" (it reserves the delimiter for its own prefixes), yet cdk-nag
 * names findings that way (`AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:...]`); those
 * are recorded in the same metadata entry that `acknowledge` writes and cdk-nag reads.
 */
export function acknowledgeFinding(on: IConstruct, id: string, reason: string): void {
  if (id.split('::').length <= 2) {
    Validations.of(on).acknowledge({ id, reason });
    return;
  }
  const key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY;
  const previous = on.node.metadata.filter(m => m.type === key).pop()?.data ?? {};
  on.node.addMetadata(key, { ...previous, [id]: reason });
}

/** A resolved CloudFormation value written the way cdk-nag names it in a finding. */
export function nagPattern(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v.Ref) return `<${v.Ref}>`;
  if (v['Fn::GetAtt']) return `<${v['Fn::GetAtt'].join('.')}>`;
  // A cross-stack reference is named by its export.
  if (v['Fn::ImportValue']) return nagPattern(v['Fn::ImportValue']);
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(nagPattern).join(v['Fn::Join'][0]);
  return JSON.stringify(value);
}

/**
 * Acknowledges one finding of checkov (an independent IaC scanner a user's security team may
 * run) on one of the library's own resources: the `checkov.skip` metadata checkov reads in a
 * CloudFormation template, with the reason beside it.
 */
export function acknowledgeScannerFinding(on: IConstruct, checkId: string, reason: string): void {
  const cfn = (CfnResource.isCfnResource(on) ? on : on.node.defaultChild) as CfnResource | undefined;
  if (!cfn) throw new Error(`${on.node.path} has no CloudFormation resource to acknowledge ${checkId} on`);
  const checkov = (cfn.getMetadata('checkov') as { skip?: Array<{ id: string; comment: string }> } | undefined) ?? {};
  cfn.addMetadata('checkov', { skip: [...(checkov.skip ?? []).filter(x => x.id !== checkId), { id: checkId, comment: reason }] });
}
