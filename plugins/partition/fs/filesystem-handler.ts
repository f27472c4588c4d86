// The partition plugin's `filesystems` contributions: one handler per family, running the family's own tools.
import type { FilesystemCheck, FilesystemHandler, RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { runTool } from '../../../sdk/node.js';
import { toolsFor, type FilesystemTools } from './filesystem-tools.js';

export function filesystemHandler(tools: FilesystemTools): FilesystemHandler {
  const checkLabel = (type: string, label: string) => {
    const size = type === 'vfat' ? label.length : Buffer.byteLength(label, 'utf8');
    if (size > tools.labelLimit) throw new ShadowError('INVALID_ARGUMENT', `A ${type} label holds at most ${tools.labelLimit} ${type === 'vfat' ? 'characters' : 'bytes'}; '${label}' has ${size}`);
  };
  return {
    types: tools.types,
    labelLimit: () => tools.labelLimit,
    async mkfs(device, { type, label }, run: RunContext) {
      if (label !== undefined) checkLabel(type, label);
      const [command, args] = tools.mkfs(device, type, label);
      run.log.info(`${command} ${args.join(' ')}`);
      await runTool(command, args, { signal: run.signal });
    },
    async check(device, type, run): Promise<FilesystemCheck> {
      const spec = tools.check(device, type);
      if (!spec) throw new ShadowError('UNSUPPORTED', `${type} has no filesystem checker`);
      const [command, args] = spec.command;
      const result = await runTool(command, args, { signal: run.signal, okCodes: [...Array(256).keys()] });
      return { clean: spec.cleanCodes.includes(result.exitCode), tool: result.commandLine, exitCode: result.exitCode, output: `${result.stdout}${result.stderr}`.trim() };
    },
    async setLabel(device, type, label, run) {
      checkLabel(type, label);
      const [command, args] = tools.setLabel(device, type, label);
      await runTool(command, args, { signal: run.signal });
    },
  };
}

export function handlerForType(type: string): FilesystemHandler {
  const tools = toolsFor(type);
  if (!tools) throw new ShadowError('INVALID_ARGUMENT', `Unknown filesystem type '${type}'; use ext2, ext3, ext4, xfs, btrfs, vfat, ntfs, exfat or swap`);
  return filesystemHandler(tools);
}
