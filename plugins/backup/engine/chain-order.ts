// Orders a folder's images into chains: each full image (or image whose parent is not there) starts a chain, followed
// by the images made against it, depth first, oldest first. Pure: works on what the headers and manifests said.
import { dirname, resolve } from 'node:path';

export interface ChainNode {
  /** Absolute path of the image file. */
  path: string;
  imageId?: string;
  createdAtMs?: number;
  /** What the image's manifest names as its parent (a path relative to the image, and the parent's id). */
  parent?: { file: string; imageId: string };
}

export type ParentState = 'found' | 'missing' | 'mismatch';

export interface OrderedNode {
  index: number;
  /** 0 for the first image of a chain. */
  depth: number;
  chain: number;
  /** For images that name a parent: whether that file is in the list and is the image named. */
  parentState?: ParentState;
}

export function parentPathOf(node: ChainNode): string | undefined {
  return node.parent ? resolve(dirname(node.path), node.parent.file) : undefined;
}

/** `nodes` in chain order; `chains` lists the node indexes of each chain. */
export function orderChains(nodes: readonly ChainNode[]): { order: OrderedNode[]; chains: number[][] } {
  const byPath = new Map(nodes.map((n, i) => [n.path, i]));
  const children = new Map<number, number[]>();
  const states = new Map<number, ParentState>();
  const roots: number[] = [];
  for (const [i, node] of nodes.entries()) {
    const parentPath = parentPathOf(node);
    if (parentPath === undefined) {
      roots.push(i);
      continue;
    }
    const parent = byPath.get(parentPath);
    const state: ParentState = parent === undefined ? 'missing' : nodes[parent]!.imageId === node.parent!.imageId ? 'found' : 'mismatch';
    states.set(i, state);
    if (state === 'found' && parent !== i) children.set(parent!, [...(children.get(parent!) ?? []), i]);
    else roots.push(i);
  }
  const byAge = (a: number, b: number) => (nodes[a]!.createdAtMs ?? Infinity) - (nodes[b]!.createdAtMs ?? Infinity) || nodes[a]!.path.localeCompare(nodes[b]!.path);
  const order: OrderedNode[] = [];
  const chains: number[][] = [];
  const seen = new Set<number>();
  const visit = (index: number, depth: number, chain: number) => {
    if (seen.has(index)) return;
    seen.add(index);
    order.push({ index, depth, chain, ...(states.has(index) ? { parentState: states.get(index)! } : {}) });
    chains[chain]!.push(index);
    for (const child of (children.get(index) ?? []).sort(byAge)) visit(child, depth + 1, chain);
  };
  for (const root of roots.sort(byAge)) {
    chains.push([]);
    visit(root, 0, chains.length - 1);
  }
  // Images only reachable through a loop of parents (a damaged folder) still appear, each on its own.
  for (const [i] of nodes.entries()) {
    if (seen.has(i)) continue;
    chains.push([]);
    visit(i, 0, chains.length - 1);
  }
  return { order, chains };
}
