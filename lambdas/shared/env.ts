// Reads a handler's bindings from its environment, failing fast and by name on a missing one.

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

export type Environment = Readonly<Record<string, string | undefined>>;

export function requireEnv(env: Environment, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ConfigurationError(`environment variable ${name} is not set`);
  return value;
}
