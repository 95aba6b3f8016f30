// Proves docs/openapi.yaml describes the code: its routes, auth, problem catalogue, limits, patterns and enums match the implementation, its examples are ones the code accepts, and every $ref resolves.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { parse } from 'yaml';
import type { DynamoSettlementStore, RecordedInstruction, SettlementReport } from '../../lambdas/adapters/dynamodb/settlement-store.js';
import { API_BODY_BYTES_MAX, stringifyWithBigInts } from '../../lambdas/api/http.js';
import type { ApiDependencies } from '../../lambdas/api/operations.js';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, PROBLEM_TYPES } from '../../lambdas/api/problems.js';
import {
  ALERT_PAGE_SIZE_DEFAULT,
  ALERT_PAGE_SIZE_MAX,
  CloseWindowBody,
  DepositBody,
  IDEMPOTENCY_KEY_PATTERN,
  ListAlertsQuery,
  ListWindowsQuery,
  NET_DEBIT_CAP_MAX,
  OpenAccountBody,
  PositionQuery,
  ResolveAlertBody,
  SetLimitsBody,
  SubmitTransactionBody,
  WINDOW_PAGE_SIZE_DEFAULT,
  WINDOW_PAGE_SIZE_MAX,
} from '../../lambdas/api/schemas.js';
import { getSettlementWindow, windowView } from '../../lambdas/api/settlement-operations.js';
import { REFERENCE_LENGTH_MAX } from '../../lambdas/core/events/envelope.js';
import { ACCOUNT_ID_PATTERN, ACCOUNT_STATUSES, INSTITUTION_ID_PATTERN, isFundingAccountId } from '../../lambdas/core/ledger/account.js';
import { REJECTION_REASONS, TRANSFER_CHANNELS, TRANSFER_ID_PATTERN } from '../../lambdas/core/ledger/transfer.js';
import { AMOUNT_MINOR_MAX, OVERDRAFT_LIMIT_MINOR_MAX } from '../../lambdas/core/money/amount.js';
import { CURRENCY_CODES, type CurrencyCode } from '../../lambdas/core/money/currency.js';
import { ALERT_ID_PATTERN, ALERT_RESOLUTIONS, ALERT_STATUSES, FREEZE_OUTCOMES, RESOLUTION_NOTE_LENGTH_MAX } from '../../lambdas/core/risk/alerts.js';
import { RULE_IDS } from '../../lambdas/core/risk/rules.js';
import { SEVERITIES } from '../../lambdas/core/risk/severity.js';
import { WINDOW_ID_PATTERN, WINDOW_STATES, type SettlementWindow } from '../../lambdas/core/settlement/window.js';
import { PROBLEM_RESPONSES, problemTemplate } from '../../lib/constructs/problem-responses.js';
import { API_ROUTES } from '../../lib/topology.js';
import { proxyEvent } from '../support/api-events.js';

type Json = Record<string, unknown>;

const SPEC_PATH = new URL('../../docs/openapi.yaml', import.meta.url);
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const doc: unknown = parse(readFileSync(SPEC_PATH, 'utf8'));

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asObject(value: unknown, where: string): Json {
  if (!isObject(value)) throw new Error(`${where} is not an object`);
  return value;
}

function asArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${where} is not an array`);
  return value as unknown[];
}

/** The value at a JSON Pointer (RFC 6901) in the spec; throws when nothing is there. */
function atPointer(pointer: string): unknown {
  if (!pointer.startsWith('#/')) throw new Error(`${pointer} is not a local reference`);
  let node: unknown = doc;
  for (const raw of pointer.slice(2).split('/')) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    const parent = asObject(node, `parent of ${segment} in ${pointer}`);
    if (!Object.hasOwn(parent, segment)) throw new Error(`${pointer} does not resolve (no ${segment})`);
    node = parent[segment];
  }
  return node;
}

/** Follows $ref until a node without one. */
function deref(node: unknown): unknown {
  let current = node;
  for (let hops = 0; isObject(current) && typeof current.$ref === 'string'; hops += 1) {
    if (hops > 20) throw new Error('reference cycle');
    current = atPointer(current.$ref);
  }
  return current;
}

const schema = (name: string): Json => asObject(deref(atPointer(`#/components/schemas/${name}`)), `schema ${name}`);

interface DocumentedOperation {
  readonly method: string;
  readonly path: string;
  readonly operation: Json;
}

function operations(): DocumentedOperation[] {
  const paths = asObject(asObject(doc, 'spec').paths, 'paths');
  return Object.entries(paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((method) => Object.hasOwn(asObject(item, path), method)).map((method) => ({
      method: method.toUpperCase(),
      path,
      operation: asObject(asObject(item, path)[method], `${method} ${path}`),
    })),
  );
}

function operationOf(route: (typeof API_ROUTES)[number]): Json {
  const found = operations().find((candidate) => candidate.method === route.method && candidate.path === route.path);
  if (found === undefined) throw new Error(`${route.method} ${route.path} is not documented`);
  return found.operation;
}

function responsesOf(operation: Json): [string, Json][] {
  return Object.entries(asObject(operation.responses, 'responses')).map(([code, response]) => [code, asObject(deref(response), code)]);
}

function examplesOf(media: Json): unknown[] {
  const examples = media.examples === undefined ? [] : Object.values(asObject(media.examples, 'examples'));
  return examples.map((example) => asObject(deref(example), 'example').value);
}

function parametersOf(operation: Json): Json[] {
  return asArray(operation.parameters ?? [], 'parameters').map((parameter) => asObject(deref(parameter), 'parameter'));
}

const ROUTE_BODIES = {
  submitTransaction: SubmitTransactionBody,
  openAccount: OpenAccountBody,
  depositFunds: DepositBody,
  resolveAlert: ResolveAlertBody,
  setInstitutionLimits: SetLimitsBody,
  closeSettlementWindow: CloseWindowBody,
} as const satisfies Partial<Record<(typeof API_ROUTES)[number]['operation'], z.ZodObject>>;

function bodySchemaOf(operation: Json): { media: Json; schema: Json } | undefined {
  if (operation.requestBody === undefined) return undefined;
  const content = asObject(asObject(deref(operation.requestBody), 'requestBody').content, 'requestBody content');
  const media = asObject(content['application/json'], 'application/json body');
  return { media, schema: asObject(deref(media.schema), 'body schema') };
}

/**
 * A small validator for the JSON Schema keywords this spec uses, strict about unknown properties
 * so examples cannot carry fields the schema does not document (unless `additionalProperties`
 * gives them a schema, which they must then match). Returns the problems found.
 */
function violations(value: unknown, node: unknown, where = ''): string[] {
  const s = asObject(deref(node), `schema at ${where}`);
  const problems: string[] = [];
  if (Array.isArray(s.allOf)) for (const part of s.allOf as unknown[]) problems.push(...violations(value, part, where));
  if (Array.isArray(s.oneOf)) {
    const matching = (s.oneOf as unknown[]).filter((part) => violations(value, part, where).length === 0);
    if (matching.length !== 1) problems.push(`${where}: ${JSON.stringify(value)} matches ${matching.length} oneOf branches`);
  }
  if (s.not !== undefined && violations(value, s.not, where).length === 0) problems.push(`${where}: matches a 'not' schema`);
  if (s.const !== undefined && value !== s.const) problems.push(`${where}: ${JSON.stringify(value)} is not ${JSON.stringify(s.const)}`);
  if (Array.isArray(s.enum) && !(s.enum as unknown[]).includes(value)) problems.push(`${where}: ${JSON.stringify(value)} not in enum`);
  const typeOk: Record<string, (item: unknown) => boolean> = {
    object: isObject,
    array: Array.isArray,
    integer: Number.isInteger,
    number: Number.isFinite,
    boolean: (item) => typeof item === 'boolean',
    string: (item) => typeof item === 'string',
  };
  if (s.type !== undefined) {
    const types = (Array.isArray(s.type) ? s.type : [s.type]) as unknown[];
    const checks = types.map((type) => typeOk[String(type)]);
    if (checks.includes(undefined)) return [...problems, `${where}: the test's validator does not know type ${JSON.stringify(s.type)}`];
    if (!checks.some((check) => check?.(value))) return [...problems, `${where}: ${JSON.stringify(value)} is not of type ${JSON.stringify(s.type)}`];
  }
  if (isObject(value)) {
    const properties = isObject(s.properties) ? s.properties : {};
    for (const name of asArray(s.required ?? [], 'required')) {
      if (typeof name === 'string' && !Object.hasOwn(value, name)) problems.push(`${where}/${name}: required`);
    }
    for (const [name, item] of Object.entries(value)) {
      if (Object.hasOwn(properties, name)) problems.push(...violations(item, properties[name], `${where}/${name}`));
      else if (isObject(s.additionalProperties)) problems.push(...violations(item, s.additionalProperties, `${where}/${name}`));
      else if (s.type === 'object') problems.push(`${where}/${name}: not a documented property`);
    }
  }
  if (Array.isArray(value)) {
    if (s.items !== undefined) (value as unknown[]).forEach((item, index) => problems.push(...violations(item, s.items, `${where}/${index}`)));
    if (typeof s.minItems === 'number' && value.length < s.minItems) problems.push(`${where}: fewer than minItems`);
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) problems.push(`${where}: below minimum`);
    if (typeof s.maximum === 'number' && value > s.maximum) problems.push(`${where}: above maximum`);
  }
  if (typeof value === 'string') {
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) problems.push(`${where}: ${value} does not match ${s.pattern}`);
    if (typeof s.minLength === 'number' && [...value].length < s.minLength) problems.push(`${where}: shorter than minLength`);
    if (typeof s.maxLength === 'number' && [...value].length > s.maxLength) problems.push(`${where}: longer than maxLength`);
  }
  return problems;
}

/** Problem type slugs API Gateway answers with (gateway responses), with the title each carries. */
const gatewayTitles = new Map<string, string>(
  PROBLEM_RESPONSES.map((response) => {
    const title = /"title": ("(?:[^"\\]|\\.)*")/.exec(problemTemplate(response))?.[1];
    if (title === undefined) throw new Error(`no title in the ${response.problem} template`);
    return [response.problem, JSON.parse(title) as string];
  }),
);

interface DocumentedProblemType {
  readonly slug: string;
  readonly title: unknown;
  readonly status: unknown;
}

function documentedProblemTypes(): DocumentedProblemType[] {
  return asArray(schema('ProblemType').oneOf, 'ProblemType.oneOf').map((entry) => {
    const branch = asObject(entry, 'ProblemType branch');
    const uri = String(branch.const);
    if (!uri.startsWith(PROBLEM_TYPE_BASE)) throw new Error(`${uri} does not start with ${PROBLEM_TYPE_BASE}`);
    return { slug: uri.slice(PROBLEM_TYPE_BASE.length), title: branch.title, status: branch['x-status'] };
  });
}

const catalogueStatuses = new Set<number>(Object.values(PROBLEM_TYPES).map((entry) => entry.status));

describe('docs/openapi.yaml', () => {
  it('documents exactly the routes of API_ROUTES, with the topology operation names as operationIds', () => {
    const documented = operations().map(({ method, path, operation }) => `${method} ${path} ${String(operation.operationId)}`);
    const declared = API_ROUTES.map((route) => `${route.method} ${route.path} ${route.operation}`);

    expect(asObject(doc, 'spec').openapi).toBe('3.1.0');
    expect(documented.sort()).toEqual(declared.sort());
  });

  it('declares every path template parameter as a required path parameter, and no others', () => {
    for (const route of API_ROUTES) {
      const templated = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      const declared = parametersOf(operationOf(route)).filter((parameter) => parameter.in === 'path');

      expect(declared.map((parameter) => parameter.name), route.path).toEqual(templated);
      for (const parameter of declared) expect(parameter.required, `${route.path} ${String(parameter.name)}`).toBe(true);
    }
  });

  it('secures IAM routes with the sigv4 scheme and channel routes with the x-api-key scheme', () => {
    const schemes = asObject(asObject(asObject(doc, 'spec').components, 'components').securitySchemes, 'securitySchemes');
    const expected = { iam: [{ sigv4: [] }], apiKey: [{ apiKey: [] }] } as const;

    expect(schemes.apiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-api-key' });
    expect(schemes.sigv4).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization' });
    for (const route of API_ROUTES) expect(operationOf(route).security, `${route.method} ${route.path}`).toEqual(expected[route.auth]);
  });

  it('documents 401 only on API-key routes, and 403, 429 and 500 on every route', () => {
    for (const route of API_ROUTES) {
      const codes = responsesOf(operationOf(route)).map(([code]) => code);

      expect(codes.includes('401'), `${route.method} ${route.path} documents 401`).toBe(route.auth === 'apiKey');
      expect(codes, `${route.method} ${route.path}`).toEqual(expect.arrayContaining(['403', '429', '500']));
    }
  });

  it('documents 400, 409 and a required Idempotency-Key exactly on the routes that take one, and 413/415/422 on routes with a body', () => {
    for (const route of API_ROUTES) {
      const operation = operationOf(route);
      const codes = responsesOf(operation).map(([code]) => code);
      const key = parametersOf(operation).find((parameter) => parameter.in === 'header' && parameter.name === 'Idempotency-Key');
      const takesKey = route.operation === 'submitTransaction' || route.operation === 'depositFunds';
      const hasBody = Object.hasOwn(ROUTE_BODIES, route.operation);

      expect(key?.required ?? false, `${route.path} Idempotency-Key`).toBe(takesKey);
      if (takesKey) expect(codes).toEqual(expect.arrayContaining(['400', '409']));
      expect(operation.requestBody !== undefined, `${route.path} body`).toBe(hasBody);
      if (hasBody) expect(codes).toEqual(expect.arrayContaining(['400', '413', '415', '422']));
    }
  });

  it('lists every problem type of the catalogue and the gateway, with the status and title the code gives it', () => {
    const documented = documentedProblemTypes();
    const expectedSlugs = new Set([...Object.keys(PROBLEM_TYPES), ...gatewayTitles.keys()]);

    expect(documented.map((entry) => entry.slug).sort()).toEqual([...expectedSlugs].sort());
    for (const entry of documented) {
      const catalogued = Object.hasOwn(PROBLEM_TYPES, entry.slug) ? PROBLEM_TYPES[entry.slug as keyof typeof PROBLEM_TYPES] : undefined;
      expect({ slug: entry.slug, title: entry.title, status: entry.status }).toEqual({
        slug: entry.slug,
        title: catalogued?.title ?? gatewayTitles.get(entry.slug),
        status: catalogued?.status,
      });
    }
  });

  it('answers every documented error as problem+json with a catalogue status, and every problem example agrees with the catalogue', () => {
    const gatewayOnly = new Set([...gatewayTitles.keys()].filter((slug) => !Object.hasOwn(PROBLEM_TYPES, slug)));
    const components = asObject(asObject(asObject(doc, 'spec').components, 'components').responses, 'responses');
    const documentedResponses: [string, string, Json][] = [
      ...operations().flatMap(({ method, path, operation }) => responsesOf(operation).map(([code, response]): [string, string, Json] => [`${method} ${path}`, code, response])),
      ['components', '405', asObject(components.MethodNotAllowed, 'MethodNotAllowed')],
    ];

    for (const [where, code, response] of documentedResponses) {
      const content = asObject(response.content ?? {}, `${where} ${code} content`);
      if (!/^[45]/.test(code)) {
        expect(Object.keys(content), `${where} ${code}`).not.toContain(PROBLEM_CONTENT_TYPE);
        continue;
      }
      expect(Object.keys(content), `${where} ${code}`).toEqual([PROBLEM_CONTENT_TYPE]);
      const range = /^[45]XX$/.test(code);
      if (!range) expect(catalogueStatuses.has(Number(code)), `${where} ${code} is a catalogue status`).toBe(true);
      const examples = examplesOf(asObject(content[PROBLEM_CONTENT_TYPE], `${where} ${code}`));
      expect(examples.length, `${where} ${code} has examples`).toBeGreaterThan(0);
      for (const example of examples) {
        const problem = asObject(example, `${where} ${code} example`);
        const slug = String(problem.type).slice(PROBLEM_TYPE_BASE.length);
        if (range) {
          expect(gatewayOnly.has(slug), `${where} ${code}: ${slug} is a gateway catch-all`).toBe(true);
          expect(problem.status, `${where} ${code}`).toBeUndefined();
        } else {
          const catalogued = PROBLEM_TYPES[slug as keyof typeof PROBLEM_TYPES] as { status: number; title: string } | undefined;
          expect({ where, code, type: problem.type, status: problem.status, title: problem.title }).toEqual({
            where,
            code,
            type: `${PROBLEM_TYPE_BASE}${slug}`,
            status: Number(code),
            title: catalogued?.title,
          });
        }
        expect(violations(problem, { $ref: '#/components/schemas/Problem' }), `${where} ${code}`).toEqual([]);
      }
    }
  });

  it("documents on each path the Allow value the router sends for a wrong method, and the 405 answer's Allow header", () => {
    const paths = asObject(asObject(doc, 'spec').paths, 'paths');
    const methodNotAllowed = asObject(deref(atPointer('#/components/responses/MethodNotAllowed')), 'MethodNotAllowed');

    const allowedMethods = asObject(asObject(schema('Problem').properties, 'Problem properties').allowedMethods, 'allowedMethods');

    expect(Object.keys(asObject(methodNotAllowed.headers, '405 headers'))).toEqual(['Allow']);
    expect(asArray(asObject(allowedMethods.items, 'allowedMethods items').enum, 'enum').slice().sort()).toEqual([...new Set(API_ROUTES.map((route) => route.method))].sort());
    for (const path of new Set(API_ROUTES.map((route) => route.path))) {
      const allow = [...new Set(API_ROUTES.filter((route) => route.path === path).map((route) => route.method))].join(', ');
      expect(String(asObject(paths[path], path).description), path).toContain(`\`405\` with \`Allow: ${allow}\``);
    }
  });

  it('documents the Location, Idempotent-Replayed and Retry-After headers on the answers that carry them', () => {
    const headersOf = (operation: string, code: string): string[] => {
      const route = API_ROUTES.find((candidate) => candidate.operation === operation);
      if (route === undefined) throw new Error(`no route ${operation}`);
      const response = responsesOf(operationOf(route)).find(([status]) => status === code)?.[1];
      return Object.keys(asObject(response?.headers ?? {}, `${operation} ${code} headers`)).sort();
    };

    expect(headersOf('submitTransaction', '202')).toEqual(['Idempotent-Replayed', 'Location']);
    expect(headersOf('depositFunds', '201')).toEqual(['Idempotent-Replayed', 'Location']);
    expect(headersOf('openAccount', '201')).toEqual(['Location']);
    expect(headersOf('submitTransaction', '503')).toEqual(['Retry-After']);
    expect(headersOf('depositFunds', '503')).toEqual(['Retry-After']);
    expect(headersOf('resolveAlert', '200')).toEqual(['Idempotent-Replayed']);
    expect(headersOf('unfreezeAccount', '200')).toEqual(['Idempotent-Replayed']);
  });

  it("states the code's limits: amount, overdraft limit, Net Debit Cap, reference length, resolution note, body size and Idempotency-Key", () => {
    const idempotencyKey = asObject(deref(atPointer('#/components/parameters/IdempotencyKey')), 'IdempotencyKey');
    const keySchema = asObject(idempotencyKey.schema, 'IdempotencyKey schema');
    const codeKeyMax = Number(/\{1,(\d+)\}/.exec(IDEMPOTENCY_KEY_PATTERN.source)?.[1]);
    const overdraft = asObject(asObject(schema('OpenAccountRequest').properties, 'properties').overdraftLimit, 'overdraftLimit');
    const everyCharacter = Array.from({ length: 0x300 }, (_, code) => `key${String.fromCodePoint(code)}`);
    const samples = ['', 'k', 'k'.repeat(255), 'k'.repeat(256), ...everyCharacter];
    const documentedAccepts = (key: string): boolean => violations(key, keySchema).length === 0;
    const note = asObject(asObject(schema('ResolveAlertRequest').properties, 'properties').note, 'note');
    const notes = ['', ' ', '\t\n', '\u00a0', 'x', ' x ', 'n'.repeat(RESOLUTION_NOTE_LENGTH_MAX), 'n'.repeat(RESOLUTION_NOTE_LENGTH_MAX + 1)];
    const codeAcceptsNote = (text: string): boolean => ResolveAlertBody.safeParse({ resolution: 'FALSE_POSITIVE', note: text }).success;
    const cap = asObject(asObject(schema('SetLimitsRequest').properties, 'properties').netDebitCap, 'netDebitCap');
    const caps: unknown[] = [-1, 0, 1, 0.5, NET_DEBIT_CAP_MAX, NET_DEBIT_CAP_MAX + 1, '5', null];
    const codeAcceptsCap = (value: unknown): boolean => SetLimitsBody.safeParse({ currency: 'EUR', netDebitCap: value }).success;

    expect(schema('Amount')).toMatchObject({ type: 'integer', minimum: 1, maximum: AMOUNT_MINOR_MAX });
    expect(overdraft).toMatchObject({ type: 'integer', minimum: 0, maximum: OVERDRAFT_LIMIT_MINOR_MAX });
    expect(schema('Reference')).toMatchObject({ type: 'string', minLength: 1, maxLength: REFERENCE_LENGTH_MAX });
    expect(keySchema).toMatchObject({ type: 'string', minLength: 1, maxLength: 255 });
    expect(codeKeyMax).toBe(255);
    expect(samples.map(documentedAccepts)).toEqual(samples.map((key) => IDEMPOTENCY_KEY_PATTERN.test(key)));
    expect(note).toMatchObject({ type: 'string', minLength: 1, maxLength: RESOLUTION_NOTE_LENGTH_MAX });
    expect(notes.map((text) => violations(text, note).length === 0)).toEqual(notes.map(codeAcceptsNote));
    expect(cap).toMatchObject({ type: 'integer', minimum: 0, maximum: NET_DEBIT_CAP_MAX });
    expect(caps.map((value) => violations(value, cap).length === 0)).toEqual(caps.map(codeAcceptsCap));
    for (const route of API_ROUTES) {
      const body = operationOf(route).requestBody;
      if (body !== undefined) expect(asObject(deref(body), 'requestBody')['x-max-body-bytes'], route.path).toBe(API_BODY_BYTES_MAX);
    }
    expect(String(asObject(deref(atPointer('#/components/responses/PayloadTooLarge')), '413').description)).toContain(String(API_BODY_BYTES_MAX));
  });

  it("uses the code's id patterns and a currency pattern every accepted currency matches", () => {
    expect(schema('AccountId').pattern).toBe(ACCOUNT_ID_PATTERN.source);
    expect(schema('InstitutionId').pattern).toBe(INSTITUTION_ID_PATTERN.source);
    expect(schema('TransactionId').pattern).toBe(TRANSFER_ID_PATTERN.source);
    expect(schema('AlertId').pattern).toBe(ALERT_ID_PATTERN.source);
    expect(schema('WindowId').pattern).toBe(WINDOW_ID_PATTERN.source);
    const currency = new RegExp(String(schema('CurrencyCode').pattern), 'u');
    expect(CURRENCY_CODES.filter((code) => !currency.test(code))).toEqual([]);
    expect(String(schema('CurrencyCode').description)).toMatch(/active/);
  });

  it('refuses exactly the funding account ids the code reserves where a customer account is required', () => {
    const ids = ['acc-alice', 'fund-bank-a-eur', 'fund-', 'funding-1', 'Fund-bank-a-eur', 'x-fund-1'];
    const documentedCustomer = (id: string): boolean => violations(id, { $ref: '#/components/schemas/CustomerAccountId' }).length === 0;

    expect(ids.map(documentedCustomer)).toEqual(ids.map((id) => ACCOUNT_ID_PATTERN.test(id) && !isFundingAccountId(id)));
  });

  it('lists the rejection reasons, channels, transaction statuses and account statuses of the code', () => {
    const transaction = asObject(schema('Transaction').properties, 'Transaction properties');

    expect(schema('RejectionReason').enum).toEqual([...REJECTION_REASONS]);
    expect(asObject(transaction.rejectionReason, 'rejectionReason').$ref).toBe('#/components/schemas/RejectionReason');
    expect(asObject(transaction.status, 'status').enum).toEqual(['RECEIVED', 'POSTED', 'REJECTED']);
    expect(schema('Channel').enum).toEqual([...TRANSFER_CHANNELS]);
    expect(asObject(asObject(schema('Account').properties, 'Account properties').status, 'status').enum).toEqual([...ACCOUNT_STATUSES]);
  });

  it('lists the severities, alert statuses, resolutions, freeze outcomes and rule ids of the code, and uses them on alerts', () => {
    const alert = asObject(schema('Alert').properties, 'Alert properties');
    const refOf = (node: unknown, where: string): unknown => asObject(node, where).$ref;

    expect(schema('Severity').enum).toEqual([...SEVERITIES]);
    expect(schema('AlertStatus').enum).toEqual([...ALERT_STATUSES]);
    expect(schema('AlertResolution').enum).toEqual([...ALERT_RESOLUTIONS]);
    expect(schema('FreezeOutcome').enum).toEqual([...FREEZE_OUTCOMES]);
    expect(schema('RuleId').enum).toEqual([...RULE_IDS]);
    expect(refOf(alert.severity, 'severity')).toBe('#/components/schemas/Severity');
    expect(refOf(alert.status, 'status')).toBe('#/components/schemas/AlertStatus');
    expect(refOf(asObject(asObject(alert.freeze, 'freeze').properties, 'freeze properties').outcome, 'outcome')).toBe('#/components/schemas/FreezeOutcome');
    expect(refOf(asObject(asObject(alert.resolution, 'resolution').properties, 'resolution properties').resolution, 'resolution')).toBe(
      '#/components/schemas/AlertResolution',
    );
    expect(refOf(asObject(schema('RuleHit').properties, 'RuleHit properties').ruleId, 'ruleId')).toBe('#/components/schemas/RuleId');
  });

  it('lists the window states of the code, and describes a settlement window with exactly the fields windowView gives it', () => {
    const full: SettlementWindow = {
      windowId: 'EUR-000000006',
      currency: 'EUR',
      sequence: 6,
      state: 'SETTLED',
      openedAt: '2025-03-01T05:00:00.000Z',
      closedAt: '2025-03-01T06:00:00.000Z',
      settledAt: '2025-03-01T06:00:02.140Z',
      transferCount: 3,
      grossMinor: 12_345_678_901_234_567_890n,
      participants: ['bank-a', 'bank-b'],
      instructionCount: 2,
      instructionsRecorded: 2,
    };
    const least: SettlementWindow = { windowId: 'EUR-000000007', currency: 'EUR', sequence: 7, state: 'OPEN', openedAt: '2025-03-01T06:00:00.000Z', transferCount: 0, grossMinor: 0n, participants: [] };
    const window = schema('SettlementWindow');
    const properties = asObject(window.properties, 'SettlementWindow properties');
    const detail = schema('SettlementWindowDetail');
    const detailProperties = asObject(detail.properties, 'SettlementWindowDetail properties');
    const withoutDescriptions = (node: unknown): unknown => JSON.parse(JSON.stringify(node, (key, value: unknown) => (key === 'description' ? undefined : value)));

    expect(schema('WindowState').enum).toEqual([...WINDOW_STATES]);
    expect(asObject(properties.state, 'state').$ref).toBe('#/components/schemas/WindowState');
    expect(Object.keys(properties).sort()).toEqual(Object.keys(windowView(full)).sort());
    expect(asArray(window.required, 'required').slice().sort()).toEqual(Object.keys(windowView(least)).sort());
    for (const view of [windowView(full), windowView(least)]) {
      expect(violations(JSON.parse(stringifyWithBigInts(view)), window), JSON.stringify(view.windowId)).toEqual([]);
    }
    expect(Object.keys(detailProperties).sort()).toEqual([...Object.keys(properties), 'netPositions', 'report', 'instructions'].sort());
    expect(asArray(detail.required, 'required').slice().sort()).toEqual([...asArray(window.required, 'required'), 'netPositions'].sort());
    for (const name of Object.keys(properties)) expect(withoutDescriptions(detailProperties[name]), name).toEqual(withoutDescriptions(properties[name]));
  });

  it('documents window reads, as JSON and as CSV, exactly as getSettlementWindow renders the windows of its examples', async () => {
    const route = API_ROUTES.find((candidate) => candidate.operation === 'getSettlementWindow');
    if (route === undefined) throw new Error('no getSettlementWindow route');
    const ok = responsesOf(operationOf(route)).find(([code]) => code === '200')?.[1];
    const content = asObject(ok?.content, 'getSettlementWindow 200 content');
    const examplesByName = (media: string): Map<string, unknown> =>
      new Map(Object.entries(asObject(asObject(content[media], media).examples, `${media} examples`)).map(([name, example]) => [name, asObject(deref(example), name).value]));
    const render = (example: Json, accept?: string) => {
      const text = (name: string): string => String(example[name]);
      const windowId = text('windowId');
      const currency = text('currency') as CurrencyCode;
      const window: SettlementWindow = {
        windowId,
        currency,
        sequence: Number(windowId.slice(4)),
        state: text('state') as SettlementWindow['state'],
        openedAt: text('openedAt'),
        ...(example.closedAt !== undefined ? { closedAt: text('closedAt') } : {}),
        ...(example.settledAt !== undefined ? { settledAt: text('settledAt') } : {}),
        transferCount: Number(example.transferCount),
        grossMinor: BigInt(Number(example.grossAmount)),
        participants: asArray(example.participants, 'participants').map(String),
        ...(example.instructionCount !== undefined ? { instructionCount: Number(example.instructionCount), instructionsRecorded: Number(example.instructionsRecorded) } : {}),
      };
      const positions = new Map(
        asArray(example.netPositions, 'netPositions').map((entry) => {
          const line = asObject(entry, 'net position');
          return [String(line.institutionId), BigInt(Number(line.position))] as const;
        }),
      );
      const lines = asArray(example.instructions ?? [], 'instructions').map((entry) => {
        const line = asObject(entry, 'instruction');
        const instruction = { institutionId: String(line.institutionId), direction: String(line.direction) as 'PAY' | 'RECEIVE', amountMinor: BigInt(Number(line.amount)) };
        return { instruction, recordedAt: typeof line.recordedAt === 'string' ? line.recordedAt : undefined };
      });
      const reportOf = example.report === undefined ? undefined : asObject(example.report, 'report');
      const report: SettlementReport | undefined =
        reportOf === undefined
          ? undefined
          : {
              windowId,
              currency,
              status: String(reportOf.status) as SettlementReport['status'],
              transferCount: window.transferCount,
              grossMinor: window.grossMinor,
              positions,
              instructions: lines.map((line) => line.instruction),
              createdAt: String(reportOf.createdAt),
            };
      const recorded: RecordedInstruction[] = lines.flatMap(({ instruction, recordedAt }) => (recordedAt === undefined ? [] : [{ ...instruction, recordedAt }]));
      const store = {
        getWindow: (id: string) => Promise.resolve(id === windowId ? window : undefined),
        getReport: () => Promise.resolve(report),
        positions: () => Promise.resolve(new Map(positions)),
        recordedInstructions: () => Promise.resolve(recorded),
      };
      const deps = { settlement: { store: store as unknown as DynamoSettlementStore } } as unknown as ApiDependencies;
      const path = `/v1/settlement-windows/${windowId}`;
      const event = proxyEvent({ method: 'GET', path, headers: accept === undefined ? {} : { Accept: accept }, userArn: 'arn:aws:iam::123456789012:user/ops' });
      return getSettlementWindow({ event, pathParameters: { id: windowId }, channel: 'ADMIN', deps, now: new Date() });
    };
    const jsonExamples = examplesByName('application/json');
    const csvExamples = examplesByName('text/csv');
    const csvDescription = String(asObject(asObject(content['text/csv'], 'text/csv').schema, 'text/csv schema').description);

    expect(jsonExamples.size).toBeGreaterThan(0);
    for (const [name, example] of jsonExamples) {
      const result = await render(asObject(example, name));
      expect(result.headers?.['content-type'], name).toBe('application/json');
      expect(JSON.parse(result.body), name).toEqual(example);
    }
    expect(csvExamples.size).toBeGreaterThan(0);
    for (const [name, csv] of csvExamples) {
      const window = asObject(jsonExamples.get(name), `the JSON example ${name} the CSV example ${name} renders`);
      const result = await render(window, 'text/csv');
      expect(result.headers, name).toEqual({ 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="settlement-${String(window.windowId)}.csv"` });
      expect(result.body, name).toBe(csv);
      expect(csvDescription, 'the documented header row').toContain(`\`${result.body.split('\r\n')[0] ?? ''}\``);
    }
  });

  it('declares exactly the query parameters the code accepts, required as the code requires them, with its page sizes, and no query parameters elsewhere', () => {
    const queryOf = (route: (typeof API_ROUTES)[number]): Json[] => parametersOf(operationOf(route)).filter((parameter) => parameter.in === 'query');
    // Currency samples avoid codes of the right shape that are not active (XAU): the pattern
    // cannot list the active codes; the currency test checks every active one matches it.
    const currencies = ['EUR', 'JPY', 'eur', 'EURO', 'E1R', ''];
    const cursors = ['', 'c', 'c'.repeat(2048), 'c'.repeat(2049)];
    const routeQueries: Record<string, { schema: z.ZodObject; base: Record<string, string>; page?: { max: number; default: number }; samples: [string, string[]][] }> = {
      listAlerts: {
        schema: ListAlertsQuery,
        base: {},
        page: { max: ALERT_PAGE_SIZE_MAX, default: ALERT_PAGE_SIZE_DEFAULT },
        samples: [
          ['accountId', ['acc-alice', 'a', 'fund-bank-a-eur', 'acc alice', 'x'.repeat(64), 'x'.repeat(65)]],
          ['severity', [...SEVERITIES, 'low', 'APOCALYPTIC', '']],
          ['status', [...ALERT_STATUSES, 'CLOSED', 'open']],
          ['cursor', cursors],
        ],
      },
      getInstitutionPosition: { schema: PositionQuery, base: { currency: 'EUR' }, samples: [['currency', currencies]] },
      listSettlementWindows: {
        schema: ListWindowsQuery,
        base: {},
        page: { max: WINDOW_PAGE_SIZE_MAX, default: WINDOW_PAGE_SIZE_DEFAULT },
        samples: [
          ['currency', currencies],
          ['state', [...WINDOW_STATES, 'open', 'RESOLVED', '']],
          ['cursor', cursors],
        ],
      },
    };

    expect(Object.keys(routeQueries).filter((operation) => !API_ROUTES.some((route) => route.operation === operation))).toEqual([]);
    for (const route of API_ROUTES) {
      const declared = queryOf(route);
      const query = routeQueries[route.operation];
      if (query === undefined) {
        expect(declared, route.path).toEqual([]);
        continue;
      }
      const where = `${route.method} ${route.path}`;
      const shape = query.schema.shape as Record<string, z.ZodType | undefined>;
      const byName = new Map(declared.map((parameter) => [String(parameter.name), asObject(deref(parameter.schema), `${String(parameter.name)} schema`)]));
      const invalidQuery = responsesOf(operationOf(route)).find(([code]) => code === '400')?.[1];
      const problemExamples = examplesOf(asObject(asObject(invalidQuery?.content ?? {}, '400 content')[PROBLEM_CONTENT_TYPE], '400 problem'));

      expect(declared.map((parameter) => parameter.name).sort(), where).toEqual(Object.keys(shape).sort());
      for (const parameter of declared) {
        expect(parameter.required ?? false, `${where} ${String(parameter.name)}`).toBe(shape[String(parameter.name)]?.safeParse(undefined).success !== true);
      }
      expect(query.schema.safeParse(query.base).success, `${where} accepts its required parameters alone`).toBe(true);
      expect(query.schema.safeParse({ ...query.base, colour: 'red' }).success, `${where} refuses unknown parameters`).toBe(false);
      if (query.page === undefined) expect(byName.has('limit'), where).toBe(false);
      else expect(byName.get('limit'), where).toMatchObject({ type: 'integer', minimum: 1, maximum: query.page.max, default: query.page.default });
      for (const [name, values] of query.samples) {
        const documented = byName.get(name);
        expect(documented, `${where} ${name}`).toBeDefined();
        expect(values.map((value) => violations(value, documented).length === 0), `${where} ${name}`).toEqual(
          values.map((value) => query.schema.safeParse({ ...query.base, [name]: value }).success),
        );
      }
      expect(problemExamples.map((example) => asObject(example, 'example').type), where).toContain(`${PROBLEM_TYPE_BASE}invalid-query`);
    }
  });

  it('describes each request body with the fields, required set and strictness of its zod schema', () => {
    for (const route of API_ROUTES) {
      const body = bodySchemaOf(operationOf(route));
      const zodBody = (ROUTE_BODIES as Partial<Record<string, z.ZodObject>>)[route.operation];
      if (body === undefined || zodBody === undefined) {
        expect(body === undefined && zodBody === undefined, `${route.path}: body documented iff the code parses one`).toBe(true);
        continue;
      }
      const shape = zodBody.shape as Record<string, z.ZodType | undefined>;
      const fields = Object.keys(shape);
      const required = fields.filter((name) => shape[name]?.safeParse(undefined).success !== true);

      expect(body.schema.additionalProperties, route.path).toBe(false);
      expect(Object.keys(asObject(body.schema.properties, 'properties')).sort(), route.path).toEqual([...fields].sort());
      expect(asArray(body.schema.required, 'required').slice().sort(), route.path).toEqual([...required].sort());
    }
  });

  it('gives request examples the code accepts and response examples that fit their schemas', () => {
    for (const route of API_ROUTES) {
      const operation = operationOf(route);
      const body = bodySchemaOf(operation);
      const zodBody = (ROUTE_BODIES as Partial<Record<string, z.ZodObject>>)[route.operation];
      for (const example of body === undefined ? [] : examplesOf(body.media)) {
        expect(zodBody?.safeParse(example).success, `${route.path} request example ${JSON.stringify(example)}`).toBe(true);
        expect(violations(example, body?.schema), route.path).toEqual([]);
      }
      for (const [code, response] of responsesOf(operation)) {
        const media = asObject(response.content ?? {}, 'content')['application/json'];
        if (media === undefined) continue;
        const examples = examplesOf(asObject(media, `${route.path} ${code}`));
        expect(examples.length, `${route.path} ${code} has examples`).toBeGreaterThan(0);
        for (const example of examples) expect(violations(example, asObject(media, 'media').schema), `${route.path} ${code}`).toEqual([]);
      }
    }
  });

  it('resolves every $ref to a node inside the document', () => {
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) (node as unknown[]).forEach(walk);
      else if (isObject(node)) {
        if (typeof node.$ref === 'string') refs.push(node.$ref);
        Object.values(node).forEach(walk);
      }
    };
    walk(doc);

    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) expect(() => atPointer(ref), ref).not.toThrow();
  });
});
