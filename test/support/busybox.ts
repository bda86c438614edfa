import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Debian's busybox; the test run installs it (.ci/setup). */
export const BUSYBOX_BINARY = process.env.BUSYBOX_BINARY ?? '/bin/busybox';

let appletDir: string | undefined;

/**
 * A directory of BusyBox's applets (sh, nc, awk, wget, ...), for PATH: a command from the
 * task definition then runs with the same tools as in the stock BusyBox image, not the host's.
 */
export function busyboxApplets(): string {
  if (appletDir) return appletDir;
  if (!fs.existsSync(BUSYBOX_BINARY)) throw new Error(`busybox not found at ${BUSYBOX_BINARY}: install Debian's busybox (.ci/setup does)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fast-autoscaler-busybox-'));
  // The agent runs as nobody, which must reach the applets.
  fs.chmodSync(dir, 0o755);
  const installed = spawnSync(BUSYBOX_BINARY, ['--install', '-s', dir], { encoding: 'utf8' });
  if (installed.status !== 0 || !fs.existsSync(path.join(dir, 'nc'))) {
    throw new Error(`busybox --install failed or has no nc applet: ${installed.stderr}`);
  }
  appletDir = dir;
  return dir;
}
