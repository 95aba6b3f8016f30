// Proves the strict request-body parser reads what JSON.parse reads where JSON.parse is unambiguous,
// and refuses, with a StrictJsonError saying where, what JSON.parse would silently resolve.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JSON_DEPTH_MAX, NonIntegerLiteral, parseStrictJson, StrictJsonError } from '../../lambdas/api/strict-json.js';

/** Parses text the test expects to be refused and returns the error. */
function refusal(text: string): StrictJsonError {
  try {
    parseStrictJson(text);
  } catch (error) {
    if (error instanceof StrictJsonError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

/** Replaces each NonIntegerLiteral by the number JSON.parse would read from its text. */
function asJsonParseWouldRead(value: unknown): unknown {
  if (value instanceof NonIntegerLiteral) return Number(value.raw);
  if (Array.isArray(value)) return value.map(asJsonParseWouldRead);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([name, member]) => [name, asJsonParseWouldRead(member)]));
  }
  return value;
}

/** Replaces every number that is not a safe integer by its truncation within the safe range. */
function withSafeIntegersOnly(value: fc.JsonValue): fc.JsonValue {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : Math.trunc(value % Number.MAX_SAFE_INTEGER);
  if (Array.isArray(value)) return value.map(withSafeIntegersOnly);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([name, member]) => [name, withSafeIntegersOnly(member ?? null)]));
  }
  return value;
}

function nested(depth: number, open: string, close: string, inner = '0'): string {
  return `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
}

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

describe('parseStrictJson', () => {
  describe('duplicate member names', () => {
    it('refuses a duplicate at the top level with its pointer', () => {
      const text = '{"amount":1250,"amount":1}';

      const error = refusal(text);

      expect(error.failure).toBe('duplicate-member');
      expect(error.pointer).toBe('/amount');
      expect(error.offset).toBe(15);
      expect(error.message).toBe('duplicate member name "amount" at /amount');
    });

    it('refuses a duplicate in a nested object with the full pointer', () => {
      const error = refusal('{"x":{"y":1,"z":2,"y":3}}');

      expect(error.failure).toBe('duplicate-member');
      expect(error.pointer).toBe('/x/y');
    });

    it('refuses a duplicate inside an array of objects, pointing at the array index', () => {
      const error = refusal('{"items":[{"a":1},{"a":2,"b":3,"a":4}]}');

      expect(error.failure).toBe('duplicate-member');
      expect(error.pointer).toBe('/items/1/a');
    });

    it('compares names after unescaping', () => {
      const error = refusal('{"a":1,"\\u0061":2}');

      expect(error.failure).toBe('duplicate-member');
      expect(error.pointer).toBe('/a');
    });

    it('compares names joined from escaped surrogate pairs with the raw character', () => {
      const error = refusal('{"\u{1F600}":1,"\\ud83d\\ude00":2}');

      expect(error.failure).toBe('duplicate-member');
      expect(error.pointer).toBe('/\u{1F600}');
    });

    it("escapes '~' and '/' in the pointer as RFC 6901 says", () => {
      const error = refusal('{"a/b":{"m~n":1,"m~n":2}}');

      expect(error.pointer).toBe('/a~1b/m~0n');
    });

    it('abbreviates a long duplicate name in the message but not in the pointer', () => {
      const name = 'n'.repeat(1000);

      const error = refusal(`{"${name}":1,"${name}":2}`);

      expect(error.pointer).toBe(`/${name}`);
      expect(error.message.length).toBeLessThan(200);
    });

    it('accepts the same name in sibling objects', () => {
      const parsed = parseStrictJson('[{"a":1},{"a":2}]');

      expect(parsed).toEqual([{ a: 1 }, { a: 2 }]);
    });
  });

  describe('"__proto__" members', () => {
    it('keeps "__proto__" as an own property and leaves the prototype alone', () => {
      const text = '{"__proto__":{"polluted":true},"amount":5}';

      const parsed = parseStrictJson(text) as Record<string, unknown>;

      expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
      expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
      expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toEqual({ polluted: true });
      expect(parsed['polluted']).toBeUndefined();
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(Object.keys(parsed)).toEqual(Object.keys(JSON.parse(text) as object));
    });

    it('refuses a duplicate "__proto__" member', () => {
      const error = refusal('{"__proto__":{},"__proto__":{}}');

      expect(error.failure).toBe('duplicate-member');
      expect(error.pointer).toBe('/__proto__');
    });
  });

  describe('numbers', () => {
    it.each([
      ['1250.00000000000001', 'fraction'],
      ['12.5', 'fraction'],
      ['-0.0', 'fraction'],
      ['1e2', 'exponent'],
      ['1.0E+3', 'exponent'],
      ['0.1e1', 'exponent'],
      ['5E-0', 'exponent'],
      ['9007199254740992', 'out-of-range'],
      ['-9007199254740992', 'out-of-range'],
      ['123456789012345678901234567890', 'out-of-range'],
    ] as const)('keeps %s as a NonIntegerLiteral with problem %s', (raw, problem) => {
      const parsed = parseStrictJson(`{"amount":${raw}}`) as { amount: unknown };

      expect(parsed.amount).toBeInstanceOf(NonIntegerLiteral);
      expect(parsed.amount).toEqual(new NonIntegerLiteral(raw, problem));
    });

    it.each([
      ['0', 0],
      ['-5', -5],
      ['9007199254740991', Number.MAX_SAFE_INTEGER],
      ['-9007199254740991', -Number.MAX_SAFE_INTEGER],
      ['-0', -0],
    ])('reads %s as the number %d', (raw, expected) => {
      const parsed = parseStrictJson(raw);

      expect(parsed).toBe(expected);
    });

    it('reads a safe integer as a number and anything else as its exact source text', () => {
      fc.assert(
        fc.property(fc.oneof(fc.maxSafeInteger(), fc.bigInt().map(String), fc.double({ noNaN: true, noDefaultInfinity: true })), (generated) => {
          const text = typeof generated === 'number' ? JSON.stringify(generated) : generated;

          const parsed = parseStrictJson(text);

          if (/^-?(0|[1-9][0-9]*)$/.test(text) && Number.isSafeInteger(Number(text))) {
            expect(parsed).toBe(Number(text));
          } else {
            expect(parsed).toBeInstanceOf(NonIntegerLiteral);
            expect((parsed as NonIntegerLiteral).raw).toBe(text);
          }
        }),
      );
    });
  });

  describe('strings', () => {
    it('decodes every escape as JSON.parse does', () => {
      const text = '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00 plain"';

      const parsed = parseStrictJson(text);

      expect(parsed).toBe(JSON.parse(text));
      expect(parsed).toBe('"\\/\b\f\n\r\t\u00e9\u20ac\u{1F600} plain');
    });

    it('keeps lone surrogates, escaped or raw, as JSON.parse does', () => {
      const text = '["\\ud800","\\udc00x","\ud800"]';

      const parsed = parseStrictJson(text);

      expect(parsed).toEqual(JSON.parse(text));
      expect(parsed).toEqual(['\ud800', '\udc00x', '\ud800']);
    });
  });

  describe('syntax', () => {
    it.each([
      ['a trailing comma in an array', '[1,2,]'],
      ['a trailing comma in an object', '{"a":1,}'],
      ['a leading zero', '012'],
      ['a negative leading zero', '-012'],
      ['NaN', 'NaN'],
      ['-Infinity', '-Infinity'],
      ['single quotes', "{'a':1}"],
      ['an unquoted name', '{a:1}'],
      ['trailing garbage', '{"amount":1}x'],
      ['two values', '{} {}'],
      ['empty text', ''],
      ['only whitespace', ' \t\r\n'],
      ['an unterminated string', '"abc'],
      ['an unterminated escape', '"abc\\'],
      ['a raw line feed in a string', '"a\nb"'],
      ['a raw tab in a string', '"a\tb"'],
      ['a raw NUL in a string', '"a\u0000b"'],
      ['an unknown escape', '"\\x41"'],
      ['a non-hex \\u escape', '"\\u12G4"'],
      ['a short \\u escape', '"\\u12"'],
      ['an uppercase \\U escape', '"\\U0041"'],
      ['a fraction without leading digits', '.5'],
      ['a fraction without digits', '1.'],
      ['an exponent without digits', '1e'],
      ['an exponent sign without digits', '1e+'],
      ['a plus sign', '+1'],
      ['a lone minus', '-'],
      ['hexadecimal', '0x10'],
      ['digit separators', '1_000'],
      ['a missing colon', '{"a" 1}'],
      ['a missing comma', '[1 2]'],
      ['an unclosed array', '[1,2'],
      ['an unclosed object', '{"a":1'],
      ['a truncated literal', 'tru'],
      ['a misspelt literal', 'nul1'],
      ['a capitalised literal', 'True'],
      ['a byte order mark', '\ufeff{}'],
      ['a no-break space as whitespace', '\u00a0{}'],
      ['a form feed as whitespace', '\f{}'],
      ['a comment', '{} // done'],
    ])('refuses %s', (_case, text) => {
      const error = refusal(text);

      expect(error.failure).toBe('syntax');
      expect(error.message).toMatch(/at offset \d+/);
      expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
    });

    it('names the unexpected character and its offset', () => {
      const error = refusal('{"amount":1}x');

      expect(error.offset).toBe(12);
      expect(error.message).toBe("unexpected character 'x' at offset 12; expected end of text");
    });

    it('says when the text ends early', () => {
      const error = refusal('');

      expect(error.message).toBe('unexpected end of text at offset 0; expected a JSON value');
    });

    it('names invisible characters by code point', () => {
      const error = refusal('"a\nb"');

      expect(error.offset).toBe(2);
      expect(error.message).toBe('control character U+000A must be escaped in a string at offset 2');
    });

    it('accepts space, tab, line feed and carriage return around the value', () => {
      const parsed = parseStrictJson(' \t\r\n{ "a" : [ 1 , true , false , null ] }\n ');

      expect(parsed).toEqual({ a: [1, true, false, null] });
    });
  });

  describe('depth', () => {
    it(`accepts arrays and objects nested ${JSON_DEPTH_MAX} deep`, () => {
      const arrays = nested(JSON_DEPTH_MAX, '[', ']');
      const objects = nested(JSON_DEPTH_MAX, '{"a":', '}');

      expect(parseStrictJson(arrays)).toEqual(JSON.parse(arrays));
      expect(parseStrictJson(objects)).toEqual(JSON.parse(objects));
    });

    it.each([
      ['arrays', nested(JSON_DEPTH_MAX + 1, '[', ']')],
      ['objects', nested(JSON_DEPTH_MAX + 1, '{"a":', '}')],
      ['mixed containers', nested((JSON_DEPTH_MAX + 1) / 3, '[{"a":[', ']}]', '{}')],
      ['an unclosed deep prefix', '['.repeat(200_000)],
    ])(`refuses %s nested ${JSON_DEPTH_MAX + 1} or more deep`, (_case, text) => {
      const error = refusal(text);

      expect(error.failure).toBe('too-deep');
      expect(error.message).toMatch(/^nesting deeper than 32 levels at offset \d+$/);
    });
  });

  describe('properties', () => {
    it('reads the same value as JSON.parse from any stringified JSON value with safe integers only', () => {
      fc.assert(
        fc.property(fc.jsonValue({ stringUnit: codeUnit }).map(withSafeIntegersOnly), (value) => {
          const text = JSON.stringify(value, null, 1);

          expect(parseStrictJson(text)).toEqual(JSON.parse(text));
        }),
      );
    });

    it('reads the same value as JSON.parse from any stringified JSON value once literals are read as numbers', () => {
      fc.assert(
        fc.property(fc.jsonValue({ stringUnit: codeUnit }), (value) => {
          const text = JSON.stringify(value);

          expect(asJsonParseWouldRead(parseStrictJson(text))).toEqual(JSON.parse(text));
        }),
      );
    });

    it('either returns or throws a StrictJsonError for any text, and accepts only what JSON.parse accepts', () => {
      const jsonish = fc
        .array(fc.constantFrom('{', '}', '[', ']', ':', ',', '"', '\\', 'u', 'd8', '00', '0', '1', '-', '.', 'e', '+', 'true', 'null', '"a"', ' ', '\n', '\u0001', 'x'), { maxLength: 40 })
        .map((tokens) => tokens.join(''));
      const mutatedJson = fc
        .tuple(fc.json(), fc.nat(), fc.nat({ max: 3 }), fc.string({ unit: codeUnit, maxLength: 3 }))
        .map(([text, at, removed, inserted]) => {
          const cut = at % (text.length + 1);
          return text.slice(0, cut) + inserted + text.slice(cut + removed);
        });

      fc.assert(
        fc.property(fc.oneof(fc.string({ unit: codeUnit }), jsonish, mutatedJson), (text) => {
          let standard: { ok: true; value: unknown } | { ok: false };
          try {
            standard = { ok: true, value: JSON.parse(text) as unknown };
          } catch {
            standard = { ok: false };
          }

          let strict: { ok: true; value: unknown } | { ok: false; error: unknown };
          try {
            strict = { ok: true, value: parseStrictJson(text) };
          } catch (error) {
            strict = { ok: false, error };
          }

          if (strict.ok) {
            expect(standard.ok).toBe(true);
            if (standard.ok) expect(asJsonParseWouldRead(strict.value)).toEqual(standard.value);
          } else {
            expect(strict.error).toBeInstanceOf(StrictJsonError);
            if (standard.ok) expect((strict.error as StrictJsonError).failure).not.toBe('syntax');
          }
        }),
        { numRuns: 2000 },
      );
    });
  });
});
