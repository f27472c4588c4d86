// Reads a tar archive (ustar, pax and GNU long names) held in memory into checked entries; no I/O. Every path is
// checked here, before anything is written: absolute paths, `..` and special files are refused, as are archive bombs.
import { ShadowError } from '../../../sdk/index.js';

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink';

export interface TarEntry {
  /** Relative, normalised (no `.`, no empty parts), never absolute and never with `..`. */
  path: string;
  type: TarEntryType;
  mode: number;
  /** Symlink target as written, or the archive path a hard link copies. */
  linkTarget?: string;
  data: Uint8Array;
}

export interface TarLimits {
  maxEntries: number;
  /** Sum of the file sizes the headers declare. */
  maxBytes: number;
}

const BLOCK = 512;
const decoder = new TextDecoder();

export type UnsafeReason = 'absolute-path' | 'parent-segment' | 'link-escape' | 'special-file' | 'too-many-entries' | 'too-many-bytes';

export function unsafe(source: string, reason: UnsafeReason, message: string, extra: Record<string, unknown> = {}): ShadowError {
  return new ShadowError('PLUGIN_ARCHIVE_UNSAFE', `Refused plugin package ${source}: ${message}; nothing was installed`, { details: { source, reason, ...extra } });
}

function invalid(source: string, message: string): ShadowError {
  return new ShadowError('PLUGIN_ARCHIVE_INVALID', `Cannot read plugin package ${source}: ${message}; make it with 'npm pack'`, { details: { source } });
}

/** A relative archive path in normal form, or a refusal naming why. */
export function normaliseEntryPath(raw: string, source: string): string {
  if (raw.startsWith('/') || /^[A-Za-z]:[\\/]/.test(raw)) throw unsafe(source, 'absolute-path', `entry '${raw}' has an absolute path`, { entry: raw });
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe(source, 'parent-segment', `entry '${raw}' contains '..'`, { entry: raw });
  if (parts.some((p) => p.includes('\\') || p.includes('\0'))) throw unsafe(source, 'parent-segment', `entry '${raw}' contains a backslash or NUL`, { entry: raw });
  return parts.join('/');
}

function field(header: Uint8Array, offset: number, length: number): string {
  const bytes = header.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return decoder.decode(end === -1 ? bytes : bytes.subarray(0, end));
}

function numeric(header: Uint8Array, offset: number, length: number, source: string): number {
  // Base-256 (GNU) for sizes past 8 GiB: the high bit of the first byte is set.
  if (header[offset]! & 0x80) {
    let value = header[offset]! & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + header[offset + i]!;
    return value;
  }
  const text = field(header, offset, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw invalid(source, `a header field holds '${text}', not an octal number`);
  return parseInt(text, 8);
}

function checksumOk(header: Uint8Array, source: string): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  return sum === numeric(header, 148, 8, source);
}

/** pax records: `<length> <key>=<value>\n`. */
function paxRecords(data: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  const text = decoder.decode(data);
  let at = 0;
  while (at < text.length) {
    const space = text.indexOf(' ', at);
    const length = parseInt(text.slice(at, space), 10);
    if (!(length > 0) || space === -1) break;
    const record = text.slice(space + 1, at + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

export function readTar(archive: Uint8Array, limits: TarLimits, source: string): TarEntry[] {
  const entries: TarEntry[] = [];
  let declaredBytes = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  let at = 0;
  while (at + BLOCK <= archive.length) {
    const header = archive.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    if (!checksumOk(header, source)) throw invalid(source, `the tar header at byte ${at} has a bad checksum`);
    const size = numeric(header, 124, 12, source);
    const typeflag = String.fromCharCode(header[156]!) || '0';
    const dataStart = at + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > archive.length) throw invalid(source, `the entry at byte ${at} claims ${size} bytes but the archive ends first`);
    const data = archive.subarray(dataStart, dataEnd);
    at = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'x') { pax = paxRecords(data); continue; }
    if (typeflag === 'g') continue;
    if (typeflag === 'L') { longName = field(data, 0, data.length); continue; }
    if (typeflag === 'K') { longLink = field(data, 0, data.length); continue; }

    const prefix = field(header, 345, 155);
    const name = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    const link = pax.get('linkpath') ?? longLink ?? field(header, 157, 100);
    pax = new Map();
    longName = longLink = undefined;

    if (entries.length + 1 > limits.maxEntries) throw unsafe(source, 'too-many-entries', `it holds more than ${limits.maxEntries} entries`, { limit: limits.maxEntries });
    declaredBytes += size;
    if (declaredBytes > limits.maxBytes) throw unsafe(source, 'too-many-bytes', `it unpacks to more than ${limits.maxBytes} bytes`, { limit: limits.maxBytes });
    const path = normaliseEntryPath(name, source);
    const mode = numeric(header, 100, 8, source) & 0o777;
    if (typeflag === '0' || typeflag === '\0' || typeflag === '7') entries.push({ path, type: 'file', mode, data });
    else if (typeflag === '5') entries.push({ path, type: 'directory', mode, data: new Uint8Array() });
    else if (typeflag === '2') entries.push({ path, type: 'symlink', mode, linkTarget: link, data: new Uint8Array() });
    else if (typeflag === '1') entries.push({ path, type: 'hardlink', mode, linkTarget: normaliseEntryPath(link, source), data: new Uint8Array() });
    else throw unsafe(source, 'special-file', `entry '${name}' is a ${specialName(typeflag)}, which a plugin may not ship`, { entry: name });
  }
  return entries;
}

function specialName(typeflag: string): string {
  return ({ '3': 'character device', '4': 'block device', '6': 'FIFO', S: 'sparse file' } as Record<string, string>)[typeflag] ?? `tar entry of type '${typeflag}'`;
}
