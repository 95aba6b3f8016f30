// Proves docs/openapi.yaml describes the code: its routes, auth and admin roles, the request
// signature profile (with worked examples the verifier accepts), the problem catalogue and where
// each problem is answered, limits, patterns and enums match the implementation, the views it
// describes have exactly the fields the code renders for each audience, its examples are ones the
// code accepts (or, for body problems, produces), and every $ref resolves.
import { InMemoryClientStore } from '../../lambdas/adapters/memory/client-store.js';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { parse } from 'yaml';
import type { DynamoSettlementStore, RecordedInstruction, SettlementReport } from '../../lambdas/adapters/dynamodb/settlement-store.js';
import { createClient, listClients, revokeClient, rotateClientKey } from '../../lambdas/api/client-operations.js';
import { API_BODY_BYTES_MAX, jsonBody, stringifyWithBigInts } from '../../lambdas/api/http.js';
import type { ApiDependencies, Caller, OperationInput } from '../../lambdas/api/operations.js';
import { ApiProblem, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, PROBLEM_TYPES, problemDocument } from '../../lambdas/api/problems.js';
import { accountView, alertView, creditorSideView, decidedTransactionView, receivedTransactionView, type TransactionView } from '../../lambdas/api/representations.js';
import { matchPathTemplate } from '../../lambdas/api/router.js';
import {
  ALERT_PAGE_SIZE_DEFAULT,
  ALERT_PAGE_SIZE_MAX,
  AwaitingConfirmationQuery,
  CloseWindowBody,
  ConfirmSettlementBody,
  CreateClientBody,
  DepositBody,
  IDEMPOTENCY_KEY_LENGTH_MAX,
  IDEMPOTENCY_KEY_PATTERN,
  ListAlertsQuery,
  ListWindowsQuery,
  NET_DEBIT_CAP_MAX,
  OpenAccountBody,
  parseBody,
  PositionQuery,
  ResolveAlertBody,
  RotateKeyBody,
  SetLimitsBody,
  SubmitTransactionBody,
  WINDOW_PAGE_SIZE_DEFAULT,
  WINDOW_PAGE_SIZE_MAX,
} from '../../lambdas/api/schemas.js';
import { getSettlementWindow, setInstitutionLimits, windowView } from '../../lambdas/api/settlement-operations.js';
import { parseStrictJson } from '../../lambdas/api/strict-json.js';
import { REFERENCE_LENGTH_MAX } from '../../lambdas/core/events/envelope.js';
import { ACCOUNT_ID_PATTERN, ACCOUNT_STATUSES, INSTITUTION_ID_PATTERN, isFundingAccountId, type Account } from '../../lambdas/core/ledger/account.js';
import { REJECTION_REASONS, TRANSFER_CHANNELS, TRANSFER_ID_PATTERN, type TransferRecord, type TransferRequest } from '../../lambdas/core/ledger/transfer.js';
import { AMOUNT_MINOR_MAX, OVERDRAFT_LIMIT_MINOR_MAX } from '../../lambdas/core/money/amount.js';
import { CURRENCY_CODES, type CurrencyCode } from '../../lambdas/core/money/currency.js';
import { ALERT_ID_PATTERN, ALERT_RESOLUTIONS, ALERT_STATUSES, FREEZE_OUTCOMES, RESOLUTION_NOTE_LENGTH_MAX, type AlertRecord } from '../../lambdas/core/risk/alerts.js';
import { RULE_IDS } from '../../lambdas/core/risk/rules.js';
import { SEVERITIES } from '../../lambdas/core/risk/severity.js';
import { WINDOW_ID_PATTERN, WINDOW_STATES, type SettlementWindow } from '../../lambdas/core/settlement/window.js';
import {
  ADMIN_ROLES,
  CLIENT_CHANNELS,
  CLIENT_ID_PATTERN,
  CLIENT_KEYS_MAX,
  CLIENT_STATUSES,
  CLIENTS_LISTED_MAX,
  KEY_GRACE_SECONDS_DEFAULT,
  KEY_GRACE_SECONDS_MAX,
  KEY_ID_PATTERN,
  type Actor,
  type AdminRole,
} from '../../lambdas/core/trust/api-client.js';
import {
  canonicalQuery,
  contentDigest,
  parseSignature,
  requiredComponents,
  SIGNATURE_CLOCK_SKEW_SECONDS,
  SIGNATURE_HEADER_LENGTH_MAX,
  signatureBase,
  verifyContentDigest,
  verifySignature,
  type SignedRequest,
} from '../../lambdas/core/trust/http-signature.js';
import { PROBLEM_RESPONSES, problemTemplate } from '../../lib/constructs/problem-responses.js';
import { LocalUsageKeys } from '../../lib/local/usage-keys.js';
import { API_ROUTES } from '../../contract/topology.js';
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

function asString(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new Error(`${where} is not a string`);
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
const securityScheme = (name: string): Json => asObject(deref(atPointer(`#/components/securitySchemes/${name}`)), `security scheme ${name}`);

type Route = (typeof API_ROUTES)[number];

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

function operationOf(route: Route): Json {
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

/** The problem type slugs a documented error answer gives examples of. */
function problemSlugsOf(response: Json): string[] {
  const media = asObject(response.content ?? {}, 'content')[PROBLEM_CONTENT_TYPE];
  if (media === undefined) return [];
  return examplesOf(asObject(media, 'problem media')).map((example) => String(asObject(example, 'problem example').type).slice(PROBLEM_TYPE_BASE.length));
}

/** The documented headers of an answer, by name, dereferenced. */
function headersOf(response: Json | undefined): Map<string, Json> {
  return new Map(Object.entries(asObject(response?.headers ?? {}, 'headers')).map(([name, header]) => [name, asObject(deref(header), name)]));
}

function responseOf(route: Route, code: string): Json | undefined {
  return responsesOf(operationOf(route)).find(([status]) => status === code)?.[1];
}

function routeOf(operation: Route['operation']): Route {
  const route = API_ROUTES.find((candidate) => candidate.operation === operation);
  if (route === undefined) throw new Error(`no route ${operation}`);
  return route;
}

const ROUTE_BODIES = {
  submitTransaction: SubmitTransactionBody,
  openAccount: OpenAccountBody,
  depositFunds: DepositBody,
  createClient: CreateClientBody,
  rotateClientKey: RotateKeyBody,
  resolveAlert: ResolveAlertBody,
  setInstitutionLimits: SetLimitsBody,
  closeSettlementWindow: CloseWindowBody,
  confirmSettlement: ConfirmSettlementBody,
} as const satisfies Partial<Record<Route['operation'], z.ZodObject>>;

const hasBody = (route: Route): boolean => Object.hasOwn(ROUTE_BODIES, route.operation);

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
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) problems.push(`${where}: more than maxItems`);
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

  it('secures IAM routes with the sigv4 scheme and client routes with both the x-api-key and the request signature schemes', () => {
    const schemes = asObject(asObject(asObject(doc, 'spec').components, 'components').securitySchemes, 'securitySchemes');
    // One requirement object holding both schemes: a client route needs the key AND the signature.
    const expected = { iam: [{ sigv4: [] }], client: [{ apiKey: [], httpSignature: [] }] } as const;

    expect(Object.keys(schemes).sort()).toEqual(['apiKey', 'httpSignature', 'sigv4']);
    expect(schemes.apiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-api-key' });
    expect(schemes.httpSignature).toMatchObject({ type: 'apiKey', in: 'header', name: 'Signature' });
    expect(schemes.sigv4).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization' });
    expect(asObject(doc, 'spec').security, 'the default security').toEqual(expected.client);
    for (const route of API_ROUTES) expect(operationOf(route).security, `${route.method} ${route.path}`).toEqual(expected[route.auth]);
  });

  it('names the admin role of every IAM route as API_ROUTES gives it, in x-admin-role and the description, and none on client routes', () => {
    const sigv4 = String(securityScheme('sigv4').description);
    const actorRole = asObject(asObject(schema('Actor').properties, 'Actor properties').role, 'Actor role');

    expect(schema('AdminRole').enum).toEqual([...ADMIN_ROLES]);
    expect(actorRole.$ref).toBe('#/components/schemas/AdminRole');
    for (const role of ADMIN_ROLES) expect(sigv4, `the sigv4 scheme names the ${role} role`).toContain(`\`${role}\``);
    for (const route of API_ROUTES) {
      const operation = operationOf(route);
      const where = `${route.method} ${route.path}`;
      if (route.auth === 'iam') {
        expect(operation['x-admin-role'], where).toBe(route.role);
        expect(String(operation.description), where).toContain(`The \`${route.role}\` admin role`);
      } else {
        expect(Object.hasOwn(operation, 'x-admin-role'), where).toBe(false);
      }
    }
  });

  it('documents 401 exactly on client routes, and 403, 429 and 500 on every route', () => {
    for (const route of API_ROUTES) {
      const codes = responsesOf(operationOf(route)).map(([code]) => code);

      expect(codes.includes('401'), `${route.method} ${route.path} documents 401`).toBe(route.auth === 'client');
      expect(codes, `${route.method} ${route.path}`).toEqual(expect.arrayContaining(['403', '429', '500']));
    }
  });

  it('declares Signature-Input on client routes, and Content-Digest required exactly where the signature profile requires it, and neither on IAM routes', () => {
    const signatureInput = asObject(deref(atPointer('#/components/parameters/SignatureInput')), 'SignatureInput');

    expect(asObject(signatureInput.schema, 'Signature-Input schema')).toMatchObject({ type: 'string', maxLength: SIGNATURE_HEADER_LENGTH_MAX });
    for (const route of API_ROUTES) {
      const where = `${route.method} ${route.path}`;
      const headers = new Map(parametersOf(operationOf(route)).filter((parameter) => parameter.in === 'header').map((parameter) => [String(parameter.name).toLowerCase(), parameter]));
      // A request of this route's method with no optional header: what the verifier demands of it.
      const bare: SignedRequest = { method: route.method, path: route.path, query: '?', header: () => undefined };
      if (route.auth === 'client') {
        expect(headers.get('signature-input')?.required, where).toBe(true);
        expect(headers.has('content-digest'), `${where} documents Content-Digest`).toBe(true);
        expect(headers.get('content-digest')?.required ?? false, `${where} Content-Digest required`).toBe(requiredComponents(bare).includes('content-digest'));
      } else {
        expect([...headers.keys()].filter((name) => name === 'signature-input' || name === 'content-digest'), where).toEqual([]);
      }
      expect(headers.has('signature'), `${where}: Signature is the httpSignature scheme's header, not a parameter`).toBe(false);
    }
  });

  it("states the signature profile's limits and gives worked examples the verifier accepts, with their exact signature bases", () => {
    const scheme = securityScheme('httpSignature');
    const description = String(scheme.description);
    const examples = asArray(scheme['x-signature-examples'], 'x-signature-examples').map((example) => asObject(example, 'signature example'));
    const signatureInputExample = String(asObject(deref(atPointer('#/components/parameters/SignatureInput')), 'SignatureInput').example);
    const digestExample = String(asObject(deref(atPointer('#/components/parameters/ContentDigest')), 'ContentDigest').example);
    const signatureInputs: string[] = [];
    const digests: string[] = [];

    expect(description).toContain(`±${SIGNATURE_CLOCK_SKEW_SECONDS} s`);
    expect(description).toContain(`${SIGNATURE_HEADER_LENGTH_MAX} characters`);
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) {
      const request = asObject(example.request, 'example request');
      const headers = asObject(request.headers, 'example headers');
      const where = String(example.summary);
      const header = (name: string): string | undefined => {
        const value = headers[name.toLowerCase()];
        return value === undefined ? undefined : asString(value, `${where} header ${name}`);
      };
      const signed: SignedRequest = { method: String(request.method), path: String(request.path), query: String(request.query), header };
      const parsed = parseSignature(signed);
      const publicKey = createPublicKey(String(example.publicKey));
      const unstaged = signed.path.replace(/^\/[a-z]+(?=\/v1\/)/, '');

      expect(Object.keys(headers).filter((name) => name !== name.toLowerCase()), `${where}: header names in lower case`).toEqual([]);
      expect(
        API_ROUTES.some((route) => route.auth === 'client' && route.method === signed.method && matchPathTemplate(route.path, unstaged) !== undefined),
        `${where} is a client route`,
      ).toBe(true);
      expect(signed.query, where).toBe(canonicalQuery([...new URLSearchParams(signed.query.slice(1)).entries()]));
      expect(parsed.keyId, where).toBe(example.keyId);
      expect(KEY_ID_PATTERN.test(parsed.keyId), where).toBe(true);
      expect(parsed.components, where).toEqual(requiredComponents(signed));
      expect(signatureBase(parsed.components, signed, parsed.signatureParams), where).toBe(example.signatureBase);
      expect(() => verifySignature(parsed, signed, publicKey, parsed.createdEpochSeconds), where).not.toThrow();
      expect(() => verifySignature(parsed, signed, publicKey, parsed.createdEpochSeconds + SIGNATURE_CLOCK_SKEW_SECONDS + 1), `${where} expires`).toThrow();
      if (request.body === undefined) {
        expect(header('content-digest'), where).toBeUndefined();
      } else {
        const text = asString(request.body, `${where} body`);
        const body = Buffer.from(text, 'utf8');
        expect(header('content-digest'), where).toBe(contentDigest(body));
        expect(() => verifyContentDigest(header('content-digest'), body), where).not.toThrow();
        expect(SubmitTransactionBody.safeParse(parseStrictJson(text)).success, `${where}: a body the code accepts`).toBe(true);
        digests.push(contentDigest(body));
      }
      signatureInputs.push(String(header('signature-input')));
    }
    expect(description, 'the Signature-Input shown in the description is a worked example').toContain(`Signature-Input: ${signatureInputs[0] ?? '?'}`);
    expect(signatureInputs, 'the Signature-Input parameter example').toContain(signatureInputExample);
    expect(digests, 'the Content-Digest parameter example').toContain(digestExample);
  });

  it('documents 400, 409 and a required Idempotency-Key exactly on the routes that take one, and 413/415/422 on routes with a body', () => {
    for (const route of API_ROUTES) {
      const operation = operationOf(route);
      const codes = responsesOf(operation).map(([code]) => code);
      const key = parametersOf(operation).find((parameter) => parameter.in === 'header' && parameter.name === 'Idempotency-Key');
      const takesKey = route.operation === 'submitTransaction' || route.operation === 'depositFunds' || route.operation === 'closeSettlementWindow';

      expect(key?.required ?? false, `${route.path} Idempotency-Key`).toBe(takesKey);
      if (takesKey) expect(codes).toEqual(expect.arrayContaining(['400', '409']));
      expect(operation.requestBody !== undefined, `${route.path} body`).toBe(hasBody(route));
      if (hasBody(route)) expect(codes).toEqual(expect.arrayContaining(['400', '413', '415', '422']));
    }
  });

  it('lists every problem type of the catalogue and the gateway, with the status and title the code gives it, and exemplifies every catalogue type', () => {
    const documented = documentedProblemTypes();
    const expectedSlugs = new Set([...Object.keys(PROBLEM_TYPES), ...gatewayTitles.keys()]);
    const components = asObject(asObject(asObject(doc, 'spec').components, 'components').responses, 'responses');
    const exemplified = new Set([
      ...operations().flatMap(({ operation }) => responsesOf(operation).flatMap(([, response]) => problemSlugsOf(response))),
      ...Object.values(components).flatMap((response) => problemSlugsOf(asObject(deref(response), 'component response'))),
    ]);

    expect(documented.map((entry) => entry.slug).sort()).toEqual([...expectedSlugs].sort());
    expect(Object.keys(PROBLEM_TYPES).filter((slug) => !exemplified.has(slug)), 'catalogue types without an example answer').toEqual([]);
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
    // Answers that belong to no route: a wrong method, and the local gateway's HTTP parser refusals.
    const documentedResponses: [string, string, Json][] = [
      ...operations().flatMap(({ method, path, operation }) => responsesOf(operation).map(([code, response]): [string, string, Json] => [`${method} ${path}`, code, response])),
      ['components', '405', asObject(components.MethodNotAllowed, 'MethodNotAllowed')],
      ['components', '400', asObject(components.BadHttpRequest, 'BadHttpRequest')],
      ['components', '431', asObject(components.HeadersTooLarge, 'HeadersTooLarge')],
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

  it('places the authentication, body and authorisation problem types on exactly the routes that can answer them', () => {
    const client = (route: Route): boolean => route.auth === 'client';
    const placement: Readonly<Record<string, (route: Route) => boolean>> = {
      // The signature is verified on every client request, with or without a body.
      'signature-required': client,
      'invalid-signature': client,
      'signature-expired': client,
      'content-digest-mismatch': client,
      'invalid-api-key': client,
      forbidden: (route) => route.auth === 'iam',
      // Only a parsed body can be malformed or repeat a member.
      'malformed-json': hasBody,
      'duplicate-json-member': hasBody,
      'debtor-not-permitted': (route) => route.operation === 'submitTransaction',
      'client-revoked': (route) => route.operation === 'rotateClientKey',
      // The local gateway's refusals of malformed HTTP belong to no route.
      'bad-request': () => false,
      'headers-too-large': () => false,
    };

    expect(Object.keys(placement).filter((slug) => !Object.hasOwn(PROBLEM_TYPES, slug))).toEqual([]);
    for (const route of API_ROUTES) {
      const slugs = new Set(responsesOf(operationOf(route)).flatMap(([, response]) => problemSlugsOf(response)));
      for (const [slug, answers] of Object.entries(placement)) expect(slugs.has(slug), `${route.method} ${route.path} ${slug}`).toBe(answers(route));
      if (route.auth === 'client') {
        const unauthorised = responseOf(route, '401');
        const catalogued401 = Object.entries(PROBLEM_TYPES).filter(([, entry]) => entry.status === 401).map(([slug]) => slug);
        expect(new Set(problemSlugsOf(unauthorised ?? {})), `${route.path} exemplifies every 401 type`).toEqual(new Set(catalogued401));
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

  it('documents the Location, Idempotent-Replayed, Retry-After, Cache-Control and WWW-Authenticate headers on the answers that carry them', () => {
    const names = (operation: Route['operation'], code: string): string[] => [...headersOf(responseOf(routeOf(operation), code)).keys()].sort();
    const wwwAuthenticate = asObject(deref(atPointer('#/components/headers/WwwAuthenticate')), 'WwwAuthenticate');
    const noStore = asObject(deref(atPointer('#/components/headers/NoStore')), 'NoStore');

    expect(names('submitTransaction', '202')).toEqual(['Idempotent-Replayed', 'Location']);
    expect(names('depositFunds', '201')).toEqual(['Idempotent-Replayed', 'Location']);
    expect(names('openAccount', '201')).toEqual(['Location']);
    expect(names('submitTransaction', '503')).toEqual(['Retry-After']);
    expect(names('depositFunds', '503')).toEqual(['Retry-After']);
    expect(names('resolveAlert', '200')).toEqual(['Idempotent-Replayed']);
    expect(names('unfreezeAccount', '200')).toEqual(['Idempotent-Replayed']);
    expect(names('createClient', '201')).toEqual(['Cache-Control', 'Location']);
    expect(names('rotateClientKey', '200')).toEqual(['Cache-Control']);
    expect(names('revokeClient', '200')).toEqual(['Idempotent-Replayed']);
    expect(noStore).toMatchObject({ required: true, schema: { const: 'no-store' } });
    expect(wwwAuthenticate).toMatchObject({ required: true, schema: { const: 'Signature' } });
    for (const route of API_ROUTES) {
      const where = `${route.method} ${route.path}`;
      // Every 401 is a refused signature; only a client's throttle (locally) says when to retry.
      expect([...headersOf(responseOf(route, '401')).keys()], `${where} 401`).toEqual(route.auth === 'client' ? ['WWW-Authenticate'] : []);
      expect([...headersOf(responseOf(route, '429')).keys()], `${where} 429`).toEqual(route.auth === 'client' ? ['Retry-After'] : []);
    }
  });

  it("states the code's limits: amount, overdraft limit, Net Debit Cap, reference length, resolution note, body size, Idempotency-Key and client keys", () => {
    const idempotencyKey = asObject(deref(atPointer('#/components/parameters/IdempotencyKey')), 'IdempotencyKey');
    const keySchema = asObject(idempotencyKey.schema, 'IdempotencyKey schema');
    const codeKeyMax = IDEMPOTENCY_KEY_LENGTH_MAX;
    const overdraft = asObject(asObject(schema('OpenAccountRequest').properties, 'properties').overdraftLimit, 'overdraftLimit');
    const everyCharacter = Array.from({ length: 0x300 }, (_, code) => `key${String.fromCodePoint(code)}`);
    const samples = ['', 'k', ' k', 'k ', 'k k', 'k'.repeat(255), 'k'.repeat(256), ...everyCharacter];
    const documentedAccepts = (key: string): boolean => violations(key, keySchema).length === 0;
    const note = asObject(asObject(schema('ResolveAlertRequest').properties, 'properties').note, 'note');
    const notes = ['', ' ', '\t\n', '\u00a0', 'x', ' x ', 'n'.repeat(RESOLUTION_NOTE_LENGTH_MAX), 'n'.repeat(RESOLUTION_NOTE_LENGTH_MAX + 1)];
    const codeAcceptsNote = (text: string): boolean => ResolveAlertBody.safeParse({ resolution: 'FALSE_POSITIVE', note: text }).success;
    const cap = asObject(asObject(schema('SetLimitsRequest').properties, 'properties').netDebitCap, 'netDebitCap');
    const grace = asObject(asObject(schema('RotateKeyRequest').properties, 'properties').previousKeyValidSeconds, 'previousKeyValidSeconds');
    const publicKey = schema('PublicKeyPem');
    const pems = ['', 'k', 'k'.repeat(1024), 'k'.repeat(1025)];
    const codeAcceptsPem = (pem: string): boolean => [CreateClientBody.safeParse({ channel: 'WEB', publicKey: pem }), RotateKeyBody.safeParse({ publicKey: pem })].every((result) => result.success);
    // Numbers as the client writes them: the code parses them strictly (never through a double),
    // so each literal goes through the body parser, as jsonBody does.
    const numberFields: { name: string; node: Json; accepts: (literal: string) => boolean; max: number }[] = [
      { name: 'amount', node: schema('Amount'), accepts: (literal) => DepositBody.safeParse(parseStrictJson(`{"currency":"EUR","amount":${literal}}`)).success, max: AMOUNT_MINOR_MAX },
      {
        name: 'overdraftLimit',
        node: overdraft,
        accepts: (literal) => OpenAccountBody.safeParse(parseStrictJson(`{"institutionId":"bank-a","currency":"EUR","overdraftLimit":${literal}}`)).success,
        max: OVERDRAFT_LIMIT_MINOR_MAX,
      },
      { name: 'netDebitCap', node: cap, accepts: (literal) => SetLimitsBody.safeParse(parseStrictJson(`{"currency":"EUR","netDebitCap":${literal}}`)).success, max: NET_DEBIT_CAP_MAX },
      { name: 'previousKeyValidSeconds', node: grace, accepts: (literal) => RotateKeyBody.safeParse(parseStrictJson(`{"previousKeyValidSeconds":${literal}}`)).success, max: KEY_GRACE_SECONDS_MAX },
    ];

    expect(schema('Amount')).toMatchObject({ type: 'integer', minimum: 1, maximum: AMOUNT_MINOR_MAX });
    expect(overdraft).toMatchObject({ type: 'integer', minimum: 0, maximum: OVERDRAFT_LIMIT_MINOR_MAX });
    expect(schema('Reference')).toMatchObject({ type: 'string', minLength: 1, maxLength: REFERENCE_LENGTH_MAX });
    expect(keySchema).toMatchObject({ type: 'string', minLength: 1, maxLength: 255 });
    expect(codeKeyMax).toBe(255);
    expect(samples.map(documentedAccepts)).toEqual(samples.map((key) => IDEMPOTENCY_KEY_PATTERN.test(key)));
    expect(note).toMatchObject({ type: 'string', minLength: 1, maxLength: RESOLUTION_NOTE_LENGTH_MAX });
    expect(notes.map((text) => violations(text, note).length === 0)).toEqual(notes.map(codeAcceptsNote));
    expect(cap).toMatchObject({ type: 'integer', minimum: 0, maximum: NET_DEBIT_CAP_MAX });
    expect(grace).toMatchObject({ type: 'integer', minimum: 0, maximum: KEY_GRACE_SECONDS_MAX, default: KEY_GRACE_SECONDS_DEFAULT });
    for (const field of numberFields) {
      // Literals whose value settles the question: the documented schema and the code agree.
      const literals = ['-1', '0', '1', '0.5', '-0.5', String(field.max), String(field.max + 1), '"5"', 'null', 'true', '[1]'];
      expect(literals.map((literal) => violations(JSON.parse(literal), field.node).length === 0), field.name).toEqual(literals.map(field.accepts));
      // Whole values written with a fraction or an exponent: a JSON Schema integer, but refused
      // by the code, which the description must say.
      const notPlain = ['1.0', '100.00', '1e2', '1E2', '1.0E+3', '10e-1'];
      expect(notPlain.filter(field.accepts), `${field.name} accepts only plain integer literals`).toEqual([]);
      expect(String(field.node.description), field.name).toMatch(/plain JSON integer literal/);
    }
    expect(publicKey).toMatchObject({ type: 'string', minLength: 1, maxLength: 1024 });
    expect(pems.map((pem) => violations(pem, publicKey).length === 0)).toEqual(pems.map(codeAcceptsPem));
    expect(asObject(asObject(schema('ClientView').properties, 'ClientView properties').keys, 'keys')).toMatchObject({ minItems: 1, maxItems: CLIENT_KEYS_MAX });
    expect(asObject(asObject(schema('ClientPage').properties, 'ClientPage properties').clients, 'clients')).toMatchObject({ maxItems: CLIENTS_LISTED_MAX });
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
    expect(schema('ClientId').pattern).toBe(CLIENT_ID_PATTERN.source);
    expect(schema('KeyId').pattern).toBe(KEY_ID_PATTERN.source);
    const currency = new RegExp(String(schema('CurrencyCode').pattern), 'u');
    expect(CURRENCY_CODES.filter((code) => !currency.test(code))).toEqual([]);
    expect(String(schema('CurrencyCode').description)).toMatch(/active/);
  });

  it('refuses exactly the funding account ids the code reserves where a customer account is required', () => {
    const ids = ['acc-alice', 'fund-bank-a-eur', 'fund-', 'funding-1', 'Fund-bank-a-eur', 'x-fund-1'];
    const documentedCustomer = (id: string): boolean => violations(id, { $ref: '#/components/schemas/CustomerAccountId' }).length === 0;

    expect(ids.map(documentedCustomer)).toEqual(ids.map((id) => ACCOUNT_ID_PATTERN.test(id) && !isFundingAccountId(id)));
  });

  it('lists the rejection reasons, channels, client channels and statuses, transaction statuses and account statuses of the code', () => {
    const transaction = asObject(schema('Transaction').properties, 'Transaction properties');
    const client = asObject(schema('ClientView').properties, 'ClientView properties');

    expect(schema('ClientChannel').enum).toEqual([...CLIENT_CHANNELS]);
    expect(schema('ClientStatus').enum).toEqual([...CLIENT_STATUSES]);
    expect(asObject(client.channel, 'channel').$ref).toBe('#/components/schemas/ClientChannel');
    expect(asObject(client.status, 'status').$ref).toBe('#/components/schemas/ClientStatus');
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

  it('describes accounts, transactions and alerts with exactly the fields their views give each audience', () => {
    const actor = (role: AdminRole): Actor => ({ role, principal: `arn:aws:iam::123456789012:user/${role}` });
    const keysOf = (value: object): string[] => Object.keys(value).sort();
    const propertiesOf = (node: Json): string[] => Object.keys(asObject(node.properties, 'properties')).sort();
    const requiredOf = (node: Json): string[] => asArray(node.required, 'required').map(String).sort();
    const asJson = (value: unknown): unknown => JSON.parse(stringifyWithBigInts(value));
    const withoutDescriptions = (node: unknown): unknown => JSON.parse(JSON.stringify(node, (key, value: unknown) => (key === 'description' ? undefined : value)));

    const leastAccount: Account = {
      accountId: 'acc-alice',
      institutionId: 'bank-a',
      currency: 'EUR',
      kind: 'CUSTOMER',
      status: 'ACTIVE',
      balanceMinor: 0n,
      overdraftLimitMinor: 0n,
      openedAt: '2025-03-01T08:00:00.000Z',
    };
    const fullAccount: Account = {
      ...leastAccount,
      balanceMinor: -12_345_678_901_234_567_890n,
      overdraftLimitMinor: 50_000n,
      frozenByAlertId: '9d1e7c3a-5b2f-8e41-a7c9-4f2d8b6e1a35.alert',
      openedBy: actor('operations'),
      statusChangedAt: '2025-03-01T13:05:44.020Z',
      statusChangedBy: actor('risk'),
      creditShards: 8,
    };
    const account = schema('Account');
    const adminAccount = schema('AdminAccount');
    const accountProperties = asObject(account.properties, 'Account properties');
    const adminProperties = asObject(adminAccount.properties, 'AdminAccount properties');

    expect(propertiesOf(account)).toEqual(keysOf(accountView(fullAccount)));
    expect(requiredOf(account)).toEqual(keysOf(accountView(leastAccount)));
    expect(propertiesOf(adminAccount)).toEqual(keysOf(accountView(fullAccount, 'admin')));
    expect(requiredOf(adminAccount)).toEqual(keysOf(accountView(leastAccount, 'admin')));
    for (const name of Object.keys(accountProperties)) expect(withoutDescriptions(adminProperties[name]), name).toEqual(withoutDescriptions(accountProperties[name]));
    for (const view of [accountView(fullAccount), accountView(leastAccount)]) expect(violations(asJson(view), account)).toEqual([]);
    for (const view of [accountView(fullAccount, 'admin'), accountView(leastAccount, 'admin')]) expect(violations(asJson(view), adminAccount)).toEqual([]);

    const request: TransferRequest = {
      transferId: '3f30fef4-1dfb-89b4-a21f-2abb8adf1cee',
      debtorAccountId: 'acc-bob',
      creditorAccountId: 'acc-shop-17',
      amountMinor: 99_999,
      currency: 'EUR',
      channel: 'POS',
      reference: 'groceries',
      requestedAt: '2025-03-01T10:02:11.000Z',
      clientId: 'cli_9w2e7r5t3y1u8i6o4p0s',
      initiatingInstitutionId: 'bank-a',
    };
    const { reference: _reference, ...unreferenced } = request;
    const rejected: TransferRecord = { ...request, status: 'REJECTED', rejectionReason: 'INSUFFICIENT_FUNDS', contentHash: 'c'.repeat(64), decidedAt: '2025-03-01T10:02:11.230Z' };
    const deposit: TransferRecord = {
      transferId: '872b04f2-ebaf-826a-b3e9-a81cfd623eee',
      debtorAccountId: 'fund-bank-a-eur',
      creditorAccountId: 'acc-alice',
      amountMinor: 500_000,
      currency: 'EUR',
      channel: 'ADMIN',
      requestedAt: '2025-03-01T08:05:00.000Z',
      initiatedBy: actor('operations'),
      status: 'POSTED',
      contentHash: 'd'.repeat(64),
      decidedAt: '2025-03-01T08:05:00.000Z',
    };
    const transaction = schema('Transaction');
    const transactionExamples = new Map(
      Object.entries(asObject(asObject(asObject(responseOf(routeOf('getTransaction'), '200')?.content, 'content')['application/json'], 'json').examples, 'examples')).map(
        ([name, example]) => [name, asObject(deref(example), name).value],
      ),
    );

    expect(propertiesOf(transaction)).toEqual(keysOf(decidedTransactionView(rejected)));
    expect(requiredOf(transaction)).toEqual(keysOf(creditorSideView(receivedTransactionView(unreferenced))));
    for (const view of [decidedTransactionView(rejected), decidedTransactionView(deposit), receivedTransactionView(request), creditorSideView(decidedTransactionView(rejected))]) {
      expect(violations(asJson(view), transaction), view.transactionId).toEqual([]);
    }
    // The creditor-side example is what the code makes of the debtor-side one.
    expect(creditorSideView(transactionExamples.get('rejected') as TransactionView)).toEqual(transactionExamples.get('creditorSide'));

    const leastAlert: AlertRecord = {
      alertId: '3f30fef4-1dfb-89b4-a21f-2abb8adf1cee.alert',
      transactionId: '3f30fef4-1dfb-89b4-a21f-2abb8adf1cee',
      accountId: 'acc-bob',
      severity: 'LOW',
      totalWeight: 10,
      rulesHit: [{ ruleId: 'LARGE_AMOUNT', weight: 10, evidence: { amountMinor: 99_999 } }],
      amountMinor: 99_999,
      currency: 'EUR',
      channel: 'POS',
      raisedAt: '2025-03-01T10:02:11.900Z',
      status: 'OPEN',
      storedAt: '2025-03-01T10:02:12.140Z',
    };
    const resolution = { resolution: 'FALSE_POSITIVE', note: 'verified', resolvedAt: '2025-03-01T12:40:18.512Z', resolvedBy: actor('risk') } as const;
    const fullAlert: AlertRecord = {
      ...leastAlert,
      status: 'RESOLVED',
      notifiedAt: '2025-03-01T10:02:12.372Z',
      freeze: { outcome: 'FROZEN', at: '2025-03-01T10:02:12.500Z' },
      frozenEventPublishedAt: '2025-03-01T10:02:12.600Z',
      resolution,
    };
    const { resolvedBy: _resolvedBy, ...anonymousResolution } = resolution;
    const alert = schema('Alert');
    const resolutionNode = asObject(asObject(alert.properties, 'Alert properties').resolution, 'resolution');

    expect(propertiesOf(alert)).toEqual(keysOf(alertView(fullAlert)));
    expect(requiredOf(alert)).toEqual(keysOf(alertView(leastAlert)));
    expect(propertiesOf(resolutionNode)).toEqual(keysOf(resolution));
    expect(requiredOf(resolutionNode)).toEqual(keysOf(anonymousResolution));
    for (const view of [alertView(fullAlert), alertView(leastAlert), alertView({ ...fullAlert, resolution: anonymousResolution })]) {
      expect(violations(asJson(view), alert)).toEqual([]);
    }
  });

  it('documents issuing, listing, rotating and revoking API clients exactly as the code answers, request examples included', async () => {
    const store = new InMemoryClientStore();
    const deps = { clients: store, usageKeys: new LocalUsageKeys({ throttle: { rateLimitPerSecond: 1, burstLimit: 1 } }) } as unknown as ApiDependencies;
    const caller: Caller = { kind: 'admin', actor: { role: 'operations', principal: 'arn:aws:iam::123456789012:user/ops' } };
    const now = new Date('2025-03-01T08:10:00.000Z');
    const call = (operation: (input: OperationInput) => Promise<APIGatewayProxyResult>, method: string, [path, pathParameters]: [string, Record<string, string>], body?: unknown) =>
      operation({ event: proxyEvent({ method, path, role: 'operations', ...(body !== undefined ? { body } : {}) }), pathParameters, caller, deps, now });
    const institutionPath: [string, Record<string, string>] = ['/v1/institutions/bank-a/clients', { id: 'bank-a' }];
    const requestExamples = (operation: Route['operation']): Map<string, unknown> => {
      const body = bodySchemaOf(operationOf(routeOf(operation)));
      if (body === undefined) throw new Error(`${operation} documents no body`);
      return new Map(Object.entries(asObject(body.media.examples, `${operation} examples`)).map(([name, example]) => [name, asObject(deref(example), name).value]));
    };
    /** The answer's JSON after checking its status and headers against the documented response. */
    const documented = (operation: Route['operation'], code: string, result: APIGatewayProxyResult, where: string): Json => {
      const response = responseOf(routeOf(operation), code);
      const headers = headersOf(response);
      const sent = Object.keys(result.headers ?? {}).filter((name) => name !== 'content-type');
      const documentedNames = [...headers.keys()].map((name) => name.toLowerCase());
      const requiredNames = [...headers].filter(([, header]) => header.required === true).map(([name]) => name.toLowerCase());

      expect(String(result.statusCode), where).toBe(code);
      expect(sent.filter((name) => !documentedNames.includes(name)), `${where}: undocumented headers`).toEqual([]);
      expect(requiredNames.filter((name) => !sent.includes(name)), `${where}: required headers not sent`).toEqual([]);
      const body = asObject(JSON.parse(result.body), where);
      const media = asObject(asObject(response?.content, `${where} content`)['application/json'], `${where} json`);
      expect(violations(body, media.schema), where).toEqual([]);
      return body;
    };
    const keysOf = (value: object): string[] => Object.keys(value).sort();
    const propertiesOf = (name: string): string[] => Object.keys(asObject(schema(name).properties, `${name} properties`)).sort();
    const requiredOf = (name: string): string[] => asArray(schema(name).required, `${name} required`).map(String).sort();
    const withoutDescriptions = (node: unknown): unknown => JSON.parse(JSON.stringify(node, (key, value: unknown) => (key === 'description' ? undefined : value)));

    const issued = new Map<string, Json>();
    for (const [name, body] of requestExamples('createClient')) {
      issued.set(name, documented('createClient', '201', await call(createClient, 'POST', institutionPath, body), `createClient ${name}`));
    }
    const generated = [...issued.values()].find((body) => Object.hasOwn(body, 'privateKey'));
    const brought = [...issued.values()].find((body) => !Object.hasOwn(body, 'privateKey'));
    if (generated === undefined || brought === undefined) throw new Error('the createClient examples must generate one key pair and bring one public key');
    const clientPath = (body: Json, action: string): [string, Record<string, string>] => [`/v1/institutions/bank-a/clients/${String(body.clientId)}/${action}`, { id: 'bank-a', clientId: String(body.clientId) }];

    const rotations = new Map<string, Json>();
    for (const [name, body] of requestExamples('rotateClientKey')) {
      rotations.set(name, documented('rotateClientKey', '200', await call(rotateClientKey, 'POST', clientPath(generated, 'rotate'), body), `rotateClientKey ${name}`));
    }
    const rotatedGenerated = [...rotations.values()].find((body) => Object.hasOwn(body, 'privateKey'));
    const rotatedBrought = [...rotations.values()].find((body) => !Object.hasOwn(body, 'privateKey'));
    if (rotatedGenerated === undefined || rotatedBrought === undefined) throw new Error('the rotateClientKey examples must generate one key pair and bring one public key');

    const revoked = documented('revokeClient', '200', await call(revokeClient, 'POST', clientPath(generated, 'revoke')), 'revokeClient');
    const replay = await call(revokeClient, 'POST', clientPath(generated, 'revoke'));
    expect(documented('revokeClient', '200', replay, 'revokeClient again')).toEqual(revoked);
    expect(replay.headers?.['idempotent-replayed']).toBe('true');
    const listed = documented('listClients', '200', await call(listClients, 'GET', institutionPath), 'listClients');
    const fresh = asArray(listed.clients, 'clients').map((client) => asObject(client, 'client')).find((client) => client.clientId === brought.clientId);
    if (fresh === undefined) throw new Error('the listing lacks the client issued with its own key');

    expect(propertiesOf('IssuedClient')).toEqual(keysOf(generated));
    expect(requiredOf('IssuedClient')).toEqual(keysOf(brought));
    expect(propertiesOf('RotatedClient')).toEqual(keysOf(rotatedGenerated));
    expect(requiredOf('RotatedClient')).toEqual(keysOf(rotatedBrought));
    expect(propertiesOf('ClientView')).toEqual(keysOf(revoked));
    expect(requiredOf('ClientView')).toEqual(keysOf(fresh));
    const view = asObject(schema('ClientView').properties, 'ClientView properties');
    for (const name of ['IssuedClient', 'RotatedClient']) {
      const properties = asObject(schema(name).properties, `${name} properties`);
      for (const field of Object.keys(properties).filter((key) => Object.hasOwn(view, key))) {
        expect(withoutDescriptions(properties[field]), `${name} ${field}`).toEqual(withoutDescriptions(view[field]));
      }
    }

    // A revoked client is not rotated: the code's problem is the one documented as 409.
    const refusal = await call(rotateClientKey, 'POST', clientPath(generated, 'rotate'), {}).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(ApiProblem);
    const conflict = problemDocument(refusal as ApiProblem);
    expect(problemSlugsOf(responseOf(routeOf('rotateClientKey'), conflict.status.toString()) ?? {})).toContain(conflict.type.slice(PROBLEM_TYPE_BASE.length));
  });

  it('gives the body problem examples that name their request body exactly the answer the code gives that body', () => {
    const examples = Object.entries(asObject(asObject(asObject(doc, 'spec').components, 'components').examples, 'examples')).map(([name, example]) => [name, asObject(example, name)] as const);
    const withBodies = examples.filter(([, example]) => example['x-request-body'] !== undefined || example['x-request-body-base64'] !== undefined);

    expect(withBodies.map(([name]) => name).sort()).toEqual(['DuplicateJsonMember', 'InvalidUtf8', 'MalformedJson', 'NonIntegerAmount', 'ValidationFailed']);
    for (const [name, example] of withBodies) {
      const base64 = example['x-request-body-base64'];
      const event = proxyEvent({ method: 'POST', path: '/v1/transactions', headers: { 'Content-Type': 'application/json' }, body: typeof base64 === 'string' ? base64 : String(example['x-request-body']) });
      const sent = typeof base64 === 'string' ? { ...event, isBase64Encoded: true } : event;
      let problem: unknown;
      try {
        parseBody(SubmitTransactionBody, jsonBody(sent));
      } catch (error) {
        problem = error;
      }
      expect(problem, name).toBeInstanceOf(ApiProblem);
      expect(problemDocument(problem as ApiProblem, '/v1/transactions'), name).toEqual(example.value);
    }
  });

  it('documents the Net Debit Cap answer exactly as setInstitutionLimits renders its examples', async () => {
    const route = routeOf('setInstitutionLimits');
    const examples = examplesOf(asObject(asObject(responseOf(route, '200')?.content, 'content')['application/json'], 'json'));

    expect(examples.length).toBeGreaterThan(0);
    for (const entry of examples) {
      const example = asObject(entry, 'limits example');
      const updatedBy = asObject(example.updatedBy, 'updatedBy');
      const institutionId = String(example.institutionId);
      const actor: Actor = { role: String(updatedBy.role) as AdminRole, principal: String(updatedBy.principal) };
      const stored: unknown[] = [];
      const store = {
        setNetDebitCap: (...args: unknown[]) => {
          stored.push(args);
          return Promise.resolve({ netDebitCapMinor: BigInt(Number(example.netDebitCap)), shardCount: Number(example.positionShards) });
        },
      };
      const deps = { settlement: { store: store as unknown as DynamoSettlementStore } } as unknown as ApiDependencies;
      const event = proxyEvent({ method: 'PUT', path: `/v1/institutions/${institutionId}/limits`, body: { currency: example.currency, netDebitCap: example.netDebitCap }, role: actor.role });
      const result = await setInstitutionLimits({ event, pathParameters: { id: institutionId }, caller: { kind: 'admin', actor }, deps, now: new Date() });

      expect(actor.role).toBe(route.auth === 'iam' ? route.role : undefined);
      expect(result.statusCode).toBe(200);
      expect(JSON.parse(result.body)).toEqual(example);
      expect(stored).toEqual([[institutionId, example.currency, BigInt(Number(example.netDebitCap)), actor, undefined]]);
    }
  });

  it('lists the window states of the code, and describes a settlement window with exactly the fields windowView gives it', () => {
    const full: SettlementWindow = {
      windowId: 'EUR-000000006',
      currency: 'EUR',
      sequence: 6,
      state: 'SETTLED',
      openedAt: '2025-03-01T05:00:00.000Z',
      closedAt: '2025-03-01T06:00:00.000Z',
      closedBy: { role: 'settlement', principal: 'arn:aws:iam::123456789012:user/settlement' },
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
    const actorOf = (value: unknown): Actor => {
      const actor = asObject(value, 'actor');
      return { role: String(actor.role) as AdminRole, principal: String(actor.principal) };
    };
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
        ...(example.closedBy !== undefined ? { closedBy: actorOf(example.closedBy) } : {}),
        ...(example.settledAt !== undefined ? { settledAt: text('settledAt') } : {}),
        transferCount: Number(example.transferCount),
        grossMinor: BigInt(Number(example.grossAmount)),
        participants: asArray(example.participants, 'participants').map(String),
        ...(example.instructionCount !== undefined
          ? { instructionCount: Number(example.instructionCount), instructionsRecorded: Number(example.instructionsRecorded), confirmationsRecorded: Number(example.confirmationsRecorded) }
          : {}),
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
        return {
          instruction,
          recordedAt: typeof line.recordedAt === 'string' ? line.recordedAt : undefined,
          confirmedAt: typeof line.confirmedAt === 'string' ? line.confirmedAt : undefined,
          confirmationReference: typeof line.confirmationReference === 'string' ? line.confirmationReference : undefined,
        };
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
      const confirmations = lines.flatMap(({ instruction, confirmedAt, confirmationReference }) =>
        confirmedAt === undefined || confirmationReference === undefined
          ? []
          : [{ ...instruction, reference: confirmationReference, confirmedAt, confirmedBy: { role: 'settlement' as const, principal: 'settlement-bank-adapter' } }],
      );
      const store = {
        getWindow: (id: string) => Promise.resolve(id === windowId ? window : undefined),
        getReport: () => Promise.resolve(report),
        positions: () => Promise.resolve(new Map(positions)),
        recordedInstructions: () => Promise.resolve(recorded),
        confirmations: () => Promise.resolve(confirmations),
      };
      const deps = { settlement: { store: store as unknown as DynamoSettlementStore } } as unknown as ApiDependencies;
      const path = `/v1/settlement-windows/${windowId}`;
      const principal = 'arn:aws:iam::123456789012:user/settlement';
      const event = proxyEvent({ method: 'GET', path, headers: accept === undefined ? {} : { Accept: accept }, userArn: principal });
      return getSettlementWindow({ event, pathParameters: { id: windowId }, caller: { kind: 'admin', actor: { role: 'settlement', principal } }, deps, now: new Date() });
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
      listWindowsAwaitingConfirmation: { schema: AwaitingConfirmationQuery, base: { currency: 'EUR' }, samples: [['currency', currencies]] },
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
