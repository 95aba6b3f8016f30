// API Gateway's own error answers (no key, throttled, unknown route...) rewritten as RFC 9457
// application/problem+json with the api handler's problem types, so a channel parses one error
// format whether the gateway or the handler answered.
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, PROBLEM_TYPES, type ProblemType } from '../../contract/problems.js';

// One problem type has one URI whoever answers, the gateway or the handler.
export { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE };

/**
 * Problems only the gateway raises. The DEFAULT_* catch-alls cover several status codes and VTL
 * cannot read the one chosen, so they keep the gateway's status and omit the optional `status`.
 */
const GATEWAY_PROBLEMS = {
  'gateway-client-error': { title: 'Request refused by the API gateway' },
  'gateway-error': { title: 'The API gateway could not complete the request' },
} as const;

type GatewayProblem = keyof typeof GATEWAY_PROBLEMS;

/** One gateway response rewrite. */
export interface ProblemResponse {
  readonly type: apigw.ResponseType;
  /** Problem type: one of the handler's (status and title come from it) or a gateway-only one. */
  readonly problem: ProblemType | GatewayProblem;
  /** JSON value (already quoted) placed in `detail`: a fixed string or a VTL expression. */
  readonly detailJson: string;
}

/** The gateway's own message, JSON-escaped and quoted by API Gateway. */
const GATEWAY_MESSAGE = '$context.error.messageString';

/**
 * Unknown routes answer 404 not-found: API Gateway reports them as 403 MISSING_AUTHENTICATION_TOKEN,
 * which misleads a channel into debugging its credentials.
 */
export const PROBLEM_RESPONSES: readonly ProblemResponse[] = [
  { type: apigw.ResponseType.DEFAULT_4XX, problem: 'gateway-client-error', detailJson: GATEWAY_MESSAGE },
  { type: apigw.ResponseType.DEFAULT_5XX, problem: 'gateway-error', detailJson: '"Retry with the same Idempotency-Key."' },
  { type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, problem: 'not-found', detailJson: '"No route matches this method and path."' },
  { type: apigw.ResponseType.INVALID_API_KEY, problem: 'invalid-api-key', detailJson: '"The x-api-key header is missing or not the key of an enabled API client."' },
  { type: apigw.ResponseType.ACCESS_DENIED, problem: 'forbidden', detailJson: GATEWAY_MESSAGE },
  { type: apigw.ResponseType.INVALID_SIGNATURE, problem: 'forbidden', detailJson: GATEWAY_MESSAGE },
  { type: apigw.ResponseType.EXPIRED_TOKEN, problem: 'forbidden', detailJson: GATEWAY_MESSAGE },
  { type: apigw.ResponseType.THROTTLED, problem: 'too-many-requests', detailJson: '"Request rate above the client usage plan limit or the stage limit; retry later with the same Idempotency-Key."' },
  { type: apigw.ResponseType.QUOTA_EXCEEDED, problem: 'too-many-requests', detailJson: '"This client used its request quota for the period."' },
  { type: apigw.ResponseType.REQUEST_TOO_LARGE, problem: 'payload-too-large', detailJson: GATEWAY_MESSAGE },
  { type: apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE, problem: 'unsupported-media-type', detailJson: GATEWAY_MESSAGE },
];

/** HTTP status of a problem response; undefined keeps the status API Gateway chose. */
export function problemStatus(response: ProblemResponse): number | undefined {
  return isGatewayProblem(response.problem) ? undefined : PROBLEM_TYPES[response.problem].status;
}

/** The VTL body template of one problem response (`requestId` is an extension member). */
export function problemTemplate(response: ProblemResponse): string {
  const status = problemStatus(response);
  const title = isGatewayProblem(response.problem)
    ? GATEWAY_PROBLEMS[response.problem].title
    : PROBLEM_TYPES[response.problem].title;
  return [
    '{',
    `"type": ${JSON.stringify(PROBLEM_TYPE_BASE + response.problem)},`,
    `"title": ${JSON.stringify(title)},`,
    ...(status === undefined ? [] : [`"status": ${String(status)},`]),
    `"detail": ${response.detailJson},`,
    '"requestId": "$context.requestId"',
    '}',
  ].join(' ');
}

function isGatewayProblem(problem: ProblemType | GatewayProblem): problem is GatewayProblem {
  return Object.hasOwn(GATEWAY_PROBLEMS, problem);
}
