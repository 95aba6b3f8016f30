// Fault injection at a chosen point: the real object, with some methods replaced. Everything else
// is delegated (bound to the real object, so private fields keep working).
import { TransactGetItemsCommand } from '@aws-sdk/client-dynamodb';
import { transactionConflict } from '../../lambdas/adapters/memory/dynamodb.js';

export function withFaults<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      if (Object.hasOwn(overrides, property)) return (overrides as Record<PropertyKey, unknown>)[property];
      const value: unknown = Reflect.get(object, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}

/** What `interceptRequests` needs of a client: the SDK's `send(command, options?)`. */
interface Sending {
  send(command: object, ...rest: never[]): Promise<unknown>;
}

/**
 * Runs `before` ahead of every request the client sends, until the returned function is called:
 * a fault (`before` throws, and the request is not sent) or an interleaving (`before` acts, then
 * the request goes on) at exactly that point. It replaces `send` on the instance, so it works the
 * same on an SDK client and on the in-memory engine, and on every adapter already holding it.
 */
export function interceptRequests(client: Sending, before: (command: object) => void | Promise<void>): () => void {
  assertNotIntercepted(client);
  const send = client.send.bind(client);
  const intercepted: Sending['send'] = async (command, ...rest) => {
    await before(command);
    return send(command, ...rest);
  };
  Object.defineProperty(client, 'send', { value: intercepted, configurable: true, writable: true });
  return () => {
    if (!Reflect.deleteProperty(client, 'send')) throw new Error('interceptRequests: the interceptor could not be removed');
  };
}

function assertNotIntercepted(client: Sending): void {
  // One interceptor at a time: a second would be removed with the first, silently.
  if (Object.hasOwn(client, 'send')) throw new Error('interceptRequests: this client is already intercepted');
}

/**
 * Runs `work` while every TransactGetItems the client sends is cancelled, as writes in flight on its
 * items cancel a snapshot; returns what `work` returned and how many snapshots it tried.
 */
export async function withSnapshotsCancelled<T>(client: Sending, work: () => Promise<T>): Promise<{ readonly result: T; readonly snapshots: number }> {
  let snapshots = 0;
  const restore = interceptRequests(client, (command) => {
    if (!(command instanceof TransactGetItemsCommand)) return;
    snapshots++;
    throw transactionConflict(command.input.TransactItems?.length ?? 1, 0);
  });
  try {
    const result = await work();
    return { result, snapshots };
  } finally {
    restore();
  }
}
