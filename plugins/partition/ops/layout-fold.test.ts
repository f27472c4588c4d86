import { describe, expect, it } from 'vitest';
import { isShadowError } from '../../../sdk/index.js';
import type { Layout } from '../table/layout.js';
import { foldOperation, foldPlan, type FoldOptions } from './layout-fold.js';
import type { Operation } from './operation.js';

const LINUX = '0fc63daf-8483-4772-8e79-3d69d8477de4';
const options: FoldOptions = { resolveGptType: (t) => (t === 'linux' ? LINUX : t === 'esp' ? 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b' : t) };
const geometry = { sectorSize: 512, sectorCount: 2 * 1024 * 1024 }; // 1 GiB
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const MiB = 2048;

function plan(...operations: Operation[]): Layout {
  return foldPlan(null, operations, geometry, options)!;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isShadowError(error)) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'no error';
}

describe('layout fold', () => {
  it('places new GPT partitions at the first 1 MiB-aligned free sector, filling the rest by default', () => {
    const layout = plan({ op: 'create-table', table: 'gpt', diskId: uuid(0) }, { op: 'create', sizeSectors: 100 * MiB, type: 'esp', uuid: uuid(1) }, { op: 'create', uuid: uuid(2), name: 'root' });
    expect(layout.firstUsableLba).toBe(34);
    expect(layout.lastUsableLba).toBe(geometry.sectorCount - 34);
    expect(layout.partitions.map((p) => [p.number, p.startLba, p.sizeSectors, p.gpt?.name])).toEqual([
      [1, MiB, 100 * MiB, ''],
      [2, 101 * MiB, geometry.sectorCount - 34 - 101 * MiB + 1, 'root'],
    ]);
    expect(Object.isFrozen(layout.partitions[0])).toBe(true);
  });

  it('reuses the first free GPT slot after a delete', () => {
    const layout = plan({ op: 'create-table', table: 'gpt' }, { op: 'create', sizeSectors: MiB, uuid: uuid(1) }, { op: 'create', sizeSectors: MiB, uuid: uuid(2) }, { op: 'delete', number: 1 }, { op: 'create', sizeSectors: MiB, uuid: uuid(3) });
    expect(layout.partitions.map((p) => [p.number, p.startLba, p.gpt?.uuid])).toEqual([[1, MiB, uuid(3)], [2, 2 * MiB, uuid(2)]]);
  });

  it('puts logicals inside the extended partition, leaving a sector for each EBR, and renumbers after a delete', () => {
    const layout = plan(
      { op: 'create-table', table: 'mbr', diskId: '0x12345678' },
      { op: 'create', sizeSectors: 100 * MiB },
      { op: 'create', role: 'extended' },
      { op: 'create', role: 'logical', sizeSectors: 50 * MiB, type: 'swap' },
      { op: 'create', role: 'logical', sizeSectors: 50 * MiB },
      { op: 'create', role: 'logical', sizeSectors: 50 * MiB, type: '0x07' },
      { op: 'delete', number: 6 },
    );
    expect(layout.partitions.map((p) => [p.number, p.mbr?.role, p.startLba, p.mbr?.type])).toEqual([
      [1, 'primary', MiB, 0x83], [2, 'extended', 101 * MiB, 0x05], [5, 'logical', 102 * MiB, 0x82], [6, 'logical', 204 * MiB, 0x07],
    ]);
  });

  it('keeps one active MBR partition and hides FAT/NTFS types by the 0x10 convention', () => {
    let layout = plan({ op: 'create-table', table: 'mbr' }, { op: 'create', sizeSectors: MiB, type: 'msdata' }, { op: 'create', sizeSectors: MiB });
    layout = foldOperation(layout, { op: 'set-flag', number: 1, flag: 'boot', on: true }, geometry, options);
    layout = foldOperation(layout, { op: 'set-flag', number: 2, flag: 'boot', on: true }, geometry, options);
    layout = foldOperation(layout, { op: 'set-flag', number: 1, flag: 'hidden', on: true }, geometry, options);
    expect(layout.partitions.map((p) => [p.mbr?.bootable, p.mbr?.type])).toEqual([[false, 0x17], [true, 0x83]]);
    expect(codeOf(() => foldOperation(layout, { op: 'set-flag', number: 2, flag: 'hidden', on: true }, geometry, options))).toMatch(/^INVALID_ARGUMENT: MBR type 0x83 has no hidden variant/);
  });

  it('sets GPT attribute bits for flags', () => {
    let layout = plan({ op: 'create-table', table: 'gpt' }, { op: 'create', sizeSectors: MiB, uuid: uuid(1) });
    for (const flag of ['legacy-boot', 'no-automount', 'hidden', 'required'] as const) layout = foldOperation(layout, { op: 'set-flag', number: 1, flag, on: true }, geometry, options);
    expect(layout.partitions[0]?.gpt?.attributes).toBe((1n << 63n) | (1n << 62n) | 4n | 1n);
    layout = foldOperation(layout, { op: 'set-flag', number: 1, flag: 'no-automount', on: false }, geometry, options);
    expect(layout.partitions[0]?.gpt?.attributes).toBe((1n << 62n) | 4n | 1n);
  });

  it('refuses what the table cannot hold, naming the step', () => {
    const mbr = plan({ op: 'create-table', table: 'mbr' }, ...[1, 2, 3, 4].map(() => ({ op: 'create', sizeSectors: MiB }) as Operation));
    expect(codeOf(() => foldOperation(mbr, { op: 'create', sizeSectors: MiB }, geometry, options))).toBe('SIZE_MISMATCH: All 4 primary slots are in use; create logical partitions inside an extended partition');
    expect(codeOf(() => plan({ op: 'create-table', table: 'mbr' }, { op: 'create', role: 'logical' }))).toBe('INVALID_ARGUMENT: Step 2 of the plan cannot be applied: A logical partition needs an extended partition; create one with --role extended first');
    expect(codeOf(() => plan({ op: 'create-table', table: 'gpt' }, { op: 'create', startLba: 1000, uuid: uuid(1) }))).toMatch(/Start sector 1000 is not aligned to 2048 sectors \(1 MiB\); use 2048/);
    expect(codeOf(() => plan({ op: 'create-table', table: 'gpt' }, { op: 'create', sizeSectors: geometry.sectorCount, uuid: uuid(1) }))).toMatch(/^SIZE_MISMATCH: Step 2 .* past the free region ending at 2097118/);
    expect(codeOf(() => plan({ op: 'create-table', table: 'mbr' }, { op: 'delete', number: 3 }))).toBe('NOT_FOUND: Step 2 of the plan cannot be applied: There is no partition 3; the disk has none');
    expect(codeOf(() => plan({ op: 'create-table', table: 'mbr' }, { op: 'create', role: 'extended' }, { op: 'create', role: 'logical' }, { op: 'delete', number: 1 }))).toMatch(/still holds logical partitions/);
  });
});
