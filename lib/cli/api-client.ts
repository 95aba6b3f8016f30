// A small client for the payments HTTP API (local or deployed), used by the `payments` CLI and the
// end-to-end tests. It speaks only HTTP: what a channel integrating against the API would do. As an
// API client it signs every request (RFC 9421); as the back office it sends the admin route's role
// key (local only: deployed admin routes need IAM SigV4, which this tool does not sign).
import { randomUUID } from 'node:crypto';
import { routesForPath } from '../../lambdas/api/router.js';
import type { AdminRole } from '../../lambdas/core/trust/api-client.js';
import type { ClientCredentials } from '../local/credentials.js';
import { canonicalUrl, signedHeaders } from './request-signer.js';

export interface ApiResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface SubmitTransfer {
  readonly debtorAccountId: string;
  readonly creditorAccountId: string;
  readonly amount: number;
  readonly currency: string;
  readonly reference?: string;
}

export interface TransactionView {
  readonly transactionId: string;
  readonly status: 'RECEIVED' | 'POSTED' | 'REJECTED';
  readonly rejectionReason?: string;
  readonly amount: number;
  readonly currency: string;
  readonly debtorAccountId: string;
  readonly creditorAccountId: string;
  readonly channel: string;
  readonly requestedAt: string;
  readonly decidedAt?: string;
}

export interface AccountView {
  readonly accountId: string;
  readonly institutionId: string;
  readonly currency: string;
  readonly kind: string;
  readonly status: string;
  /** Exact integer; JSON may carry values beyond 2^53, parsed here as bigint. */
  readonly balance: bigint;
}

export interface AlertView {
  readonly alertId: string;
  readonly status: 'OPEN' | 'RESOLVED';
  readonly severity: 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
  readonly accountId: string;
  readonly transactionId: string;
  readonly amount: number;
  readonly currency: string;
  readonly channel: string;
  readonly totalWeight: number;
  readonly rulesHit: readonly { readonly ruleId: string; readonly weight: number; readonly evidence: Record<string, unknown> }[];
  readonly raisedAt: string;
  readonly storedAt: string;
  readonly notifiedAt?: string;
  readonly freeze?: { readonly outcome: string; readonly at: string };
  readonly resolution?: { readonly resolution: string; readonly note: string; readonly resolvedAt: string };
}

export interface SettlementWindowView {
  readonly windowId: string;
  readonly currency: string;
  readonly state: 'OPEN' | 'CLOSED' | 'PENDING_SETTLEMENT' | 'SETTLED';
  readonly openedAt: string;
  readonly closedAt?: string;
  readonly settledAt?: string;
  readonly transferCount: number;
  readonly grossAmount: bigint;
  readonly participants: readonly string[];
  readonly instructionCount?: number;
  readonly instructionsRecorded?: number;
  readonly confirmationsRecorded?: number;
}

export interface SettlementConfirmationBody {
  readonly institutionId: string;
  readonly direction: 'PAY' | 'RECEIVE';
  readonly amount: number;
  /** The settlement bank's reference for the movement. */
  readonly reference: string;
}

export interface SettlementWindowDetail extends SettlementWindowView {
  readonly netPositions: readonly { readonly institutionId: string; readonly position: bigint }[];
  readonly report?: { readonly status: 'BALANCED' | 'UNBALANCED'; readonly createdAt: string };
  readonly instructions?: readonly {
    readonly institutionId: string;
    readonly direction: 'PAY' | 'RECEIVE';
    readonly amount: number;
    readonly recordedAt?: string;
    readonly confirmedAt?: string;
    readonly confirmationReference?: string;
  }[];
}

export interface ClientView {
  readonly clientId: string;
  readonly institutionId: string;
  readonly channel: 'WEB' | 'MOBILE' | 'POS';
  readonly status: 'ACTIVE' | 'REVOKED';
  readonly keys: readonly { readonly keyId: string; readonly publicKey: string; readonly createdAt: string; readonly expiresAt?: string }[];
  readonly createdAt: string;
  readonly createdBy: { readonly role: string; readonly principal: string };
  readonly revokedAt?: string;
}

/** An issued or rotated client: the key id to sign with, and the secrets shown only this once. */
export interface IssuedClientView extends ClientView {
  readonly keyId: string;
  readonly apiKey?: string;
  readonly privateKey?: string;
}

/** Credentials for signing, from what the API answered when it issued the client. */
export function credentialsOf(issued: IssuedClientView, api?: string): ClientCredentials {
  if (issued.apiKey === undefined || issued.privateKey === undefined) throw new ApiClientError(`client ${issued.clientId}: the answer carries no API key or private key`);
  return {
    ...(api !== undefined ? { api } : {}),
    clientId: issued.clientId,
    keyId: issued.keyId,
    institutionId: issued.institutionId,
    channel: issued.channel,
    apiKey: issued.apiKey,
    privateKey: issued.privateKey,
  };
}

export interface AlertFilter {
  readonly accountId?: string;
  readonly severity?: string;
  readonly status?: string;
}

export interface ApiClientOptions {
  /** Base URL up to and excluding /v1 (e.g. http://127.0.0.1:3000 or https://.../prod). */
  readonly baseUrl: string;
  /** The API client this tool acts as: it signs every client-route request with these. */
  readonly credentials?: ClientCredentials;
  /** Local admin role keys (x-admin-key), one per role; deployed admin routes need IAM SigV4 instead. */
  readonly adminKeys?: Partial<Readonly<Record<AdminRole, string>>>;
  /** Per-request timeout. @default 10_000 */
  readonly timeoutMs?: number;
  /** How requests go out; tests put a fault-injecting wrapper here. @default globalThis.fetch */
  readonly transport?: typeof fetch;
}

/** The longest pause between two looks at a pending transaction. */
const WAIT_INTERVAL_MAX_MS = 1_000;

export class ApiClientError extends Error {
  override name = 'ApiClientError';
}

/** A decision did not arrive in time; the transfer may still be in flight. */
export class DecisionTimeoutError extends ApiClientError {
  override name = 'DecisionTimeoutError';
}

export class ApiClient {
  readonly #options: ApiClientOptions;

  constructor(options: ApiClientOptions) {
    this.#options = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
  }

  submit(transfer: SubmitTransfer, idempotencyKey: string = randomUUID()): Promise<ApiResponse> {
    return this.request('POST', '/v1/transactions', { body: transfer, headers: { 'idempotency-key': idempotencyKey } });
  }

  getTransaction(transactionId: string): Promise<ApiResponse<TransactionView>> {
    return this.request('GET', `/v1/transactions/${encodeURIComponent(transactionId)}`);
  }

  getAccount(accountId: string): Promise<ApiResponse<AccountView>> {
    return this.request('GET', `/v1/accounts/${encodeURIComponent(accountId)}`);
  }

  /** Any account of an institution, funding accounts included (operations role). */
  institutionAccount(institutionId: string, accountId: string): Promise<ApiResponse<AccountView>> {
    return this.request('GET', `/v1/institutions/${encodeURIComponent(institutionId)}/accounts/${encodeURIComponent(accountId)}`, { admin: true });
  }

  openAccount(body: { institutionId: string; currency: string; accountId?: string; overdraftLimit?: number }): Promise<ApiResponse> {
    return this.request('POST', '/v1/accounts', { body, admin: true });
  }

  deposit(accountId: string, body: { amount: number; currency: string; reference?: string }, idempotencyKey: string = randomUUID()): Promise<ApiResponse> {
    return this.request('POST', `/v1/accounts/${encodeURIComponent(accountId)}/deposits`, {
      body,
      admin: true,
      headers: { 'idempotency-key': idempotencyKey },
    });
  }

  /** Issues an API client for the institution (operations role); the credentials come back once. */
  createClient(institutionId: string, body: { channel: 'WEB' | 'MOBILE' | 'POS'; publicKey?: string }): Promise<ApiResponse<IssuedClientView>> {
    return this.request('POST', `/v1/institutions/${encodeURIComponent(institutionId)}/clients`, { body, admin: true });
  }

  listClients(institutionId: string): Promise<ApiResponse<{ clients: ClientView[] }>> {
    return this.request('GET', `/v1/institutions/${encodeURIComponent(institutionId)}/clients`, { admin: true });
  }

  rotateClientKey(institutionId: string, clientId: string, body: { publicKey?: string; previousKeyValidSeconds?: number } = {}): Promise<ApiResponse<IssuedClientView>> {
    return this.request('POST', `/v1/institutions/${encodeURIComponent(institutionId)}/clients/${encodeURIComponent(clientId)}/rotate`, { body, admin: true });
  }

  revokeClient(institutionId: string, clientId: string): Promise<ApiResponse<ClientView>> {
    return this.request('POST', `/v1/institutions/${encodeURIComponent(institutionId)}/clients/${encodeURIComponent(clientId)}/revoke`, { admin: true });
  }

  unfreeze(accountId: string): Promise<ApiResponse<AccountView>> {
    return this.request('POST', `/v1/accounts/${encodeURIComponent(accountId)}/unfreeze`, { admin: true });
  }

  listAlerts(filter: AlertFilter & { readonly limit?: number; readonly cursor?: string } = {}): Promise<ApiResponse<{ alerts: AlertView[]; cursor?: string }>> {
    const query = new URLSearchParams(Object.entries(filter).filter(([, value]) => value !== undefined).map(([name, value]): [string, string] => [name, String(value)]));
    return this.request('GET', `/v1/alerts${query.size > 0 ? `?${query.toString()}` : ''}`, { admin: true });
  }

  /** Every alert matching the filter, following the cursor to the end. */
  async allAlerts(filter: AlertFilter = {}): Promise<AlertView[]> {
    const alerts: AlertView[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.listAlerts({ ...filter, limit: 100, ...(cursor !== undefined ? { cursor } : {}) });
      if (page.status !== 200) throw new ApiClientError(`GET /v1/alerts answered ${page.status}`);
      alerts.push(...page.body.alerts);
      cursor = page.body.cursor;
    } while (cursor !== undefined);
    return alerts;
  }

  getAlert(alertId: string): Promise<ApiResponse<AlertView>> {
    return this.request('GET', `/v1/alerts/${encodeURIComponent(alertId)}`, { admin: true });
  }

  resolveAlert(alertId: string, body: { resolution: 'FALSE_POSITIVE' | 'CONFIRMED_FRAUD'; note: string }): Promise<ApiResponse<AlertView>> {
    return this.request('POST', `/v1/alerts/${encodeURIComponent(alertId)}/resolve`, { body, admin: true });
  }

  setNetDebitCap(institutionId: string, body: { currency: string; netDebitCap: number }): Promise<ApiResponse> {
    return this.request('PUT', `/v1/institutions/${encodeURIComponent(institutionId)}/limits`, { body, admin: true });
  }

  /** The institution's exposure (over every window not settled) and its open window's part. */
  position(
    institutionId: string,
    currency: string,
  ): Promise<
    ApiResponse<{
      windowId: string;
      position: bigint;
      exposure: bigint;
      netDebitCap: bigint | null;
      headroom: bigint;
      byWindow: { windowId: string; state: SettlementWindowView['state']; position: bigint }[];
    }>
  > {
    return this.request('GET', `/v1/institutions/${encodeURIComponent(institutionId)}/position?currency=${encodeURIComponent(currency)}`, { admin: true });
  }

  /** Closes a window; retrying with the same key replays the first close, never closes the next. */
  closeWindow(
    body: { currency: string; windowId?: string },
    idempotencyKey: string = randomUUID(),
  ): Promise<ApiResponse<{ closed: SettlementWindowView; opened: SettlementWindowView; settlementAnnounced: boolean }>> {
    return this.request('POST', '/v1/settlement-windows/close', { body, admin: true, headers: { 'idempotency-key': idempotencyKey } });
  }

  listWindows(filter: { currency?: string; state?: string; limit?: number; cursor?: string } = {}): Promise<ApiResponse<{ windows: SettlementWindowView[]; cursor?: string }>> {
    const query = new URLSearchParams(Object.entries(filter).filter(([, value]) => value !== undefined).map(([name, value]): [string, string] => [name, String(value)]));
    return this.request('GET', `/v1/settlement-windows${query.size > 0 ? `?${query.toString()}` : ''}`, { admin: true });
  }

  /** Windows netted and issued, waiting for the settlement bank, oldest first, with who is missing. */
  awaitingConfirmation(currency: string): Promise<ApiResponse<{ currency: string; windows: (SettlementWindowView & { awaiting: { institutionId: string; direction: 'PAY' | 'RECEIVE'; amount: number }[] })[] }>> {
    return this.request('GET', `/v1/settlement-windows/awaiting-confirmation?currency=${encodeURIComponent(currency)}`, { admin: true });
  }

  /** Records the settlement bank's word that an institution's instruction was carried out. */
  confirmSettlement(windowId: string, body: SettlementConfirmationBody): Promise<ApiResponse<{ window: SettlementWindowView }>> {
    return this.request('POST', `/v1/settlement-windows/${encodeURIComponent(windowId)}/confirmations`, { body, admin: true });
  }

  getWindow(windowId: string): Promise<ApiResponse<SettlementWindowDetail>> {
    return this.request('GET', `/v1/settlement-windows/${encodeURIComponent(windowId)}`, { admin: true });
  }

  /** The window's settlement report as CSV text. */
  async windowReportCsv(windowId: string): Promise<{ status: number; contentType: string | null; text: string }> {
    const adminKey = this.#roleKey('GET', `/v1/settlement-windows/${encodeURIComponent(windowId)}`);
    const response = await (this.#options.transport ?? fetch)(`${this.#options.baseUrl}/v1/settlement-windows/${encodeURIComponent(windowId)}`, {
      headers: { accept: 'text/csv', 'x-admin-key': adminKey },
      signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
    });
    return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
  }

  /**
   * Polls until the transaction is POSTED or REJECTED. The interval doubles up to a second, and a
   * 429 waits for its Retry-After: polling must not spend the client's own rate limit.
   */
  async waitForDecision(transactionId: string, timeoutMs: number, intervalMs = 50): Promise<TransactionView> {
    const deadline = Date.now() + timeoutMs;
    let waitMs = intervalMs;
    for (;;) {
      const response = await this.getTransaction(transactionId);
      if (response.status === 200 && response.body.status !== 'RECEIVED') return response.body;
      if (response.status !== 200 && response.status !== 404 && response.status !== 429) {
        throw new ApiClientError(`GET transaction ${transactionId} answered ${response.status}`);
      }
      if (Date.now() >= deadline) throw new DecisionTimeoutError(`transaction ${transactionId} not decided within ${timeoutMs} ms`);
      const retryAfterMs = response.status === 429 ? Number(response.headers.get('retry-after') ?? '1') * 1_000 : 0;
      await new Promise((resolve) => setTimeout(resolve, Math.max(waitMs, retryAfterMs)));
      waitMs = Math.min(waitMs * 2, WAIT_INTERVAL_MAX_MS);
    }
  }

  /** The admin key of the role the route belongs to (the local notifications are the risk role's). */
  #roleKey(method: string, path: string): string {
    if (path.startsWith('/_local/')) {
      const key = this.#options.adminKeys?.risk;
      if (key === undefined) throw new ApiClientError(`${method} ${path} needs the risk role's key`);
      return key;
    }
    const route = routesForPath(path.split('?')[0] ?? path).find((candidate) => candidate.method === method);
    if (route?.auth !== 'iam') throw new ApiClientError(`${method} ${path} is not an admin route`);
    const key = this.#options.adminKeys?.[route.role];
    if (key === undefined) throw new ApiClientError(`${method} ${path} needs the ${route.role} role's admin key`);
    return key;
  }

  /**
   * Sends a request: an admin route with its role's key, any other signed as the API client when
   * credentials were given (unsigned otherwise, which the API refuses: useful to tests only).
   * `rawBody` sends text as it is (tests of malformed bodies); `body` is sent as JSON.
   */
  async request<T>(
    method: string,
    path: string,
    options: { body?: unknown; rawBody?: string; headers?: Record<string, string>; admin?: boolean } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    const body = options.rawBody ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const url = canonicalUrl(`${this.#options.baseUrl}${path}`);
    if (options.admin === true) {
      headers['x-admin-key'] = this.#roleKey(method, path);
    } else if (this.#options.credentials !== undefined) {
      Object.assign(
        headers,
        signedHeaders(
          { method, url: url.toString(), ...(body !== undefined ? { body } : {}), ...(headers['idempotency-key'] !== undefined ? { idempotencyKey: headers['idempotency-key'] } : {}) },
          this.#options.credentials,
        ),
      );
    }
    const response = await (this.#options.transport ?? fetch)(url, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: parseJson(text) as T };
  }
}

/** JSON with integers beyond 2^53 kept exact: balances come back as bigint. */
function parseJson(text: string): unknown {
  if (text === '') return {};
  const exact = text.replace(/("balance"|"overdraftLimit"|"position"|"netDebitCap"|"headroom"|"exposure"|"grossAmount")\s*:\s*(-?\d+)/g, '$1:"__int:$2"');
  return JSON.parse(exact, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith('__int:') ? BigInt(value.slice('__int:'.length)) : value,
  );
}
