// The expression language of the in-memory DynamoDB engine (./dynamodb.ts): attribute values as
// DynamoDB treats them (exact decimal numbers, its orderings and equality, validation, deep
// copies, item sizes) and a parser and evaluator for condition, filter, key-condition, update and
// projection expressions. A text is parsed once and cached; names and values are bound per request,
// as DynamoDB binds ExpressionAttributeNames/Values. Every refusal is the ValidationException
// DynamoDB answers, in the shape the SDK delivers it (a DynamoDBServiceException of that name).
import assert from 'node:assert/strict';
import { DynamoDBServiceException, type AttributeValue } from '@aws-sdk/client-dynamodb';

export type Item = Record<string, AttributeValue>;

/**
 * DynamoDB's ValidationException as the SDK delivers it: the SDK has no class for it, so it
 * answers its service base class with this name (checked against DynamoDB Local).
 */
export function validationError(message: string): DynamoDBServiceException {
  return new DynamoDBServiceException({ name: 'ValidationException', $fault: 'client', message, $metadata: {} });
}

// ---------------------------------------------------------------------------------------------
// Numbers: exact decimals (amounts are minor units; a float would lose cents past 2^53).

/** DynamoDB numbers: at most 38 significant digits, magnitudes from 1E-130 to below 1E+126. */
const NUMBER_DIGITS_MAX = 38;
const NUMBER_POWER_MAX = 126;
const NUMBER_POWER_MIN = -130;
const NUMBER_PATTERN = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** coefficient × 10^exponent; the coefficient has no trailing zeros (zero is 0 × 10^0). */
export interface Decimal {
  readonly coefficient: bigint;
  readonly exponent: number;
}

const ZERO: Decimal = { coefficient: 0n, exponent: 0 };

/** Parses and range-checks a number as DynamoDB accepts it ("1e3", "-0.50", ".5"). */
export function parseNumber(text: string): Decimal {
  const match = NUMBER_PATTERN.exec(text);
  const [, sign = '', whole = '', fraction = '', power = '0'] = match ?? [];
  if (match === null || whole + fraction === '') throw validationError('A value provided cannot be converted into a number');
  // Normalized on the digit string, so a thousand trailing zeros cost no big-number division.
  const significant = (whole + fraction).replace(/^0+/, '');
  const digits = significant.replace(/0+$/, '');
  if (digits === '') return ZERO;
  const exponent = Number(power) - fraction.length + (significant.length - digits.length);
  if (digits.length > NUMBER_DIGITS_MAX) throw validationError('Attempting to store more than 38 significant digits in a Number');
  return checkedDecimal({ coefficient: BigInt(`${sign}${digits}`), exponent });
}

function checkedDecimal(decimal: Decimal): Decimal {
  if (decimal.coefficient === 0n) return ZERO;
  const digits = (decimal.coefficient < 0n ? -decimal.coefficient : decimal.coefficient).toString().length;
  if (digits > NUMBER_DIGITS_MAX) throw validationError('Attempting to store more than 38 significant digits in a Number');
  if (digits + decimal.exponent > NUMBER_POWER_MAX) {
    throw validationError('Number overflow. Attempting to store a number with magnitude larger than supported range');
  }
  if (digits - 1 + decimal.exponent < NUMBER_POWER_MIN) {
    throw validationError('Number underflow. Attempting to store a number with magnitude smaller than supported range');
  }
  return decimal;
}

/** The plain notation DynamoDB answers with: no exponent, no trailing zeros, no "-0". */
export function formatNumber(decimal: Decimal): string {
  const negative = decimal.coefficient < 0n;
  const digits = (negative ? -decimal.coefficient : decimal.coefficient).toString();
  let plain: string;
  if (decimal.exponent >= 0) plain = digits + '0'.repeat(decimal.exponent);
  else {
    const point = digits.length + decimal.exponent;
    plain = point > 0 ? `${digits.slice(0, point)}.${digits.slice(point)}` : `0.${'0'.repeat(-point)}${digits}`;
  }
  return negative ? `-${plain}` : plain;
}

/** Both coefficients scaled to the smaller exponent (bounded: exponents lie within about ±170). */
function aligned(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const exponent = Math.min(a.exponent, b.exponent);
  return [a.coefficient * 10n ** BigInt(a.exponent - exponent), b.coefficient * 10n ** BigInt(b.exponent - exponent), exponent];
}

export function compareDecimals(a: Decimal, b: Decimal): number {
  const [x, y] = aligned(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** a + sign × b, exact, range-checked as DynamoDB checks an update's result. */
function addDecimals(a: Decimal, b: Decimal, sign: 1n | -1n): Decimal {
  const [x, y, exponent] = aligned(a, b);
  let coefficient = x + sign * y;
  let power = exponent;
  if (coefficient === 0n) return ZERO;
  while (coefficient % 10n === 0n) {
    coefficient /= 10n;
    power += 1;
  }
  return checkedDecimal({ coefficient, exponent: power });
}

// ---------------------------------------------------------------------------------------------
// Attribute values.

export type ValueType = 'S' | 'N' | 'B' | 'SS' | 'NS' | 'BS' | 'M' | 'L' | 'NULL' | 'BOOL';
const VALUE_TYPES: readonly ValueType[] = ['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL'];
/** The names DynamoDB uses for types in its update-operand messages. */
const LONG_TYPE_NAMES: Readonly<Record<ValueType, string>> = {
  S: 'STRING',
  N: 'NUMBER',
  B: 'BINARY',
  SS: 'STRING_SET',
  NS: 'NUMBER_SET',
  BS: 'BINARY_SET',
  M: 'MAP',
  L: 'LIST',
  NULL: 'NULL',
  BOOL: 'BOOLEAN',
};

function presentTypes(value: AttributeValue): ValueType[] {
  // The SDK's union has one member per type; reading the others as absent fields is what it models.
  const fields = value as Partial<Record<ValueType, unknown>>;
  return VALUE_TYPES.filter((type) => fields[type] !== undefined);
}

export function typeOf(value: AttributeValue): ValueType {
  const [type] = presentTypes(value);
  if (type === undefined) throw validationError('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
  return type;
}

/** Strings order by code point, as DynamoDB orders UTF-8 bytes; JavaScript's < orders UTF-16 units. */
export function compareStrings(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Surrogates (D800-DFFF) start code points above U+FFFF: they rank after E000-FFFF. */
const codePointRank = (unit: number): number => (unit < 0xd800 ? unit : unit >= 0xe000 ? unit - 0x800 : unit + 0x2000);

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

const compareNumberTexts = (a: string, b: string): number => compareDecimals(parseNumber(a), parseNumber(b));

/** The order of key and comparison operands: only S, N and B are ordered, and only within a type. */
export function compareOrdered(a: AttributeValue, b: AttributeValue): number | undefined {
  if (a.S !== undefined && b.S !== undefined) return compareStrings(a.S, b.S);
  if (a.N !== undefined && b.N !== undefined) return compareNumberTexts(a.N, b.N);
  if (a.B !== undefined && b.B !== undefined) return compareBytes(a.B, b.B);
  return undefined;
}

function sameElements<T>(a: readonly T[], b: readonly T[], compare: (x: T, y: T) => number): boolean {
  // Sets are held sorted and duplicate-free (canonicalValue), so equal sets match element by element.
  return a.length === b.length && a.every((element, i) => compare(element, b[i] as T) === 0);
}

export function valuesEqual(a: AttributeValue, b: AttributeValue): boolean {
  const type = typeOf(a);
  if (type !== typeOf(b)) return false;
  if (a.S !== undefined || a.N !== undefined || a.B !== undefined) return compareOrdered(a, b) === 0;
  if (a.SS !== undefined && b.SS !== undefined) return sameElements(a.SS, b.SS, compareStrings);
  if (a.NS !== undefined && b.NS !== undefined) return sameElements(a.NS, b.NS, compareNumberTexts);
  if (a.BS !== undefined && b.BS !== undefined) return sameElements(a.BS, b.BS, compareBytes);
  if (a.L !== undefined && b.L !== undefined) return sameElements(a.L, b.L, (x, y) => (valuesEqual(x, y) ? 0 : 1));
  if (a.M !== undefined && b.M !== undefined) {
    const bm = b.M;
    const names = Object.keys(a.M);
    return names.length === Object.keys(bm).length && names.every((name) => bm[name] !== undefined && valuesEqual(a.M?.[name] as AttributeValue, bm[name]));
  }
  return a.BOOL !== undefined ? a.BOOL === b.BOOL : true; // NULL equals NULL
}

/** A deep copy: stored items never share structure with what callers hold. */
export function copyValue(value: AttributeValue): AttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: new Uint8Array(value.B) };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  if (value.BS !== undefined) return { BS: value.BS.map((bytes) => new Uint8Array(bytes)) };
  if (value.M !== undefined) return { M: copyItem(value.M) };
  if (value.L !== undefined) return { L: value.L.map(copyValue) };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  return { NULL: true };
}

export function copyItem(item: Readonly<Item>): Item {
  const copy: Item = {};
  for (const [name, value] of Object.entries(item)) copy[name] = copyValue(value);
  return copy;
}

function canonicalSet<T>(elements: readonly T[], compare: (a: T, b: T) => number, kind: string, show: (element: T) => string): T[] {
  if (elements.length === 0) throw validationError(`One or more parameter values were invalid: An ${kind} set  may not be empty`);
  const sorted = [...elements].sort(compare);
  for (let i = 1; i < sorted.length; i++) {
    if (compare(sorted[i - 1] as T, sorted[i] as T) === 0) {
      throw validationError(`One or more parameter values were invalid: Input collection [${elements.map(show).join(', ')}] contains duplicates`);
    }
  }
  return sorted;
}

/**
 * The value as DynamoDB stores it, as a fresh copy: validated (exactly one type, NULL true,
 * numbers in range, sets non-empty and duplicate-free), numbers in plain notation, sets sorted.
 */
export function canonicalValue(value: AttributeValue): AttributeValue {
  const types = presentTypes(value);
  if (types.length !== 1) {
    throw validationError(
      types.length === 0
        ? 'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes'
        : 'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    );
  }
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: formatNumber(parseNumber(value.N)) };
  if (value.B !== undefined) return { B: new Uint8Array(value.B) };
  if (value.SS !== undefined) return { SS: canonicalSet(value.SS, compareStrings, 'string', (s) => s) };
  if (value.NS !== undefined) return { NS: canonicalSet(value.NS.map((n) => formatNumber(parseNumber(n))), compareNumberTexts, 'number', (n) => n) };
  if (value.BS !== undefined) return { BS: canonicalSet(value.BS.map((b) => new Uint8Array(b)), compareBytes, 'binary', (b) => Buffer.from(b).toString('base64')) };
  if (value.M !== undefined) return { M: canonicalItem(value.M) };
  if (value.L !== undefined) return { L: value.L.map(canonicalValue) };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== true) throw validationError('One or more parameter values were invalid: Null attribute value types must have the value of true');
  return { NULL: true };
}

export function canonicalItem(item: Readonly<Item>): Item {
  const canonical: Item = {};
  for (const [name, value] of Object.entries(item)) canonical[name] = canonicalValue(value);
  return canonical;
}

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

function numberBytes(text: string): number {
  const { coefficient } = parseNumber(text);
  const digits = (coefficient < 0n ? -coefficient : coefficient).toString().length;
  return Math.ceil(digits / 2) + 1;
}

/** DynamoDB's documented size rules: names and values, numbers ~1 byte per two digits, +3 per M or L. */
function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8Bytes(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8Bytes(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberBytes(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.length, 0);
  if (value.M !== undefined) return 3 + Object.entries(value.M).reduce((sum, [name, inner]) => sum + utf8Bytes(name) + valueBytes(inner) + 1, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, inner) => sum + valueBytes(inner) + 1, 0);
  return 1;
}

export function itemBytes(item: Readonly<Item>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8Bytes(name) + valueBytes(value), 0);
}

/** How DynamoDB shows an operand in its messages: `AttributeValue: {N:5}`. */
function showValue(value: AttributeValue): string {
  const type = typeOf(value);
  const shown = value.S ?? value.N ?? (value.BOOL !== undefined ? String(value.BOOL) : JSON.stringify(copyValue(value)[type]));
  return `AttributeValue: {${type}:${shown}}`;
}

// ---------------------------------------------------------------------------------------------
// Syntax.

export type ConditionKind = 'ConditionExpression' | 'FilterExpression' | 'KeyConditionExpression';
export type ExpressionKind = ConditionKind | 'UpdateExpression' | 'ProjectionExpression';

/** DynamoDB refuses longer expression texts. */
const EXPRESSION_CHARS_MAX = 4_096;

/** A path segment: an attribute name (literal, or a `#placeholder`), or a list index. */
export type PathSegment = { readonly name: string } | { readonly index: number };
export interface PathNode {
  readonly kind: 'path';
  readonly segments: readonly PathSegment[];
}
interface ValueNode {
  readonly kind: 'value';
  readonly ref: string;
}
interface SizeNode {
  readonly kind: 'size';
  readonly path: PathNode;
}
type Operand = PathNode | ValueNode | SizeNode;
type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';
type ConditionFunction = 'attribute_exists' | 'attribute_not_exists' | 'attribute_type' | 'begins_with' | 'contains';

export type ConditionNode =
  | { readonly kind: 'and' | 'or'; readonly left: ConditionNode; readonly right: ConditionNode }
  | { readonly kind: 'not'; readonly operand: ConditionNode }
  | { readonly kind: 'compare'; readonly comparator: Comparator; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'between'; readonly subject: Operand; readonly low: Operand; readonly high: Operand }
  | { readonly kind: 'in'; readonly subject: Operand; readonly candidates: readonly Operand[] }
  | { readonly kind: 'function'; readonly name: ConditionFunction; readonly args: readonly Operand[] };

type UpdateValue =
  | PathNode
  | ValueNode
  | { readonly kind: 'if_not_exists'; readonly path: PathNode; readonly fallback: UpdateValue }
  | { readonly kind: 'list_append'; readonly first: UpdateValue; readonly second: UpdateValue }
  | { readonly kind: 'plus' | 'minus'; readonly left: UpdateValue; readonly right: UpdateValue };

/** The placeholders an expression uses: every one must be bound, and every binding used. */
export interface References {
  readonly nameRefs: ReadonlySet<string>;
  readonly valueRefs: ReadonlySet<string>;
}
export interface ParsedCondition extends References {
  readonly root: ConditionNode;
}
export interface ParsedUpdate extends References {
  readonly set: readonly { readonly path: PathNode; readonly value: UpdateValue }[];
  readonly remove: readonly PathNode[];
  readonly add: readonly { readonly path: PathNode; readonly value: ValueNode }[];
  readonly delete: readonly { readonly path: PathNode; readonly value: ValueNode }[];
}
export interface ParsedProjection extends References {
  readonly paths: readonly PathNode[];
}

interface Token {
  readonly kind: 'name' | 'nameRef' | 'valueRef' | 'number' | 'punct' | 'eof';
  readonly text: string;
  readonly position: number;
}

const TOKEN_PATTERN = /(\s+)|(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|(\d+)|(<>|<=|>=|[()[\],.=<>+-])/y;
/** The token kind of each capturing group after the first (whitespace). */
const TOKEN_KINDS = ['nameRef', 'valueRef', 'name', 'number', 'punct'] as const;

function tokenize(kind: ExpressionKind, text: string): Token[] {
  if (text.length > EXPRESSION_CHARS_MAX) throw validationError(`Invalid ${kind}: Expression size has exceeded the maximum allowed size`);
  const tokens: Token[] = [];
  for (let position = 0; position < text.length; ) {
    TOKEN_PATTERN.lastIndex = position;
    const match = TOKEN_PATTERN.exec(text);
    if (match === null) throw validationError(`Invalid ${kind}: Syntax error; token: "${text.charAt(position)}", near: "${text.slice(Math.max(0, position - 8), position + 8)}"`);
    const group = match.findIndex((part, i) => i > 1 && part !== undefined);
    if (group > 1) tokens.push({ kind: TOKEN_KINDS[group - 2] ?? 'punct', text: match[0], position });
    position += match[0].length;
  }
  tokens.push({ kind: 'eof', text: '<EOF>', position: text.length });
  return tokens;
}

/** Lower-case reserved words of DynamoDB (from DynamoDB Local's parser): bare attribute names must avoid them. */
const RESERVED_WORDS: ReadonlySet<string> = new Set(
  (
    'abort absolute action add after agent aggregate all allocate alter analyze and any archive are array as asc ' +
    'ascii asensitive assertion asymmetric at atomic attach attribute auth authorization authorize auto avg back ' +
    'backup base batch before begin between bigint binary bit blob block boolean both breadth bucket bulk by byte ' +
    'call called calling capacity cascade cascaded case cast catalog char character check class clob close cluster ' +
    'clustered clustering clusters coalesce collate collation collection column columns combine comment commit ' +
    'compact compile compress condition conflict connect connection consistency consistent constraint constraints ' +
    'constructor consumed continue copy corresponding count counter create cross cube current cursor cycle data ' +
    'database date datetime day deallocate dec decimal declare default deferrable deferred define defined ' +
    'definition delete delimited depth deref desc describe descriptor detach deterministic diagnostics directories ' +
    'disable disconnect distinct distribute do domain double drop dump duration dynamic each element else elseif ' +
    'empty enable end equal equals error escape escaped eval evaluate exceeded except exception exceptions ' +
    'exclusive exec execute exists exit explain explode export expression extended external extract fail false ' +
    'family fetch fields file filter filtering final finish first fixed flattern float for force foreign format ' +
    'forward found free from full function functions general generate get glob global go goto grant greater group ' +
    'grouping handler hash have having heap hidden hold hour identified identity if ignore immediate import in ' +
    'including inclusive increment incremental index indexed indexes indicator infinite initially inline inner ' +
    'innter inout input insensitive insert instead int integer intersect interval into invalidate is isolation item ' +
    'items iterate join key keys lag language large last lateral lead leading leave left length less level like ' +
    'limit limited lines list load local localtime localtimestamp location locator lock locks log loged long loop ' +
    'lower map match materialized max maxlen member merge method metrics min minus minute missing mod mode modifies ' +
    'modify module month multi multiset name names national natural nchar nclob new next no none not null nullif ' +
    'number numeric object of offline offset old on online only opaque open operator option or order ordinality ' +
    'other others out outer output over overlaps override owner pad parallel parameter parameters partial partition ' +
    'partitioned partitions path percent percentile permission permissions pipe pipelined plan pool position ' +
    'precision prepare preserve primary prior private privileges procedure processed project projection property ' +
    'provisioning public put query quit quorum raise random range rank raw read reads real rebuild record recursive ' +
    'reduce ref reference references referencing regexp region reindex relative release remainder remove rename ' +
    'repeat replace request reset resignal resource response restore restrict result return returning returns ' +
    'reverse revoke right role roles rollback rollup routine row rows rule rules sample satisfies save savepoint ' +
    'scan schema scope scroll search second section segment segments select self semi sensitive separate sequence ' +
    'serializable session set sets shard share shared short show signal similar skewed smallint snapshot some ' +
    'source space spaces sparse specific specifictype split sql sqlcode sqlerror sqlexception sqlstate sqlwarning ' +
    'start state static status storage store stored stream string struct style sub submultiset subpartition ' +
    'substring subtype sum super symmetric synonym system table tablesample temp temporary terminated text than ' +
    'then throughput time timestamp timezone tinyint to token total touch trailing transaction transform translate ' +
    'translation treat trigger trim true truncate ttl tuple type under undo union unique unit unknown unlogged ' +
    'unnest unprocessed unsigned until update upper url usage use user users using uuid vacuum value valued values ' +
    'varchar variable variance varint varying view views virtual void wait when whenever where while window with ' +
    'within without work wrapped write year zone'
  )
    .split(' '),
);

const COMPARATORS: ReadonlySet<string> = new Set(['=', '<>', '<', '<=', '>', '>=']);
const isComparator = (text: string): text is Comparator => COMPARATORS.has(text);
const CONDITION_FUNCTIONS: ReadonlySet<string> = new Set(['attribute_exists', 'attribute_not_exists', 'attribute_type', 'begins_with', 'contains']);
const isConditionFunction = (text: string): text is ConditionFunction => CONDITION_FUNCTIONS.has(text);
const UPDATE_CLAUSES = ['SET', 'REMOVE', 'ADD', 'DELETE'] as const;
type UpdateClause = (typeof UPDATE_CLAUSES)[number];
const isUpdateClause = (text: string): text is UpdateClause => (UPDATE_CLAUSES as readonly string[]).includes(text);
/** A list index DynamoDB accepts in a document path. */
const LIST_INDEX_MAX = 2 ** 31 - 1;

/** Recursive descent over the token list; precedence (loosest first): OR, AND, NOT, predicates. */
class Parser {
  readonly nameRefs = new Set<string>();
  readonly valueRefs = new Set<string>();
  readonly #kind: ExpressionKind;
  readonly #text: string;
  readonly #tokens: readonly Token[];
  #position = 0;

  constructor(kind: ExpressionKind, text: string) {
    this.#kind = kind;
    this.#text = text;
    this.#tokens = tokenize(kind, text);
  }

  peek(offset = 0): Token {
    const token = this.#tokens[Math.min(this.#position + offset, this.#tokens.length - 1)];
    assert(token !== undefined, 'the token list ends with eof');
    return token;
  }

  next(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.#position += 1;
    return token;
  }

  atPunct(text: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'punct' && token.text === text;
  }

  atKeyword(word: string): boolean {
    const token = this.peek();
    return token.kind === 'name' && token.text.toUpperCase() === word;
  }

  expectPunct(text: string): void {
    if (!this.atPunct(text)) throw this.syntaxError();
    this.next();
  }

  syntaxError(token: Token = this.peek()): DynamoDBServiceException {
    const near = this.#text.slice(Math.max(0, token.position - 8), token.position + token.text.length);
    return validationError(`Invalid ${this.#kind}: Syntax error; token: "${token.text}", near: "${near}"`);
  }

  error(detail: string): DynamoDBServiceException {
    return validationError(`Invalid ${this.#kind}: ${detail}`);
  }

  end(): void {
    if (this.peek().kind !== 'eof') throw this.syntaxError();
  }

  path(): PathNode {
    const segments: PathSegment[] = [{ name: this.#pathName() }];
    for (;;) {
      if (this.atPunct('.')) {
        this.next();
        segments.push({ name: this.#pathName() });
      } else if (this.atPunct('[')) {
        this.next();
        const index = this.next();
        if (index.kind !== 'number' || Number(index.text) > LIST_INDEX_MAX) throw this.syntaxError(index);
        segments.push({ index: Number(index.text) });
        this.expectPunct(']');
      } else {
        return { kind: 'path', segments };
      }
    }
  }

  #pathName(): string {
    const token = this.next();
    if (token.kind === 'nameRef') {
      this.nameRefs.add(token.text);
      return token.text;
    }
    if (token.kind !== 'name') throw this.syntaxError(token);
    if (RESERVED_WORDS.has(token.text.toLowerCase())) throw this.error(`Attribute name is a reserved keyword; reserved keyword: ${token.text}`);
    return token.text;
  }

  value(): ValueNode {
    const token = this.next();
    if (token.kind !== 'valueRef') throw this.syntaxError(token);
    this.valueRefs.add(token.text);
    return { kind: 'value', ref: token.text };
  }

  operand(): Operand {
    const token = this.peek();
    if (token.kind === 'valueRef') return this.value();
    if (token.kind === 'name' && token.text === 'size' && this.atPunct('(', 1)) {
      this.next();
      this.next();
      const path = this.path();
      this.expectPunct(')');
      return { kind: 'size', path };
    }
    return this.path();
  }

  condition(): ConditionNode {
    let left = this.#conjunction();
    while (this.atKeyword('OR')) {
      this.next();
      left = { kind: 'or', left, right: this.#conjunction() };
    }
    return left;
  }

  #conjunction(): ConditionNode {
    let left = this.#negation();
    while (this.atKeyword('AND')) {
      this.next();
      left = { kind: 'and', left, right: this.#negation() };
    }
    return left;
  }

  #negation(): ConditionNode {
    if (!this.atKeyword('NOT')) return this.#predicate();
    this.next();
    return { kind: 'not', operand: this.#negation() };
  }

  #predicate(): ConditionNode {
    if (this.atPunct('(')) {
      this.next();
      const inner = this.condition();
      this.expectPunct(')');
      return inner;
    }
    const token = this.peek();
    if (token.kind === 'name' && token.text !== 'size' && this.atPunct('(', 1)) return this.#function();
    const subject = this.operand();
    const next = this.peek();
    if (next.kind === 'punct' && isComparator(next.text)) {
      this.next();
      return { kind: 'compare', comparator: next.text, left: subject, right: this.operand() };
    }
    if (this.atKeyword('BETWEEN')) {
      this.next();
      const low = this.operand();
      if (!this.atKeyword('AND')) throw this.syntaxError();
      this.next();
      return { kind: 'between', subject, low, high: this.operand() };
    }
    if (this.atKeyword('IN')) {
      this.next();
      this.expectPunct('(');
      const candidates = [this.operand()];
      while (this.atPunct(',')) {
        this.next();
        candidates.push(this.operand());
      }
      this.expectPunct(')');
      return { kind: 'in', subject, candidates };
    }
    throw this.syntaxError();
  }

  #function(): ConditionNode {
    const name = this.next().text;
    if (!isConditionFunction(name)) throw this.error(`Invalid function name; function: ${name}`);
    this.expectPunct('(');
    const args = [this.operand()];
    while (this.atPunct(',')) {
      this.next();
      args.push(this.operand());
    }
    this.expectPunct(')');
    const arity = name === 'attribute_exists' || name === 'attribute_not_exists' ? 1 : 2;
    if (args.length !== arity) throw this.error(`Incorrect number of operands for operator or function; operator or function: ${name}, number of operands: ${args.length}`);
    if (arity === 1 && args[0]?.kind !== 'path') throw this.error(`Operator or function requires a document path; operator or function: ${name}`);
    return { kind: 'function', name, args };
  }

  update(): Omit<ParsedUpdate, keyof References> {
    const actions = { set: [] as ParsedUpdate['set'][number][], remove: [] as PathNode[], add: [] as ParsedUpdate['add'][number][], delete: [] as ParsedUpdate['delete'][number][] };
    const seen = new Set<UpdateClause>();
    do {
      const token = this.next();
      const clause = token.kind === 'name' ? token.text.toUpperCase() : '';
      if (!isUpdateClause(clause)) throw this.syntaxError(token);
      if (seen.has(clause)) throw this.error(`The "${clause}" section can only be used once in an update expression;`);
      seen.add(clause);
      for (let more = true; more; more = this.atPunct(',') && this.next().kind === 'punct') {
        const path = this.path();
        if (clause === 'SET') {
          this.expectPunct('=');
          actions.set.push({ path, value: this.#setValue() });
        } else if (clause === 'REMOVE') actions.remove.push(path);
        else actions[clause === 'ADD' ? 'add' : 'delete'].push({ path, value: this.value() });
      }
    } while (this.peek().kind !== 'eof');
    return actions;
  }

  #setValue(): UpdateValue {
    const left = this.#setTerm();
    if (!this.atPunct('+') && !this.atPunct('-')) return left;
    const operator = this.next().text;
    return { kind: operator === '+' ? 'plus' : 'minus', left, right: this.#setTerm() };
  }

  #setTerm(): UpdateValue {
    if (this.atPunct('(')) {
      this.next();
      const inner = this.#setValue();
      this.expectPunct(')');
      return inner;
    }
    const token = this.peek();
    if (token.kind === 'valueRef') return this.value();
    if (token.kind !== 'name' || !this.atPunct('(', 1)) return this.path();
    this.next();
    this.next();
    let term: UpdateValue;
    if (token.text === 'if_not_exists') {
      const path = this.path();
      this.expectPunct(',');
      term = { kind: 'if_not_exists', path, fallback: this.#setValue() };
    } else if (token.text === 'list_append') {
      const first = this.#setValue();
      this.expectPunct(',');
      term = { kind: 'list_append', first, second: this.#setValue() };
    } else {
      throw this.error(`Invalid function name; function: ${token.text}`);
    }
    this.expectPunct(')');
    return term;
  }
}

/** Parsed expressions are immutable, so one parse serves every request with the same text. */
class ParseCache<T> {
  static readonly ENTRIES_MAX = 4_096;
  readonly #entries = new Map<string, T>();

  get(key: string, parse: () => T): T {
    const hit = this.#entries.get(key);
    if (hit !== undefined) return hit;
    const parsed = parse();
    // Bounded: a workload with unbounded distinct texts starts over rather than grow without end.
    if (this.#entries.size >= ParseCache.ENTRIES_MAX) this.#entries.clear();
    this.#entries.set(key, parsed);
    return parsed;
  }
}

const conditionCache = new ParseCache<ParsedCondition>();
const updateCache = new ParseCache<ParsedUpdate>();
const projectionCache = new ParseCache<ParsedProjection>();

const refsOf = (parser: Parser): References => ({ nameRefs: parser.nameRefs, valueRefs: parser.valueRefs });

export function parseCondition(kind: ConditionKind, text: string): ParsedCondition {
  return conditionCache.get(`${kind}\u0000${text}`, () => {
    const parser = new Parser(kind, text);
    const root = parser.condition();
    parser.end();
    return { root, ...refsOf(parser) };
  });
}

export function parseUpdate(text: string): ParsedUpdate {
  return updateCache.get(text, () => {
    const parser = new Parser('UpdateExpression', text);
    const actions = parser.update();
    parser.end();
    return { ...actions, ...refsOf(parser) };
  });
}

export function parseProjection(text: string): ParsedProjection {
  return projectionCache.get(text, () => {
    const parser = new Parser('ProjectionExpression', text);
    const paths = [parser.path()];
    while (parser.atPunct(',')) {
      parser.next();
      paths.push(parser.path());
    }
    parser.end();
    return { paths, ...refsOf(parser) };
  });
}

// ---------------------------------------------------------------------------------------------
// Binding names and values to a request.

export interface Bindings {
  readonly names: Readonly<Record<string, string>> | undefined;
  /** Canonical copies of the request's values. */
  readonly values: Readonly<Record<string, AttributeValue>> | undefined;
}

export interface UsedExpression {
  readonly kind: ExpressionKind;
  readonly parsed: References;
}

function checkProvided(label: 'ExpressionAttributeNames' | 'ExpressionAttributeValues', provided: object | undefined, used: readonly UsedExpression[], refsOf: (parsed: References) => ReadonlySet<string>): void {
  if (provided === undefined) return;
  const refs = Object.keys(provided);
  if (refs.length === 0) throw validationError(`${label} must not be empty`);
  if (used.length === 0) throw validationError(`${label} can only be specified when using expressions`);
  const unused = refs.filter((ref) => !used.some((expression) => refsOf(expression.parsed).has(ref)));
  if (unused.length > 0) throw validationError(`Value provided in ${label} unused in expressions: keys: {${unused.join(', ')}}`);
}

/**
 * Binds a request's ExpressionAttributeNames/Values to the expressions it uses, refusing what
 * DynamoDB refuses: an undefined placeholder, an unused binding, empty maps, invalid values.
 */
export function bindExpressions(
  used: readonly UsedExpression[],
  names: Readonly<Record<string, string>> | undefined,
  values: Readonly<Record<string, AttributeValue>> | undefined,
): Bindings {
  for (const { kind, parsed } of used) {
    for (const ref of parsed.nameRefs) {
      if (names === undefined || !Object.hasOwn(names, ref)) {
        throw validationError(`Invalid ${kind}: An expression attribute name used in the document path is not defined; attribute name: ${ref}`);
      }
    }
    for (const ref of parsed.valueRefs) {
      if (values === undefined || !Object.hasOwn(values, ref)) {
        throw validationError(`Invalid ${kind}: An expression attribute value used in expression is not defined; attribute value: ${ref}`);
      }
    }
  }
  checkProvided('ExpressionAttributeNames', names, used, (parsed) => parsed.nameRefs);
  checkProvided('ExpressionAttributeValues', values, used, (parsed) => parsed.valueRefs);
  if (values === undefined) return { names, values };
  const canonical: Record<string, AttributeValue> = {};
  for (const [ref, value] of Object.entries(values)) {
    try {
      canonical[ref] = canonicalValue(value);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw validationError(`ExpressionAttributeValues contains invalid value: ${message} for key ${ref}`);
    }
  }
  return { names, values: canonical };
}

/** A path with its placeholders replaced: attribute names and list indexes. */
export type ResolvedPath = readonly (string | number)[];

function boundValue(ref: string, bindings: Bindings): AttributeValue {
  const value = bindings.values?.[ref];
  assert(value !== undefined, `value ${ref} was checked bound by bindExpressions`);
  return value;
}

export function resolvePath(path: PathNode, bindings: Bindings): ResolvedPath {
  return path.segments.map((segment) => {
    if ('index' in segment) return segment.index;
    if (!segment.name.startsWith('#')) return segment.name;
    const name = bindings.names?.[segment.name];
    assert(name !== undefined, `name ${segment.name} was checked bound by bindExpressions`);
    return name;
  });
}

const showPath = (path: ResolvedPath): string => `[${path.map((segment) => (typeof segment === 'number' ? `[${segment}]` : segment)).join(', ')}]`;

export function readPath(item: Readonly<Item> | undefined, path: ResolvedPath): AttributeValue | undefined {
  let current: AttributeValue | undefined = item === undefined ? undefined : { M: item };
  for (const segment of path) {
    if (current === undefined) return undefined;
    current = typeof segment === 'number' ? current.L?.[segment] : current.M?.[segment];
  }
  return current;
}

/** Refuses paths of which one is, or lies inside, another (`a` and `a.b`), as DynamoDB does. */
function checkOverlap(kind: ExpressionKind, paths: readonly ResolvedPath[]): void {
  for (let i = 0; i < paths.length; i++) {
    for (let j = i + 1; j < paths.length; j++) {
      const [a, b] = [paths[i] ?? [], paths[j] ?? []];
      const shorter = a.length <= b.length ? a : b;
      if (shorter.every((segment, k) => segment === a[k] && segment === b[k])) {
        throw validationError(`Invalid ${kind}: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ${showPath(a)}, path two: ${showPath(b)}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Conditions and filters.

function operandValue(operand: Operand, item: Readonly<Item> | undefined, bindings: Bindings): AttributeValue | undefined {
  if (operand.kind === 'value') return boundValue(operand.ref, bindings);
  const value = readPath(item, resolvePath(operand.kind === 'size' ? operand.path : operand, bindings));
  return operand.kind === 'size' && value !== undefined ? sizeOf(value) : value;
}

/** size(): characters (UTF-16 units, as DynamoDB Local counts), bytes, or members; none for N, BOOL, NULL. */
function sizeOf(value: AttributeValue): AttributeValue | undefined {
  const size = value.S?.length ?? value.B?.length ?? value.SS?.length ?? value.NS?.length ?? value.BS?.length ?? value.L?.length;
  if (size !== undefined) return { N: String(size) };
  return value.M === undefined ? undefined : { N: String(Object.keys(value.M).length) };
}

/** A comparison with a missing operand is false, except <> (DynamoDB: "not equal" holds). */
function compareOperands(comparator: Comparator, left: AttributeValue | undefined, right: AttributeValue | undefined): boolean {
  const equal = left !== undefined && right !== undefined && valuesEqual(left, right);
  if (comparator === '=') return equal;
  if (comparator === '<>') return !equal;
  const order = left === undefined || right === undefined ? undefined : compareOrdered(left, right);
  if (order === undefined) return false;
  if (comparator === '<') return order < 0;
  if (comparator === '<=') return order <= 0;
  if (comparator === '>') return order > 0;
  return order >= 0;
}

function startsWithBytes(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return prefix.length <= bytes.length && prefix.every((byte, i) => bytes[i] === byte);
}

function contains(container: AttributeValue, member: AttributeValue): boolean {
  if (container.S !== undefined) return member.S !== undefined && container.S.includes(member.S);
  if (container.SS !== undefined) return member.S !== undefined && container.SS.includes(member.S);
  if (container.NS !== undefined) return member.N !== undefined && container.NS.some((n) => valuesEqual({ N: n }, member));
  const bytes = member.B;
  if (container.BS !== undefined) return bytes !== undefined && container.BS.some((b) => compareBytes(b, bytes) === 0);
  if (container.L !== undefined) return container.L.some((element) => valuesEqual(element, member));
  return false;
}

function evaluateFunction(name: ConditionFunction, args: readonly (AttributeValue | undefined)[]): boolean {
  const [first, second] = args;
  if (name === 'attribute_exists') return first !== undefined;
  if (name === 'attribute_not_exists') return first === undefined;
  if (first === undefined || second === undefined) return false;
  if (name === 'attribute_type') return typeOf(first) === second.S;
  if (name === 'contains') return contains(first, second);
  if (first.S !== undefined && second.S !== undefined) return first.S.startsWith(second.S);
  return first.B !== undefined && second.B !== undefined && startsWithBytes(first.B, second.B);
}

function evaluateNode(node: ConditionNode, item: Readonly<Item> | undefined, bindings: Bindings): boolean {
  const value = (operand: Operand): AttributeValue | undefined => operandValue(operand, item, bindings);
  switch (node.kind) {
    case 'and':
      return evaluateNode(node.left, item, bindings) && evaluateNode(node.right, item, bindings);
    case 'or':
      return evaluateNode(node.left, item, bindings) || evaluateNode(node.right, item, bindings);
    case 'not':
      return !evaluateNode(node.operand, item, bindings);
    case 'compare':
      return compareOperands(node.comparator, value(node.left), value(node.right));
    case 'between': {
      const subject = value(node.subject);
      return compareOperands('>=', subject, value(node.low)) && compareOperands('<=', subject, value(node.high));
    }
    case 'in': {
      const subject = value(node.subject);
      return node.candidates.some((candidate) => compareOperands('=', subject, value(candidate)));
    }
    case 'function':
      return evaluateFunction(node.name, node.args.map(value));
  }
}

export function evaluateCondition(parsed: ParsedCondition, item: Readonly<Item> | undefined, bindings: Bindings): boolean {
  return evaluateNode(parsed.root, item, bindings);
}

function* conditionNodes(node: ConditionNode): Generator<ConditionNode> {
  yield node;
  if (node.kind === 'and' || node.kind === 'or') {
    yield* conditionNodes(node.left);
    yield* conditionNodes(node.right);
  } else if (node.kind === 'not') {
    yield* conditionNodes(node.operand);
  }
}

function operandsOf(node: ConditionNode): readonly Operand[] {
  if (node.kind === 'compare') return [node.left, node.right];
  if (node.kind === 'between') return [node.subject, node.low, node.high];
  if (node.kind === 'in') return [node.subject, ...node.candidates];
  return node.kind === 'function' ? node.args : [];
}

/** The top-level attribute names a condition reads (a Query's filter may not read key attributes). */
export function conditionAttributes(parsed: ParsedCondition, bindings: Bindings): Set<string> {
  const names = new Set<string>();
  for (const node of conditionNodes(parsed.root)) {
    for (const operand of operandsOf(node)) {
      if (operand.kind === 'value') continue;
      const [name] = resolvePath(operand.kind === 'size' ? operand.path : operand, bindings);
      if (typeof name === 'string') names.add(name);
    }
  }
  return names;
}

const ORDERED_TYPES: ReadonlySet<ValueType> = new Set(['S', 'N', 'B']);

/** Checks what DynamoDB checks before reading any item: operand types of values, BETWEEN bounds. */
export function checkCondition(parsed: ParsedCondition, kind: ConditionKind, bindings: Bindings): void {
  const valueOf = (operand: Operand | undefined): AttributeValue | undefined => (operand?.kind === 'value' ? boundValue(operand.ref, bindings) : undefined);
  const requireTypes = (operator: string, allowed: ReadonlySet<ValueType>, operands: readonly Operand[]): void => {
    for (const operand of operands) {
      const value = valueOf(operand);
      if (value !== undefined && !allowed.has(typeOf(value))) {
        throw validationError(`Invalid ${kind}: Incorrect operand type for operator or function; operator or function: ${operator}, operand type: ${typeOf(value)}`);
      }
    }
  };
  for (const node of conditionNodes(parsed.root)) {
    if (node.kind === 'compare') {
      if (node.comparator !== '=' && node.comparator !== '<>') requireTypes(node.comparator, ORDERED_TYPES, [node.left, node.right]);
      if (node.left.kind === 'path' && node.right.kind === 'path' && showPath(resolvePath(node.left, bindings)) === showPath(resolvePath(node.right, bindings))) {
        throw validationError(`Invalid ${kind}: The first operand must be distinct from the remaining operands for this operator or function; operator: ${node.comparator}, first operand: ${showPath(resolvePath(node.left, bindings))}`);
      }
    } else if (node.kind === 'between') {
      requireTypes('BETWEEN', ORDERED_TYPES, [node.subject, node.low, node.high]);
      checkBetweenBounds(kind, valueOf(node.low), valueOf(node.high));
    } else if (node.kind === 'function' && node.name === 'begins_with') {
      requireTypes('begins_with', new Set(['S', 'B']), node.args);
    }
  }
}

function checkBetweenBounds(kind: ConditionKind, low: AttributeValue | undefined, high: AttributeValue | undefined): void {
  if (low === undefined || high === undefined) return;
  const bounds = `lower bound operand: ${showValue(low)}, upper bound operand: ${showValue(high)}`;
  const order = compareOrdered(low, high);
  if (order === undefined) throw validationError(`Invalid ${kind}: The BETWEEN operator requires same data type for lower and upper bounds; ${bounds}`);
  if (order > 0) throw validationError(`Invalid ${kind}: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; ${bounds}`);
}

// ---------------------------------------------------------------------------------------------
// Key conditions.

export type RangeCondition =
  | { readonly kind: 'compare'; readonly comparator: '=' | '<' | '<=' | '>' | '>='; readonly value: AttributeValue }
  | { readonly kind: 'between'; readonly low: AttributeValue; readonly high: AttributeValue }
  | { readonly kind: 'begins_with'; readonly prefix: AttributeValue };

export interface KeyCondition {
  readonly hashValue: AttributeValue;
  readonly range: RangeCondition | undefined;
}

const FLIPPED: Readonly<Record<Comparator, Comparator>> = { '=': '=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

function keyTermName(operand: Operand | undefined, bindings: Bindings): string {
  if (operand?.kind !== 'path') throw validationError('Invalid KeyConditionExpression: The key condition must name a key attribute');
  const path = resolvePath(operand, bindings);
  const [name] = path;
  if (path.length !== 1 || typeof name !== 'string') throw validationError('KeyConditionExpressions cannot have conditions on nested attributes');
  return name;
}

function keyTerm(node: ConditionNode, bindings: Bindings): { readonly name: string; readonly condition: RangeCondition } {
  const value = (operand: Operand | undefined): AttributeValue => {
    if (operand?.kind !== 'value') throw validationError('Invalid KeyConditionExpression: A key condition compares a key attribute with a value');
    return boundValue(operand.ref, bindings);
  };
  if (node.kind === 'compare') {
    const flipped = node.left.kind === 'value';
    const comparator = flipped ? FLIPPED[node.comparator] : node.comparator;
    if (comparator === '<>') throw validationError('Unsupported operator on KeyConditionExpression: operator: <>');
    return { name: keyTermName(flipped ? node.right : node.left, bindings), condition: { kind: 'compare', comparator, value: value(flipped ? node.left : node.right) } };
  }
  if (node.kind === 'between') return { name: keyTermName(node.subject, bindings), condition: { kind: 'between', low: value(node.low), high: value(node.high) } };
  if (node.kind === 'function' && node.name === 'begins_with') {
    return { name: keyTermName(node.args[0], bindings), condition: { kind: 'begins_with', prefix: value(node.args[1]) } };
  }
  const operator = node.kind === 'function' ? node.name : node.kind.toUpperCase();
  throw validationError(`Invalid operator used in KeyConditionExpression: ${operator}`);
}

/** The hash value and optional range condition of a Query, refusing shapes DynamoDB refuses. */
export function keyCondition(parsed: ParsedCondition, bindings: Bindings, hashName: string, rangeName: string | undefined): KeyCondition {
  const terms: ConditionNode[] = [];
  const flatten = (node: ConditionNode): void => {
    if (node.kind !== 'and') terms.push(node);
    else {
      flatten(node.left);
      flatten(node.right);
    }
  };
  flatten(parsed.root);
  if (terms.length > 2) throw validationError('Conditions can be of length 1 or 2 only');
  let hashValue: AttributeValue | undefined;
  let range: RangeCondition | undefined;
  for (const term of terms) {
    const { name, condition } = keyTerm(term, bindings);
    if (name === hashName && hashValue === undefined && condition.kind === 'compare' && condition.comparator === '=') hashValue = condition.value;
    else if (name === rangeName && range === undefined) range = condition;
    else throw validationError('Query condition missed key schema element');
  }
  if (hashValue === undefined) throw validationError(`Query condition missed key schema element: ${hashName}`);
  checkBetweenBounds('KeyConditionExpression', range?.kind === 'between' ? range.low : undefined, range?.kind === 'between' ? range.high : undefined);
  return { hashValue, range };
}

export function rangeMatches(condition: RangeCondition, value: AttributeValue | undefined): boolean {
  if (value === undefined) return false;
  if (condition.kind === 'compare') return compareOperands(condition.comparator, value, condition.value);
  if (condition.kind === 'between') return compareOperands('>=', value, condition.low) && compareOperands('<=', value, condition.high);
  return evaluateFunction('begins_with', [value, condition.prefix]);
}

// ---------------------------------------------------------------------------------------------
// Updates.

const invalidDocumentPath = (): DynamoDBServiceException => validationError('The document path provided in the update expression is invalid for update');
const incorrectOperand = (): DynamoDBServiceException => validationError('An operand in the update expression has an incorrect data type');

function allUpdatePaths(parsed: ParsedUpdate): PathNode[] {
  return [...parsed.set.map((action) => action.path), ...parsed.remove, ...parsed.add.map((action) => action.path), ...parsed.delete.map((action) => action.path)];
}

/** The top-level attributes an update writes (for UPDATED_OLD/UPDATED_NEW and the key check). */
export function updatedAttributes(parsed: ParsedUpdate, bindings: Bindings): Set<string> {
  return new Set(allUpdatePaths(parsed).map((path) => String(resolvePath(path, bindings)[0])));
}

function* updateValueNodes(value: UpdateValue): Generator<UpdateValue> {
  yield value;
  if (value.kind === 'if_not_exists') yield* updateValueNodes(value.fallback);
  else if (value.kind === 'list_append') {
    yield* updateValueNodes(value.first);
    yield* updateValueNodes(value.second);
  } else if (value.kind === 'plus' || value.kind === 'minus') {
    yield* updateValueNodes(value.left);
    yield* updateValueNodes(value.right);
  }
}

/** What DynamoDB refuses before reading the item: overlapping paths and ill-typed value operands. */
export function checkUpdate(parsed: ParsedUpdate, bindings: Bindings): void {
  checkOverlap('UpdateExpression', allUpdatePaths(parsed).map((path) => resolvePath(path, bindings)));
  const refuse = (operator: string, type: ValueType, typeSet?: string): never => {
    const detail = typeSet === undefined ? `operator or function: ${operator}, operand type: ${type}` : `operator: ${operator}, operand type: ${LONG_TYPE_NAMES[type]}, typeSet: ${typeSet}`;
    throw validationError(`Invalid UpdateExpression: Incorrect operand type for operator or function; ${detail}`);
  };
  for (const { value } of parsed.set) {
    for (const node of updateValueNodes(value)) {
      const operands = node.kind === 'plus' || node.kind === 'minus' ? [node.left, node.right] : node.kind === 'list_append' ? [node.first, node.second] : [];
      const required: ValueType = node.kind === 'list_append' ? 'L' : 'N';
      for (const operand of operands) {
        const type = operand.kind === 'value' ? typeOf(boundValue(operand.ref, bindings)) : undefined;
        if (type !== undefined && type !== required) refuse(node.kind === 'list_append' ? 'list_append' : node.kind === 'plus' ? '+' : '-', type);
      }
    }
  }
  for (const { value } of parsed.add) {
    const type = typeOf(boundValue(value.ref, bindings));
    if (!['N', 'SS', 'NS', 'BS'].includes(type)) refuse('ADD', type, 'ALLOWED_FOR_ADD_OPERAND');
  }
  for (const { value } of parsed.delete) {
    const type = typeOf(boundValue(value.ref, bindings));
    if (!['SS', 'NS', 'BS'].includes(type)) refuse('DELETE', type, 'ALLOWED_FOR_DELETE_OPERAND');
  }
}

function numberOf(value: AttributeValue): Decimal {
  if (value.N === undefined) throw incorrectOperand();
  return parseNumber(value.N);
}

/** A SET operand, read from the item as it was before the update (so `SET a = b, b = a` swaps). */
function updateValue(value: UpdateValue, before: Readonly<Item>, bindings: Bindings): AttributeValue {
  switch (value.kind) {
    case 'value':
      return boundValue(value.ref, bindings);
    case 'path': {
      const found = readPath(before, resolvePath(value, bindings));
      if (found === undefined) throw validationError('The provided expression refers to an attribute that does not exist in the item');
      return found;
    }
    case 'if_not_exists':
      return readPath(before, resolvePath(value.path, bindings)) ?? updateValue(value.fallback, before, bindings);
    case 'list_append': {
      const first = updateValue(value.first, before, bindings);
      const second = updateValue(value.second, before, bindings);
      if (first.L === undefined || second.L === undefined) throw incorrectOperand();
      return { L: [...first.L, ...second.L] };
    }
    case 'plus':
    case 'minus': {
      const left = numberOf(updateValue(value.left, before, bindings));
      const right = numberOf(updateValue(value.right, before, bindings));
      return { N: formatNumber(addDecimals(left, right, value.kind === 'plus' ? 1n : -1n)) };
    }
  }
}

function writePath(item: Item, path: ResolvedPath, value: AttributeValue): void {
  const last = path.at(-1);
  const parent = path.length === 1 ? { M: item } : readPath(item, path.slice(0, -1));
  if (typeof last === 'string' && parent?.M !== undefined) parent.M[last] = value;
  else if (typeof last === 'number' && parent?.L !== undefined) {
    // An index past the end appends, as DynamoDB does.
    if (last >= parent.L.length) parent.L.push(value);
    else parent.L[last] = value;
  } else throw invalidDocumentPath();
}

function removePath(item: Item, path: ResolvedPath): void {
  const last = path.at(-1);
  const parent = path.length === 1 ? { M: item } : readPath(item, path.slice(0, -1));
  if (typeof last === 'string' && parent?.M !== undefined) delete parent.M[last];
  else if (typeof last === 'number' && parent?.L !== undefined) parent.L.splice(last, 1);
  else throw invalidDocumentPath();
}

type SetType = 'SS' | 'NS' | 'BS';

function setMembers(value: AttributeValue): { readonly type: SetType; readonly members: readonly AttributeValue[] } | undefined {
  if (value.SS !== undefined) return { type: 'SS', members: value.SS.map((s) => ({ S: s })) };
  if (value.NS !== undefined) return { type: 'NS', members: value.NS.map((n) => ({ N: n })) };
  if (value.BS !== undefined) return { type: 'BS', members: value.BS.map((b) => ({ B: b })) };
  return undefined;
}

/** A set from members already canonical and distinct; undefined for none (no empty sets). */
function setOf(type: SetType, members: readonly AttributeValue[]): AttributeValue | undefined {
  if (members.length === 0) return undefined;
  const sorted = [...members].sort((a, b) => compareOrdered(a, b) ?? 0);
  if (type === 'SS') return { SS: sorted.map((member) => member.S ?? '') };
  if (type === 'NS') return { NS: sorted.map((member) => member.N ?? '0') };
  return { BS: sorted.map((member) => new Uint8Array(member.B ?? [])) };
}

/** ADD: a number adds, a set unions; a missing attribute takes the operand. */
function addTo(current: AttributeValue | undefined, operand: AttributeValue): AttributeValue {
  if (current === undefined) return copyValue(operand);
  if (current.N !== undefined && operand.N !== undefined) return { N: formatNumber(addDecimals(numberOf(current), numberOf(operand), 1n)) };
  const existing = setMembers(current);
  const added = setMembers(operand);
  if (existing === undefined || added === undefined || existing.type !== added.type) throw incorrectOperand();
  const union = [...existing.members, ...added.members.filter((member) => !existing.members.some((held) => valuesEqual(held, member)))];
  return setOf(existing.type, union) ?? copyValue(operand);
}

/** DELETE: set difference; undefined when nothing is left (the attribute goes). */
function deleteFrom(current: AttributeValue, operand: AttributeValue): AttributeValue | undefined {
  const existing = setMembers(current);
  const removed = setMembers(operand);
  if (existing === undefined || removed === undefined || existing.type !== removed.type) throw incorrectOperand();
  return setOf(existing.type, existing.members.filter((member) => !removed.members.some((gone) => valuesEqual(gone, member))));
}

/**
 * The item after the update, as a new object: `before` (the stored item, or just the key for a
 * new one) is not touched. SET operands read `before`; clauses apply SET, REMOVE, ADD, DELETE.
 */
export function applyUpdate(parsed: ParsedUpdate, before: Readonly<Item>, bindings: Bindings): Item {
  const assignments = parsed.set.map((action) => ({ path: resolvePath(action.path, bindings), value: copyValue(updateValue(action.value, before, bindings)) }));
  const item = copyItem(before);
  for (const { path, value } of assignments) writePath(item, path, value);
  // Removing list elements from the highest index down keeps the other indexes meaningful.
  const removals = parsed.remove.map((path) => resolvePath(path, bindings)).sort((a, b) => comparePathsDescending(a, b));
  for (const path of removals) removePath(item, path);
  for (const action of parsed.add) {
    const path = resolvePath(action.path, bindings);
    writePath(item, path, addTo(readPath(item, path), boundValue(action.value.ref, bindings)));
  }
  for (const action of parsed.delete) {
    const path = resolvePath(action.path, bindings);
    const current = readPath(item, path);
    if (current === undefined) continue;
    const left = deleteFrom(current, boundValue(action.value.ref, bindings));
    if (left === undefined) removePath(item, path);
    else writePath(item, path, left);
  }
  return item;
}

function comparePathsDescending(a: ResolvedPath, b: ResolvedPath): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const [x, y] = [a[i], b[i]];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return y - x;
    return String(y) < String(x) ? -1 : 1;
  }
  return b.length - a.length;
}

// ---------------------------------------------------------------------------------------------
// Projections.

interface Selection {
  whole: boolean;
  readonly fields: Map<string, Selection>;
  readonly indexes: Map<number, Selection>;
}

const newSelection = (): Selection => ({ whole: false, fields: new Map(), indexes: new Map() });

export function checkProjection(parsed: ParsedProjection, bindings: Bindings): void {
  checkOverlap('ProjectionExpression', parsed.paths.map((path) => resolvePath(path, bindings)));
}

function extract(value: AttributeValue, selection: Selection): AttributeValue | undefined {
  if (selection.whole) return copyValue(value);
  if (value.M !== undefined && selection.fields.size > 0) {
    const fields: Item = {};
    for (const [name, inner] of selection.fields) {
      const found = value.M[name] === undefined ? undefined : extract(value.M[name], inner);
      if (found !== undefined) fields[name] = found;
    }
    return Object.keys(fields).length > 0 ? { M: fields } : undefined;
  }
  if (value.L !== undefined && selection.indexes.size > 0) {
    const list = value.L;
    // DynamoDB answers the selected elements of a list in index order, compacted.
    const elements = [...selection.indexes]
      .sort(([a], [b]) => a - b)
      .flatMap(([index, inner]) => {
        const element = list[index];
        const found = element === undefined ? undefined : extract(element, inner);
        return found === undefined ? [] : [found];
      });
    return elements.length > 0 ? { L: elements } : undefined;
  }
  return undefined;
}

/** The attributes a ProjectionExpression selects from an item, as a copy. */
export function project(parsed: ParsedProjection, item: Readonly<Item>, bindings: Bindings): Item {
  const root = newSelection();
  for (const path of parsed.paths) {
    let node = root;
    for (const segment of resolvePath(path, bindings)) {
      const children: Map<string | number, Selection> = typeof segment === 'number' ? node.indexes : node.fields;
      const child = children.get(segment) ?? newSelection();
      children.set(segment, child);
      node = child;
    }
    node.whole = true;
  }
  return extract({ M: item }, root)?.M ?? {};
}
