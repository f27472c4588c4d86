// The SQLite writer plugin (issue 7): database files checkpointed and held still across a shadow set's snapshot.
import type { PluginContext } from '../../sdk/index.js';
import { SqliteWriter } from './sqlite-writer.js';

export function activate(ctx: PluginContext): void {
  ctx.register('writers', 'shadowdisk.vss-sqlite.sqlite', new SqliteWriter());
}
