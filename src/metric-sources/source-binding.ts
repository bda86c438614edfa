import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { MetricName, PrometheusSeries, SourceConfig } from '../controller/controller-config';

/*
 * How a MetricSource joins an autoscaler: checked first (every error at once, nothing added),
 * then attached. Internal: not part of the library's API.
 */

/** What a source needs to know of the autoscaler. */
export interface SourceContext {
  readonly scope: Construct;
  readonly taskDefinition: ecs.TaskDefinition;
  readonly appContainer: ecs.ContainerDefinition;
  /** The autoscaler's `appPort`, if set. */
  readonly appPort?: number;
  readonly metric: MetricName;
  readonly series?: PrometheusSeries;
  readonly logRetention: logs.RetentionDays;
  /** Encrypts the sidecar's log group, if the source has one. */
  readonly encryptionKey?: kms.IKey;
}

/** A checked source, ready to be attached. */
export interface PreparedSource {
  readonly errors: string[];
  /** Whether it reads the running tasks (then at least one must run: minTasks ≥ 1). */
  readonly readsTasks: boolean;
  /** The app port the load balancer targets through the source (the proxy's) or directly. */
  readonly appPort?: number;
  /** Adds the source's containers; called only when no prop had an error. */
  attach(): AttachedSource;
}

/** A source's check and attachment, given the autoscaler it joins. */
export type SourcePreparer = (context: SourceContext) => PreparedSource;

/** An attached source: what the autoscaler wires to the controller and the load balancer. */
export interface AttachedSource {
  readonly config: SourceConfig;
  /** Where the controller reads each task; 0 when it reads no task (a queue). */
  readonly statusPort: number;
  /** The container and port the load balancer should target, if the service has a port to target. */
  readonly targetContainerName: string;
  readonly targetPort?: number;
  /** The source's sidecar, if it has one. */
  readonly sidecar?: ecs.ContainerDefinition;
  /** Grants the controller what it needs to read the source beyond the tasks (a queue's counters). */
  readonly grantController?: (controller: iam.IGrantable) => void;
}

