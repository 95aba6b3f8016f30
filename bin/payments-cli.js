#!/usr/bin/env node
// The `payments` command (package bin): runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../lib/cli/main.ts');
