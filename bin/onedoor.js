#!/usr/bin/env node
// The `onedoor` operator command. It runs the TypeScript sources through tsx, so it needs no
// build step; the project's tsconfig is named explicitly so that TypeORM's legacy decorators
// compile the same way from any working directory.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import(new URL('../src/cli/main.ts', import.meta.url).href);
