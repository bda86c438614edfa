import { Duration, Size, SizeRoundingBehavior, Token } from 'aws-cdk-lib';

/*
 * Checks of props, each returning the errors it found: every message names the prop, the
 * value and what is allowed. Tokens are not judged where the value may stay unknown.
 */

export function checkPort(prop: string, port: number): string[] {
  if (Token.isUnresolved(port)) return [];
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [`\`${prop}\` must be a whole number from 1 to 65535, got ${port}`];
}

/**
 * A port one of our non-root sidecars listens on: Linux lets only a privileged process bind a
 * port below 1024, and the proxy and the agent run as ordinary users with no capabilities.
 */
export function checkSidecarPort(prop: string, port: number): string[] {
  if (Token.isUnresolved(port)) return [];
  return Number.isInteger(port) && port >= 1024 && port <= 65535
    ? []
    : [`\`${prop}\` must be a whole number from 1024 to 65535, got ${port}: the sidecar runs as a non-root user, which cannot listen below 1024`];
}

/** A port known at synthesis (a token cannot be written into a sidecar's script). */
export function checkPlainPort(prop: string, port: unknown): string[] {
  if (typeof port !== 'number') return [`\`${prop}\` must be a port number, got ${JSON.stringify(port)}`];
  if (Token.isUnresolved(port)) return [`\`${prop}\` must be known at synthesis, got a token`];
  return checkPort(prop, port);
}

export function checkDistinctPorts(ports: Record<string, number>): string[] {
  const entries = Object.entries(ports).filter(([, p]) => !Token.isUnresolved(p));
  const errors: string[] = [];
  entries.forEach(([a, pa], i) => {
    for (const [b, pb] of entries.slice(i + 1)) {
      if (pa === pb) errors.push(`\`${a}\` and \`${b}\` must differ, both are ${pa}`);
    }
  });
  return errors;
}

export function checkWhole(prop: string, value: number, min: number, max: number): string[] {
  if (Token.isUnresolved(value)) return [];
  return Number.isInteger(value) && value >= min && value <= max ? [] : [`\`${prop}\` must be a whole number from ${min} to ${max}, got ${value}`];
}

export function checkBodySize(prop: string, size: Size | undefined): string[] {
  if (size === undefined) return [];
  if (size.isUnresolved()) return [`\`${prop}\` must be known at synthesis, got a token`];
  const bytes = size.toBytes({ rounding: SizeRoundingBehavior.NONE });
  return Number.isInteger(bytes) && bytes >= 1 ? [] : [`\`${prop}\` must be whole bytes, at least 1, got ${bytes} bytes`];
}

export function checkRatio(prop: string, value: number): string[] {
  return Number.isFinite(value) && value >= 0 && value <= 1 ? [] : [`\`${prop}\` must be from 0 to 1, got ${value}`];
}

/** The duration in whole seconds, or undefined when it is a token or not whole. */
export function safeSeconds(d: Duration): number | undefined {
  if (d.isUnresolved()) return undefined;
  const ms = d.toMilliseconds();
  return ms % 1000 === 0 ? ms / 1000 : undefined;
}

export function checkDuration(prop: string, d: Duration, minSeconds: number, maxSeconds: number): string[] {
  if (d.isUnresolved()) {
    return [`\`${prop}\` must be known at synthesis, got a token`];
  }
  const seconds = safeSeconds(d);
  if (seconds === undefined || seconds < minSeconds || seconds > maxSeconds) {
    return [`\`${prop}\` must be whole seconds from ${minSeconds} to ${maxSeconds}, got ${d.toHumanString()}`];
  }
  return [];
}
