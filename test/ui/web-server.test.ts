// The web UI server as a real `shadowdisk serve` process: token and cookie, 401 everywhere without them (the WebSocket
// upgrade too), the CSP, JSON-RPC through the CLI's command registry with streamed job events, and the download channel.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { run, tempDir, tempStateDir, type TempDir } from '../helpers/index.js';
import { cli, startBackend, type Backend } from './backend-process.js';

let state: TempDir;
let scratch: TempDir;
let backend: Backend;
let cookie: string;

beforeAll(async () => {
  state = await tempStateDir();
  scratch = await tempDir();
  backend = await startBackend(state.path);
});

afterAll(async () => {
  await backend?.[Symbol.asyncDispose]();
  await scratch?.[Symbol.asyncDispose]();
  await state?.[Symbol.asyncDispose]();
});

function rpcSocket(headers: Record<string, string>): Promise<{ ws: WebSocket; call(method: string, params?: unknown): Promise<{ result?: unknown; error?: { message: string; data: { code: string } }; notes: unknown[] }> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${backend.origin.replace('http', 'ws')}/rpc`, { headers });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
    ws.once('open', () => {
      let id = 0;
      resolve({
        ws,
        call: (method, params = {}) => new Promise((done) => {
          const mine = ++id;
          const notes: unknown[] = [];
          const onMessage = (raw: Buffer) => {
            const m = JSON.parse(raw.toString()) as { id?: number; method?: string; params?: { requestId: number } };
            if (m.method && m.params?.requestId === mine) notes.push(m);
            if (m.id === mine) {
              ws.off('message', onMessage);
              done({ ...(m as object), notes });
            }
          };
          ws.on('message', onMessage);
          ws.send(JSON.stringify({ jsonrpc: '2.0', id: mine, method, params }));
        }),
      });
    });
  });
}

describe('shadowdisk serve', () => {
  it('listens on 127.0.0.1 only and answers 401 to every request without the token, the WebSocket upgrade included', async () => {
    expect(backend.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (const path of ['/', '/index.html', '/app.js', '/download/anything', '/?token=wrong']) {
      const res = await fetch(`${backend.origin}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PERMISSION_DENIED');
    }
    await expect(rpcSocket({})).rejects.toThrow('HTTP 401');
    await expect(rpcSocket({ Cookie: 'shadowdisk_token=wrong' })).rejects.toThrow('HTTP 401');
  });

  it('trades the token in the opening URL for an HttpOnly SameSite=Strict cookie and serves the UI under a CSP without unsafe-eval', async () => {
    const opened = await fetch(backend.url, { redirect: 'manual' });
    expect(opened.status).toBe(303);
    const setCookie = opened.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    cookie = setCookie.split(';')[0]!;
    expect(cookie).toBe(`shadowdisk_token=${backend.token}`);
    const page = await fetch(`${backend.origin}/`, { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="/app.js">');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toContain('unsafe-inline');
    // Paths never leave the UI folder, and a malformed one is answered, not fatal.
    for (const [path, status] of [['/..%2f..%2f..%2fetc%2fpasswd', 404], ['/%E0%A4%A', 400], ['/missing.js', 404]] as const) {
      expect((await fetch(`${backend.origin}${path}`, { headers: { Cookie: cookie } })).status, path).toBe(status);
    }
    // Only the script editor page allows Monaco's injected styles and blob: workers; no page allows eval.
    const editorCsp = (await fetch(`${backend.origin}/editor.html`, { headers: { Cookie: cookie } })).headers.get('content-security-policy')!;
    expect(editorCsp).toContain("style-src 'self' 'unsafe-inline'");
    expect(editorCsp).toContain("script-src 'self';");
    expect(editorCsp).not.toContain('unsafe-eval');
    const script = await fetch(`${backend.origin}/app.js`, { headers: { Cookie: cookie } });
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    // A rebound DNS name pointing at 127.0.0.1 carries another Host header: refused even with the cookie.
    const rebound = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: evil.example:80', '-H', `Cookie: ${cookie}`, `${backend.origin}/`]);
    expect(rebound.stdout).toBe('403');
  });

  it('runs commands by id through the same registry as the CLI, streaming job events, and names bad calls', async () => {
    const { ws, call } = await rpcSocket({ Cookie: cookie, Origin: backend.origin });
    try {
      const list = await call('commands.list');
      const commands = list.result as { id: string; cli?: string; keybinding: string | null }[];
      const cliList = JSON.parse((await cli(state.path, ['commands', '--json'])).stdout) as { commands: { id: string }[] };
      expect(commands.map((c) => c.id).sort()).toEqual(cliList.commands.map((c) => c.id).sort());
      expect(commands.find((c) => c.id === 'shadowdisk.workbench.commands')!.keybinding).toBe('ctrl+shift+p');

      const image = join(scratch.path, 'disk.img');
      writeFileSync(image, Buffer.alloc(8 * 1024 * 1024));
      const disks = await call('commands.execute', { id: 'shadowdisk.partition.disks', argv: [image] });
      expect((disks.result as { data: { disks: { path: string; sizeBytes: number }[] } }).data.disks[0]).toMatchObject({ path: image, sizeBytes: 8 * 1024 * 1024 });
      const events = disks.notes as { method: string; params: { event?: { type: string } } }[];
      expect(events[0]!.method).toBe('job.started');
      expect(events.at(-1)!.params.event!.type).toBe('finished');

      const unknown = await call('commands.execute', { id: 'shadowdisk.nobody.nothing' });
      expect(unknown.error!.data.code).toBe('COMMAND_NOT_FOUND');
      const badArgs = await call('commands.execute', { id: 'shadowdisk.partition.disks', argv: 'disks' });
      expect(badArgs.error!.data.code).toBe('INVALID_ARGUMENT');
      expect((await call('no.such.method')).error!.message).toMatch(/Unknown method 'no.such.method'/);

      const views = (await call('views.list')).result as { id: string; kind: string }[];
      expect(views.map((v) => v.id)).toEqual(expect.arrayContaining(['shadowdisk.scheduler.schedules', 'shadowdisk.scheduler.runs']));
      const schedules = await call('views.data', { id: 'shadowdisk.scheduler.schedules' });
      expect((schedules.result as { data: { schedules: unknown[] } }).data.schedules).toEqual([]);
      const settings = (await call('settings.list')).result as { key: string; value: unknown }[];
      expect(settings.find((s) => s.key === 'workbench.demoSizeMiB')!.value).toBe(256);

      // Bulk bytes go over the binary channel, not the socket.
      const offered = (await call('downloads.offer', { path: image })).result as { url: string };
      const bytes = Buffer.from(await (await fetch(`${backend.origin}${offered.url}`, { headers: { Cookie: cookie } })).arrayBuffer());
      expect(bytes.equals(readFileSync(image))).toBe(true);
      expect((await fetch(`${backend.origin}${offered.url}`)).status).toBe(401);
      expect((await call('downloads.offer', { path: join(scratch.path, 'missing') })).error!.data.code).toBe('NOT_FOUND');
    } finally {
      ws.close();
    }
  });

  it('refuses a WebSocket from another origin even with the cookie, and a second server on the same state directory', async () => {
    await expect(rpcSocket({ Cookie: cookie, Origin: 'http://evil.example' })).rejects.toThrow('HTTP 401');
    const second = await cli(state.path, ['serve', '--json'], true);
    expect(JSON.parse(second.stdout).error.code).toBe('TARGET_BUSY');
    const url = await cli(state.path, ['serve', 'url']);
    expect(url.stdout.trim()).toBe(backend.url);
  });

  it('removes its record when stopped', async () => {
    await backend[Symbol.asyncDispose]();
    expect(backend.process.exitCode).toBe(0);
    expect(existsSync(join(state.path, 'web-ui', 'server.json'))).toBe(false);
  });
});

describe('shadowdisk daemon', () => {
  it('serves the web UI too, on its own token, until stopped', async () => {
    await using daemonState = await tempStateDir();
    await using daemon = await startBackend(daemonState.path, ['daemon']);
    expect((await fetch(`${daemon.origin}/`)).status).toBe(401);
    const opened = await fetch(daemon.url, { redirect: 'manual' });
    expect(opened.status).toBe(303);
    const page = await fetch(`${daemon.origin}/`, { headers: { Cookie: opened.headers.get('set-cookie')!.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(JSON.parse((await cli(daemonState.path, ['serve', 'url', '--json'])).stdout)).toMatchObject({ pid: daemon.process.pid, url: daemon.url });
    await daemon[Symbol.asyncDispose]();
    expect(daemon.process.exitCode).toBe(0);
    expect(existsSync(join(daemonState.path, 'web-ui', 'server.json'))).toBe(false);
  });
});
