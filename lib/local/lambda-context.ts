// A Lambda `Context` for handlers run by the local runtime, whose getRemainingTimeInMillis()
// counts down from the function's configured timeout as it does on Lambda.
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { LOCAL_REGION } from './local-world.js';

export interface LocalContextOptions {
  readonly functionName: string;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
  readonly region?: string;
  readonly now?: () => number;
}

export function createLambdaContext(options: LocalContextOptions): Context {
  const now = options.now ?? Date.now;
  const deadlineMs = now() + options.timeoutSeconds * 1_000;
  const region = options.region ?? LOCAL_REGION;
  const unsupported = (name: string) => (): never => {
    throw new Error(`context.${name}() is a legacy callback API; handlers here are async`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${options.functionName}`,
    memoryLimitInMB: String(options.memorySizeMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `local/${randomUUID()}`,
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}
