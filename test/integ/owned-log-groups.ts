import { CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';

/**
 * Gives every Lambda function of a stack that has no log group of its own one that the stack
 * owns (one day's retention, deleted with the stack). Without it Lambda creates
 * `/aws/lambda/<name>` at the first invocation, outside CloudFormation, and the group outlives
 * `cdk destroy`: the functions of integ-tests-alpha's assertion providers and of CDK's own
 * custom resources (such as the VPC's default security group restriction) have none.
 *
 * Call it once every construct of the stack exists.
 */
export function giveEveryFunctionAnOwnedLogGroup(stack: Stack): void {
  const functions = stack.node.findAll()
    .filter((c): c is CfnResource => CfnResource.isCfnResource(c) && c.cfnResourceType === 'AWS::Lambda::Function')
    .filter(f => !hasLogGroup(f));
  for (const fn of functions) {
    const group = new logs.LogGroup(fn.node.scope ?? stack, `${fn.node.id}Logs`, {
      retention: logs.RetentionDays.ONE_DAY,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // The Ref makes the function depend on its group: the group exists before the function
    // first runs and is deleted only after it (custom resources run their delete handlers too).
    fn.addPropertyOverride('LoggingConfig.LogGroup', group.logGroupName);
  }
}

function hasLogGroup(fn: CfnResource): boolean {
  if (fn instanceof lambda.CfnFunction) {
    const config = fn.loggingConfig as lambda.CfnFunction.LoggingConfigProperty | undefined;
    return config?.logGroup !== undefined;
  }
  // Functions declared as plain CfnResources (the assertion providers, CDK's custom resource
  // providers) keep their properties in a field of their own; none of them sets a log group
  // unless asked to.
  const properties = (fn as unknown as { _cfnProperties?: Record<string, unknown> })._cfnProperties;
  return properties?.LoggingConfig !== undefined;
}

