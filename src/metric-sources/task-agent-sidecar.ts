import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { sidecarLogDriver } from './sidecar-logging';

/** The agent container's name in the task definition. */
export const AGENT_CONTAINER_NAME = 'fast-autoscaler-agent';

/**
 * The agent's image unless told otherwise: stock, public, no Docker build. BusyBox gives the
 * agent everything it uses (sh, nc, awk, wget) in about 4 MB, and a read costs a few forks.
 */
export const DEFAULT_AGENT_IMAGE = 'public.ecr.aws/docker/library/busybox:1.37';

/** The environment variable through which the task definition hands the agent its script. */
export const AGENT_SCRIPT_VARIABLE = 'FAST_AUTOSCALER_AGENT_SCRIPT';

/** `nobody` in BusyBox's /etc/passwd: the agent needs no user of its own, and no root. */
export const AGENT_USER = '65534:65534';

/** What the agent reads on each request: the connections on the app's ports, or the task's stats. */
export type AgentReads = 'connections' | 'stats';

export interface AgentScriptOptions {
  /** The app's listening ports whose established inbound connections count. */
  readonly appPorts: readonly number[];
  readonly reads: AgentReads;
}

/**
 * The shell script that answers one request, run by `nc -ll -e` for each connection with the
 * connection as its standard input and output. It keeps no state and writes no file.
 *
 * Connections: the sockets in /proc/net/tcp and /proc/net/tcp6 (the task's one network
 * namespace, which every container of an awsvpc task shares) whose state is 01 (ESTABLISHED)
 * and whose local port is one of the app's. A socket whose local port is the app's listening
 * port is an inbound connection; the app's own outbound connections (to a database) have
 * ephemeral local ports and are left out, as are sockets in SYN_RECV (handshake not done),
 * CLOSE_WAIT (the client has gone), TIME_WAIT and the listening socket itself. IPv4 clients
 * of an app listening on `::` appear once, in tcp6, with IPv4-mapped addresses.
 *
 * Stats: the task metadata endpoint v4's `/task/stats` and `/task`, passed through as JSON
 * for the controller to read (see src/controller/read/agent-answer.ts).
 */
export function renderAgentScript(o: AgentScriptOptions): string {
  const read = o.reads === 'connections'
    ? [
      "[ -r /proc/net/tcp ] || answer '503 Service Unavailable' '{\"error\":\"/proc/net/tcp is unreadable\"}'",
      `n=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v ports='${awkPorts(o.appPorts)}' '${CONNECTION_COUNT_AWK}')`,
      'answer \'200 OK\' "{\\"connections\\":$n}"',
    ]
    : [
      'm="$ECS_CONTAINER_METADATA_URI_V4"',
      "[ -n \"$m\" ] || answer '503 Service Unavailable' '{\"error\":\"no ECS_CONTAINER_METADATA_URI_V4\"}'",
      // `timeout`, not wget's own -T: BusyBox 1.35's wget crashes with -T on a kept-alive answer.
      "stats=$(timeout 2 wget -q -O - \"$m/task/stats\") || answer '503 Service Unavailable' '{\"error\":\"task stats unreadable\"}'",
      "task=$(timeout 2 wget -q -O - \"$m/task\") || answer '503 Service Unavailable' '{\"error\":\"task metadata unreadable\"}'",
      'answer \'200 OK\' "{\\"stats\\":$stats,\\"task\\":$task}"',
    ];
  return [
    // The request's head is read to its end (16 lines, 1 s each, at most), so that closing the
    // connection never resets it with bytes unread; the path does not matter.
    "cr=$(printf '\\r')",
    'i=0',
    'while [ $i -lt 16 ] && IFS= read -r -t 1 line && [ -n "${line%"$cr"}" ]; do i=$((i + 1)); done',
    // HTTP/1.0: the answer ends where the connection does.
    "answer() { printf 'HTTP/1.0 %s\\r\\nContent-Type: application/json\\r\\nCache-Control: no-store\\r\\n\\r\\n%s\\n' \"$1\" \"$2\"; exit 0; }",
    ...read,
  ].join('\n') + '\n';
}

/**
 * Counts the rows of /proc/net/tcp{,6} (header lines included, and skipped) in state 01
 * (ESTABLISHED) whose local address's port is in `ports` (":1F90:0050:", as awkPorts writes it).
 */
export const CONNECTION_COUNT_AWK = '$4 == "01" { split($2, a, ":"); if (index(ports, ":" a[2] ":")) n++ } END { print n + 0 }';

/** The ports as /proc/net/tcp writes them (4 upper-case hex digits), between colons. */
export function awkPorts(ports: readonly number[]): string {
  return `:${ports.map(p => p.toString(16).toUpperCase().padStart(4, '0')).join(':')}:`;
}

/** The command the agent's container runs (with `sh -c`): one listener, a fork of the script per request. */
export function agentCommand(statusPort: number): string {
  return `exec nc -ll -p ${statusPort} -e sh -c "$${AGENT_SCRIPT_VARIABLE}"`;
}

/** The agent's health check: one whole read, as the controller makes it (bounded by `timeout`, see above). */
export function agentHealthCheckCommand(statusPort: number): string {
  return `timeout 2 wget -q -O /dev/null http://127.0.0.1:${statusPort}/`;
}

export interface TaskAgentSidecarOptions extends AgentScriptOptions {
  readonly taskDefinition: ecs.TaskDefinition;
  readonly statusPort: number;
  readonly image: ecs.ContainerImage;
  readonly logRetention: logs.RetentionDays;
  /** Encrypts the sidecar's log group. @default - CloudWatch Logs' own encryption */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Adds the agent to the task definition: outside the data path (the load balancer keeps
 * targeting the app), not essential (an agent that exits never stops the app; its task is
 * then unread), a non-root user, a read-only root filesystem, every Linux capability dropped.
 */
export function addTaskAgentSidecar(scope: Construct, o: TaskAgentSidecarOptions): ecs.ContainerDefinition {
  const linuxParameters = new ecs.LinuxParameters(scope, 'AgentLinuxParameters');
  linuxParameters.dropCapabilities(ecs.Capability.ALL);
  return o.taskDefinition.addContainer(AGENT_CONTAINER_NAME, {
    image: o.image,
    essential: false,
    user: AGENT_USER,
    readonlyRootFilesystem: true,
    linuxParameters,
    entryPoint: ['sh', '-c'],
    command: [agentCommand(o.statusPort)],
    environment: { [AGENT_SCRIPT_VARIABLE]: renderAgentScript(o) },
    portMappings: [{ containerPort: o.statusPort, protocol: ecs.Protocol.TCP, name: 'fast-autoscaler-status' }],
    memoryReservationMiB: 16,
    logging: sidecarLogDriver(scope, 'AgentLogs', AGENT_CONTAINER_NAME, o.logRetention, o.encryptionKey),
    healthCheck: {
      command: ['CMD-SHELL', agentHealthCheckCommand(o.statusPort)],
      interval: Duration.seconds(10),
      timeout: Duration.seconds(3),
      retries: 3,
      startPeriod: Duration.seconds(10),
    },
  });
}
