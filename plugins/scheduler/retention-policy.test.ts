import { describe, expect, it } from 'vitest';
import { selectRetained, type RetainedImage } from './retention-policy.js';

/** One image a day at 02:00 UTC from 2026-01-01, in chains of `chain` (a full, then incrementals on the previous). */
function daily(days: number, chain: number): RetainedImage[] {
  return Array.from({ length: days }, (_, i) => ({
    file: `d${String(i + 1).padStart(3, '0')}`,
    atMs: Date.UTC(2026, 0, 1 + i, 2),
    parent: i % chain === 0 ? null : `d${String(i).padStart(3, '0')}`,
  }));
}

describe('retention policy', () => {
  it('keeps the newest N full images and nothing else when every image is full', () => {
    expect(selectRetained(daily(10, 1), { keepLast: 3 }).keep).toEqual(['d010', 'd009', 'd008']);
  });

  it('keeps the newest image of each of the last days, ISO weeks and months', () => {
    const images = daily(100, 1);
    const decision = selectRetained(images, { daily: 2, weekly: 2, monthly: 3 });
    // d100 = 2026-04-10 (Friday), d099 the day before; week 15 ends d096 (Sunday 04-05)...
    expect(decision.keep).toEqual(['d100', 'd099', 'd095', 'd090', 'd059']);
    expect(decision.reasons['d095']).toEqual(['weekly 2026-W14']);
    expect(decision.reasons['d090']).toEqual(['monthly 2026-03']);
    expect(decision.reasons['d059']).toEqual(['monthly 2026-02']);
    expect(decision.remove).toHaveLength(95);
  });

  it('never removes an image a kept incremental needs, back to its full image', () => {
    const decision = selectRetained(daily(10, 5), { keepLast: 1 });
    expect(decision.keep).toEqual(['d010', 'd009', 'd008', 'd007', 'd006']);
    expect(decision.reasons['d006']).toEqual(['parent of d007']);
    expect(decision.remove).toEqual(['d005', 'd004', 'd003', 'd002', 'd001']);
  });

  it('counts days in the schedule time zone', () => {
    // 23:30 UTC on 1 and 2 March is already the next day in Berlin.
    const images = [{ file: 'a', atMs: Date.UTC(2026, 2, 1, 22, 30), parent: null }, { file: 'b', atMs: Date.UTC(2026, 2, 1, 23, 30), parent: null }];
    expect(selectRetained(images, { daily: 5 }, 'UTC').keep).toEqual(['b']);
    expect(selectRetained(images, { daily: 5 }, 'Europe/Berlin').keep).toEqual(['b', 'a']);
  });
});
