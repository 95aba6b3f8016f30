// The API's settlement operations (all admin): set an institution's Net Debit Cap, read its
// exposure (its position over every window not settled yet, window by window), close a window
// (announcing it for settlement), list windows and read one with its positions, instructions and
// confirmations (as JSON or as a CSV report), list the windows awaiting the settlement bank's
// confirmation, and record a confirmation.
import type { APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import { INSTITUTION_ID_PATTERN } from '../core/ledger/account.js';
import type { CurrencyCode } from '../core/money/currency.js';
import { closeAndAnnounce, type CloseOutcome } from '../core/settlement/close-window.js';
import { confirmSettlement as confirmWindowSettlement } from '../core/settlement/confirm-settlement.js';
import { SettlementConflictError, type SettlementReport } from '../core/settlement/ports.js';
import { shardCountFor } from '../core/settlement/shard-plan.js';
import { WINDOW_ID_PATTERN, parseWindowId, type SettlementWindow } from '../core/settlement/window.js';
import { header, jsonBody, jsonResponse, publicPath } from './http.js';
import type { OperationInput } from './operations.js';
import { actorOf, pathId } from './operations.js';
import { ApiProblem } from './problems.js';
import {
  AwaitingConfirmationQuery,
  CloseWindowBody,
  ConfirmSettlementBody,
  idempotencyKeyOf,
  ListWindowsQuery,
  parseBody,
  parseQuery,
  PositionQuery,
  SetLimitsBody,
  WINDOW_PAGE_SIZE_DEFAULT,
} from './schemas.js';

/** Window reads per listing call; a sparse state filter continues on the next page. */
const LIST_READS_MAX = 10;
/** Unsettled windows shown in an exposure breakdown or the awaiting-confirmation list. */
const UNSETTLED_SHOWN_MAX = 100;

export async function setInstitutionLimits({ event, pathParameters, caller, deps }: OperationInput): Promise<APIGatewayProxyResult> {
  const updatedBy = actorOf(caller);
  const institutionId = pathId(pathParameters, INSTITUTION_ID_PATTERN, 'institution');
  const body = parseBody(SetLimitsBody, jsonBody(event));
  const shards = body.expectedTransfersPerSecond === undefined ? undefined : shardCountFor(body.expectedTransfersPerSecond);
  const limits = await deps.settlement.store.setNetDebitCap(institutionId, body.currency, BigInt(body.netDebitCap), updatedBy, shards);
  return jsonResponse(200, { institutionId, currency: body.currency, netDebitCap: BigInt(body.netDebitCap), positionShards: limits.shardCount, updatedBy });
}

/**
 * What the institution's cap limits: its exposure, the net over every window not SETTLED yet, and
 * how it breaks down by window (the open one included). `position` and `windowId` are the open
 * window's part, as this route answered before exposure spanned windows.
 */
export async function getInstitutionPosition({ event, pathParameters, deps }: OperationInput): Promise<APIGatewayProxyResult> {
  const institutionId = pathId(pathParameters, INSTITUTION_ID_PATTERN, 'institution');
  const { currency } = parseQuery(PositionQuery, event.queryStringParameters);
  const store = deps.settlement.store;
  const [{ windowId, positionMinor }, exposure, unsettled] = await Promise.all([
    store.currentPosition(institutionId, currency),
    store.exposure(institutionId, currency),
    store.unsettledWindows(currency, UNSETTLED_SHOWN_MAX, ['CLOSED', 'PENDING_SETTLEMENT']),
  ]);
  const positions = await store.positionsOf(institutionId, unsettled.map((window) => window.windowId));
  const cap = exposure.netDebitCapMinor;
  return jsonResponse(200, {
    institutionId,
    currency,
    windowId,
    position: positionMinor,
    exposure: exposure.exposureMinor,
    ...(cap !== undefined ? { netDebitCap: cap, headroom: cap - exposure.exposureMinor } : { netDebitCap: null, headroom: 0n }),
    byWindow: [
      ...unsettled.flatMap((window) => {
        const position = positions.get(window.windowId) ?? 0n;
        return position === 0n ? [] : [{ windowId: window.windowId, state: window.state, position }];
      }),
      { windowId, state: 'OPEN', position: positionMinor },
    ],
  });
}

/** Windows netted and issued but not yet confirmed by the settlement bank, oldest first, with who is missing. */
export async function listWindowsAwaitingConfirmation({ event, deps }: OperationInput): Promise<APIGatewayProxyResult> {
  const { currency } = parseQuery(AwaitingConfirmationQuery, event.queryStringParameters);
  const store = deps.settlement.store;
  const windows = await store.unsettledWindows(currency, UNSETTLED_SHOWN_MAX, ['PENDING_SETTLEMENT']);
  const views = await Promise.all(
    windows.map(async (window) => {
      const report = await store.getReport(window.windowId);
      const confirmed = new Set(report === undefined ? [] : (await store.confirmations(window, report)).map((line) => line.institutionId));
      const missing = (report?.instructions ?? []).filter((line) => !confirmed.has(line.institutionId));
      return { ...windowView(window), awaiting: missing.map((line) => ({ institutionId: line.institutionId, direction: line.direction, amount: line.amountMinor })) };
    }),
  );
  return jsonResponse(200, { currency, windows: views });
}

/**
 * The settlement bank's confirmation of one institution's instruction, relayed by a settlement
 * admin. The same confirmation again replays (200, Idempotent-Replayed); another one for the same
 * institution and window is 409; one that does not match the instruction is 422.
 */
export async function confirmSettlement({ event, pathParameters, caller, deps }: OperationInput): Promise<APIGatewayProxyResult> {
  const confirmedBy = actorOf(caller);
  const windowId = pathId(pathParameters, WINDOW_ID_PATTERN, 'settlement window');
  const body = parseBody(ConfirmSettlementBody, jsonBody(event));
  const confirmation = { institutionId: body.institutionId, direction: body.direction, amountMinor: BigInt(body.amount), reference: body.reference, confirmedBy };
  let outcome: Awaited<ReturnType<typeof confirmWindowSettlement>>;
  try {
    outcome = await confirmWindowSettlement({ store: deps.settlement.store }, windowId, confirmation);
  } catch (error) {
    if (!(error instanceof SettlementConflictError)) throw error;
    throw new ApiProblem('settlement-busy', `confirming ${windowId} kept racing other writes; the confirmation may or may not be recorded: send it again (the same confirmation replays)`, {}, { 'retry-after': '1' }, { cause: error });
  }
  switch (outcome.kind) {
    case 'not-found':
      throw new ApiProblem('not-found', `no settlement window ${windowId}`);
    case 'not-pending':
      throw new ApiProblem('window-not-pending', `window ${windowId} is ${outcome.window.state} and has no settlement instructions to confirm`);
    case 'not-issued':
      throw new ApiProblem('window-not-pending', `${body.institutionId}'s settlement instruction for ${windowId} has not been issued yet`);
    case 'no-instruction':
      throw new ApiProblem('confirmation-mismatch', `${body.institutionId} has no settlement instruction in ${windowId}`);
    case 'mismatch':
      throw new ApiProblem('confirmation-mismatch', `the instruction for ${body.institutionId} in ${windowId} is ${outcome.instruction.direction} ${outcome.instruction.amountMinor}`);
    case 'conflict':
      throw new ApiProblem('confirmation-conflict', `${body.institutionId}'s settlement of ${windowId} was confirmed at ${outcome.existing.confirmedAt} with reference ${outcome.existing.reference}`);
    case 'confirmed':
    case 'replayed': {
      const view = {
        windowId,
        institutionId: outcome.confirmation.institutionId,
        direction: outcome.confirmation.direction,
        amount: outcome.confirmation.amountMinor,
        reference: outcome.confirmation.reference,
        confirmedBy: outcome.confirmation.confirmedBy,
        confirmedAt: outcome.confirmation.confirmedAt,
        window: windowView(outcome.window),
      };
      return outcome.kind === 'confirmed' ? jsonResponse(201, view) : jsonResponse(200, view, { 'idempotent-replayed': 'true' });
    }
  }
}

export async function closeSettlementWindow({ event, caller, deps, now }: OperationInput): Promise<APIGatewayProxyResult> {
  const closedBy = actorOf(caller);
  // A close retried after a lost answer must not close the next window too.
  const idempotencyKey = idempotencyKeyOf(header(event, 'idempotency-key'));
  const body = parseBody(CloseWindowBody, jsonBody(event));
  let result: CloseOutcome;
  try {
    result = await closeAndAnnounce(
      { store: deps.settlement.store, publisher: deps.settlement.publisher, now: () => now },
      { currency: body.currency, ...(body.windowId !== undefined ? { windowId: body.windowId } : {}), closedBy, idempotencyKey },
    );
  } catch (error) {
    if (!(error instanceof SettlementConflictError)) throw error;
    throw new ApiProblem('settlement-busy', `closing the ${body.currency} window raced another write; nothing changed`, {}, { 'retry-after': '1' }, { cause: error });
  }
  if (result.kind === 'key-reused') throw new ApiProblem('idempotency-key-reused', 'this Idempotency-Key was already used to close another currency or window');
  if (result.kind === 'not-found') throw new ApiProblem('not-found', `no settlement window ${body.windowId ?? '?'}`);
  if (result.kind === 'not-open') {
    throw new ApiProblem('window-not-open', `window ${body.windowId ?? '?'} is ${result.current.state}; the open ${body.currency} window is another one`);
  }
  // An announcement that failed is repeated by the scheduled close; the window is closed either way.
  return jsonResponse(
    200,
    { closed: windowView(result.closed), opened: windowView(result.opened), settlementAnnounced: result.announced },
    result.replayed === true ? { 'idempotent-replayed': 'true' } : {},
  );
}

const WindowCursor = z.strictObject({ query: z.string(), currency: z.string(), sequence: z.number().int().nonnegative() });

export async function listSettlementWindows({ event, deps }: OperationInput): Promise<APIGatewayProxyResult> {
  const query = parseQuery(ListWindowsQuery, event.queryStringParameters);
  const limit = query.limit ?? WINDOW_PAGE_SIZE_DEFAULT;
  const fingerprint = JSON.stringify([query.currency ?? null, query.state ?? null]);
  const currencies = query.currency !== undefined ? [query.currency] : await deps.settlement.store.currencies();
  const openSequence = new Map<CurrencyCode, number>();
  for (const currency of currencies) openSequence.set(currency, parseWindowId(await deps.settlement.store.currentWindowId(currency))?.sequence ?? 0);
  // A cursor names a currency of this listing and a window that exists: anything else is forged.
  let position = query.cursor === undefined ? undefined : decodeWindowCursor(query.cursor, fingerprint, currencies, (currency) => openSequence.get(currency) ?? 0);
  const windows: SettlementWindow[] = [];
  let reads = 0;
  for (let index = position === undefined ? 0 : currencies.indexOf(position.currency); index < currencies.length; index++) {
    const currency = currencies[index];
    if (currency === undefined) break;
    let next = position?.currency === currency ? position.sequence : (openSequence.get(currency) ?? 0);
    while (next >= 1) {
      if (windows.length >= limit || reads >= LIST_READS_MAX) {
        return jsonResponse(200, page(event, query, windows, { currency, sequence: next }, fingerprint));
      }
      const batch = await deps.settlement.store.windowsBetween(currency, next - limit + 1, next);
      reads++;
      for (const window of batch) {
        if (windows.length >= limit) {
          return jsonResponse(200, page(event, query, windows, { currency, sequence: window.sequence }, fingerprint));
        }
        if (query.state === undefined || window.state === query.state) windows.push(window);
      }
      next -= limit;
    }
    position = undefined;
  }
  return jsonResponse(200, page(event, query, windows, undefined, fingerprint));
}

function page(
  event: OperationInput['event'],
  query: z.infer<typeof ListWindowsQuery>,
  windows: readonly SettlementWindow[],
  resume: { currency: string; sequence: number } | undefined,
  fingerprint: string,
): Record<string, unknown> {
  if (resume === undefined) return { windows: windows.map(windowView) };
  const cursor = Buffer.from(JSON.stringify({ query: fingerprint, ...resume }), 'utf8').toString('base64url');
  const parameters = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && name !== 'cursor') parameters.set(name, String(value));
  parameters.set('cursor', cursor);
  return { windows: windows.map(windowView), next: publicPath(event, `/v1/settlement-windows?${parameters.toString()}`), cursor };
}

function decodeWindowCursor(
  cursor: string,
  fingerprint: string,
  currencies: readonly CurrencyCode[],
  maxSequenceOf: (currency: CurrencyCode) => number,
): { currency: CurrencyCode; sequence: number } {
  const invalid = (detail: string) => new ApiProblem('invalid-query', detail, { errors: [{ pointer: '/cursor', detail }] });
  let parsed: z.infer<typeof WindowCursor>;
  try {
    parsed = WindowCursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw invalid('the cursor is not one this API issued');
  }
  if (parsed.query !== fingerprint) throw invalid('the cursor belongs to a query with other filters');
  const currency = currencies.find((code) => code === parsed.currency);
  if (currency === undefined || parsed.sequence < 1 || parsed.sequence > maxSequenceOf(currency)) throw invalid('the cursor is not one this API issued');
  return { currency, sequence: parsed.sequence };
}

export async function getSettlementWindow({ event, pathParameters, deps }: OperationInput): Promise<APIGatewayProxyResult> {
  const windowId = pathId(pathParameters, WINDOW_ID_PATTERN, 'settlement window');
  const window = await deps.settlement.store.getWindow(windowId);
  if (window === undefined) throw new ApiProblem('not-found', `no settlement window ${windowId}`);
  const report = await deps.settlement.store.getReport(windowId);
  const positions = report?.positions ?? (await deps.settlement.store.positions(window));
  const [recorded, confirmed] = report === undefined ? [[], []] : await Promise.all([deps.settlement.store.recordedInstructions(window, report), deps.settlement.store.confirmations(window, report)]);
  if (wantsCsv(header(event, 'accept'))) return csvReport(window, positions, report, recorded);
  return jsonResponse(200, {
    ...windowView(window),
    netPositions: [...positions].map(([institutionId, position]) => ({ institutionId, position })),
    ...(report !== undefined
      ? {
          report: { status: report.status, createdAt: report.createdAt },
          instructions: report.instructions.map((line) => {
            const recordedAt = recorded.find((entry) => entry.institutionId === line.institutionId)?.recordedAt;
            const confirmation = confirmed.find((entry) => entry.institutionId === line.institutionId);
            return {
              institutionId: line.institutionId,
              direction: line.direction,
              amount: line.amountMinor,
              ...(recordedAt !== undefined ? { recordedAt } : {}),
              ...(confirmation !== undefined ? { confirmedAt: confirmation.confirmedAt, confirmationReference: confirmation.reference } : {}),
            };
          }),
        }
      : {}),
  });
}

function wantsCsv(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/csv/i.test(accept);
}

function csvReport(
  window: SettlementWindow,
  positions: ReadonlyMap<string, bigint>,
  report: SettlementReport | undefined,
  recorded: readonly { institutionId: string; recordedAt: string }[],
): APIGatewayProxyResult {
  const rows = [['windowId', 'currency', 'state', 'institutionId', 'netPosition', 'direction', 'amount', 'recordedAt']];
  for (const [institutionId, position] of [...positions].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const line = report?.instructions.find((entry) => entry.institutionId === institutionId);
    rows.push([
      window.windowId,
      window.currency,
      window.state,
      institutionId,
      position.toString(),
      line?.direction ?? '',
      line?.amountMinor.toString() ?? '',
      recorded.find((entry) => entry.institutionId === institutionId)?.recordedAt ?? '',
    ]);
  }
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="settlement-${window.windowId}.csv"` },
    // Institution ids are [A-Za-z0-9_-]; nothing here needs quoting.
    body: `${rows.map((row) => row.join(',')).join('\r\n')}\r\n`,
  };
}

export function windowView(window: SettlementWindow): Record<string, unknown> {
  return {
    windowId: window.windowId,
    currency: window.currency,
    state: window.state,
    openedAt: window.openedAt,
    ...(window.closedAt !== undefined ? { closedAt: window.closedAt } : {}),
    ...(window.closedBy !== undefined ? { closedBy: window.closedBy } : {}),
    ...(window.settledAt !== undefined ? { settledAt: window.settledAt } : {}),
    transferCount: window.transferCount,
    grossAmount: window.grossMinor,
    participants: window.participants,
    ...(window.instructionCount !== undefined
      ? { instructionCount: window.instructionCount, instructionsRecorded: window.instructionsRecorded ?? 0, confirmationsRecorded: window.confirmationsRecorded ?? 0 }
      : {}),
  };
}
