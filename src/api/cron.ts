// Cron schedules as CronJobs use them: robfig/cron v3's ParseStandard (five fields
// or a descriptor such as @hourly / @every 1h30m), its error messages (users see them
// in validation errors), and next-run computation in an IANA time zone via Intl.
// Shared by CronJob validation and the CronJob controller.

export class CronParseError extends Error {}

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const minuteB: Bounds = { min: 0, max: 59 };
const hourB: Bounds = { min: 0, max: 23 };
const domB: Bounds = { min: 1, max: 31 };
const monthB: Bounds = {
  min: 1,
  max: 12,
  names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
};
const dowB: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

/** One parsed field: the allowed values, and whether it was written as "*" or "?" (robfig's starBit). */
interface Field {
  values: Set<number>;
  star: boolean;
}

export interface CronSchedule {
  /** Set for "@every <duration>": a fixed interval instead of calendar fields. */
  everyMs?: number;
  minute: Field;
  hour: Field;
  dom: Field;
  month: Field;
  dow: Field;
}

function mustParseInt(expr: string): number {
  if (!/^[+-]?\d+$/.test(expr)) throw new CronParseError(`failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: invalid syntax`);
  const num = parseInt(expr, 10);
  if (num < 0) throw new CronParseError(`negative number (${num}) not allowed: ${expr}`);
  return num;
}

function parseIntOrName(expr: string, names?: Record<string, number>): number {
  const v = names?.[expr.toLowerCase()];
  return v !== undefined ? v : mustParseInt(expr);
}

/** getRange: "*", "5", "1-5", "*\/15", "10-50/5", "mon-fri". */
function getRange(expr: string, b: Bounds, into: Field): void {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0]!.split('-');
  const singleDigit = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min;
    end = b.max;
    star = true;
  } else {
    start = parseIntOrName(lowAndHigh[0]!, b.names);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1]!, b.names);
    else throw new CronParseError(`too many hyphens: ${expr}`);
  }
  let step: number;
  if (rangeAndStep.length === 1) step = 1;
  else if (rangeAndStep.length === 2) {
    step = mustParseInt(rangeAndStep[1]!);
    // "N/step" means "N-max/step".
    if (singleDigit && !star) end = b.max;
    if (step > 1) star = false;
  } else throw new CronParseError(`too many slashes: ${expr}`);

  if (start < b.min) throw new CronParseError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronParseError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronParseError(`step of range should be a positive number: ${expr}`);
  for (let i = start; i <= end; i += step) into.values.add(i);
  if (star) into.star = true;
}

function getField(field: string, b: Bounds): Field {
  const f: Field = { values: new Set(), star: false };
  for (const expr of field.split(',')) getRange(expr, b, f);
  return f;
}

const all = (b: Bounds): Field => {
  const f: Field = { values: new Set(), star: true };
  for (let i = b.min; i <= b.max; i++) f.values.add(i);
  return f;
};
const only = (...v: number[]): Field => ({ values: new Set(v), star: false });

/** time.ParseDuration for the units cron users write: "1h30m", "90s", "500ms". */
function parseGoDuration(s: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  if (!s) throw new Error(`time: invalid duration ${JSON.stringify(s)}`);
  let total = 0;
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) throw new Error(`time: invalid duration ${JSON.stringify(s)}`);
    total += parseFloat(m[1]!) * units[m[2]!]!;
    i = re.lastIndex;
  }
  return total;
}

function parseDescriptor(d: string): CronSchedule {
  const std = (minute: Field, hour: Field, dom: Field, month: Field, dow: Field): CronSchedule => ({ minute, hour, dom, month, dow });
  switch (d) {
    case '@yearly':
    case '@annually':
      return std(only(0), only(0), only(1), only(1), all(dowB));
    case '@monthly':
      return std(only(0), only(0), only(1), all(monthB), all(dowB));
    case '@weekly':
      return std(only(0), only(0), all(domB), all(monthB), only(0));
    case '@daily':
    case '@midnight':
      return std(only(0), only(0), all(domB), all(monthB), all(dowB));
    case '@hourly':
      return std(only(0), all(hourB), all(domB), all(monthB), all(dowB));
  }
  if (d.startsWith('@every ')) {
    const text = d.slice('@every '.length);
    let ms: number;
    try {
      ms = parseGoDuration(text);
    } catch (e) {
      throw new CronParseError(`failed to parse duration ${d}: ${(e as Error).message}`);
    }
    // robfig: intervals under a second are rounded up to one second.
    ms = Math.max(1000, Math.floor(ms / 1000) * 1000);
    return { everyMs: ms, minute: all(minuteB), hour: all(hourB), dom: all(domB), month: all(monthB), dow: all(dowB) };
  }
  throw new CronParseError(`unrecognized descriptor: ${d}`);
}

/** cron.ParseStandard. Throws CronParseError with robfig's message. */
export function parseCron(spec: string): CronSchedule {
  if (spec.length === 0) throw new CronParseError('empty spec string');
  let s = spec;
  // CRON_TZ=/TZ= prefixes are parsed by robfig (CronJob validation rejects them separately).
  if (s.startsWith('TZ=') || s.startsWith('CRON_TZ=')) {
    const i = s.indexOf(' ');
    const tz = s.slice(s.indexOf('=') + 1, i < 0 ? undefined : i);
    if (!isValidTimeZone(tz)) throw new CronParseError(`provided bad location ${tz}: unknown time zone ${tz}`);
    s = i < 0 ? '' : s.slice(i).trim();
  }
  if (s.startsWith('@')) return parseDescriptor(s);
  const fields = s.trim().split(/\s+/).filter((f) => f.length > 0);
  if (fields.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  return {
    minute: getField(fields[0]!, minuteB),
    hour: getField(fields[1]!, hourB),
    dom: getField(fields[2]!, domB),
    month: getField(fields[3]!, monthB),
    dow: getField(fields[4]!, dowB),
  };
}

/** The error message robfig would give, or undefined when the schedule parses. */
export function cronError(spec: string): string | undefined {
  try {
    parseCron(spec);
    return undefined;
  } catch (e) {
    if (e instanceof CronParseError) return e.message;
    throw e;
  }
}

// ---- time zones ----------------------------------------------------------

const fmtCache = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = fmtCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    fmtCache.set(tz, f);
  }
  return f;
}

/** time.LoadLocation succeeds (Intl knows the zone). "Local" is not a zone a CronJob may use. */
export function isValidTimeZone(tz: string): boolean {
  if (!tz) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time in `tz` at `ms`, as milliseconds of a naive (UTC) calendar. */
function wallAt(ms: number, tz: string): number {
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = parseInt(part.value, 10);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour! % 24, p.minute!, p.second!);
}

/** Inverse of wallAt: an instant whose wall time in tz is `wall` (callers check, since DST gaps have none). */
function instantOf(wall: number, tz: string): number {
  let guess = wall - (wallAt(wall, tz) - wall);
  for (let i = 0; i < 3; i++) {
    const off = wallAt(guess, tz) - guess;
    const next = wall - off;
    if (next === guess) break;
    guess = next;
  }
  return guess;
}

// ---- next run ------------------------------------------------------------

function dayMatches(s: CronSchedule, d: Date): boolean {
  const domMatch = s.dom.values.has(d.getUTCDate());
  const dowMatch = s.dow.values.has(d.getUTCDay());
  // robfig: when either field is "*", both must match; otherwise either may.
  if (s.dom.star || s.dow.star) return domMatch && dowMatch;
  return domMatch || dowMatch;
}

/**
 * The first activation strictly after `after`, in `timeZone` (default UTC), or null
 * when none exists within five years (robfig gives up the same way, e.g. "0 0 30 2 *").
 */
export function nextRun(schedule: CronSchedule | string, after: Date, timeZone = 'UTC'): Date | null {
  const s = typeof schedule === 'string' ? parseCron(schedule) : schedule;
  const afterMs = after.getTime();
  if (s.everyMs !== undefined) {
    // ConstantDelaySchedule: round down to the second, then add the interval.
    return new Date(Math.floor(afterMs / 1000) * 1000 + s.everyMs);
  }
  const tz = timeZone || 'UTC';
  const startWall = wallAt(afterMs, tz);
  let w = Math.floor(startWall / 60000) * 60000 + 60000;
  const yearLimit = new Date(startWall).getUTCFullYear() + 5;
  for (;;) {
    const d = new Date(w);
    const y = d.getUTCFullYear();
    const mo = d.getUTCMonth();
    if (y > yearLimit) return null;
    if (!s.month.values.has(mo + 1)) {
      w = Date.UTC(y, mo + 1, 1);
      continue;
    }
    if (!dayMatches(s, d)) {
      w = Date.UTC(y, mo, d.getUTCDate() + 1);
      continue;
    }
    if (!s.hour.values.has(d.getUTCHours())) {
      w = Date.UTC(y, mo, d.getUTCDate(), d.getUTCHours() + 1);
      continue;
    }
    if (!s.minute.values.has(d.getUTCMinutes())) {
      w += 60000;
      continue;
    }
    const at = instantOf(w, tz);
    // A wall time inside a spring-forward gap does not exist that day: robfig skips it.
    if (wallAt(at, tz) === w && at > afterMs) return new Date(at);
    w += 60000;
  }
}

/** Every activation in (from, to], oldest first, stopping after `limit` (the controller's "too many missed"). */
export function runsBetween(schedule: CronSchedule | string, from: Date, to: Date, timeZone = 'UTC', limit = 100): Date[] {
  const s = typeof schedule === 'string' ? parseCron(schedule) : schedule;
  const out: Date[] = [];
  let t = nextRun(s, from, timeZone);
  while (t && t.getTime() <= to.getTime() && out.length < limit) {
    out.push(t);
    t = nextRun(s, t, timeZone);
  }
  return out;
}
