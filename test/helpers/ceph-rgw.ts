// A real S3 endpoint for tests: a single-node Ceph cluster (one monitor, one BlueStore OSD on a sparse file, radosgw)
// in a temporary folder on free ports of 127.0.0.1, with a user and a bucket; disposing it stops the daemons it
// started, by PID, and removes the folder. Recipe: ../shared/CEPH-NOTES.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './run.js';

export interface CephRgw extends AsyncDisposable {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly bucket: string;
  readonly region: string;
  /** Environment for a process that talks to the endpoint (AWS_* and SHADOWDISK_S3_ENDPOINT). */
  readonly env: Record<string, string>;
  /** The PIDs of the daemons this helper started. */
  readonly pids: readonly number[];
  /** Makes another bucket on the endpoint (with the same user). */
  createBucket(name: string): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`Ceph test cluster: ${what} did not happen within ${timeoutMs / 1000} s`);
    await sleep(300);
  }
}

function stopped(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

/** Starts the cluster; takes ~15-25 s. Fails with a clear message when the Ceph packages are missing. */
export async function cephRgw(options: { bucket?: string } = {}): Promise<CephRgw> {
  for (const tool of ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph']) {
    if ((await run('sh', ['-c', `command -v ${tool}`], { allowFailure: true })).code !== 0) {
      throw new Error(`The Ceph test cluster needs '${tool}': install ceph-mon ceph-osd radosgw ceph-common (scripts/debian-packages.txt)`);
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'shadowdisk-ceph-'));
  const children: ChildProcess[] = [];
  const dispose = async () => {
    // Only the daemons started here, by their PIDs: SIGTERM, then SIGKILL after 15 s.
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await stopped(child);
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [monPort, rgwPort] = [await freePort(), await freePort()];
    const fsid = randomUUID();
    const conf = join(dir, 'ceph.conf');
    await writeFile(conf, [
      '[global]', `fsid = ${fsid}`, `mon host = v2:127.0.0.1:${monPort}`, 'auth cluster required = none', 'auth service required = none', 'auth client required = none',
      'ms mon client mode = crc secure', 'ms bind msgr1 = false', 'osd pool default size = 1', 'osd pool default min size = 1', 'osd pool default pg num = 8',
      'osd pool default pgp num = 8', 'osd pool default pg autoscale mode = off', 'osd crush chooseleaf type = 0', 'mon allow pool size one = true',
      `run dir = ${dir}/run`, `admin socket = ${dir}/run/$name.asok`, `pid file = ${dir}/run/$name.pid`, `log file = ${dir}/log/$name.log`,
      `mon cluster log file = ${dir}/log/cluster.log`, `mon data = ${dir}/mon/$name`, `osd data = ${dir}/osd/$name`, `keyring = ${dir}/keyring`,
      'osd objectstore = bluestore', 'bluestore block create = true', 'bluestore block size = 20G', 'osd memory target = 1G', `rgw data = ${dir}/rgw`,
      '', '[client.rgw.a]', `rgw frontends = beast endpoint=127.0.0.1:${rgwPort}`, '',
    ].join('\n'));
    for (const sub of ['run', 'log', 'mon/mon.a', 'rgw']) await mkdir(join(dir, sub), { recursive: true });
    const c = ['-c', conf];
    await run('ceph-authtool', ['--create-keyring', join(dir, 'keyring'), '--gen-key', '-n', 'mon.', '--cap', 'mon', 'allow *']);
    await run('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, join(dir, 'monmap')]);
    await run('ceph-mon', [...c, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap'), '--keyring', join(dir, 'keyring')]);
    const daemon = (command: string, args: string[]) => {
      // -f: stay in the foreground, so the PID is the child's and the daemon dies with it.
      const child = spawn(command, [...c, '-f', ...args], { stdio: 'ignore' });
      children.push(child);
      return child;
    };
    daemon('ceph-mon', ['-i', 'a']);
    const ceph = (...args: string[]) => run('ceph', [...c, '--connect-timeout', '10', ...args]);
    await waitFor('the monitor answering', 30_000, async () => (await ceph('mon', 'stat')).stdout.includes('1 mons'));
    const osdUuid = randomUUID();
    const osdId = (await ceph('osd', 'new', osdUuid)).stdout.trim();
    await mkdir(join(dir, 'osd', `osd.${osdId}`), { recursive: true });
    await run('ceph-osd', [...c, '-i', osdId, '--mkfs', '--osd-uuid', osdUuid]);
    daemon('ceph-osd', ['-i', osdId]);
    await waitFor('the OSD coming up', 60_000, async () => / 1 up/.test((await ceph('osd', 'stat')).stdout));
    daemon('radosgw', ['-n', 'client.rgw.a']);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await waitFor('radosgw serving S3', 90_000, async () => (await fetch(endpoint)).status === 200);
    const accessKeyId = `ci${randomBytes(8).toString('hex')}`;
    const secretAccessKey = randomBytes(20).toString('hex');
    await run('radosgw-admin', [...c, '-n', 'client.rgw.a', 'user', 'create', '--uid=ci', '--display-name=CI', `--access-key=${accessKeyId}`, `--secret-key=${secretAccessKey}`]);
    const region = 'us-east-1';
    const env = { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: region, SHADOWDISK_S3_ENDPOINT: endpoint };
    const createBucket = async (name: string) => {
      const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
      const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        client.destroy();
      }
    };
    const bucket = options.bucket ?? 'shadowdisk-test';
    await createBucket(bucket);
    return { endpoint, accessKeyId, secretAccessKey, bucket, region, env, pids: children.map((ch) => ch.pid!), createBucket, [Symbol.asyncDispose]: dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
