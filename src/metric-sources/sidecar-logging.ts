import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * A sidecar's awslogs driver: its own log group with the autoscaler's retention, encrypted
 * with the user's key when there is one (the key's policy must let CloudWatch Logs use it;
 * the loop grants that on a key it owns).
 */
export function sidecarLogDriver(
  scope: Construct, id: string, streamPrefix: string, retention: logs.RetentionDays, key?: kms.IKey,
): ecs.AwsLogDriver {
  if (!key) return new ecs.AwsLogDriver({ streamPrefix, logRetention: retention });
  return new ecs.AwsLogDriver({ streamPrefix, logGroup: new logs.LogGroup(scope, id, { retention, encryptionKey: key }) });
}
