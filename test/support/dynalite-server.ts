import { AddressInfo, Server } from 'net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loopbackClientConfig } from './aws-loopback';
// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite');

/** A real DynamoDB implementation (dynalite, in memory) on loopback. */
export class DynaliteServer {
  public static async start(): Promise<DynaliteServer> {
    const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()));
    return new DynaliteServer(server);
  }

  private constructor(private readonly server: Server) {}

  public get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public client(): DynamoDBClient {
    return new DynamoDBClient(loopbackClientConfig(this.endpoint));
  }

  /** Creates the table the construct defines: a string partition key `pk`. */
  public async createStateTable(name: string): Promise<void> {
    const client = this.client();
    await client.send(new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }));
    client.destroy();
  }

  public stop(): Promise<void> {
    return new Promise(resolve => this.server.close(() => resolve()));
  }
}
