import { describe, expect, it } from 'vitest';
import { evaluateWhen } from './when-clause.js';

describe('evaluateWhen', () => {
  const context = { diskSelected: true, screen: 'disks', jobRunning: false, count: 3 };

  it('holds for an empty clause and reads keys, negation, comparisons, && || and parentheses', () => {
    expect(evaluateWhen(undefined, context)).toBe(true);
    expect(evaluateWhen('diskSelected', context)).toBe(true);
    expect(evaluateWhen('!diskSelected', context)).toBe(false);
    expect(evaluateWhen("screen == 'disks'", context)).toBe(true);
    expect(evaluateWhen('screen != disks', context)).toBe(false);
    expect(evaluateWhen("diskSelected && screen == 'backup'", context)).toBe(false);
    expect(evaluateWhen("jobRunning || screen == 'disks'", context)).toBe(true);
    expect(evaluateWhen('!(jobRunning || !diskSelected) && count == 3', context)).toBe(true);
    expect(evaluateWhen('unknownKey', context)).toBe(false);
  });

  it('names what it cannot read', () => {
    expect(() => evaluateWhen('diskSelected &&', context)).toThrow("The clause 'diskSelected &&' ends too early");
    expect(() => evaluateWhen('(diskSelected', context)).toThrow("Missing ')'");
    expect(() => evaluateWhen('a $ b', context)).toThrow("Cannot read the clause 'a $ b' at '$ b'");
  });
});
