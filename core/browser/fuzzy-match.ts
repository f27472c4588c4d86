// Fuzzy matching for the palette: every query character in order; contiguous runs and word starts score higher.
export interface FuzzyMatch {
  score: number;
  /** Indices of the matched characters, for highlighting. */
  positions: number[];
}

export function fuzzyMatch(query: string, text: string): FuzzyMatch | undefined {
  const q = query.toLowerCase().replace(/\s+/g, '');
  if (q === '') return { score: 0, positions: [] };
  const t = text.toLowerCase();
  const positions: number[] = [];
  let score = 0;
  let from = 0;
  for (const ch of q) {
    const at = t.indexOf(ch, from);
    if (at === -1) return undefined;
    const wordStart = at === 0 || /[\s.:/-]/.test(t[at - 1]!);
    const adjacent = positions.length > 0 && positions[positions.length - 1] === at - 1;
    score += 1 + (adjacent ? 4 : 0) + (wordStart ? 3 : 0) - Math.min(3, (at - from) * 0.1);
    positions.push(at);
    from = at + 1;
  }
  return { score, positions };
}
