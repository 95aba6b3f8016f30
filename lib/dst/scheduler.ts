// The simulator's scheduler: simulated time, timers on that time, and cooperative tasks (an API
// request, a Lambda invocation, a scheduled sweep) that run until they reach a yield point, which
// every call to a simulated AWS service is. Which waiting continuation goes on next, when time
// moves and which one is dropped is the seeded generator's choice, so one seed is one
// interleaving, replayed exactly. A dropped continuation is a crash: its task stops between two
// requests, like a Lambda killed mid-invocation, leaving whatever it wrote and nothing after.
// (Continuations are not tied to their task, which would take AsyncLocalStorage and its cost on
// every promise; a task whose continuation is dropped simply never settles.)
import type { SeededRandom } from './random.js';

/** How often a waiting service pause goes before any client continuation. */
const SERVICE_FIRST = 0.9;

export interface Task {
  readonly id: number;
  readonly label: string;
  /** When it started (simulated ms): a task that outlives its function's timeout is dead. */
  readonly startedMs: number;
  finished: boolean;
}

interface Waiting {
  readonly resume: () => void;
  /** A service's own pause (a transaction between taking its items and committing): it never dies with the caller. */
  readonly service: boolean;
}

interface Timer {
  readonly id: number;
  readonly dueMs: number;
  readonly callback: () => void;
}

export class Scheduler {
  readonly #random: SeededRandom;
  #nowMs: number;
  readonly #waiting: Waiting[] = [];
  #timers: Timer[] = [];
  #nextId = 1;
  /** Yield points pass at once outside a run (setting the world up, checking it afterwards). */
  #running = false;

  constructor(random: SeededRandom, startMs: number) {
    this.#random = random;
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  now(): Date {
    return new Date(this.#nowMs);
  }

  get waitingCount(): number {
    return this.#waiting.length;
  }

  get timerCount(): number {
    return this.#timers.length;
  }

  set running(running: boolean) {
    this.#running = running;
  }

  /** Starts `work` as a task; it runs at once up to its first yield point. */
  spawn<T>(label: string, work: () => Promise<T>, onSettled?: (outcome: { ok: true; value: T } | { ok: false; error: unknown }) => void): Task {
    const task: Task = { id: this.#nextId++, label, startedMs: this.#nowMs, finished: false };
    void (async () => {
      try {
        const value = await work();
        task.finished = true;
        onSettled?.({ ok: true, value });
      } catch (error) {
        task.finished = true;
        onSettled?.({ ok: false, error });
      }
    })();
    return task;
  }

  /**
   * Where a task may be paused, interleaved with others, or (a client's) never resumed. A
   * service-side pause always resumes: DynamoDB finishes a transaction whatever becomes of the
   * caller that sent it.
   */
  yieldPoint(side: 'client' | 'service' = 'client'): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise<void>((resume) => {
      this.#waiting.push({ resume, service: side === 'service' });
    });
  }

  /**
   * Resumes one waiting continuation, chosen by the generator; false when none waits. A service's
   * pause is usually resumed first: a DynamoDB transaction holds its items for milliseconds, not
   * for as long as every client around it takes (which would make conflicts the rule).
   */
  resumeOne(): boolean {
    if (this.#waiting.length === 0) return false;
    const services = this.#waiting.reduce((count, waiting) => count + (waiting.service ? 1 : 0), 0);
    if (services > 0 && this.#random.chance(SERVICE_FIRST)) {
      let nth = this.#random.int(services);
      this.#take(this.#waiting.findIndex((waiting) => waiting.service && nth-- === 0)).resume();
      return true;
    }
    this.#take().resume();
    return true;
  }

  /** Drops one waiting client continuation, chosen by the generator: its task dies there. */
  crashOne(): boolean {
    const clients = this.#waiting.reduce((count, waiting) => count + (waiting.service ? 0 : 1), 0);
    if (clients === 0) return false;
    let nth = this.#random.int(clients);
    const index = this.#waiting.findIndex((waiting) => !waiting.service && nth-- === 0);
    this.#take(index);
    return true;
  }

  /** Drops every waiting client continuation and timer: the whole process died (the services did not). */
  crashAll(): void {
    const services = this.#waiting.filter((waiting) => waiting.service);
    this.#waiting.length = 0;
    this.#waiting.push(...services);
    this.#timers = [];
  }

  #take(index = this.#random.int(this.#waiting.length)): Waiting {
    // Swap-remove: order among the waiting does not matter, the draw does.
    const chosen = this.#waiting[index]!;
    const last = this.#waiting.pop()!;
    if (index < this.#waiting.length) this.#waiting[index] = last;
    return chosen;
  }

  /** Lets every runnable continuation run (they only wait on each other and on yield points). */
  async settle(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Moves time forward, firing due timers in due order (a timer of a dead task never fires). */
  async advance(ms: number): Promise<void> {
    const target = this.#nowMs + Math.max(0, ms);
    for (;;) {
      const next = this.#timers.reduce<Timer | undefined>((soonest, timer) => (soonest === undefined || timer.dueMs < soonest.dueMs || (timer.dueMs === soonest.dueMs && timer.id < soonest.id) ? timer : soonest), undefined);
      if (next === undefined || next.dueMs > target) break;
      this.#timers = this.#timers.filter((timer) => timer !== next);
      this.#nowMs = Math.max(this.#nowMs, next.dueMs);
      next.callback();
      await this.settle();
    }
    this.#nowMs = target;
  }

  /** When the next timer is due, if any. */
  nextTimerDueMs(): number | undefined {
    return this.#timers.reduce<number | undefined>((soonest, timer) => (soonest === undefined || timer.dueMs < soonest ? timer.dueMs : soonest), undefined);
  }

  /**
   * Puts setTimeout/clearTimeout on simulated time and Math.random on the seed, for code that
   * sleeps between retries with jitter (the stores' backoff). Returns the restore function.
   * Only for a process that is the simulator (the CLI), never inside a test runner.
   */
  installGlobals(random: SeededRandom): () => void {
    const original = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout, random: Math.random };
    const simulatedSetTimeout = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const timer: Timer = { id: this.#nextId++, dueMs: this.#nowMs + Math.max(0, ms ?? 0), callback: () => callback(...args) };
      this.#timers.push(timer);
      return { [Symbol.toPrimitive]: () => timer.id, ref: () => undefined, unref: () => undefined, hasRef: () => false, refresh: () => undefined, simulatedTimerId: timer.id };
    };
    const simulatedClearTimeout = (handle: unknown) => {
      const id = typeof handle === 'object' && handle !== null && 'simulatedTimerId' in handle ? (handle as { simulatedTimerId: number }).simulatedTimerId : undefined;
      if (id !== undefined) this.#timers = this.#timers.filter((timer) => timer.id !== id);
    };
    // Cast: the simulated timers honour the calls this code base makes (delay, clear), not the
    // whole Node Timeout API.
    globalThis.setTimeout = simulatedSetTimeout as unknown as typeof globalThis.setTimeout;
    globalThis.clearTimeout = simulatedClearTimeout;
    Math.random = () => random.next();
    return () => {
      globalThis.setTimeout = original.setTimeout;
      globalThis.clearTimeout = original.clearTimeout;
      Math.random = original.random;
    };
  }
}
