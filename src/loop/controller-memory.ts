/**
 * The controller Lambda's memory, and so its CPU: Lambda gives a function CPU in
 * proportion to its memory, one vCPU at 1,769 MB. A tick's CPU grows with the tasks it
 * reads (one TCP exchange and one parse each), so the default grows with `maxTasks`:
 * measured on the function's own CPU share in bench/RESULTS.md ("Tick on the Lambda's CPU
 * share"), each tier keeps a tick at its largest service well inside a 3-second interval.
 */
export const CONTROLLER_MEMORY_TIERS: ReadonlyArray<{ readonly upToTasks: number; readonly memoryMb: number }> = [
  { upToTasks: 200, memoryMb: 256 },
  { upToTasks: 1000, memoryMb: 512 },
  { upToTasks: 2500, memoryMb: 1024 },
  { upToTasks: 5000, memoryMb: 1769 },
];

/** The default memory for a service of at most `maxTasks` tasks, in MB. */
export function defaultControllerMemoryMb(maxTasks: number): number {
  return (CONTROLLER_MEMORY_TIERS.find(t => maxTasks <= t.upToTasks) ?? CONTROLLER_MEMORY_TIERS[CONTROLLER_MEMORY_TIERS.length - 1]).memoryMb;
}
