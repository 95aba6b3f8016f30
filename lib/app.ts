// Builds the CDK app for one deployment stage, with cdk-nag's AWS Solutions, NIST 800-53 rev 5,
// PCI DSS 3.2.1 and Serverless checks live: any unacknowledged finding makes app.synth() throw.
import { readFileSync } from 'node:fs';
import { App, Tags, Validations, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { PaymentsStack, type PaymentsStackProps } from './payments-stack.js';
import type { DeploymentStage } from './stage-settings.js';

export const DEPLOYMENT_STAGES = ['dev', 'staging', 'prod'] as const satisfies readonly DeploymentStage[];

export interface PaymentsAppOptions extends Omit<PaymentsStackProps, 'env' | 'stackName'> {
  /**
   * Account and region to deploy to.
   * @default - environment-agnostic (resolved by CloudFormation at deploy time)
   */
  readonly env?: Environment;
  /**
   * CloudFormation stack name.
   * @default `Payments-<stage>`
   */
  readonly stackName?: string;
  /**
   * Cloud assembly directory.
   * @default - CDK_OUTDIR when run by the CDK CLI, a temporary directory otherwise
   */
  readonly outdir?: string;
  /**
   * Bundle the handlers' code (esbuild, no Docker). Tests that only inspect the template turn it
   * off: the template is the same, the assets are placeholders.
   * @default true
   */
  readonly bundleAssets?: boolean;
}

export interface PaymentsApp {
  readonly app: App;
  readonly stack: PaymentsStack;
}

/** Registers the compliance packs every app of this repository runs (tests use it too). */
export function registerCompliancePlugins(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new PCIDSS321Checks(app), new ServerlessChecks(app));
}

/**
 * The CDK feature flags of cdk.json (the `cdk init` defaults of this aws-cdk-lib). The CLI passes
 * them to the app itself; an app built elsewhere (tests, scripts) gets them from here, so every
 * synth of this repository sees the same flags.
 */
export function featureFlags(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context?: Record<string, unknown> };
  return Object.fromEntries(Object.entries(cdkJson.context ?? {}).filter(([key]) => key.startsWith('@aws-cdk')));
}

export function createPaymentsApp(options: PaymentsAppOptions): PaymentsApp {
  const { env, stackName, outdir, bundleAssets, ...stackProps } = options;
  const app = new App({
    ...(outdir === undefined ? {} : { outdir }),
    context: {
      ...featureFlags(),
      // CDK's switch for which stacks bundle their assets: none.
      ...(bundleAssets === false ? { 'aws:cdk:bundling-stacks': [] } : {}),
    },
  });
  registerCompliancePlugins(app);
  const stack = new PaymentsStack(app, `Payments-${options.stage}`, {
    ...stackProps,
    stackName: stackName ?? `Payments-${options.stage}`,
    description: `Payments messaging backbone (${options.stage})`,
    ...(env === undefined ? {} : { env }),
  });
  Tags.of(app).add('project', 'payments-backbone');
  Tags.of(app).add('stage', options.stage);
  return { app, stack };
}

export function isDeploymentStage(value: unknown): value is DeploymentStage {
  return typeof value === 'string' && (DEPLOYMENT_STAGES as readonly string[]).includes(value);
}
