// LVM2's metadata text format (the "config" syntax of vgcfgbackup files and of the metadata areas on PVs): sections
// `name { ... }`, assignments `key = value`, values that are strings, integers or lists of them, `#` comments.
import { ShadowError } from '../../../sdk/index.js';

export type ConfigValue = string | number | ConfigValue[] | ConfigSection;
export interface ConfigSection {
  [key: string]: ConfigValue;
}

const TOKEN = /\s+|#[^\n]*|"((?:[^"\\]|\\.)*)"|(-?\d+)(?![\w.-])|([A-Za-z0-9_.+\-]+)|([={}[\],])/y;

type Token = { kind: 'string' | 'number' | 'word' | 'punct'; text: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) throw new ShadowError('TABLE_CORRUPT', `Cannot read LVM metadata text at character ${at}: '${text.slice(at, at + 20)}'`);
    if (m[1] !== undefined) tokens.push({ kind: 'string', text: m[1].replace(/\\(.)/g, '$1') });
    else if (m[2] !== undefined) tokens.push({ kind: 'number', text: m[2] });
    else if (m[3] !== undefined) tokens.push({ kind: 'word', text: m[3] });
    else if (m[4] !== undefined) tokens.push({ kind: 'punct', text: m[4] });
  }
  return tokens;
}

/** Parses the whole text into its top-level section. */
export function parseLvmConfig(text: string): ConfigSection {
  const tokens = tokenize(text.replace(/\0+$/g, ''));
  let i = 0;
  const fail = (what: string): never => {
    throw new ShadowError('TABLE_CORRUPT', `Cannot read LVM metadata text: expected ${what} at token ${i} ('${tokens[i]?.text ?? 'end of text'}')`);
  };
  const value = (): ConfigValue => {
    const t = tokens[i++] ?? fail('a value');
    if (t.kind === 'string') return t.text;
    if (t.kind === 'number') return Number(t.text);
    if (t.text !== '[') return fail('a string, number or list');
    const list: ConfigValue[] = [];
    while (tokens[i]?.text !== ']') {
      list.push(value());
      if (tokens[i]?.text === ',') i++;
      else if (tokens[i]?.text !== ']') fail("',' or ']'");
    }
    i++;
    return list;
  };
  const section = (closing: boolean): ConfigSection => {
    const out: ConfigSection = {};
    while (i < tokens.length && tokens[i]!.text !== '}') {
      const key = tokens[i++]!;
      if (key.kind !== 'word') fail('a name');
      const next = tokens[i++]?.text;
      if (next === '=') out[key.text] = value();
      else if (next === '{') out[key.text] = section(true);
      else fail("'=' or '{'");
    }
    if (closing) {
      if (tokens[i]?.text !== '}') fail("'}'");
      i++;
    }
    return out;
  };
  const root = section(false);
  if (i < tokens.length) fail('the end of the text');
  return root;
}

export function isSection(value: ConfigValue | undefined): value is ConfigSection {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
