// Builds the CDK app for one deployment stage, with cdk-nag's AWS Solutions, NIST 800-53 rev 5,
// PCI DSS 3.2.1 and Serverless checks live: any unacknowledged finding makes app.synth() throw.
import { App, Tags, Validations, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { PaymentsStack, type DeploymentStage, type PaymentsStackProps } from './payments-stack.js';

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

export function createPaymentsApp(options: PaymentsAppOptions): PaymentsApp {
  const { env, stackName, outdir, bundleAssets, ...stackProps } = options;
  const app = new App({
    ...(outdir === undefined ? {} : { outdir }),
    // CDK's switch for which stacks bundle their assets: none.
    ...(bundleAssets === false ? { context: { 'aws:cdk:bundling-stacks': [] } } : {}),
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
