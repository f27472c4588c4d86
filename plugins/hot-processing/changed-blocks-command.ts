// `hot changed-blocks <device> <file>`: hands over the current generation's changed-block map as a bitmap file and
// starts the next generation; says when the map cannot be trusted, so a backup knows to read everything instead.
import { resolve } from 'node:path';
import type { CommandArgs, CommandResult } from '../../sdk/index.js';
import { formatBytes } from '../../sdk/index.js';
import type { Attachments } from './attachments.js';
import { positional } from './command-args.js';
import { EngineClient } from './engine-client.js';

export async function takeChangedBlocks(attachments: Attachments, args: CommandArgs): Promise<CommandResult> {
  const attachment = attachments.find(positional(args, 0, 'the attached device'));
  const file = resolve(positional(args, 1, 'the file to write the changed-block bitmap to'));
  const map = await new EngineClient(attachment.controlPath).takeChangedBlocks(file);
  const changed = `${map.changedBlocks} of ${map.blocks} blocks (${formatBytes(map.changedBlocks * map.blockSize)})`;
  const text = map.trusted
    ? `Generation ${map.generation} of ${attachment.origin}: ${changed} changed; bitmap in ${file}; generation ${map.nextGeneration} begins now`
    : `Generation ${map.generation} of ${attachment.origin} is incomplete (not every write since it began was seen): read everything for the next backup; bitmap of ${changed} in ${file}; generation ${map.nextGeneration} begins now and is complete`;
  return { data: { device: attachment.device, origin: attachment.origin, ...map }, text };
}
