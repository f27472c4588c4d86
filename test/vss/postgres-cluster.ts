// A private PostgreSQL cluster for tests: Debian's server binaries run as the postgres user on a data directory the
// test chooses (pg_wal optionally on another volume), listening only on a Unix socket in a scratch folder; local
// connections are trusted, so root's psql, pgbench and the writer connect as user postgres. Stopped on dispose.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from '../helpers/index.js';

export interface PostgresCluster extends AsyncDisposable {
  readonly dataDir: string;
  readonly socketDir: string;
  readonly port: number;
  readonly logFile: string;
  /** One value (first column of the first row) of a query, as text. */
  query(sql: string): Promise<string>;
  stop(): Promise<void>;
}

/** The newest server version's bin folder (`/usr/lib/postgresql/15/bin`). */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error('PostgreSQL server binaries are missing under /usr/lib/postgresql; install the postgresql package (scripts/debian-packages.txt)');
  return join(root, versions[0]!, 'bin');
}

export async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const { stdout, code } = await run('id', ['-u', 'postgres'], { allowFailure: true });
  if (code !== 0) throw new Error('There is no postgres user; install the postgresql package (scripts/debian-packages.txt)');
  return { uid: Number(stdout.trim()), gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()) };
}

/** Lets the postgres user through every folder from `path` up to / (the scratch folders under TMPDIR are 0700 root). */
export async function openPathFor(path: string): Promise<void> {
  const scratch = tmpdir();
  for (let dir = path; dir !== '/'; dir = dirname(dir)) {
    const { mode } = statSync(dir);
    if ((mode & 0o001) !== 0) continue;
    if (dir !== scratch && !dir.startsWith(`${scratch}/`)) throw new Error(`The postgres user cannot pass through '${dir}' (mode ${(mode & 0o7777).toString(8)}), which is not a scratch folder of this test run`);
    await chmod(dir, (mode & 0o7777) | 0o011);
  }
}

async function ownedFolder(path: string, owner: { uid: number; gid: number }): Promise<string> {
  await mkdir(path, { recursive: true });
  await chown(path, owner.uid, owner.gid);
  await chmod(path, 0o700);
  return path;
}

const asPostgres = (bin: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', bin, ...args]);

/** initdb of a new cluster in `dataDir` (pg_wal in `walDir` when given). */
export async function initCluster(dataDir: string, walDir?: string): Promise<void> {
  const owner = await postgresUser();
  await openPathFor(dirname(dataDir));
  await ownedFolder(dataDir, owner);
  if (walDir !== undefined) {
    await openPathFor(dirname(walDir));
    await ownedFolder(walDir, owner);
  }
  await asPostgres(join(postgresBin(), 'initdb'), ['-D', dataDir, '--auth=trust', '--no-sync', '-U', 'postgres', ...(walDir ? ['--waldir', walDir] : [])]);
}

/** Starts the server on an existing data directory and waits until it accepts connections (after any recovery). */
export async function startCluster(dataDir: string): Promise<PostgresCluster> {
  const owner = await postgresUser();
  const socketDir = await ownedFolder(await mkdtemp(join(tmpdir(), 'pg-')), owner);
  await openPathFor(socketDir);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const logFile = join(socketDir, 'server.log');
  const bin = postgresBin();
  const options = `-k ${socketDir} -p ${port} -c listen_addresses= -c max_wal_size=64MB -c min_wal_size=32MB -c fsync=on`;
  await asPostgres(join(bin, 'pg_ctl'), ['start', '-D', dataDir, '-w', '-t', '120', '-l', logFile, '-o', options]);
  let running = true;
  const stop = async (): Promise<void> => {
    if (!running) return;
    running = false;
    await asPostgres(join(bin, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'fast', '-w']);
  };
  return {
    dataDir,
    socketDir,
    port,
    logFile,
    query: async (sql) => (await run('psql', ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', socketDir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', sql])).stdout.trim(),
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

export function serverLog(cluster: PostgresCluster): string {
  return readFileSync(cluster.logFile, 'utf8');
}
