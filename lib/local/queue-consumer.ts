// A queue's Lambda event source mapping, running continuously: a bounded number of concurrent
// pollers, each long-polling a batch and invoking the handler (lib/local/event-source.ts does one
// batch). Stopping aborts idle long polls, lets in-flight batches finish within a bounded wait,
// and never deletes a message whose handler did not succeed.
import { pollBatch, type BatchReport, type EventSourceBinding } from './event-source.js';

export interface QueueConsumerOptions extends EventSourceBinding {
  /** Concurrent pollers (Lambda scales FIFO consumers up to one per active message group). */
  readonly pollersMax: number;
  /** Called after every non-empty batch (progress, logging, tests). */
  readonly onBatch?: (report: BatchReport) => void;
  /** Called when polling itself fails (the emulator is down, ...); the poller backs off and retries. */
  readonly onPollError?: (error: unknown) => void;
}

/** Backoff after a failed ReceiveMessage, doubling up to the cap. */
const POLL_ERROR_BACKOFF_MS = 200;
const POLL_ERROR_BACKOFF_MAX_MS = 5_000;

export class QueueConsumer {
  readonly #options: QueueConsumerOptions;
  readonly #abort = new AbortController();
  readonly #loops: Promise<void>[] = [];
  #inFlightBatches = 0;

  constructor(options: QueueConsumerOptions) {
    if (options.pollersMax < 1) throw new RangeError('pollersMax must be at least 1');
    this.#options = options;
  }

  start(): void {
    if (this.#loops.length > 0) throw new Error('consumer already started');
    for (let index = 0; index < this.#options.pollersMax; index++) this.#loops.push(this.#pollLoop());
  }

  get inFlightBatches(): number {
    return this.#inFlightBatches;
  }

  /**
   * Stops polling and waits up to `drainTimeoutMs` for in-flight batches. Returns false when
   * batches were still running at the deadline: their messages were not deleted, so they
   * reappear after the visibility timeout (nothing is lost, at worst processed again).
   */
  async stop(drainTimeoutMs: number): Promise<boolean> {
    this.#abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), drainTimeoutMs);
    });
    const drained = Promise.all(this.#loops).then(() => true as const);
    try {
      return await Promise.race([drained, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #pollLoop(): Promise<void> {
    const signal = this.#abort.signal;
    let backoffMs = POLL_ERROR_BACKOFF_MS;
    while (!signal.aborted) {
      try {
        const report = await pollBatch(this.#options, signal, {
          onReceived: () => this.#inFlightBatches++,
          onSettled: () => this.#inFlightBatches--,
        });
        backoffMs = POLL_ERROR_BACKOFF_MS;
        if (report.received > 0) this.#options.onBatch?.(report);
      } catch (error) {
        if (signal.aborted) return;
        this.#options.onPollError?.(error);
        await abortableSleep(backoffMs, signal);
        backoffMs = Math.min(backoffMs * 2, POLL_ERROR_BACKOFF_MAX_MS);
      }
    }
  }
}

/** Waits `ms`, or less if `signal` aborts first (a stop need not wait out a back-off). */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
