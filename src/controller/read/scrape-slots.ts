/** Status reads under way at once: one service's, and a whole loop's. */
export const SCRAPE_CONCURRENCY = 256;

/**
 * A service's share of the loop's reads under way at once: an equal part, 4 at least, so that
 * one large service whose tasks hang holds only its share and never starves the others.
 */
export function scrapeShare(services: number): number {
  return Math.max(4, Math.floor(SCRAPE_CONCURRENCY / Math.max(1, services)));
}

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

  /**
   * Waits for a slot until `deadline` (epoch ms); call the function it returns to give the slot
   * back, once. Undefined when no slot came free in time.
   */
  public async take(deadline = Infinity): Promise<(() => void) | undefined> {
    if (this.free > 0) {
      this.free--;
    } else {
      const granted = await new Promise<boolean>(resolve => {
        const timer = Number.isFinite(deadline) ? setTimeout(() => {
          const i = this.waiting.indexOf(grant);
          if (i >= 0) this.waiting.splice(i, 1);
          resolve(false);
        }, Math.max(0, deadline - Date.now())) : undefined;
        const grant = () => {
          if (timer) clearTimeout(timer);
          resolve(true);
        };
        this.waiting.push(grant);
      });
      if (!granted) return undefined;
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
