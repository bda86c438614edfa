import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PreparedSource, SourceContext, SourcePreparer } from './source-binding';
import { metricErrors } from './source-checks';
import { SqsQueueSourceOptions } from './source-options';

/** A queue worker's backlog: one GetQueueAttributes a tick, nothing added to the task. */
export function sqsQueueSource(queue: sqs.IQueue, o: SqsQueueSourceOptions): SourcePreparer {
  if (queue === undefined || queue === null || typeof queue !== 'object' || typeof (queue as { queueUrl?: unknown }).queueUrl !== 'string') {
    throw new Error(`\`queue\` of MetricSource.sqsQueue() must be an sqs.IQueue (a Queue, or Queue.fromQueueArn/fromQueueAttributes), got ${JSON.stringify(queue)}`);
  }
  for (const option of ['countInFlight', 'countDelayed'] as const) {
    const value: unknown = o[option];
    if (value !== undefined && typeof value !== 'boolean') {
      throw new Error(`\`${option}\` of MetricSource.sqsQueue() must be true or false, got ${JSON.stringify(value)}`);
    }
  }
  return (c: SourceContext): PreparedSource => {
    const errors = [...metricErrors('sqsQueue', c.metric), ...sameEnvironmentErrors(c.scope, queue)];
    return {
      errors,
      readsTasks: false,
      attach: () => ({
        config: {
          type: 'sqsQueue',
          queueUrl: queue.queueUrl,
          countInFlight: o.countInFlight ?? true,
          countDelayed: o.countDelayed ?? false,
        },
        statusPort: 0,
        // A worker usually has no load balancer; one with a port mapping may still be targeted.
        targetContainerName: c.appContainer.containerName,
        targetPort: c.appPort ?? c.appContainer.portMappings[0]?.containerPort,
        // GetQueueAttributes only: no KMS permission, whatever the queue's encryption (SQS
        // documents kms:Decrypt for ReceiveMessage and kms:GenerateDataKey for SendMessage; the
        // counters are not encrypted data).
        grantController: controller => queue.grant(controller, 'sqs:GetQueueAttributes'),
      }),
    };
  };
}

/**
 * A queue in another account or Region cannot be read by the controller's role and client
 * (one Region, one account): a synth error. Tokens (an environment-agnostic stack) are not judged.
 */
function sameEnvironmentErrors(scope: Construct, queue: sqs.IQueue): string[] {
  const here = Stack.of(scope);
  const errors: string[] = [];
  for (const [what, there, mine] of [['account', queue.env.account, here.account], ['Region', queue.env.region, here.region]] as const) {
    if (!Token.isUnresolved(there) && !Token.isUnresolved(mine) && there !== mine) {
      errors.push(`\`queue\` of MetricSource.sqsQueue() must be in the autoscaler's ${what} (${mine}), got ${queue.node.path} in ${there}: the controller reads it with its own role and Region`);
    } else if (!Token.isUnresolved(there) && Token.isUnresolved(mine)) {
      // An environment-agnostic stack cannot be compared: say what must hold.
      Annotations.of(scope).addWarningV2('cdk-fast-autoscaler:queueEnvironmentUnchecked',
        `The queue ${queue.node.path} is in ${what} ${there}; this stack's ${what} is known only at deployment. Deploy the autoscaler to the same ${what}: the controller cannot read a queue elsewhere.`);
    }
  }
  return errors;
}
