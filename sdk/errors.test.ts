import { describe, expect, it } from 'vitest';
import { ERROR_CODES, EXIT_CODES, ShadowError } from './errors.js';

describe('ShadowError', () => {
  it('maps every code to an exit code through its class', () => {
    for (const code of Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[]) {
      expect(new ShadowError(code, 'x').exitCode).toBe(EXIT_CODES[ERROR_CODES[code]]);
    }
    expect(new ShadowError('TARGET_BUSY', 'x').exitCode).toBe(4);
    expect(new ShadowError('IMAGE_TAMPERED', 'x').exitCode).toBe(5);
  });

  it('refuses a code outside the closed set', () => {
    expect(() => new ShadowError('NOPE' as never, 'x')).toThrow("Unknown error code 'NOPE'");
  });

  it('wraps foreign errors, keeping aborts as ABORTED', () => {
    expect(ShadowError.from(new Error('boom')).code).toBe('INTERNAL');
    expect(ShadowError.from(new Error('boom'), 'IO_ERROR').code).toBe('IO_ERROR');
    expect(ShadowError.from(new DOMException('stop', 'AbortError')).code).toBe('ABORTED');
    const own = new ShadowError('NOT_FOUND', 'gone');
    expect(ShadowError.from(own)).toBe(own);
  });

  it('serialises to the JSON the CLI prints', () => {
    expect(JSON.parse(JSON.stringify(new ShadowError('TARGET_BUSY', "Cannot wipe '/dev/sdb': it is mounted on /mnt", { details: { device: '/dev/sdb' } })))).toEqual({
      code: 'TARGET_BUSY', message: "Cannot wipe '/dev/sdb': it is mounted on /mnt", details: { device: '/dev/sdb' },
    });
  });
});
