// DynamoDB's published sizing rules, as pure functions: the size of an item (attribute names plus
// values, by type), and the capacity units a request consumes for it. The capacity model applies
// these to every item the pipeline reads and writes; it never trusts an emulator's
// ConsumedCapacity (DynamoDB Local's does not model transactions, indexes or failed writes).
// Sources: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
// and .../read-write-operations.html (read and write capacity consumption).
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export type Item = Record<string, AttributeValue>;

/** A write unit covers 1 KB of item; a read unit 4 KB. */
export const WRITE_UNIT_BYTES = 1024;
export const READ_UNIT_BYTES = 4096;

export type ReadConsistency = 'eventual' | 'strong' | 'transactional';

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * A number's stored size: about one byte per two significant digits, plus one. Leading and
 * trailing zeros are not significant; sign, decimal point and exponent are not digits.
 */
export function numberBytes(text: string): number {
  const mantissa = text.trim().replace(/^[+-]/, '').split(/[eE]/)[0] ?? '';
  const digits = mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(digits.length / 2) + 1;
}

/** The size of a value without its attribute name. */
export function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8Bytes(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, element) => sum + utf8Bytes(element), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, element) => sum + numberBytes(element), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, element) => sum + element.byteLength, 0);
  // A List or Map: 3 bytes whatever it holds, and 1 more per element (a Map element also has its name).
  if (value.L !== undefined) return 3 + value.L.reduce((sum, element) => sum + 1 + valueBytes(element), 0);
  if (value.M !== undefined) return 3 + Object.entries(value.M).reduce((sum, [name, element]) => sum + 1 + utf8Bytes(name) + valueBytes(element), 0);
  throw new Error(`attribute value of unknown type: ${JSON.stringify(Object.keys(value))}`);
}

/** An item's size: for each attribute, the UTF-8 length of its name plus the size of its value. */
export function itemBytes(item: Readonly<Item>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8Bytes(name) + valueBytes(value), 0);
}

/**
 * Write units for writing one item of `bytes` (the larger of its old and new image): 1 per KB,
 * rounded up, at least 1 (a write that finds no item, or fails its condition, still costs 1);
 * a transactional write costs twice (prepare and commit).
 */
export function writeUnits(bytes: number, transactional: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));
  return transactional ? 2 * units : units;
}

/**
 * Read units for reading `bytes` (one item, or the sum a Query read): 1 per 4 KB, rounded up, at
 * least 1 (reading a missing item costs the minimum); eventually consistent halves it,
 * transactional doubles it.
 */
export function readUnits(bytes: number, consistency: ReadConsistency): number {
  const units = Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
  switch (consistency) {
    case 'eventual':
      return units / 2;
    case 'strong':
      return units;
    case 'transactional':
      return 2 * units;
  }
}
