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
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  public get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise(resolve => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const requestId = randomUUID();
      if (form.get('Action') !== 'Publish') {
        return this.fault(res, 400, 'InvalidAction', `${form.get('Action')} is not emulated`, requestId);
      }
      const topicArn = form.get('TopicArn') ?? '';
      if (topicArn !== this.topicArn) return this.fault(res, 404, 'NotFound', 'Topic does not exist', requestId);
      const message = form.get('Message');
      if (!message) return this.fault(res, 400, 'InvalidParameter', 'Empty message', requestId);
      this.published.push({ topicArn, subject: form.get('Subject') ?? undefined, message, at: Date.now() });
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(`<PublishResponse><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`);
    });
  }

  private fault(res: http.ServerResponse, status: number, code: string, message: string, requestId: string) {
    res.writeHead(status, { 'content-type': 'text/xml' });
    res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
  }
}
