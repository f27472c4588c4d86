// Layouts in JSON (plans on disk, --json output): the 64-bit GPT attributes travel as 0x-prefixed hex strings.
import { ShadowError } from '../../../sdk/index.js';
import { freezeLayout, type Layout, type LayoutPartition } from '../table/layout.js';

export type LayoutJson = Omit<Layout, 'partitions'> & { partitions: (Omit<LayoutPartition, 'gpt'> & { gpt?: Omit<NonNullable<LayoutPartition['gpt']>, 'attributes'> & { attributes: string } })[] };

export function layoutToJson(layout: Layout): LayoutJson {
  return {
    ...layout,
    geometry: { ...layout.geometry },
    partitions: layout.partitions.map((p) => (p.gpt ? { ...p, gpt: { ...p.gpt, attributes: `0x${p.gpt.attributes.toString(16).padStart(16, '0')}` } } : { ...p })),
  } as LayoutJson;
}

export function layoutFromJson(json: LayoutJson, source: string): Layout {
  try {
    return freezeLayout({
      ...json,
      geometry: { ...json.geometry },
      partitions: json.partitions.map((p) => (p.gpt ? { ...p, gpt: { ...p.gpt, attributes: BigInt(p.gpt.attributes) } } : { ...p })),
    } as Layout);
  } catch (error) {
    throw new ShadowError('INVALID_ARGUMENT', `The layout in ${source} is malformed (${(error as Error).message}); clear the plan with 'shadowdisk part plan clear'`);
  }
}
