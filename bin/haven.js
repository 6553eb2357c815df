#!/usr/bin/env node
// The `haven` command: runs the compiled CLI (npm run build makes dist/).
await import('../dist/main.js');
