import { ECSClient } from '@aws-sdk/client-ecs';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';

/** The clients a service's tick calls AWS with: ECS always, SNS and SQS when it has a topic or a queue. */
export interface ServiceClients {
  readonly ecs: ECSClient;
  sns(): SNSClient;
  sqs(): SQSClient;
}

/** Renewed this long before they expire. */
const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * Credentials of a service's own role, assumed by the controller and kept until shortly before
 * they expire (one AssumeRole an hour a service); concurrent askers share one call. A role that
 * cannot be assumed fails that service's calls alone.
 */
export function assumedRoleCredentials(sts: STSClient, roleArn: string, now: () => number = Date.now): () => Promise<AwsCredentialIdentity> {
  let held: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  return () => {
    if (held?.expiration && held.expiration.getTime() - now() > RENEW_BEFORE_MS) return Promise.resolve(held);
    pending ??= sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'fast-autoscaler', DurationSeconds: 3600 }))
      .then(out => {
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole ${roleArn} gave no credentials`);
        held = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
        return held;
      })
      .finally(() => (pending = undefined));
    return pending;
  };
}

/**
 * The clients of every service, by the role it is reached with: the controller's own for a
 * loop of one, each service's own role in a shared loop. Built once per warm instance.
 */
export class ClientsByRole {
  private readonly byRole = new Map<string, ServiceClients>();
  private readonly own: ServiceClients;

  constructor(private readonly options: { readonly requestHandler: object; readonly sts: () => STSClient }) {
    this.own = this.build();
  }

  public for(roleArn: string | undefined): ServiceClients {
    if (!roleArn) return this.own;
    let clients = this.byRole.get(roleArn);
    if (!clients) this.byRole.set(roleArn, clients = this.build(assumedRoleCredentials(this.options.sts(), roleArn)));
    return clients;
  }

  /** Forgets the roles no service uses any more. */
  public keepOnly(roleArns: ReadonlySet<string>): void {
    for (const role of [...this.byRole.keys()]) if (!roleArns.has(role)) this.byRole.delete(role);
  }

  private build(credentials?: () => Promise<AwsCredentialIdentity>): ServiceClients {
    const { requestHandler } = this.options;
    let sns: SNSClient | undefined;
    let sqs: SQSClient | undefined;
    return {
      // One retry inside a tick: the next tick, a few seconds later, is the real retry, and a
      // throttled call's backoff must not outlast the call's own time limit.
      ecs: new ECSClient({ maxAttempts: 2, requestHandler, credentials }),
      sns: () => (sns ??= new SNSClient({ maxAttempts: 1, requestHandler, credentials })),
      sqs: () => (sqs ??= new SQSClient({ maxAttempts: 2, requestHandler, credentials })),
    };
  }
}
