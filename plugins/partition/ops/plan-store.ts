// A plan per disk, kept in the state directory: the base it was made against, the queued operations and the redo stack.
import { rmSync } from 'node:fs';
import { readStateFile, stateFileFor, writeStateFileDurably } from '../../../sdk/node.js';
import { ShadowError } from '../../../sdk/index.js';
import type { DiskGeometry, Layout } from '../table/layout.js';
import { layoutFromJson, layoutToJson, type LayoutJson } from './layout-json.js';
import type { Operation } from './operation.js';

export interface Plan {
  readonly disk: string;
  readonly geometry: DiskGeometry;
  /** SHA-256 over the table sectors as they were when the plan started; apply refuses if the disk no longer matches. */
  readonly baseFingerprint: string;
  readonly base: Layout | null;
  readonly operations: readonly Operation[];
  readonly redo: readonly Operation[];
}

interface PlanFile {
  version: 1;
  disk: string;
  geometry: DiskGeometry;
  baseFingerprint: string;
  base: LayoutJson | null;
  operations: Operation[];
  redo: Operation[];
}

export class PlanStore {
  constructor(private readonly dir: string) {}

  private pathOf(disk: string): string {
    return stateFileFor(this.dir, disk);
  }

  load(disk: string): Plan | undefined {
    const path = this.pathOf(disk);
    const text = readStateFile(path);
    if (text === undefined) return undefined;
    let file: PlanFile;
    try {
      file = JSON.parse(text) as PlanFile;
      if (file.version !== 1 || file.disk !== disk || !Array.isArray(file.operations)) throw new Error('unexpected content');
    } catch (error) {
      throw new ShadowError('INVALID_ARGUMENT', `The plan file ${path} is damaged (${(error as Error).message}); remove it with 'shadowdisk part plan clear ${disk}'`);
    }
    return { disk, geometry: file.geometry, baseFingerprint: file.baseFingerprint, base: file.base && layoutFromJson(file.base, path), operations: file.operations, redo: file.redo ?? [] };
  }

  save(plan: Plan): void {
    const file: PlanFile = {
      version: 1, disk: plan.disk, geometry: plan.geometry, baseFingerprint: plan.baseFingerprint, base: plan.base && layoutToJson(plan.base),
      operations: [...plan.operations], redo: [...plan.redo],
    };
    writeStateFileDurably(this.pathOf(plan.disk), file);
  }

  clear(disk: string): boolean {
    const path = this.pathOf(disk);
    try {
      rmSync(path);
      return true;
    } catch {
      return false;
    }
  }
}

export function pushOperation(plan: Plan, operation: Operation): Plan {
  return { ...plan, operations: [...plan.operations, operation], redo: [] };
}

export function undo(plan: Plan): Plan {
  const last = plan.operations.at(-1);
  if (!last) throw new ShadowError('INVALID_ARGUMENT', `Nothing to undo: the plan for ${plan.disk} is empty`);
  return { ...plan, operations: plan.operations.slice(0, -1), redo: [...plan.redo, last] };
}

export function redo(plan: Plan): Plan {
  const next = plan.redo.at(-1);
  if (!next) throw new ShadowError('INVALID_ARGUMENT', `Nothing to redo for ${plan.disk}`);
  return { ...plan, operations: [...plan.operations, next], redo: plan.redo.slice(0, -1) };
}
