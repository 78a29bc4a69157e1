// A small line diff (longest common subsequence) for `margay audit changes`: `-` before, `+` after.
export function lineDiff(before: string, after: string): string[] {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] = a[i] === b[j] ? ((lcs[i + 1] as number[])[j + 1] as number) + 1 : Math.max((lcs[i + 1] as number[])[j] as number, row[j + 1] as number);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push(`  ${a[i] ?? ''}`);
      i++;
      j++;
    } else if (j < m && (i >= n || ((lcs[i] as number[])[j + 1] as number) > ((lcs[i + 1] as number[])[j] as number))) {
      out.push(`+ ${b[j] ?? ''}`);
      j++;
    } else {
      out.push(`- ${a[i] ?? ''}`);
      i++;
    }
  }
  return out;
}
