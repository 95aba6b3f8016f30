// Routes a proxy event to its operation by the API Gateway resource template (e.g.
// /v1/transactions/{id}) and method, both taken from the topology's API_ROUTES.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { API_ROUTES, type ApiOperation, type RouteAuth } from '../../lib/topology.js';
import { ApiProblem } from './problems.js';

export interface MatchedRoute {
  readonly operation: ApiOperation;
  readonly auth: RouteAuth;
  readonly pathParameters: Readonly<Record<string, string>>;
}

const templates = API_ROUTES.map((route) => ({ ...route, pattern: templatePattern(route.path) }));

function templatePattern(template: string): RegExp {
  const source = template
    .split('/')
    .map((segment) => (/^\{\w+\}$/.test(segment) ? `(?<${segment.slice(1, -1)}>[^/]+)` : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

/**
 * On AWS, `resource` is the matched template and pathParameters are filled in; matching the raw
 * path as well keeps the router correct for any proxy-event producer (the local API adapter).
 */
export function matchRoute(event: APIGatewayProxyEvent): MatchedRoute {
  const byPath = templates.filter((route) => route.path === event.resource || route.pattern.test(event.path));
  if (byPath.length === 0) throw new ApiProblem('not-found', `no resource at ${event.path}`);
  const route = byPath.find((candidate) => candidate.method === event.httpMethod);
  if (route === undefined) {
    const allowed = [...new Set(byPath.map((candidate) => candidate.method))];
    throw new ApiProblem('method-not-allowed', `${event.httpMethod} is not supported on ${event.path}`, { allowedMethods: allowed }, { allow: allowed.join(', ') });
  }
  const fromPath = route.pattern.exec(event.path)?.groups ?? {};
  const pathParameters: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...fromPath, ...(event.pathParameters ?? {}) })) {
    if (value !== undefined) pathParameters[name] = decodeURIComponent(value);
  }
  return { operation: route.operation, auth: route.auth, pathParameters };
}
