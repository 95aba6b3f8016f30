// CDK app entry: reads the `stage` context (default dev) and the operations e-mail addresses, and
// synthesizes that stage's stack. Optional: settlementIntervalMinutes, sourceMaps (true/false).
//   npx cdk synth -c stage=prod -c opsNotificationEmails=oncall@bank.example
import { App } from 'aws-cdk-lib';
import { createPaymentsApp, DEPLOYMENT_STAGES, isDeploymentStage } from '../lib/app.js';

// A throwaway App only to read the context the CLI passes in (cdk.json, -c); autoSynth off, or it
// would write an empty assembly over the real one at exit. The real app comes from
// createPaymentsApp so tests and the CLI synthesize the same thing.
const context = new App({ autoSynth: false }).node;
const stage: unknown = context.tryGetContext('stage') ?? 'dev';
if (!isDeploymentStage(stage)) {
  throw new Error(`context "stage" must be one of ${DEPLOYMENT_STAGES.join(', ')}; got ${JSON.stringify(stage)}`);
}
const opsNotificationEmails = emailList(context.tryGetContext('opsNotificationEmails'));
const settlementInterval: unknown = context.tryGetContext('settlementIntervalMinutes');
const sourceMaps = booleanContext('sourceMaps', context.tryGetContext('sourceMaps'));
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
const { app } = createPaymentsApp({
  stage,
  opsNotificationEmails,
  ...(settlementInterval !== undefined ? { settlementIntervalMinutes: Number(settlementInterval) } : {}),
  ...(sourceMaps !== undefined ? { sourceMaps } : {}),
  ...(account !== undefined && region !== undefined ? { env: { account, region } } : {}),
});
app.synth();

/** `-c opsNotificationEmails=a@x.com,b@x.com` on the command line, or a JSON list in cdk.json. */
function emailList(value: unknown): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return value.split(',').map((address) => address.trim()).filter((address) => address !== '');
  if (Array.isArray(value) && value.every((address) => typeof address === 'string')) return value;
  throw new Error(`context "opsNotificationEmails" must be a comma-separated string or a list of strings; got ${JSON.stringify(value)}`);
}

/** `-c name=true|false` on the command line (a string), or a JSON boolean in cdk.json. */
function booleanContext(name: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Error(`context "${name}" must be true or false; got ${JSON.stringify(value)}`);
}
