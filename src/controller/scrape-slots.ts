/** Status reads under way at once: one service's, and a whole loop's. */
export const SCRAPE_CONCURRENCY = 256;

/**
 * Status reads under way at once, across every service of a loop: each read holds a socket,
 * and a Lambda function has 1,024 file descriptors (Lambda quotas), which 50 services reading
 * 256 tasks each at once would exceed. Slots are handed out first come, first served.
 */
export class ScrapeSlots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(public readonly size: number) {
    this.free = size;
  }

  /** Waits for a slot; call the function it returns to give the slot back, once. */
  public async take(): Promise<() => void> {
    if (this.free > 0) {
      this.free--;
    } else {
      await new Promise<void>(resolve => this.waiting.push(resolve));
    }
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}
