// Retrying a DynamoDB write that lost to a concurrent one: a bounded number of attempts with
// exponential backoff and jitter, for the errors the caller names retryable. Everything else, and
// the last attempt's error, goes to the caller.
export interface RetryOptions {
  readonly attemptsMax: number;
  /** The first wait is about twice this (with jitter), doubling each attempt. */
  readonly backoffBaseMs: number;
}

export async function retryWhile<T>(attempt: () => Promise<T>, retryable: (error: unknown) => boolean, options: RetryOptions): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!retryable(error) || tries >= options.attemptsMax) throw error;
      await new Promise((resolve) => setTimeout(resolve, options.backoffBaseMs * 2 ** tries * (0.5 + Math.random())));
    }
  }
}
