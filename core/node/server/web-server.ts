// The web UI's server: 127.0.0.1 only, a random token (opening URL, then an HttpOnly cookie; 401 without it, the WebSocket
// upgrade included), the UI's static files under a CSP without unsafe-eval, JSON-RPC on /rpc and file downloads on /download/.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join, normalize } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { ShadowError } from '../../../sdk/index.js';
import type { BackendApi } from './backend-api.js';
import { RpcSession } from './rpc-session.js';
import { cookieToken, newSessionToken, sameToken, tokenCookie } from './session-token.js';

export interface WebServerOptions {
  api: BackendApi;
  /** Folder holding the built UI (index.html and its assets). */
  uiRoot: string;
  /** 0 picks a free port. */
  port?: number;
  hostVersion: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.ttf': 'font/ttf', '.woff2': 'font/woff2', '.ts': 'text/plain; charset=utf-8',
};

export class WebServer implements AsyncDisposable {
  readonly token = newSessionToken();
  private readonly http: Server;
  private readonly sockets = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024 });
  private readonly downloads = new Map<string, string>();
  private port = 0;

  private constructor(private readonly options: WebServerOptions) {
    this.http = createServer((req, res) => {
      // A bad request must never take the backend down: answer it and carry on.
      try {
        this.onRequest(req, res);
      } catch (error) {
        if (!res.headersSent) this.refuse(res, error instanceof URIError ? 400 : 500, `Cannot serve '${req.url}': ${(error as Error).message}`);
        else res.destroy();
      }
    });
    this.http.on('upgrade', (req, socket) => this.onUpgrade(req, socket));
  }

  static async start(options: WebServerOptions): Promise<WebServer> {
    const server = new WebServer(options);
    await new Promise<void>((resolve, reject) => {
      server.http.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE'
        ? new ShadowError('TARGET_BUSY', `Port ${options.port} on 127.0.0.1 is in use; pick another with --port or 0 for any free port`)
        : ShadowError.from(error, 'IO_ERROR')));
      server.http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    server.port = (server.http.address() as AddressInfo).port;
    return server;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The URL to open once: it trades the token for the cookie. */
  get openingUrl(): string {
    return `${this.origin}/?token=${this.token}`;
  }

  /**
   * The script editor page (Monaco) gets inline styles, which Monaco injects and cannot mark with a nonce, blob: workers,
   * and may be framed by the app; scripts stay 'self' only everywhere, and no page allows eval.
   */
  private securityHeaders(editorPage = false): Record<string, string> {
    const style = editorPage ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'";
    const ancestors = editorPage ? "frame-ancestors 'self'" : "frame-ancestors 'none'";
    // Monaco starts its workers from blob: URLs that import our own worker scripts.
    const workers = editorPage ? "worker-src 'self' blob:" : "worker-src 'self'";
    return {
      'Content-Security-Policy': `default-src 'self'; script-src 'self'; ${style}; img-src 'self' data:; font-src 'self' data:; ${workers}; connect-src 'self' ws://127.0.0.1:${this.port} ws://localhost:${this.port}; object-src 'none'; base-uri 'none'; form-action 'self'; ${ancestors}`,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
    };
  }

  /** Only our own host names: a rebound DNS name pointing at 127.0.0.1 is not let in. */
  private hostAllowed(req: IncomingMessage): boolean {
    return req.headers.host === `127.0.0.1:${this.port}` || req.headers.host === `localhost:${this.port}`;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.origin);
    if (!this.hostAllowed(req)) return this.refuse(res, 403, `Host '${req.headers.host}' is not this server's; open ${this.origin}`);
    if (url.pathname === '/' && url.searchParams.has('token')) {
      if (!sameToken(url.searchParams.get('token'), this.token)) return this.refuse(res, 401, 'The token in the URL is not this server\'s; open the URL that `shadowdisk serve` printed');
      res.writeHead(303, { ...this.securityHeaders(), 'Set-Cookie': tokenCookie(this.token), Location: '/' }).end();
      return;
    }
    if (!sameToken(cookieToken(req), this.token)) return this.refuse(res, 401, 'No session: open the URL with the token that `shadowdisk serve` printed');
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.refuse(res, 405, `Method ${req.method} is not served here`);
    if (url.pathname.startsWith('/download/')) return this.download(url.pathname.slice('/download/'.length), res);
    this.serveStatic(url.pathname === '/' ? '/index.html' : url.pathname, res);
  }

  private serveStatic(pathname: string, res: ServerResponse): void {
    const relative = normalize(decodeURIComponent(pathname)).replace(/^(\.\.(\/|$))+/, '');
    const file = join(this.options.uiRoot, relative);
    let size: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) throw new Error('not a file');
      size = stat.size;
    } catch {
      return this.refuse(res, 404, `No UI file '${pathname}'`);
    }
    res.writeHead(200, {
      ...this.securityHeaders(relative === '/editor.html'),
      'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': String(size),
      'Cache-Control': relative.endsWith('.html') ? 'no-store' : 'private, max-age=3600',
    });
    createReadStream(file).pipe(res);
  }

  /** Offers a server-side file on the binary channel under a random name; bulk bytes never cross the JSON-RPC socket. */
  offerDownload(path: string): string {
    try {
      if (!statSync(path).isFile()) throw new Error('not a file');
    } catch {
      throw new ShadowError('NOT_FOUND', `Cannot offer '${path}' for download: it is not a readable file`);
    }
    const id = newSessionToken();
    this.downloads.set(id, path);
    return `/download/${id}`;
  }

  private download(id: string, res: ServerResponse): void {
    const path = this.downloads.get(id);
    if (!path) return this.refuse(res, 404, 'No such download; offer the file again with downloads.offer');
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return this.refuse(res, 404, `The offered file '${basename(path)}' is gone`);
    }
    res.writeHead(200, {
      ...this.securityHeaders(),
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(size),
      'Content-Disposition': `attachment; filename="${basename(path).replace(/["\\\r\n]/g, '_')}"`,
    });
    createReadStream(path).pipe(res);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex): void {
    const url = new URL(req.url ?? '/', this.origin);
    const origin = req.headers.origin;
    const ok = this.hostAllowed(req) && sameToken(cookieToken(req), this.token) && url.pathname === '/rpc'
      && (origin === undefined || origin === this.origin || origin === `http://localhost:${this.port}`);
    if (!ok) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nNo session: open the URL with the token\n');
      return;
    }
    this.sockets.handleUpgrade(req, socket, Buffer.alloc(0), (ws) => {
      new RpcSession(ws, { api: this.options.api, hostVersion: this.options.hostVersion, offerDownload: (p) => this.offerDownload(p) });
    });
  }

  private refuse(res: ServerResponse, status: number, message: string): void {
    const code = status === 404 ? 'NOT_FOUND' : status === 405 || status === 400 ? 'INVALID_ARGUMENT' : status === 500 ? 'INTERNAL' : 'PERMISSION_DENIED';
    res.writeHead(status, { ...this.securityHeaders(), 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { code, message } }));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const client of this.sockets.clients) client.terminate();
    this.sockets.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

/** The UI's index.html must exist before the server says it serves the UI. */
export function checkUiRoot(uiRoot: string): void {
  try {
    readFileSync(join(uiRoot, 'index.html'));
  } catch {
    throw new ShadowError('NOT_FOUND', `The web UI is not built: '${join(uiRoot, 'index.html')}' is missing; run 'npm run build:ts'`);
  }
}
