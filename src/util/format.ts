/**
 * Number formatting for every report, table and message. Anything that is not a finite number prints as "-".
 * Percentages have one meaning: the argument is a fraction (0.25 -> "25%").
 */

type Num = number | null | undefined;
const finite = (v: Num): v is number => typeof v === 'number' && Number.isFinite(v);

/** Fixed decimals: fmt(3.14159, 2) -> "3.14". */
export function fmt(v: Num, digits = 1): string {
  return finite(v) ? v.toFixed(digits) : '-';
}

/** Mean ± sd of a summary: "12.3 ± 0.4"; "12.3 ± n/a" from one value (no spread can be estimated, not zero). */
export function pm(s: { mean: number; sd: number; n?: number } | undefined, digits = 1): string {
  if (!s) return '-';
  return `${fmt(s.mean, digits)} ± ${s.n !== undefined && s.n < 2 ? 'n/a' : fmt(s.sd, digits)}`;
}

/** Decimals by magnitude, for values of any scale side by side: 1234.5 -> "1234.5", 2.5 -> "2.50", 0.01234 -> "0.0123". */
export function num(v: Num): string {
  if (!finite(v)) return '-';
  const a = Math.abs(v);
  return v.toFixed(a >= 100 ? 1 : a >= 1 ? 2 : 4);
}

/** A fraction as a percentage: pct(0.256) -> "26%", pct(0.256, 1) -> "25.6%". */
export function pct(fraction: Num, digits = 0): string {
  return finite(fraction) ? `${(fraction * 100).toFixed(digits)}%` : '-';
}

/** A relative change (a fraction) with its sign: signedPct(-0.2) -> "-20.0%"; infinite changes print as "+inf%". */
export function signedPct(fraction: Num, digits = 1): string {
  if (fraction === null || fraction === undefined || Number.isNaN(fraction)) return '-';
  if (!Number.isFinite(fraction)) return fraction > 0 ? '+inf%' : '-inf%';
  return `${fraction > 0 ? '+' : ''}${(fraction * 100).toFixed(digits)}%`;
}

/** A speed-up or size ratio: ratio(2.345) -> "2.35x", ratio(12.34) -> "12.3x". */
export function ratio(v: Num): string {
  return finite(v) ? `${v >= 10 ? v.toFixed(1) : v.toFixed(2)}x` : '-';
}

/** Bytes in binary units: 1536 -> "1.5 KiB". */
export function byteSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** The width to fit on a terminal: COLUMNS, else the stream's own width, at most 120 (120 when neither is known). */
export function terminalWidth(env: NodeJS.ProcessEnv = process.env, columns: number | undefined = process.stderr.columns): number {
  const c = Number(env.COLUMNS) || columns || 120;
  return Math.max(40, Math.min(120, c));
}

/** Visible length of a string (ANSI colour codes do not count). */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/**
 * A line of prose wrapped at word boundaries to `width` characters, continuation lines indented by `indent`
 * (a word longer than the width is cut). Plain text only: colour the result, not the input.
 */
export function wrapLine(text: string, width: number, indent = '    '): string[] {
  if (!Number.isFinite(width) || text.length <= width) return [text];
  const lead = /^\s*/.exec(text)![0];
  const words = text.slice(lead.length).split(/ +/);
  const out: string[] = [];
  let cur = lead;
  const room = (prefix: string) => width - prefix.length;
  for (let w of words) {
    const prefix = out.length ? indent : lead;
    while (w.length > room(indent)) {
      if (cur.trim()) {
        out.push(cur);
        cur = indent;
      }
      out.push(`${indent}${w.slice(0, room(indent))}`);
      w = w.slice(room(indent));
    }
    if (cur.length > prefix.length && cur.length + 1 + w.length > width) {
      out.push(cur);
      cur = indent + w;
    } else cur = cur.length > (out.length ? indent : lead).length ? `${cur} ${w}` : `${cur}${w}`;
  }
  if (cur.trim()) out.push(cur);
  return out;
}
