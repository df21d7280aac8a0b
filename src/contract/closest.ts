/** "Did you mean": the closest of some names to a mistyped one, by edit distance. Pure. */

/** The closest of `candidates` to `word` (edit distance at most a third of its length), for "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * The field an unknown field name was probably meant to be: `password` → `passwordRef` (a secret
 * is given by reference), else the closest name.
 */
export function closestField(key: string, fields: readonly string[]): string | undefined {
  if (fields.includes(`${key}Ref`)) return `${key}Ref`;
  const direct = closest(key, fields);
  if (direct !== undefined) return direct;
  // `passwrd` → `passwordRef`: a secret field's name without its `Ref`.
  const refs = fields.filter((f) => f.endsWith('Ref'));
  const bare = closest(
    key,
    refs.map((f) => f.slice(0, -3)),
  );
  return bare === undefined ? undefined : `${bare}Ref`;
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment): insertions, deletions,
 * substitutions and swaps of two neighbours (`form` → `from`) cost 1 each.
 */
export function editDistance(a: string, b: string): number {
  let before = Array.from({ length: b.length + 1 }, () => 0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}
