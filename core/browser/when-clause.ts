// `when` / `enablement` clauses: keys, 'strings', true/false, !, ==, !=, &&, || and parentheses, like VS Code's.
export type WhenContext = Record<string, string | number | boolean | null | undefined>;

type Token = { kind: 'op'; value: string } | { kind: 'word'; value: string } | { kind: 'string'; value: string };

function tokenize(clause: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(&&|\|\||==|!=|!|\(|\))|'([^']*)'|([A-Za-z0-9_.:-]+))/gy;
  let m: RegExpExecArray | null;
  // A failed sticky match resets lastIndex, so the position read so far is kept apart.
  let at = 0;
  while (at < clause.length && (m = pattern.exec(clause))) {
    at = pattern.lastIndex;
    if (m[1]) tokens.push({ kind: 'op', value: m[1] });
    else if (m[2] !== undefined) tokens.push({ kind: 'string', value: m[2] });
    else if (m[3]) tokens.push({ kind: 'word', value: m[3] });
  }
  if (clause.slice(at).trim() !== '') throw new Error(`Cannot read the clause '${clause}' at '${clause.slice(at).trim()}'`);
  return tokens;
}

/** True when the clause holds in the context; an empty clause always holds. */
export function evaluateWhen(clause: string | undefined, context: WhenContext): boolean {
  if (!clause || clause.trim() === '') return true;
  const tokens = tokenize(clause);
  let i = 0;
  const peek = () => tokens[i];
  const value = (t: Token): unknown => (t.kind === 'string' ? t.value : t.value === 'true' ? true : t.value === 'false' ? false : /^\d+$/.test(t.value) ? Number(t.value) : context[t.value]);
  const primary = (): unknown => {
    const t = tokens[i++];
    if (!t) throw new Error(`The clause '${clause}' ends too early`);
    if (t.kind === 'op' && t.value === '!') return !primary();
    if (t.kind === 'op' && t.value === '(') {
      const inner = or();
      if (tokens[i++]?.value !== ')') throw new Error(`Missing ')' in '${clause}'`);
      return inner;
    }
    if (t.kind === 'op') throw new Error(`Unexpected '${t.value}' in '${clause}'`);
    const left = value(t);
    const op = peek();
    if (op?.kind === 'op' && (op.value === '==' || op.value === '!=')) {
      i++;
      const right = tokens[i++];
      if (!right || right.kind === 'op') throw new Error(`Missing a value after '${op.value}' in '${clause}'`);
      const r = right.kind === 'word' && !(right.value in context) ? right.value : value(right);
      return op.value === '==' ? String(left) === String(r) : String(left) !== String(r);
    }
    return left;
  };
  // `a && b && c` and `a || b`: a left-to-right chain of one operator over the next tighter level.
  const chain = (op: string, next: () => unknown, combine: (a: boolean, b: boolean) => boolean) => (): unknown => {
    let left = next();
    while (peek()?.value === op) {
      i++;
      const right = next();
      left = combine(Boolean(left), Boolean(right));
    }
    return left;
  };
  const and = chain('&&', primary, (a, b) => a && b);
  const or = chain('||', and, (a, b) => a || b);
  const result = or();
  if (i !== tokens.length) throw new Error(`Unexpected '${tokens[i]!.value}' in '${clause}'`);
  return Boolean(result);
}
