// Every handler's bundle stays within the size budget (lib/constructs/handler-function.ts). It reads
// the bundles the prod app's shared synthesis already built (test/support/infra-apps.ts), so it
// adds no synthesis and no bundling of its own. Import time is measured by
// `npm run bundle:report`, not asserted here: timings on a shared machine are not a test.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { BUNDLE_BUDGET_BYTES, BUNDLE_ZIPPED_BUDGET_BYTES, zippedBundleBytes } from '../../lib/constructs/handler-function.js';
import { handlerNames, type HandlerName } from '../../contract/topology.js';
import { sharedApp } from '../support/infra-apps.js';

interface BundledFunction {
  readonly handler: HandlerName;
  readonly bundle: string;
}

interface AssetsManifest {
  readonly files?: Record<string, { readonly source: { readonly path?: string } }>;
}

/** Each handler's bundled index.mjs: its function's code key names the asset, the manifest its directory. */
function bundledFunctions(): BundledFunction[] {
  const { app, stack } = sharedApp('prod');
  // The app keeps the assembly of its synth: this returns it, it does not synthesize again.
  const assembly = app.synth();
  const artifact = assembly.getStackArtifact(stack.artifactId);
  const resources = (artifact.template as { Resources: Record<string, { Properties?: { Code?: { S3Key?: unknown } } }> }).Resources;
  const manifest = JSON.parse(readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8')) as AssetsManifest;
  return handlerNames().map((handler) => {
    const logicalId = stack.getLogicalId(stack.handlers[handler].function.node.defaultChild as CfnElement);
    const key = resources[logicalId]?.Properties?.Code?.S3Key;
    const assetPath = typeof key === 'string' ? manifest.files?.[key.replace(/\.zip$/, '')]?.source.path : undefined;
    if (assetPath === undefined) throw new Error(`handler ${handler}: no bundled asset for ${logicalId}`);
    return { handler, bundle: path.join(assembly.directory, assetPath, 'index.mjs') };
  });
}

describe('handler bundles', () => {
  it('are built for every topology handler', () => {
    for (const fn of bundledFunctions()) expect(existsSync(fn.bundle), `${fn.handler}: ${fn.bundle}`).toBe(true);
  });

  it(`are each at most ${BUNDLE_BUDGET_BYTES / 1000} KB`, () => {
    const sizes = bundledFunctions().map((fn) => ({ handler: fn.handler, bytes: statSync(fn.bundle).size }));
    for (const { handler, bytes } of sizes) expect(bytes, `${handler}: ${bytes} bytes`).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
  });

  it(`are each at most ${BUNDLE_ZIPPED_BUDGET_BYTES / 1000} KB zipped`, () => {
    for (const fn of bundledFunctions()) {
      const zipped = zippedBundleBytes(readFileSync(fn.bundle));
      expect(zipped, `${fn.handler}: ${zipped} bytes zipped`).toBeLessThanOrEqual(BUNDLE_ZIPPED_BUDGET_BYTES);
    }
  });

  it("read credentials from the environment only, without the SDK's full chain", () => {
    for (const fn of bundledFunctions()) {
      const code = readFileSync(fn.bundle, 'utf8');
      // The SDK's env provider's error, present when lambdas/shared/lambda-credentials.ts is bundled.
      expect(code.includes('Unable to find environment variable credentials'), `${fn.handler}: env credentials`).toBe(true);
      // Debug messages of @aws-sdk/credential-provider-node's chain: present only when the alias is lost.
      expect(code.includes('defaultProvider::fromSSO'), `${fn.handler}: SDK default chain`).toBe(false);
      expect(code.includes('SSOOIDC'), `${fn.handler}: SSO OIDC client`).toBe(false);
    }
  });

  it('ship no source map in prod, and keep function names for stack traces', () => {
    for (const fn of bundledFunctions()) {
      expect(existsSync(`${fn.bundle}.map`), `${fn.handler}: source map`).toBe(false);
      // esbuild's keepNames helper: names minification would drop are restored at run time.
      expect(/"name",\{value:[\w$]+,configurable:!0\}/.test(readFileSync(fn.bundle, 'utf8')), `${fn.handler}: keepNames`).toBe(true);
    }
  });

  it('carry neither zod locales other than English nor the X-Ray SDK', () => {
    for (const fn of bundledFunctions()) {
      const code = readFileSync(fn.bundle, 'utf8');
      // zod's German messages (ASCII-only part: esbuild escapes the rest): present only when zod's
      // whole locale set is bundled, as it was with `import { z } from 'zod'` (+357 KB per handler).
      expect(code.includes('Eingabe: erwartet'), `${fn.handler}: zod locales`).toBe(false);
      expect(code.includes('AWSXRay'), `${fn.handler}: X-Ray SDK`).toBe(false);
    }
  });
});
