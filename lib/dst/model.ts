// What the simulated clients saw, and the checks made at the moment something happens: a transfer
// decided twice, or decided ahead of a transfer of its account that had its 202 before it was even
// submitted (the per-account order the product promises among accepted requests).
import type { PostingResult } from '../../lambdas/core/ledger/ports.js';
import type { TransferRequest } from '../../lambdas/core/ledger/transfer.js';
import type { DecisionLog } from './pipeline.js';

export interface Violation {
  readonly invariant: 'lost' | 'doubled' | 'order' | 'conservation' | 'settlement' | 'alerts' | 'answer' | 'liveness';
  readonly detail: string;
  /** Transfer, account or window ids the violation is about, to cut the trace down to them. */
  readonly subjects: readonly string[];
  readonly step: number;
}

interface AccountHistory {
  /** Transfer ids in the order their first 202 came back. */
  readonly accepted: string[];
  /** How many of `accepted`, from the start, are decided. */
  decidedPrefix: number;
}

export class ClientModel implements DecisionLog {
  /** Answered 202 at least once. */
  readonly accepted = new Set<string>();
  /** Answered 503 (recorded, not queued) at least once. */
  readonly unavailable = new Set<string>();
  /**
   * Decided transfers whose outcome was waiting on the screening queue when a restart lost every
   * queue: the local runtime's queues live in memory, and nothing re-announces a decided outcome,
   * so these are never screened (on AWS the queue outlives any crash).
   */
  readonly screeningLostInRestart = new Set<string>();
  readonly violations: Violation[] = [];
  readonly #decided = new Map<string, number>();
  /** Answered 202 or 503 and not decided yet. */
  readonly #owed = new Set<string>();
  readonly #startedAfter = new Map<string, number>();
  readonly #accounts = new Map<string, AccountHistory>();
  #step = 0;
  /** Where trace lines go (the run sets it). */
  tracer: (line: string) => void = () => undefined;
  orderViolations = 0;
  doubled = 0;

  set step(step: number) {
    this.#step = step;
  }

  get decidedCount(): number {
    return this.#decided.size;
  }

  /** Every transfer the posting path decided. */
  decidedTransferIds(): IterableIterator<string> {
    return this.#decided.keys();
  }

  /** Requests answered 202 or 503 that no decision has reached yet. */
  get owedCount(): number {
    return this.#owed.size;
  }

  #history(accountId: string): AccountHistory {
    let history = this.#accounts.get(accountId);
    if (history === undefined) {
      history = { accepted: [], decidedPrefix: 0 };
      this.#accounts.set(accountId, history);
    }
    return history;
  }

  /** A client starts submitting: the account's 202s so far must all be decided before this one. */
  submitting(transferId: string, debtorAccountId: string): void {
    if (!this.#startedAfter.has(transferId)) this.#startedAfter.set(transferId, this.#history(debtorAccountId).accepted.length);
  }

  answeredAccepted(transferId: string, debtorAccountId: string): void {
    if (this.accepted.has(transferId)) return;
    this.accepted.add(transferId);
    if (!this.#decided.has(transferId)) this.#owed.add(transferId);
    this.#history(debtorAccountId).accepted.push(transferId);
  }

  answeredUnavailable(transferId: string): void {
    this.unavailable.add(transferId);
    if (!this.#decided.has(transferId)) this.#owed.add(transferId);
  }

  trace(line: string): void {
    this.tracer(line);
  }

  violation(invariant: Violation['invariant'], detail: string, subjects: readonly string[]): void {
    this.violations.push({ invariant, detail, subjects, step: this.#step });
  }

  record(request: TransferRequest, result: PostingResult): void {
    if (result.kind !== 'decided') return;
    const transferId = request.transferId;
    const times = (this.#decided.get(transferId) ?? 0) + 1;
    this.#decided.set(transferId, times);
    this.#owed.delete(transferId);
    if (times > 1) {
      this.doubled++;
      this.violation('doubled', `transfer ${transferId} decided ${times} times`, [transferId, request.debtorAccountId]);
      return;
    }
    const history = this.#history(request.debtorAccountId);
    const mustFollow = this.#startedAfter.get(transferId);
    while (history.decidedPrefix < history.accepted.length && this.#decided.has(history.accepted[history.decidedPrefix]!)) history.decidedPrefix++;
    if (mustFollow !== undefined && history.decidedPrefix < mustFollow) {
      const overtaken = history.accepted[history.decidedPrefix]!;
      this.orderViolations++;
      this.violation(
        'order',
        `${transferId} was decided before ${overtaken}, though ${overtaken} had its 202 before ${transferId} was submitted (account ${request.debtorAccountId})`,
        [transferId, overtaken, request.debtorAccountId],
      );
    }
  }
}
