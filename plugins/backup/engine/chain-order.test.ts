import { describe, expect, it } from 'vitest';
import { orderChains, type ChainNode } from './chain-order.js';

const node = (name: string, id: string, at: number, parent?: [string, string]): ChainNode => ({
  path: `/images/${name}`, imageId: id, createdAtMs: at, ...(parent ? { parent: { file: parent[0], imageId: parent[1] } } : {}),
});

describe('orderChains', () => {
  it('puts each image after its parent, oldest child first, and starts a chain for a missing or replaced parent', () => {
    const nodes = [
      node('inc2', 'c', 3, ['inc1', 'b']), node('full', 'a', 1), node('inc1', 'b', 2, ['full', 'a']), node('diff', 'd', 4, ['full', 'a']),
      node('orphan', 'e', 5, ['gone', 'x']), node('stranger', 'f', 6, ['full', 'not-a']),
    ];
    const { order, chains } = orderChains(nodes);
    expect(order.map((o) => [nodes[o.index]!.path.slice(8), o.depth, o.parentState ?? null])).toEqual([
      ['full', 0, null], ['inc1', 1, 'found'], ['inc2', 2, 'found'], ['diff', 1, 'found'], ['orphan', 0, 'missing'], ['stranger', 0, 'mismatch'],
    ]);
    expect(chains).toHaveLength(3);
  });

  it('still lists images whose parents form a loop, each once', () => {
    const nodes = [node('x', 'x', 1, ['y', 'y']), node('y', 'y', 2, ['x', 'x'])];
    const { order } = orderChains(nodes);
    expect(order.map((o) => o.index).sort()).toEqual([0, 1]);
  });
});
