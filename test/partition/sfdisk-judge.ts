// sfdisk as the judge: its --json view of a disk, and our Layout JSON put in the same terms for comparison.
import { run } from '../helpers/index.js';
import { gptAttributeNames } from '../../plugins/partition/ops/sfdisk-dump.js';
import type { LayoutJson } from '../../plugins/partition/ops/layout-json.js';

export interface JudgedTable {
  label: 'dos' | 'gpt';
  id: string;
  firstlba?: number;
  lastlba?: number;
  sectorsize: number;
  partitions: { n: number; start: number; size: number; type: string; bootable?: boolean; uuid?: string; name?: string; attrs?: string }[];
}

interface SfdiskJson {
  partitiontable: { label: 'dos' | 'gpt'; id: string; firstlba?: number; lastlba?: number; sectorsize: number; partitions?: { node: string; start: number; size: number; type: string; bootable?: boolean; uuid?: string; name?: string; attrs?: string }[] };
}

export async function sfdiskView(device: string): Promise<JudgedTable> {
  const { stdout } = await run('sfdisk', ['--json', device]);
  const t = (JSON.parse(stdout) as SfdiskJson).partitiontable;
  return {
    label: t.label, id: t.id.toLowerCase(), sectorsize: t.sectorsize,
    ...(t.label === 'gpt' ? { firstlba: t.firstlba!, lastlba: t.lastlba! } : {}),
    partitions: (t.partitions ?? []).map((p) => ({
      n: Number(/(\d+)$/.exec(p.node)![1]), start: p.start, size: p.size, type: p.type.toLowerCase(),
      ...(t.label === 'dos' ? { bootable: p.bootable === true } : { uuid: p.uuid!.toLowerCase(), name: p.name ?? '', attrs: p.attrs ?? '' }),
    })),
  };
}

export function layoutView(layout: LayoutJson): JudgedTable {
  const gpt = layout.table === 'gpt';
  return {
    label: gpt ? 'gpt' : 'dos', id: layout.diskId.toLowerCase(), sectorsize: layout.geometry.sectorSize,
    ...(gpt ? { firstlba: layout.firstUsableLba, lastlba: layout.lastUsableLba } : {}),
    partitions: layout.partitions.map((p) => ({
      n: p.number, start: p.startLba, size: p.sizeSectors,
      ...(p.mbr ? { type: p.mbr.type.toString(16), bootable: p.mbr.bootable } : {
        type: p.gpt!.typeGuid, uuid: p.gpt!.uuid, name: p.gpt!.name, attrs: gptAttributeNames(BigInt(p.gpt!.attributes)),
      }),
    })),
  };
}
