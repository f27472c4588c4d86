// An NTFS MFT record (FILE record) with its update-sequence fixups applied, its unnamed $DATA attribute and run lists.
import { ShadowError } from '../../../sdk/index.js';
import { ascii, expectField, u16, u32, u64, u8 } from './le-fields.js';

const ATTRIBUTE_DATA = 0x80;
const ATTRIBUTE_END = 0xffffffff;
/** Update sequence numbers protect the last two bytes of every 512-byte stride, whatever the sector size. */
const FIXUP_STRIDE = 512;

export interface NtfsRun {
  readonly clusterCount: number;
  /** Undefined for a sparse run. */
  readonly lcn: number | undefined;
}

export interface NonResidentData {
  readonly runList: Uint8Array;
  readonly dataSize: number;
}

export interface MftRecord {
  unnamedData(what: string): NonResidentData;
}

export function readMftRecord(raw: Uint8Array, what: string): MftRecord {
  const record = raw.slice();
  expectField(ascii(record, 0, 4) === 'FILE', 'NTFS', `${what} signature`, ascii(record, 0, 4), "should be 'FILE'");
  const usaOffset = u16(record, 0x04);
  const usaCount = u16(record, 0x06);
  expectField(usaCount - 1 === record.length / FIXUP_STRIDE && usaOffset + usaCount * 2 <= record.length, 'NTFS', `${what} update sequence count`, usaCount, `should be ${record.length / FIXUP_STRIDE + 1}`);
  for (let i = 1; i < usaCount; i++) {
    const end = i * FIXUP_STRIDE - 2;
    expectField(u16(record, end) === u16(record, usaOffset), 'NTFS', `${what} update sequence number at byte ${end}`, u16(record, end), `should be ${u16(record, usaOffset)} (a torn write)`);
    record[end] = record[usaOffset + i * 2]!;
    record[end + 1] = record[usaOffset + i * 2 + 1]!;
  }
  return {
    unnamedData(whatData) {
      let at = u16(record, 0x14);
      while (at + 8 <= record.length && u32(record, at) !== ATTRIBUTE_END) {
        const type = u32(record, at);
        const length = u32(record, at + 4);
        expectField(length >= 16 && at + length <= record.length, 'NTFS', `${whatData} attribute length at byte ${at}`, length, 'should stay within the record');
        if (type === ATTRIBUTE_DATA && u8(record, at + 9) === 0) {
          if (u8(record, at + 8) === 0) throw new ShadowError('UNSUPPORTED', `Cannot read the NTFS used-block map: the $DATA of ${whatData} is resident; copy every block instead`);
          const lowestVcn = u64(record, at + 0x10, 'NTFS lowest VCN');
          if (lowestVcn !== 0) throw new ShadowError('UNSUPPORTED', `Cannot read the NTFS used-block map: the $DATA of ${whatData} starts at VCN ${lowestVcn} (an attribute list extent); copy every block instead`);
          const runListOffset = u16(record, at + 0x20);
          return { runList: record.subarray(at + runListOffset, at + length), dataSize: u64(record, at + 0x30, 'NTFS data size') };
        }
        at += length;
      }
      throw new ShadowError('UNSUPPORTED', `Cannot read the NTFS used-block map: ${whatData} has no unnamed $DATA attribute in its base record; copy every block instead`);
    },
  };
}

/** Decodes a mapping-pairs array: per run a header byte (low nibble: length size, high nibble: offset size), then
 * the cluster count and the LCN delta (signed, relative to the previous run's LCN; absent for a sparse run). */
export function decodeRunList(bytes: Uint8Array, what: string): NtfsRun[] {
  const runs: NtfsRun[] = [];
  let at = 0;
  let lcn = 0;
  while (at < bytes.length && bytes[at] !== 0) {
    const header = bytes[at]!;
    const lengthSize = header & 0xf;
    const offsetSize = header >>> 4;
    expectField(lengthSize >= 1 && lengthSize <= 8 && offsetSize <= 8 && at + 1 + lengthSize + offsetSize <= bytes.length, 'NTFS', `${what} run header at byte ${at}`, header, 'should describe a run within the attribute');
    const clusterCount = readLe(bytes, at + 1, lengthSize, false);
    if (offsetSize === 0) runs.push({ clusterCount, lcn: undefined });
    else {
      lcn += readLe(bytes, at + 1 + lengthSize, offsetSize, true);
      expectField(lcn >= 0, 'NTFS', `${what} run LCN`, lcn, 'should not be negative');
      runs.push({ clusterCount, lcn });
    }
    at += 1 + lengthSize + offsetSize;
  }
  return runs;
}

function readLe(bytes: Uint8Array, offset: number, size: number, signed: boolean): number {
  let value = 0n;
  for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[offset + i]!);
  if (signed && bytes[offset + size - 1]! & 0x80) value -= 1n << BigInt(size * 8);
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new ShadowError('UNSUPPORTED', `Cannot read the NTFS used-block map: a run value ${value} is past 2^53; copy every block instead`);
  return number;
}
