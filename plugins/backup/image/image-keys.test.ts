import { describe, expect, it } from 'vitest';
import { DEFAULT_KDF, deriveImageKeys, kdfProblem, newSalt, scryptMemoryBytes } from './image-keys.js';

describe('image keys', () => {
  it('derives a separate key per purpose, all changing with the image id', async () => {
    const salt = newSalt();
    const kdf = { N: 2 ** 10, r: 8, p: 1 };
    const a = await deriveImageKeys('pass', salt, kdf, new Uint8Array(16));
    const b = await deriveImageKeys('pass', salt, kdf, new Uint8Array(16).fill(1));
    const all = [a.chunk.chunkKey, a.manifestKey, a.macKey, a.keyCheck].map((k) => Buffer.from(k).toString('hex'));
    expect(new Set(all).size).toBe(4);
    expect(Buffer.from(b.chunk.chunkKey).equals(a.chunk.chunkKey)).toBe(false);
    const again = await deriveImageKeys('pass', salt, kdf, new Uint8Array(16));
    expect(Buffer.from(again.keyCheck).equals(a.keyCheck)).toBe(true);
    const other = await deriveImageKeys('Pass', salt, kdf, new Uint8Array(16));
    expect(Buffer.from(other.keyCheck).equals(a.keyCheck)).toBe(false);
  });

  it('refuses parameters that are not a power of two or need more than 2 GiB', () => {
    expect(kdfProblem({ N: 3000, r: 8, p: 1 })).toMatch(/power of two/);
    expect(kdfProblem({ N: 2 ** 22, r: 8, p: 1 })).toMatch(/MiB/);
    expect(kdfProblem(DEFAULT_KDF)).toBeUndefined();
  });

  it('prints the time and memory of one derivation with the default parameters', async () => {
    const rssBefore = process.resourceUsage().maxRSS;
    const start = performance.now();
    await deriveImageKeys('a passphrase', newSalt(), DEFAULT_KDF, new Uint8Array(16));
    const ms = performance.now() - start;
    const rssAfter = process.resourceUsage().maxRSS;
    console.log(
      `scrypt N=2^17 r=8 p=1: ${ms.toFixed(0)} ms, ${scryptMemoryBytes(DEFAULT_KDF) >> 20} MiB by formula, ` +
        `peak RSS ${(rssAfter / 1024).toFixed(0)} MiB (grew ${((rssAfter - rssBefore) / 1024).toFixed(0)} MiB during the derivation)`,
    );
  });
});
