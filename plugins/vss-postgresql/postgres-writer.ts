// PostgreSQL as a shadow-copy writer. The snapshot of every volume the cluster lives on is taken at one instant, so
// it is crash-consistent by itself; the writer adds what a DBA expects of a base backup: a CHECKPOINT just before
// (short crash recovery), and pg_backup_start/pg_backup_stop on one session around the cut (full-page writes forced,
// backup_label and tablespace_map kept with the set, for a restore that replays archived WAL).
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ShadowError, type ShadowWriter, type ShadowWriterContext, type VetoResult, type WriterMetadata } from '../../sdk/index.js';

type Client = InstanceType<typeof pg.Client>;

function connectionOf(ctx: ShadowWriterContext): pg.ClientConfig {
  const { host = '/var/run/postgresql', port = '5432', user = 'postgres', database = 'postgres' } = ctx.options;
  return { host, port: Number(port), user, database, application_name: `shadowdisk set ${ctx.setId}`, connectionTimeoutMillis: 10_000 };
}

async function connect(ctx: ShadowWriterContext): Promise<Client> {
  const client = new pg.Client(connectionOf(ctx));
  try {
    await client.connect();
  } catch (error) {
    const { host, port } = connectionOf(ctx);
    throw new ShadowError('IO_ERROR', `Cannot connect to PostgreSQL at host '${host}' port ${port}: ${(error as Error).message}; pass --writer 'postgresql:host=SOCKET_DIR,port=N'`, { cause: error });
  }
  return client;
}

export class PostgresWriter implements ShadowWriter {
  /** The session holding each set's base backup open: pg_backup_stop must run on the session that started it. */
  private readonly sessions = new Map<string, { client: Client; version: number }>();

  async identify(ctx: ShadowWriterContext): Promise<WriterMetadata> {
    const client = await connect(ctx);
    try {
      const dataDirectory = (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory;
      const spaces = await client.query<{ spcname: string; location: string }>("SELECT spcname, pg_tablespace_location(oid) AS location FROM pg_tablespace WHERE pg_tablespace_location(oid) <> ''");
      return {
        components: [
          { name: 'data', paths: [dataDirectory] },
          // pg_wal may be a symlink to another volume (initdb --waldir): the set must hold where it points.
          { name: 'wal', paths: [realpathSync(join(dataDirectory, 'pg_wal'))] },
          ...spaces.rows.map((s) => ({ name: `tablespace ${s.spcname}`, paths: [s.location] })),
        ],
      };
    } finally {
      await client.end();
    }
  }

  async freeze(ctx: ShadowWriterContext): Promise<VetoResult> {
    const client = await connect(ctx);
    try {
      const version = Number((await client.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]!.server_version_num);
      if ((await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r) return 'the cluster is a standby in recovery; take the set on the primary';
      await client.query('CHECKPOINT');
      const label = `shadowdisk set ${ctx.setId}`;
      // fast = true: the backup's own checkpoint is immediate, right after ours.
      await client.query(version >= 150000 ? 'SELECT pg_backup_start($1, true)' : 'SELECT pg_start_backup($1, true, false)', [label]);
      this.sessions.set(ctx.setId, { client, version });
      return undefined;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  async thaw(ctx: ShadowWriterContext): Promise<void> {
    const session = this.sessions.get(ctx.setId);
    if (session === undefined) return;
    this.sessions.delete(ctx.setId);
    try {
      const stop = await session.client.query<{ lsn: string; labelfile: string; spcmapfile: string | null }>(session.version >= 150000 ? 'SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(false)' : 'SELECT lsn, labelfile, spcmapfile FROM pg_stop_backup(false, false)');
      const { lsn, labelfile, spcmapfile } = stop.rows[0]!;
      await ctx.keepFile('backup_label', labelfile);
      if (spcmapfile) await ctx.keepFile('tablespace_map', spcmapfile);
      await ctx.keepFile('backup-stop.json', `${JSON.stringify({ stopLsn: lsn, serverVersionNum: session.version }, null, 2)}\n`);
    } finally {
      await session.client.end();
    }
  }

  async abort(ctx: ShadowWriterContext): Promise<void> {
    const session = this.sessions.get(ctx.setId);
    if (session === undefined) return;
    this.sessions.delete(ctx.setId);
    // Ending the session aborts a non-exclusive backup as well; stopping it first says so in the server log.
    await session.client.query(session.version >= 150000 ? 'SELECT pg_backup_stop(false)' : 'SELECT pg_stop_backup(false, false)').catch(() => undefined);
    await session.client.end().catch(() => undefined);
  }
}
