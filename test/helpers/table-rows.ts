/** Rows of the PREFIX / TARGET / SOURCE / STATUS / HEALTH table that `check` and `routes` print, cells split on 2+ spaces. */
export function tableRows (text: string): string[][] {
  const lines = text.split('\n')
  const start = lines.findIndex((l) => /^PREFIX\s+TARGET\s+SOURCE\s+STATUS\s+HEALTH$/.test(l))
  if (start === -1) return []
  const rows: string[][] = []
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break
    rows.push(line.split(/\s{2,}/))
  }
  return rows
}
