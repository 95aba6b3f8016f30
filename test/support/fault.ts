// Fault injection at a chosen point: the real object, with some methods replaced. Everything else
// is delegated (bound to the real object, so private fields keep working).
export function withFaults<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      if (Object.hasOwn(overrides, property)) return (overrides as Record<PropertyKey, unknown>)[property];
      const value: unknown = Reflect.get(object, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}
