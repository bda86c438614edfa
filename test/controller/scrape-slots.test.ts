import { SCRAPE_CONCURRENCY, scrapeShare, ScrapeSlots } from '../../src/controller/read/scrape-slots';

test('slots are handed out first come, first served, and given back once', async () => {
  const slots = new ScrapeSlots(2);
  const a = (await slots.take())!;
  const b = (await slots.take())!;
  const order: string[] = [];
  const c = slots.take().then(give => (order.push('c'), give));
  const d = slots.take().then(give => (order.push('d'), give));
  a();
  a(); // a second give-back of the same slot frees nothing more
  (await c)!();
  b();
  await d;
  expect(order).toEqual(['c', 'd']);
});

test('a wait for a slot ends at the deadline, empty-handed, and leaves the queue', async () => {
  const slots = new ScrapeSlots(1);
  const held = (await slots.take())!;
  expect(await slots.take(Date.now() + 20)).toBeUndefined();
  held();
  // The slot went back to the pool, not to the waiter that gave up.
  expect(await slots.take(Date.now() + 20)).toBeDefined();
});

test('each service\'s share of the loop\'s reads: an equal part, 4 at least', () => {
  expect(scrapeShare(1)).toBe(SCRAPE_CONCURRENCY);
  expect(scrapeShare(10)).toBe(25);
  expect(scrapeShare(50)).toBe(5);
  expect(scrapeShare(200)).toBe(4);
});
