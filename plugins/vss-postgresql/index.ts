// The PostgreSQL writer plugin (issue 7): a cluster's data directory, WAL and tablespaces as components; around the
// snapshot, a CHECKPOINT and a non-exclusive base backup whose backup_label is kept with the shadow set.
import type { PluginContext } from '../../sdk/index.js';
import { PostgresWriter } from './postgres-writer.js';

export function activate(ctx: PluginContext): void {
  ctx.register('writers', 'shadowdisk.vss-postgresql.postgresql', new PostgresWriter());
}
