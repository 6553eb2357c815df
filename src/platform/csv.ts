/**
 * One CSV cell: quoted when it holds a comma, quote or line break, and prefixed with ' when it starts
 * like a formula (= + - @ tab return), so spreadsheets show exported text rather than running it.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
