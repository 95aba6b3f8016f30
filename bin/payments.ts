// CDK app entry: reads the `stage` context (default dev) and synthesizes that stage's stack.
//   npx cdk synth -c stage=prod
import { App } from 'aws-cdk-lib';
import { createPaymentsApp, DEPLOYMENT_STAGES, isDeploymentStage } from '../lib/app.js';

// A throwaway App only to read the context the CLI passes in (cdk.json, -c); autoSynth off, or it
// would write an empty assembly over the real one at exit. The real app comes from
// createPaymentsApp so tests and the CLI synthesize the same thing.
const stage: unknown = new App({ autoSynth: false }).node.tryGetContext('stage') ?? 'dev';
if (!isDeploymentStage(stage)) {
  throw new Error(`context "stage" must be one of ${DEPLOYMENT_STAGES.join(', ')}; got ${JSON.stringify(stage)}`);
}
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
const { app } = createPaymentsApp({
  stage,
  ...(account !== undefined && region !== undefined ? { env: { account, region } } : {}),
});
app.synth();
