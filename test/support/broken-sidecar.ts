import * as net from 'net';
import { EcsEmulator, EmulatedTask } from './ecs-emulator';

/** How a broken status endpoint behaves. */
export type BrokenStatus =
  /** Accepts the connection and never answers: the scrape's own timeout ends it. */
  | 'hang'
  /** Answers 200 with a page that is not stub_status. */
  | 'garbage'
  /** Accepts the connection and resets it at once. */
  | 'reset';

/**
 * Replaces one task's sidecar with a server on its status port that answers with
 * `behaviour`: the sidecar's nginx is stopped (its proxy port goes with it, as a crashed
 * container's would) and a bare TCP server takes the status address. Resolves to a function
 * that closes that server and every connection it holds.
 */
export async function breakSidecar(
  ecs: EcsEmulator, task: EmulatedTask, statusPort: number, behaviour: BrokenStatus,
): Promise<() => Promise<void>> {
  await ecs.killSidecar(task);
  const sockets = new Set<net.Socket>();
  const server = net.createServer(socket => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (behaviour === 'garbage') socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n<html>oops</html>');
    if (behaviour === 'reset') socket.resetAndDestroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(statusPort, task.address, resolve);
  });
  return () => new Promise<void>(resolve => {
    sockets.forEach(s => s.destroy());
    server.close(() => resolve());
  });
}
