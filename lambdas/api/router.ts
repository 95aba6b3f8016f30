// Routes a proxy event to its operation by the API Gateway resource template (e.g.
// /v1/transactions/{id}) and method, both taken from the topology's API_ROUTES.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { API_ROUTES, type ApiOperation } from '../../contract/topology.js';
import type { AdminRole } from '../core/trust/api-client.js';
import { ApiProblem } from './problems.js';

export type MatchedRoute = {
  readonly operation: ApiOperation;
  readonly pathParameters: Readonly<Record<string, string>>;
} & ({ readonly auth: 'client' } | { readonly auth: 'iam'; readonly role: AdminRole });

/** Path parameters when `path` fits the API Gateway resource template, else undefined. */
export function matchPathTemplate(template: string, path: string): Record<string, string> | undefined {
  const expected = template.split('/');
  const actual = path.replace(/(.)\/$/, '$1').split('/');
  if (expected.length !== actual.length) return undefined;
  const parameters: Record<string, string> = {};
  for (const [index, segment] of expected.entries()) {
    const value = actual[index] ?? '';
    if (/^\{\w+\}$/.test(segment)) {
      if (value === '') return undefined;
      parameters[segment.slice(1, -1)] = safeDecode(value);
    } else if (segment !== value) return undefined;
  }
  return parameters;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value; // a malformed escape stays literal: the id simply will not be found
  }
}

/**
 * The routes whose template fits `path`, the most literal first-class only: as API Gateway does,
 * a literal segment beats a `{parameter}`, so /v1/settlement-windows/close is never read as the
 * window "close".
 */
export function routesForPath(path: string): (typeof API_ROUTES)[number][] {
  const fitting = API_ROUTES.filter((route) => matchPathTemplate(route.path, path) !== undefined);
  const parametersOf = (template: string): number => (template.match(/\{\w+\}/g) ?? []).length;
  const fewest = Math.min(...fitting.map((route) => parametersOf(route.path)));
  return fitting.filter((route) => parametersOf(route.path) === fewest);
}

/**
 * On AWS, `resource` is the matched template and pathParameters are filled in; matching the raw
 * path as well keeps the router correct for any proxy-event producer (the local API adapter).
 */
export function matchRoute(event: APIGatewayProxyEvent): MatchedRoute {
  const byResource = API_ROUTES.filter((route) => route.path === event.resource);
  const byPath = byResource.length > 0 ? byResource : routesForPath(event.path);
  if (byPath.length === 0) throw new ApiProblem('not-found', `no resource at ${event.path}`);
  const route = byPath.find((candidate) => candidate.method === event.httpMethod);
  if (route === undefined) {
    const allowed = [...new Set(byPath.map((candidate) => candidate.method))];
    throw new ApiProblem('method-not-allowed', `${event.httpMethod} is not supported on ${event.path}`, { allowedMethods: allowed }, { allow: allowed.join(', ') });
  }
  // API Gateway hands path parameters already decoded; the raw path is the fallback.
  const pathParameters: Record<string, string> = { ...matchPathTemplate(route.path, event.path) };
  for (const [name, value] of Object.entries(event.pathParameters ?? {})) {
    if (value !== undefined) pathParameters[name] = value;
  }
  return route.auth === 'iam'
    ? { operation: route.operation, auth: route.auth, role: route.role, pathParameters }
    : { operation: route.operation, auth: route.auth, pathParameters };
}
