// A strict JSON parser for request bodies. Bodies are signed, so every reader must see the same
// value in them: this parser refuses what JSON.parse silently resolves (duplicate member names,
// numbers it would round) instead of guessing, and bounds nesting so hostile input cannot exhaust
// the stack. One pass over the text, no regular expressions; recursion is bounded by
// JSON_DEPTH_MAX.
import assert from 'node:assert/strict';

/** The deepest nesting of objects and arrays accepted; a top-level `[]` or `{}` is depth 1. */
export const JSON_DEPTH_MAX = 32;

/** Longest member name or pointer quoted in an error message, so `detail` stays short. */
const MESSAGE_QUOTE_CHARS_MAX = 64;

export type NonIntegerProblem = 'fraction' | 'exponent' | 'out-of-range';

/**
 * A numeric literal that is not a plain integer within ±Number.MAX_SAFE_INTEGER: kept as its
 * source text so validation can say why it is refused (a fraction, an exponent, or out of range).
 * A literal with an exponent is an 'exponent' even when it also has a fraction part, since its
 * value may still be whole (`1.0E+3`); 'fraction' means a fraction part and no exponent.
 */
export class NonIntegerLiteral {
  readonly raw: string;
  readonly problem: NonIntegerProblem;

  constructor(raw: string, problem: NonIntegerProblem) {
    this.raw = raw;
    this.problem = problem;
  }
}

export type StrictJsonFailure = 'syntax' | 'duplicate-member' | 'too-deep';

/** The text is not one strict JSON value. The message is written for an API client. */
export class StrictJsonError extends Error {
  override name = 'StrictJsonError';
  readonly failure: StrictJsonFailure;
  /** Offset of the failure in the text, in UTF-16 code units (JavaScript string indices). */
  readonly offset: number;
  /** RFC 6901 pointer of the duplicate member, for 'duplicate-member' only. */
  readonly pointer?: string;

  constructor(failure: StrictJsonFailure, message: string, offset: number, pointer?: string) {
    super(message);
    this.failure = failure;
    this.offset = offset;
    if (pointer !== undefined) this.pointer = pointer;
  }
}

/**
 * Parses RFC 8259 JSON text.
 *
 * - Objects are plain objects whose members are own properties (`"__proto__"` included; it never
 *   becomes the prototype).
 * - A number literal matching `-?(0|[1-9][0-9]*)` within ±Number.MAX_SAFE_INTEGER becomes a
 *   number (`-0` stays -0, as with JSON.parse); any other number literal becomes a
 *   NonIntegerLiteral carrying its exact source text.
 * - Strings are unescaped as JSON.parse does, lone surrogates included.
 *
 * @throws StrictJsonError 'duplicate-member' (with the pointer of the second occurrence, names
 *   compared after unescaping), 'too-deep' (nesting beyond JSON_DEPTH_MAX) or 'syntax' (anything
 *   but exactly one JSON value surrounded by optional space, tab, LF or CR).
 */
export function parseStrictJson(text: string): unknown {
  return new Reader(text).document();
}

/** UTF-16 code units the grammar names. */
const Char = {
  Tab: 0x09,
  LineFeed: 0x0a,
  CarriageReturn: 0x0d,
  Space: 0x20,
  Quote: 0x22,
  Plus: 0x2b,
  Comma: 0x2c,
  Minus: 0x2d,
  Dot: 0x2e,
  Digit0: 0x30,
  Digit1: 0x31,
  Digit9: 0x39,
  Colon: 0x3a,
  UpperE: 0x45,
  BracketOpen: 0x5b,
  Backslash: 0x5c,
  BracketClose: 0x5d,
  LowerE: 0x65,
  LowerF: 0x66,
  LowerN: 0x6e,
  LowerT: 0x74,
  LowerU: 0x75,
  BraceOpen: 0x7b,
  BraceClose: 0x7d,
} as const;

/** The single-character escapes of RFC 8259 section 7, by the character after the backslash. */
const SIMPLE_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '"'],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);

class Reader {
  private offset = 0;
  /** Member names and array indices from the root to the value being read, for pointers. */
  private readonly path: (string | number)[] = [];

  constructor(private readonly text: string) {}

  document(): unknown {
    this.skipWhitespace();
    const value = this.value(0);
    this.skipWhitespace();
    if (this.offset < this.text.length) throw this.unexpected(this.offset, 'end of text');
    assert.equal(this.path.length, 0, 'every container pushed onto the path popped it');
    return value;
  }

  /** Reads one value inside containers nested `depth` deep (0 at the top level). */
  private value(depth: number): unknown {
    assert.ok(depth <= JSON_DEPTH_MAX, 'containers refuse nesting before recursing past the bound');
    const code = this.text.charCodeAt(this.offset);
    switch (code) {
      case Char.BraceOpen:
        return this.object(depth + 1);
      case Char.BracketOpen:
        return this.array(depth + 1);
      case Char.Quote:
        return this.string();
      case Char.LowerT:
        return this.literal('true', true);
      case Char.LowerF:
        return this.literal('false', false);
      case Char.LowerN:
        return this.literal('null', null);
      default:
        if (code === Char.Minus || isDigit(code)) return this.number();
        throw this.unexpected(this.offset, 'a JSON value');
    }
  }

  private object(depth: number): Record<string, unknown> {
    const open = this.enterContainer(depth);
    const members = new Map<string, unknown>();
    this.skipWhitespace();
    if (this.text.charCodeAt(this.offset) === Char.BraceClose) {
      this.offset += 1;
      return {};
    }
    // Bounded by the text: every member consumes at least its name's two quotes.
    while (this.offset < this.text.length) {
      const nameOffset = this.offset;
      if (this.text.charCodeAt(this.offset) !== Char.Quote) throw this.unexpected(this.offset, 'a member name');
      const name = this.string();
      if (members.has(name)) throw this.duplicate(name, nameOffset);
      this.skipWhitespace();
      this.expect(Char.Colon, "':'");
      this.skipWhitespace();
      this.path.push(name);
      members.set(name, this.value(depth));
      this.path.pop();
      this.skipWhitespace();
      const next = this.text.charCodeAt(this.offset);
      if (next === Char.BraceClose) {
        this.offset += 1;
        // Object.fromEntries defines own data properties, so "__proto__" cannot set the prototype.
        return Object.fromEntries(members);
      }
      this.expect(Char.Comma, "',' or '}'");
      this.skipWhitespace();
    }
    throw this.unexpected(this.offset, `a member name (object opened at offset ${open})`);
  }

  private array(depth: number): unknown[] {
    const open = this.enterContainer(depth);
    const items: unknown[] = [];
    this.skipWhitespace();
    if (this.text.charCodeAt(this.offset) === Char.BracketClose) {
      this.offset += 1;
      return items;
    }
    // Bounded by the text: every item consumes at least one character.
    while (this.offset < this.text.length) {
      this.path.push(items.length);
      items.push(this.value(depth));
      this.path.pop();
      this.skipWhitespace();
      const next = this.text.charCodeAt(this.offset);
      if (next === Char.BracketClose) {
        this.offset += 1;
        return items;
      }
      this.expect(Char.Comma, "',' or ']'");
      this.skipWhitespace();
    }
    throw this.unexpected(this.offset, `a JSON value (array opened at offset ${open})`);
  }

  /** Refuses a container nested deeper than the bound, then steps over its opening bracket. */
  private enterContainer(depth: number): number {
    const open = this.offset;
    if (depth > JSON_DEPTH_MAX) {
      throw new StrictJsonError('too-deep', `nesting deeper than ${JSON_DEPTH_MAX} levels at offset ${open}`, open);
    }
    this.offset += 1;
    return open;
  }

  /** Reads a string starting at its opening quote; unescaped runs are copied as slices. */
  private string(): string {
    const open = this.offset;
    this.offset += 1;
    const chunks: string[] = [];
    let runStart = this.offset;
    while (this.offset < this.text.length) {
      const code = this.text.charCodeAt(this.offset);
      if (code === Char.Quote) {
        chunks.push(this.text.slice(runStart, this.offset));
        this.offset += 1;
        return chunks.join('');
      }
      if (code === Char.Backslash) {
        chunks.push(this.text.slice(runStart, this.offset));
        chunks.push(this.escape());
        runStart = this.offset;
      } else if (code < Char.Space) {
        throw syntax(`control character ${describeCodeUnit(code)} must be escaped in a string at offset ${this.offset}`, this.offset);
      } else {
        this.offset += 1;
      }
    }
    throw syntax(`unterminated string starting at offset ${open}`, this.text.length);
  }

  /** Reads one escape sequence starting at its backslash and returns the text it stands for. */
  private escape(): string {
    const start = this.offset;
    const letter = this.text[start + 1];
    if (letter === undefined) throw syntax(`unterminated string: escape at offset ${start} has no character after '\\'`, start + 1);
    const simple = SIMPLE_ESCAPES.get(letter);
    if (simple !== undefined) {
      this.offset = start + 2;
      return simple;
    }
    if (letter.charCodeAt(0) !== Char.LowerU) {
      throw syntax(`invalid escape ${describeCharacter(`\\${letter}`)} at offset ${start}`, start);
    }
    let unit = 0;
    for (let index = start + 2; index < start + 6; index += 1) {
      const digit = hexValue(this.text.charCodeAt(index));
      if (digit < 0) throw syntax(`invalid \\u escape at offset ${start}: expected four hexadecimal digits`, start);
      unit = unit * 16 + digit;
    }
    this.offset = start + 6;
    // Pairs of escaped surrogates join into one code point when the chunks are joined; a lone
    // surrogate stays a lone UTF-16 code unit, as JSON.parse keeps it.
    return String.fromCharCode(unit);
  }

  private number(): number | NonIntegerLiteral {
    const start = this.offset;
    if (this.text.charCodeAt(this.offset) === Char.Minus) this.offset += 1;
    const first = this.text.charCodeAt(this.offset);
    if (first === Char.Digit0) {
      this.offset += 1;
      if (isDigit(this.text.charCodeAt(this.offset))) throw syntax(`number with a leading zero at offset ${start}`, start);
    } else if (first >= Char.Digit1 && first <= Char.Digit9) {
      this.skipDigits();
    } else {
      throw this.unexpected(this.offset, 'a digit');
    }
    let fraction = false;
    if (this.text.charCodeAt(this.offset) === Char.Dot) {
      this.offset += 1;
      this.requireDigits();
      fraction = true;
    }
    let exponent = false;
    const e = this.text.charCodeAt(this.offset);
    if (e === Char.LowerE || e === Char.UpperE) {
      this.offset += 1;
      const sign = this.text.charCodeAt(this.offset);
      if (sign === Char.Plus || sign === Char.Minus) this.offset += 1;
      this.requireDigits();
      exponent = true;
    }
    const raw = this.text.slice(start, this.offset);
    if (exponent) return new NonIntegerLiteral(raw, 'exponent');
    if (fraction) return new NonIntegerLiteral(raw, 'fraction');
    // Exact: integers up to 2^53 - 1 convert without rounding, and any larger literal rounds to
    // at least 2^53, which is not a safe integer.
    const value = Number(raw);
    return Number.isSafeInteger(value) ? value : new NonIntegerLiteral(raw, 'out-of-range');
  }

  private requireDigits(): void {
    if (!isDigit(this.text.charCodeAt(this.offset))) throw this.unexpected(this.offset, 'a digit');
    this.skipDigits();
  }

  private skipDigits(): void {
    while (isDigit(this.text.charCodeAt(this.offset))) this.offset += 1;
  }

  private literal<T>(word: 'true' | 'false' | 'null', value: T): T {
    for (let index = 0; index < word.length; index += 1) {
      if (this.text[this.offset + index] !== word[index]) throw this.unexpected(this.offset + index, `'${word}'`);
    }
    this.offset += word.length;
    return value;
  }

  private skipWhitespace(): void {
    while (this.offset < this.text.length) {
      const code = this.text.charCodeAt(this.offset);
      if (code !== Char.Space && code !== Char.Tab && code !== Char.LineFeed && code !== Char.CarriageReturn) return;
      this.offset += 1;
    }
  }

  private expect(code: number, expected: string): void {
    if (this.text.charCodeAt(this.offset) !== code) throw this.unexpected(this.offset, expected);
    this.offset += 1;
  }

  private unexpected(offset: number, expected: string): StrictJsonError {
    const codePoint = this.text.codePointAt(offset);
    const found = codePoint === undefined ? 'unexpected end of text' : `unexpected character ${describeCharacter(String.fromCodePoint(codePoint))}`;
    return syntax(`${found} at offset ${offset}; expected ${expected}`, offset);
  }

  private duplicate(name: string, offset: number): StrictJsonError {
    const pointer = [...this.path, name].map((segment) => `/${escapePointerSegment(String(segment))}`).join('');
    const message = `duplicate member name ${JSON.stringify(abbreviate(name))} at ${abbreviate(pointer)}`;
    return new StrictJsonError('duplicate-member', message, offset, pointer);
  }
}

function syntax(message: string, offset: number): StrictJsonError {
  return new StrictJsonError('syntax', message, offset);
}

function isDigit(code: number): boolean {
  return code >= Char.Digit0 && code <= Char.Digit9;
}

/** The value of one hexadecimal digit, or -1 (NaN from reading past the end included). */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  return -1;
}

/** Quotes printable ASCII as `'x'`; names anything else by code point, e.g. `U+00A0`. */
function describeCharacter(text: string): string {
  if ([...text].every((char) => char >= '!' && char <= '~')) return `'${text}'`;
  return [...text].map((char) => describeCodeUnit(char.codePointAt(0) ?? 0)).join(' ');
}

function describeCodeUnit(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** RFC 6901 section 3: '~' is written '~0' and '/' is written '~1'. */
function escapePointerSegment(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

function abbreviate(text: string): string {
  return text.length <= MESSAGE_QUOTE_CHARS_MAX ? text : `${text.slice(0, MESSAGE_QUOTE_CHARS_MAX)}…`;
}
