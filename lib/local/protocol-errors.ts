// Requests Node's HTTP parser rejects before any handler runs (oversized or invalid headers,
// ambiguous framing, a malformed request line) answered as problem+json like every other error of
// the local gateway, instead of Node's bare 400/431 with no body; and the HTTP/1.1 Host rule,
// which Node would otherwise enforce with the same bare 400.
import assert from 'node:assert/strict';
import { STATUS_CODES, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiProblem, PROBLEM_CONTENT_TYPE, problemDocument, type ProblemType } from '../../lambdas/api/problems.js';

/** The request line and header fields together; Node 20's default, made explicit. */
export const HEADER_BYTES_MAX = 16_384;
/**
 * How long a connection stays open after its problem was written, so the client can read it
 * before the close (closing with request bytes unread can make the kernel reset the connection
 * and discard the answer); a client that never closes its side is cut off after this.
 */
const ANSWER_LINGER_MS_MAX = 2_000;

/**
 * Options to spread into createServer. requireHostHeader is off so Node does not answer a missing
 * Host itself with a bare 400: the request handler calls missingHostProblem instead.
 */
export const PROTOCOL_SERVER_OPTIONS = {
  requireHostHeader: false,
  maxHeaderSize: HEADER_BYTES_MAX,
  insecureHTTPParser: false,
} as const satisfies ServerOptions;

interface ParserProblem {
  readonly type: ProblemType;
  readonly detail: string;
}

// Fixed details per parser error code: the client's bytes (err.rawPacket) are never echoed back.
// The codes each case was seen to raise on Node 20 are in test/unit/protocol-errors.test.ts.
const FRAMING = 'Content-Length and Transfer-Encoding must not be sent together';
const PARSER_PROBLEMS: Readonly<Record<string, ParserProblem>> = {
  HPE_HEADER_OVERFLOW: { type: 'headers-too-large', detail: `the request line and headers exceed ${HEADER_BYTES_MAX} bytes` },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { type: 'payload-too-large', detail: 'the chunk extensions of the body are too large' },
  HPE_INVALID_TRANSFER_ENCODING: { type: 'bad-request', detail: `Transfer-Encoding must end in chunked; ${FRAMING}` },
  HPE_INVALID_CONTENT_LENGTH: { type: 'bad-request', detail: `Content-Length must be a decimal number; ${FRAMING}` },
  HPE_UNEXPECTED_CONTENT_LENGTH: { type: 'bad-request', detail: `Content-Length was sent more than once; ${FRAMING}` },
  HPE_INVALID_HEADER_TOKEN: { type: 'bad-request', detail: 'a header contains characters HTTP does not allow' },
  HPE_INVALID_METHOD: { type: 'bad-request', detail: 'the request method is not a known HTTP method' },
  HPE_INVALID_URL: { type: 'bad-request', detail: 'the request target is malformed' },
  HPE_INVALID_CONSTANT: { type: 'bad-request', detail: "the request line is malformed (is there a raw space in the target?)" },
  HPE_INVALID_VERSION: { type: 'bad-request', detail: 'the HTTP version is missing or not supported' },
  HPE_CR_EXPECTED: { type: 'bad-request', detail: 'a line of the request is not terminated by CRLF' },
  HPE_LF_EXPECTED: { type: 'bad-request', detail: 'a line of the request is not terminated by CRLF' },
  HPE_INVALID_CHUNK_SIZE: { type: 'bad-request', detail: 'the chunked body is malformed' },
  HPE_INVALID_EOF_STATE: { type: 'bad-request', detail: 'the connection was closed in the middle of a request' },
  // Node answers 408 here; the catalogue has no such type, so the detail says what happened.
  ERR_HTTP_REQUEST_TIMEOUT: { type: 'bad-request', detail: 'the request did not arrive completely in time' },
};
const PARSER_PROBLEM_DEFAULT: ParserProblem = { type: 'bad-request', detail: 'the request is not valid HTTP/1.1' };

interface Exchange {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
}

/**
 * Makes the server answer HTTP-parser errors with problem+json instead of Node's bare responses;
 * call right after createServer(PROTOCOL_SERVER_OPTIONS, ...).
 */
export function answerProtocolErrors(server: Server): void {
  // Node only stays silent when someone listens; two listeners would both write to the socket.
  assert.equal(server.listenerCount('clientError'), 0, 'the server already has a clientError listener');
  const latest = new WeakMap<Duplex, Exchange>();
  const answered = new WeakSet<Duplex>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    latest.set(request.socket, { request, response });
  });
  server.on('clientError', (error: Error, socket: Duplex) => {
    // A parser in the error state reports again as more bytes arrive; the first answer stands.
    if (answered.has(socket)) return;
    const exchange = latest.get(socket);
    if ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || !answerable(socket, exchange)) {
      socket.destroy();
      return;
    }
    answered.add(socket);
    // A pipelined request failed while the one before is still being answered (Node 24 parses
    // ahead; Node 20 waited): a problem written now would be read as the answer to that earlier
    // request, so it follows once that response is out.
    if (exchange !== undefined && exchange.request.complete && !exchange.response.writableFinished) {
      exchange.response.once('finish', () => (socket.writable ? answer(socket, protocolProblem(error)) : socket.destroy()));
      exchange.response.once('close', () => {
        if (!exchange.response.writableFinished) socket.destroy();
      });
      return;
    }
    answer(socket, protocolProblem(error));
  });
}

/** For the request handler: a problem when a request breaks the Host rule of RFC 9112 §3.2, else undefined. */
export function missingHostProblem(request: IncomingMessage): ApiProblem | undefined {
  // rawHeaders alternates names and values, and keeps duplicates that request.headers drops.
  let hostLines = 0;
  for (let index = 0; index < request.rawHeaders.length; index += 2) {
    if (request.rawHeaders[index]?.toLowerCase() === 'host') hostLines += 1;
  }
  if (hostLines > 1) return new ApiProblem('bad-request', `the request has ${hostLines} Host headers; HTTP allows one`);
  const http11 = request.httpVersionMajor === 1 && request.httpVersionMinor >= 1;
  if (http11 && hostLines === 0) return new ApiProblem('bad-request', 'an HTTP/1.1 request must carry a Host header');
  return undefined;
}

/**
 * Whether a problem can be written without corrupting a response already on its way: the parser
 * error belongs either to a request whose handler has not started answering, or to a request
 * that follows a complete one (answered after that one's response).
 */
function answerable(socket: Duplex, exchange: Exchange | undefined): boolean {
  if (!socket.writable || socket.destroyed) return false;
  if (exchange === undefined) return true; // the first request's head did not parse
  // Its body did not parse: only if its handler has not started answering. Otherwise the error
  // belongs to a request pipelined after it, answered once its response is out.
  return exchange.request.complete || !exchange.response.headersSent;
}

function protocolProblem(error: Error): ApiProblem {
  const code = (error as NodeJS.ErrnoException).code;
  const known = code !== undefined && Object.hasOwn(PARSER_PROBLEMS, code) ? PARSER_PROBLEMS[code] : undefined;
  const { type, detail } = known ?? PARSER_PROBLEM_DEFAULT;
  return new ApiProblem(type, detail, {}, {}, { cause: error });
}

function answer(socket: Duplex, problem: ApiProblem): void {
  const linger = setTimeout(() => socket.destroy(), ANSWER_LINGER_MS_MAX);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
  socket.end(rawResponse(problem));
}

/** A complete HTTP/1.1 response, written by hand: a parser error has no ServerResponse. */
function rawResponse(problem: ApiProblem): string {
  const body = JSON.stringify(problemDocument(problem));
  const reason = STATUS_CODES[problem.status];
  assert.ok(reason !== undefined, `no reason phrase for status ${problem.status}`);
  const head = [
    `HTTP/1.1 ${problem.status} ${reason}`,
    `content-type: ${PROBLEM_CONTENT_TYPE}`,
    `content-length: ${Buffer.byteLength(body)}`,
    `date: ${new Date().toUTCString()}`,
    'connection: close',
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}
