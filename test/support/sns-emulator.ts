import { randomUUID } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';

export interface PublishedMessage {
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly at: number;
}

/** SNS on loopback, speaking the query protocol, for Publish. */
export class SnsEmulator {
  public static async start(): Promise<SnsEmulator> {
    const sns = new SnsEmulator();
    await new Promise<void>(resolve => sns.server.listen(0, '127.0.0.1', resolve));
    return sns;
  }

  public readonly topicArn = 'arn:aws:sns:eu-west-1:123456789012:fast-autoscaler-local';
  public readonly published: PublishedMessage[] = [];
  /** Every Publish request as it arrived, answered or not. */
  public readonly requests: Array<{ readonly at: number; readonly subject?: string }> = [];
  /** Holds every answer this long: a slow or hanging SNS. */
  public answerDelayMs = 0;
  /** Answers the next N publishes with this error. */
  private injected?: { code: string; status: number; remaining: number };
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  public get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Makes the next `times` publishes fail with `code` (e.g. KMSAccessDenied, as for a key the role may not use). */
  public injectFault(code: string, times: number, status = 400) {
    this.injected = { code, status, remaining: times };
  }

  public stop(): Promise<void> {
    this.timers.forEach(t => clearTimeout(t));
    this.server.closeAllConnections();
    return new Promise(resolve => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      this.requests.push({ at: Date.now(), subject: form.get('Subject') ?? undefined });
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.answer(form, res);
      }, this.answerDelayMs);
      this.timers.add(timer);
    });
  }

  private answer(form: URLSearchParams, res: http.ServerResponse) {
    const requestId = randomUUID();
    if (form.get('Action') !== 'Publish') {
      return this.fault(res, 400, 'InvalidAction', `${form.get('Action')} is not emulated`, requestId);
    }
    const topicArn = form.get('TopicArn') ?? '';
    if (topicArn !== this.topicArn) return this.fault(res, 404, 'NotFound', 'Topic does not exist', requestId);
    const message = form.get('Message');
    if (!message) return this.fault(res, 400, 'InvalidParameter', 'Empty message', requestId);
    const subject = form.get('Subject') ?? undefined;
    // SNS rejects a subject of 100 characters or more.
    if (subject !== undefined && subject.length >= 100) return this.fault(res, 400, 'InvalidParameter', 'Invalid parameter: Subject', requestId);
    if (this.injected && this.injected.remaining > 0) {
      this.injected.remaining--;
      return this.fault(res, this.injected.status, this.injected.code, 'injected fault', requestId);
    }
    this.published.push({ topicArn, subject, message, at: Date.now() });
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(`<PublishResponse><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`);
  }

  private fault(res: http.ServerResponse, status: number, code: string, message: string, requestId: string) {
    res.writeHead(status, { 'content-type': 'text/xml' });
    res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
  }
}
