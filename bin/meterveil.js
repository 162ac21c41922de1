#!/usr/bin/env node
// The CLI is TypeScript; tsx compiles it on load so the source is what runs.
import { register } from 'tsx/esm/api';

register();
await import('../host/cli/main.ts');
