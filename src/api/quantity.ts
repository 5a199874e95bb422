// resource.Quantity from apimachinery: parsing "100m", "1Gi", "1e3" and printing the
// canonical form upstream stores and returns ("0.1" -> "100m", "1024Mi" -> "1Gi").
// Values are exact: an integer mantissa times a power of ten, rounded up to nano units.

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export const quantityRegexMessage = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalByExp = new Map(Object.entries(decimalSuffixes).map(([k, v]) => [v, k]));
const binaryByExp = new Map(Object.entries(binarySuffixes).map(([k, v]) => [v / 10, k]));

const quantityRe = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

const pow10 = (n: number): bigint => 10n ** BigInt(n);

export class Quantity {
  /** value = mantissa * 10^scale */
  private constructor(
    readonly mantissa: bigint,
    readonly scale: number,
    readonly format: QuantityFormat,
  ) {}

  static parse(input: string): Quantity {
    const q = tryParse(input);
    if (!q) throw new Error(quantityRegexMessage);
    return q;
  }

  static fromParts(mantissa: bigint, scale: number, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(mantissa, scale, format);
  }

  isZero(): boolean {
    return this.mantissa === 0n;
  }

  sign(): number {
    return this.mantissa > 0n ? 1 : this.mantissa < 0n ? -1 : 0;
  }

  /** -1, 0, 1 like Quantity.Cmp. */
  cmp(o: Quantity): number {
    const s = Math.min(this.scale, o.scale);
    const a = this.mantissa * pow10(this.scale - s);
    const b = o.mantissa * pow10(o.scale - s);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  add(o: Quantity): Quantity {
    const s = Math.min(this.scale, o.scale);
    return new Quantity(this.mantissa * pow10(this.scale - s) + o.mantissa * pow10(o.scale - s), s, this.format);
  }

  sub(o: Quantity): Quantity {
    return this.add(new Quantity(-o.mantissa, o.scale, o.format));
  }

  /** Value rounded up to an integer (Quantity.Value). */
  value(): number {
    return Number(ceilDiv(this.mantissa, this.scale));
  }

  /** Value in thousandths, rounded up (Quantity.MilliValue). */
  milliValue(): number {
    return Number(ceilDiv(this.mantissa, this.scale + 3));
  }

  /** Approximate float value, for arithmetic that tolerates rounding (scheduling scores). */
  toNumber(): number {
    return Number(this.mantissa) * 10 ** this.scale;
  }

  /** The canonical string (Quantity.String()). */
  toString(): string {
    if (this.mantissa === 0n) return '0';
    let format = this.format;
    if (format === 'BinarySI') {
      const abs = this.cmpInt(1024n);
      const isInt = this.scale >= 0 || this.mantissa % pow10(-this.scale) === 0n;
      if ((this.cmpInt(-1024n) > 0 && abs < 0) || !isInt) format = 'DecimalSI';
    }
    if (format === 'BinarySI') {
      let v = this.scale >= 0 ? this.mantissa * pow10(this.scale) : this.mantissa / pow10(-this.scale);
      let exp = 0;
      while (exp < 6 && v % 1024n === 0n && v !== 0n) {
        v /= 1024n;
        exp++;
      }
      return `${v}${binaryByExp.get(exp) ?? ''}`;
    }
    // Decimal: strip trailing zeros into the exponent, then lower it to a multiple of 3.
    let m = this.mantissa;
    let exp = this.scale;
    while (m % 10n === 0n) {
      m /= 10n;
      exp++;
    }
    const r = ((exp % 3) + 3) % 3;
    m *= pow10(r);
    exp -= r;
    if (format === 'DecimalExponent') return exp === 0 ? `${m}` : `${m}e${exp}`;
    const suffix = decimalByExp.get(exp);
    if (suffix !== undefined) return `${m}${suffix}`;
    // Beyond the SI table (e.g. 10^21): fall back to the exponent form.
    return `${m}e${exp}`;
  }

  toJSON(): string {
    return this.toString();
  }

  private cmpInt(n: bigint): number {
    return this.cmp(new Quantity(n, 0, 'DecimalSI'));
  }
}

function ceilDiv(m: bigint, scale: number): bigint {
  if (scale >= 0) return m * pow10(scale);
  const d = pow10(-scale);
  const q = m / d;
  return m % d !== 0n && m > 0n ? q + 1n : q;
}

/** Parses a quantity string; undefined when it is not one. */
export function tryParse(input: string): Quantity | undefined {
  if (typeof input !== 'string') return undefined;
  const s = input.trim();
  const match = quantityRe.exec(s);
  if (!match || s.length === 0) return undefined;
  const numStr = match[1]!;
  const suffix = match[2]!;

  let format: QuantityFormat;
  let exp10 = 0;
  let exp2 = 0;
  if (suffix in decimalSuffixes) {
    format = 'DecimalSI';
    exp10 = decimalSuffixes[suffix]!;
  } else if (suffix in binarySuffixes) {
    format = 'BinarySI';
    exp2 = binarySuffixes[suffix]!;
  } else if (/^[eE][-+]?[0-9]+$/.test(suffix)) {
    format = 'DecimalExponent';
    exp10 = parseInt(suffix.slice(1), 10);
  } else return undefined;

  // Number: sign, digits, at most one '.', at least one digit.
  const nm = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/.exec(numStr);
  if (!nm) return undefined;
  const intPart = nm[2] ?? '';
  const fracPart = nm[3] ?? '';
  if (intPart.length + fracPart.length === 0) return undefined;
  let mantissa = BigInt((intPart || '0') + fracPart);
  if (nm[1] === '-') mantissa = -mantissa;
  let scale = exp10 - fracPart.length;
  if (exp2) mantissa *= 2n ** BigInt(exp2);

  // Upstream keeps at most nano precision, rounding away from zero.
  if (scale < -9) {
    const d = pow10(-9 - scale);
    const q = mantissa / d;
    mantissa = mantissa % d === 0n ? q : q + (mantissa > 0n ? 1n : -1n);
    scale = -9;
  }
  return Quantity.fromParts(mantissa, scale, format);
}

export function parseQuantity(s: string): Quantity {
  return Quantity.parse(s);
}

/** Canonical form of a quantity given as a JSON value (string or number); undefined if invalid. */
export function canonicalQuantity(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? tryParse(String(v))?.toString() : undefined;
  if (typeof v !== 'string') return undefined;
  return tryParse(v)?.toString();
}

/** Parses a ResourceList value as it arrives in JSON (numbers are allowed there). */
export function quantityOf(v: unknown): Quantity | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? tryParse(String(v)) : undefined;
  if (typeof v === 'string') return tryParse(v);
  return undefined;
}
