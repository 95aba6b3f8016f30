// The CDK apps the infra tests inspect (dev, staging, and prod with its handlers bundled), each built
// and synthesized once per test worker and shared by every infra test file that worker runs.
// A synth is slow (esbuild bundles every handler, cdk-nag and CloudFormation validation run), and
// the tests only read the result, so building it once per file or per test bought nothing.
// idOf finds a construct's resource in those templates.
import type { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createPaymentsApp, type PaymentsAppOptions } from '../../lib/app.js';
import type { PaymentsStack } from '../../lib/payments-stack.js';

const OPTIONS = {
  dev: { stage: 'dev', bundleAssets: false },
  // staging retains its data like prod (table backups) with its own settings: checked by cdk-nag.
  staging: { stage: 'staging', bundleAssets: false },
  // prod bundles the handlers for real (esbuild, no Docker), so a bundling regression fails; it
  // also carries what only prod is checked for: operations e-mail subscriptions and a settlement
  // rate other than the default (test/infra/topology-template.test.ts expects these values).
  prod: {
    stage: 'prod',
    bundleAssets: true,
    settlementIntervalMinutes: 15,
    opsNotificationEmails: ['oncall@bank.example', 'fraud-desk@bank.example'],
  },
} as const satisfies Record<string, PaymentsAppOptions>;

export type SharedStage = keyof typeof OPTIONS;

export interface SynthesizedApp {
  readonly app: App;
  readonly stack: PaymentsStack;
  /** The message `app.synth()` threw (an unacknowledged cdk-nag finding, say), or '' when it did not. */
  readonly synthError: string;
  /** The stack's template, from the synth already done; throws when that synth failed. */
  template(): Template;
}

type Outcome = { readonly built: SynthesizedApp } | { readonly failed: unknown };
const outcomes = new Map<SharedStage, Outcome>();

/**
 * The stage's app, synthesized. A failure to build it (a bundling error is thrown while the app
 * is built) is remembered and thrown to every caller, so it is reported, not retried per test.
 */
export function sharedApp(stage: SharedStage): SynthesizedApp {
  let outcome = outcomes.get(stage);
  if (outcome === undefined) {
    try {
      outcome = { built: synthesize(OPTIONS[stage]) };
    } catch (error: unknown) {
      outcome = { failed: error };
    }
    outcomes.set(stage, outcome);
  }
  if ('failed' in outcome) throw outcome.failed;
  return outcome.built;
}

function synthesize(options: PaymentsAppOptions): SynthesizedApp {
  const { app, stack } = createPaymentsApp(options);
  let synthError = '';
  try {
    app.synth();
  } catch (error: unknown) {
    synthError = error instanceof Error ? error.message : String(error);
  }
  return {
    app,
    stack,
    synthError,
    template: () => {
      if (synthError !== '') throw new Error(`the ${options.stage} app did not synthesize: ${synthError}`);
      // The app keeps the assembly of its synth: this reads it, it does not synthesize again.
      return Template.fromStack(stack);
    },
  };
}

/** The logical id of a construct's CloudFormation resource in `stack`'s template. */
export function idOf(stack: Stack, construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}
