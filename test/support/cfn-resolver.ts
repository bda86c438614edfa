/**
 * Resolves the CloudFormation references in a synthesized template the way a deployment
 * would, with the local stand-ins' names and ARNs, so that the state machine definition and
 * the function's environment can be used exactly as synthesized.
 */

export interface StandIns {
  readonly clusterArn: string;
  readonly clusterName: string;
  readonly serviceArn: string;
  readonly serviceName: string;
  readonly topicArn?: string;
  /** The queue's URL, for a queue worker's template. */
  readonly queueUrl?: string;
}

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

export class CfnResolver {
  /** The Lambda ARN the local executor uses for a function's logical id. */
  public static functionArn(logicalId: string): string {
    return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${logicalId}`;
  }

  constructor(private readonly template: any, private readonly standIns: StandIns) {}

  public resolve(value: any): any {
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return value.map(v => this.resolve(v));
    if ('Ref' in value) return this.ref(value.Ref);
    if ('Fn::GetAtt' in value) return this.getAtt(value['Fn::GetAtt'][0], value['Fn::GetAtt'][1]);
    if ('Fn::Join' in value) {
      const [sep, parts] = value['Fn::Join'];
      return this.resolve(parts).join(sep);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v)]));
  }

  private typeOf(logicalId: string): string {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`unknown resource ${logicalId}`);
    return resource.Type;
  }

  private ref(name: string): string {
    switch (name) {
      case 'AWS::Partition': return 'aws';
      case 'AWS::Region': return REGION;
      case 'AWS::AccountId': return ACCOUNT;
      case 'AWS::URLSuffix': return 'amazonaws.com';
    }
    switch (this.typeOf(name)) {
      case 'AWS::ECS::Cluster': return this.standIns.clusterName;
      case 'AWS::ECS::Service': return this.standIns.serviceArn;
      case 'AWS::SNS::Topic': return this.need(this.standIns.topicArn, 'topicArn');
      case 'AWS::DynamoDB::Table': return name;
      case 'AWS::SQS::Queue': return this.need(this.standIns.queueUrl, 'queueUrl');
      default: throw new Error(`no local stand-in for Ref ${name} (${this.typeOf(name)})`);
    }
  }

  private getAtt(logicalId: string, attribute: string): string {
    const key = `${this.typeOf(logicalId)}.${attribute}`;
    switch (key) {
      case 'AWS::ECS::Cluster.Arn': return this.standIns.clusterArn;
      case 'AWS::ECS::Service.Name': return this.standIns.serviceName;
      case 'AWS::ECS::Service.ServiceArn': return this.standIns.serviceArn;
      case 'AWS::Lambda::Function.Arn': return CfnResolver.functionArn(logicalId);
      case 'AWS::IAM::Role.Arn': return `arn:aws:iam::${ACCOUNT}:role/${logicalId}`;
      case 'AWS::DynamoDB::Table.Arn': return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${logicalId}`;
      case 'AWS::SQS::Queue.Arn': return `arn:aws:sqs:${REGION}:${ACCOUNT}:${this.need(this.standIns.queueUrl, 'queueUrl').split('/').pop()}`;
      default: throw new Error(`no local stand-in for GetAtt ${logicalId}.${attribute}`);
    }
  }

  private need(value: string | undefined, what: string): string {
    if (!value) throw new Error(`the template needs a ${what} stand-in`);
    return value;
  }
}
