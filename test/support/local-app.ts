import * as http from 'http';
import { AddressInfo } from 'net';

/**
 * The app behind every emulated task's proxy: answers after `delayMs`, so that requests
 * stay in flight as long as a test wants them to.
 */
export class LocalApp {
  public static async start(delayMs = 0): Promise<LocalApp> {
    const app = new LocalApp(delayMs);
    await new Promise<void>(resolve => app.server.listen(0, '127.0.0.1', resolve));
    return app;
  }

  public readonly server: http.Server;

  private constructor(public delayMs: number) {
    this.server = http.createServer((req, res) => {
      req.resume();
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok\n');
      }, this.delayMs);
    });
    this.server.keepAliveTimeout = 80_000;
  }

  public get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  public stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise(resolve => this.server.close(() => resolve()));
  }
}
