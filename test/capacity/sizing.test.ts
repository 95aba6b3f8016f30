// DynamoDB's sizing rules as the capacity model applies them, against sizes worked out by hand
// from the published rules: attribute names count, numbers take a byte per two significant digits
// plus one, lists and maps 3 bytes plus 1 per element; writes round up per KB and double inside a
// transaction, reads round up per 4 KB and halve when eventually consistent.
import { describe, expect, it } from 'vitest';
import { itemBytes, numberBytes, readUnits, valueBytes, writeUnits, type Item } from '../../lib/capacity/sizing.js';

describe('numberBytes', () => {
  it.each([
    ['0', 1], // no significant digit: just the 1 byte
    ['7', 2],
    ['12345', 4], // 5 digits: 3 bytes + 1
    ['100', 2], // trailing zeros are not significant: 1E2
    ['1001', 3], // inner zeros are
    ['-1200', 2], // the sign is not a digit: 12
    ['0.0050', 2], // leading and trailing zeros trimmed: 5
    ['123456789012', 7],
    ['1.5e3', 2], // the exponent is not a digit: 15
  ])('%s takes %i bytes', (text, bytes) => {
    expect(numberBytes(text)).toBe(bytes);
  });
});

describe('itemBytes', () => {
  it('adds each attribute name to its value, by type', () => {
    const item: Item = {
      pk: { S: 'ACCOUNT#a1' }, // 2 + 10 = 12
      balance: { N: '12345' }, // 7 + 4 = 11
      ok: { BOOL: true }, // 2 + 1 = 3
      tags: { SS: ['ab', 'c'] }, // 4 + 3 = 7
      m: { M: { x: { S: 'yz' } } }, // 1 + 3 + (1 + 1 + 2) = 8
      l: { L: [{ N: '7' }, { NULL: true }] }, // 1 + 3 + (1 + 2) + (1 + 1) = 9
    };
    expect(itemBytes(item)).toBe(50);
  });

  it('counts UTF-8 bytes, not characters, and raw bytes of binaries', () => {
    expect(itemBytes({ é: { S: '€' } })).toBe(2 + 3);
    expect(itemBytes({ b: { B: new Uint8Array(10) } })).toBe(1 + 10);
    expect(valueBytes({ NS: ['1', '22', '333'] })).toBe(2 + 2 + 3);
  });

  it('sizes empty containers at their 3-byte overhead', () => {
    expect(itemBytes({ list: { L: [] }, map: { M: {} } })).toBe(4 + 3 + 3 + 3);
  });

  it('sizes a ledger account item as DynamoDB would bill it', () => {
    const account: Item = {
      pk: { S: 'ACCOUNT#acc-bank-01-7' }, // 2 + 21
      entity: { S: 'ACCOUNT' }, // 6 + 7
      balanceMinor: { N: '99995000' }, // 12 + (5 significant digits: 3) + 1
      headroomMinor: { N: '99995000' }, // 13 + 4
      status: { S: 'ACTIVE' }, // 6 + 6
    };
    expect(itemBytes(account)).toBe(23 + 13 + 16 + 17 + 12);
  });
});

describe('writeUnits', () => {
  it('rounds each item up to whole kilobytes, at least one unit', () => {
    expect(writeUnits(0, false)).toBe(1);
    expect(writeUnits(1, false)).toBe(1);
    expect(writeUnits(1_024, false)).toBe(1);
    expect(writeUnits(1_025, false)).toBe(2);
    expect(writeUnits(3 * 1_024 + 1, false)).toBe(4);
  });

  it('doubles inside a transaction (prepare and commit)', () => {
    expect(writeUnits(300, true)).toBe(2);
    expect(writeUnits(1_025, true)).toBe(4);
  });
});

describe('readUnits', () => {
  it('rounds up to 4 KB; strongly consistent is 1 a unit, eventually consistent half, transactional double', () => {
    expect(readUnits(0, 'strong')).toBe(1); // a missing item still costs the minimum
    expect(readUnits(4_096, 'strong')).toBe(1);
    expect(readUnits(4_097, 'strong')).toBe(2);
    expect(readUnits(100, 'eventual')).toBe(0.5);
    expect(readUnits(4_097, 'eventual')).toBe(1);
    expect(readUnits(4_097, 'transactional')).toBe(4);
  });
});
