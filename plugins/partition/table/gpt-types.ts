// GPT partition type aliases (what users type) ↔ type GUIDs (what the table stores), and names for display.
import { ShadowError } from '../../../sdk/index.js';
import { isGuid } from './guid.js';

interface GptTypeInfo {
  readonly guid: string;
  readonly description: string;
}

/** Alias → type GUID and description. The first alias listed for a GUID is its display alias. */
export const GPT_TYPES: Readonly<Record<string, GptTypeInfo>> = Object.freeze({
  linux: { guid: '0fc63daf-8483-4772-8e79-3d69d8477de4', description: 'Linux filesystem' },
  esp: { guid: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', description: 'EFI system partition' },
  uefi: { guid: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', description: 'EFI system partition' },
  swap: { guid: '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f', description: 'Linux swap' },
  'bios-boot': { guid: '21686148-6449-6e6f-744e-656564454649', description: 'BIOS boot partition' },
  lvm: { guid: 'e6d6d379-f507-44c2-a23c-238f2a3df928', description: 'Linux LVM' },
  raid: { guid: 'a19d880f-05fc-4d3b-a006-743f0f84911e', description: 'Linux RAID' },
  home: { guid: '933ac7e1-2eb4-4f13-b844-0e14e2aef915', description: 'Linux /home' },
  srv: { guid: '3b8f8425-20e0-4f3b-907f-1a25a76f98e8', description: 'Linux /srv' },
  'linux-var': { guid: '4d21b016-b534-45c2-a9fb-5c16e091fd2d', description: 'Linux /var' },
  'linux-tmp': { guid: '7ec6f557-3bc5-4aca-b293-16ef5df639d1', description: 'Linux /var/tmp' },
  'linux-root-x86-64': { guid: '4f68bce3-e8cd-4db1-96e7-fbcaf984b709', description: 'Linux root (x86-64)' },
  'linux-root-x86': { guid: '44479540-f297-41b2-9af7-d131d5f0458a', description: 'Linux root (x86)' },
  'linux-root-arm64': { guid: 'b921b045-1df0-41c3-af44-4c6f280d3fae', description: 'Linux root (ARM64)' },
  'linux-usr-x86-64': { guid: '8484680c-9521-48c6-9c11-b0720656f69e', description: 'Linux /usr (x86-64)' },
  'linux-reserved': { guid: '8da63339-0007-60c0-c436-083ac8230908', description: 'Linux reserved' },
  'linux-luks': { guid: 'ca7d7ccb-63ed-4c53-861c-1742536059cc', description: 'Linux LUKS' },
  'linux-dmcrypt': { guid: '7ffec5c9-2d00-49b7-8941-3ea10a5586b7', description: 'Linux dm-crypt' },
  xbootldr: { guid: 'bc13c2ff-59e6-4262-a352-b275fd6f7172', description: 'Linux extended boot' },
  msdata: { guid: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7', description: 'Microsoft basic data' },
  msreserved: { guid: 'e3c9e316-0b5c-4db8-817d-f92df00215ae', description: 'Microsoft reserved' },
  msrecovery: { guid: 'de94bba4-06d1-4d40-a16a-bfd50179d6ac', description: 'Windows recovery environment' },
  'ms-ldm-metadata': { guid: '5808c8aa-7e8f-42e0-85d2-e1e90434cfb3', description: 'Windows LDM metadata' },
  'ms-ldm-data': { guid: 'af9b60a0-1431-4f62-bc68-3311714a69ad', description: 'Windows LDM data' },
  'freebsd-ufs': { guid: '516e7cb6-6ecf-11d6-8ff8-00022d09712b', description: 'FreeBSD UFS' },
  'apple-hfs': { guid: '48465300-0000-11aa-aa11-00306543ecac', description: 'Apple HFS/HFS+' },
  'apple-apfs': { guid: '7c3457ef-0000-11aa-aa11-00306543ecac', description: 'Apple APFS' },
  'chromeos-kernel': { guid: 'fe3a2a5d-4f32-41a7-b725-accc3285a309', description: 'ChromeOS kernel' },
});

const BY_GUID: ReadonlyMap<string, { alias: string; description: string }> = (() => {
  const map = new Map<string, { alias: string; description: string }>();
  for (const [alias, info] of Object.entries(GPT_TYPES)) if (!map.has(info.guid)) map.set(info.guid, { alias, description: info.description });
  return map;
})();

/** The type GUID for an alias or a GUID (any case); lower-case canonical text. */
export function resolveGptType(aliasOrGuid: string): string {
  const known = GPT_TYPES[aliasOrGuid.toLowerCase()];
  if (known) return known.guid;
  if (isGuid(aliasOrGuid)) return aliasOrGuid.toLowerCase();
  throw new ShadowError('INVALID_ARGUMENT', `Unknown GPT partition type '${aliasOrGuid}'; use a type GUID or one of: ${Object.keys(GPT_TYPES).join(', ')}`);
}

/** Alias and description of a type GUID, or undefined for GUIDs we have no name for. */
export function gptTypeName(guid: string): { alias: string; description: string } | undefined {
  return BY_GUID.get(guid.toLowerCase());
}
