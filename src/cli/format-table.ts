/** Plain aligned columns for terminal output; the last column is never padded. */
export function formatTable (header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows]
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)))
  return all.map((r) => r.map((cell, i) => i === r.length - 1 ? cell : cell.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n') + '\n'
}
