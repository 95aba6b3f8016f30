// Proves that requests Node's HTTP parser rejects, and HTTP/1.1 requests without one Host header,
// are answered with complete problem+json responses, while well-formed requests still reach the handler.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, problemDocument } from '../../lambdas/api/problems.js';
import { answerProtocolErrors, HEADER_BYTES_MAX, missingHostProblem, PROTOCOL_SERVER_OPTIONS } from '../../lib/local/protocol-errors.js';

const READ_TIMEOUT_MS = 3_000;
/** Every raw response the server writes back in these tests is far smaller than this. */
const READ_BYTES_MAX = 65_536;

interface RawResponse {
  readonly statusLine: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

/** Sends bytes as they are (fetch would normalise them) and reads until the server closes. */
async function exchange(port: number, request: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.setTimeout(READ_TIMEOUT_MS, () => socket.destroy(new Error(`no close within ${READ_TIMEOUT_MS} ms`)));
  const chunks: Buffer[] = [];
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.byteLength;
    if (bytes > READ_BYTES_MAX) socket.destroy(new Error(`more than ${READ_BYTES_MAX} bytes`));
    chunks.push(chunk);
  });
  socket.write(request, 'latin1');
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('utf8');
}

/** Splits raw bytes into responses, each framed by its Content-Length. */
function parseResponses(raw: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = raw;
  while (rest.length > 0 && responses.length < 10) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd < 0) throw new Error(`no end of head in ${JSON.stringify(rest.slice(0, 200))}`);
    const [statusLine = '', ...lines] = rest.slice(0, headEnd).split('\r\n');
    const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    const length = Number(headers.get('content-length'));
    if (!Number.isInteger(length)) throw new Error(`no Content-Length in ${statusLine}`);
    responses.push({ statusLine, headers, body: rest.slice(headEnd + 4, headEnd + 4 + length) });
    rest = rest.slice(headEnd + 4 + length);
  }
  return responses;
}

function expectProblem(response: RawResponse | undefined, status: number, slug: string): Record<string, unknown> {
  expect(response?.statusLine).toMatch(new RegExp(`^HTTP/1\\.1 ${status} \\S`));
  expect(response?.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const problem = JSON.parse(response?.body ?? '') as Record<string, unknown>;
  expect(problem).toMatchObject({ type: `${PROBLEM_TYPE_BASE}${slug}`, status });
  return problem;
}

describe('answerProtocolErrors', () => {
  let server: Server;
  let port: number;
  const parserErrorCodes: unknown[] = [];

  beforeAll(async () => {
    server = createServer({ ...PROTOCOL_SERVER_OPTIONS }, (request, response) => {
      const problem = missingHostProblem(request);
      if (problem !== undefined) {
        const body = JSON.stringify(problemDocument(problem));
        response.writeHead(problem.status, { 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) }).end(body);
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }).end('ok');
    });
    answerProtocolErrors(server);
    server.on('clientError', (error: NodeJS.ErrnoException) => parserErrorCodes.push(error.code));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  beforeEach(() => {
    parserErrorCodes.length = 0;
  });

  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  // The codes are what Node 20's llhttp raises; a change of Node that moves them shows up here.
  it.each([
    {
      name: 'a header block over the limit',
      request: `GET / HTTP/1.1\r\nHost: a\r\nX-Padding: ${'a'.repeat(HEADER_BYTES_MAX + 1)}\r\n\r\n`,
      code: 'HPE_HEADER_OVERFLOW',
      status: 431,
      slug: 'headers-too-large',
      detail: /exceed 16384 bytes/,
    },
    { name: 'a NUL byte in a header value', request: 'GET / HTTP/1.1\r\nHost: a\r\nX-Note: a\0b\r\n\r\n', code: 'HPE_INVALID_HEADER_TOKEN', status: 400, slug: 'bad-request', detail: /characters HTTP does not allow/ },
    {
      name: 'Content-Length before Transfer-Encoding',
      request: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      code: 'HPE_INVALID_TRANSFER_ENCODING',
      status: 400,
      slug: 'bad-request',
      detail: /Content-Length and Transfer-Encoding must not be sent together/,
    },
    {
      name: 'Transfer-Encoding before Content-Length',
      request: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n',
      code: 'HPE_INVALID_CONTENT_LENGTH',
      status: 400,
      slug: 'bad-request',
      detail: /Content-Length and Transfer-Encoding must not be sent together/,
    },
    { name: 'a raw space inside the path', request: 'GET /pay ments HTTP/1.1\r\nHost: a\r\n\r\n', code: 'HPE_INVALID_CONSTANT', status: 400, slug: 'bad-request', detail: /request line is malformed/ },
    { name: 'an invalid method token', request: 'G@T / HTTP/1.1\r\nHost: a\r\n\r\n', code: 'HPE_INVALID_METHOD', status: 400, slug: 'bad-request', detail: /method/ },
    { name: 'a garbage request line', request: '\u0001\u0002hello there\r\n\r\n', code: 'HPE_INVALID_METHOD', status: 400, slug: 'bad-request', detail: /method/ },
  ])('answers $name with a $status problem', async ({ request, code, status, slug, detail }) => {
    const raw = await exchange(port, request);

    const responses = parseResponses(raw);
    expect(responses).toHaveLength(1);
    const problem = expectProblem(responses[0], status, slug);
    expect(problem.detail).toMatch(detail);
    expect(responses[0]?.headers.get('connection')).toBe('close');
    expect(parserErrorCodes[0]).toBe(code);
  });

  it('never echoes the rejected bytes', async () => {
    const raw = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nX-Secret: <script>\0</script>\r\n\r\n');

    expect(raw).not.toMatch(/script|X-Secret/i);
  });

  it('answers an HTTP/1.1 request without Host with a 400 problem', async () => {
    const raw = await exchange(port, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n');

    const [response] = parseResponses(raw);
    expect(expectProblem(response, 400, 'bad-request').detail).toMatch(/must carry a Host header/);
    expect(parserErrorCodes).toEqual([]);
  });

  it('answers a request with two Host headers with a 400 problem', async () => {
    const raw = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n');

    const [response] = parseResponses(raw);
    expect(expectProblem(response, 400, 'bad-request').detail).toMatch(/2 Host headers/);
  });

  it('lets a well-formed request, and an HTTP/1.0 one without Host, reach the handler', async () => {
    const raws = [await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), await exchange(port, 'GET / HTTP/1.0\r\n\r\n')];

    for (const raw of raws) {
      const responses = parseResponses(raw);
      expect(responses.map((response) => [response.statusLine, response.body])).toEqual([[expect.stringMatching(/^HTTP\/1\.[01] 200 OK$/), 'ok']]);
    }
    expect(parserErrorCodes).toEqual([]);
  });

  it('answers a malformed request pipelined after a good one once the good one is answered', async () => {
    const raw = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\nG@T / HTTP/1.1\r\nHost: a\r\n\r\n');

    const [first, second, ...more] = parseResponses(raw);
    expect(first?.statusLine).toBe('HTTP/1.1 200 OK');
    expectProblem(second, 400, 'bad-request');
    expect(more).toEqual([]);
  });

  it('adds nothing to a response already sent when the body of its request then fails to parse', async () => {
    const raw = await exchange(port, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nxyz');

    const responses = parseResponses(raw);
    expect(responses.map((response) => response.statusLine)).toEqual(['HTTP/1.1 200 OK']);
    expect(parserErrorCodes).toEqual(['HPE_INVALID_TRANSFER_ENCODING']);
  });
});
