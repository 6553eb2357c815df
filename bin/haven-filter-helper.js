#!/usr/bin/env node
// The Squid helper: `haven-filter-helper --mode acl|rewrite --snapshot FILE` (see README, "Squid").
await import('../dist/features/filtering/helper-main.js');
