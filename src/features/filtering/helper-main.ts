import { Command, Option } from 'commander';
import { defaultAclFormat, runHelper, type HelperMode } from './helper.js';

/**
 * `haven-filter-helper` (also `haven filter-helper`): the Squid helper process. Kept apart from the
 * main CLI so Squid starts it quickly: it loads only the engine, never the database.
 */
export function helperCommand(): Command {
  return new Command('filter-helper')
    .description('answer Squid (external_acl_type or url_rewrite_program) from the filter snapshot')
    .addOption(new Option('--mode <mode>', 'acl for external_acl_type, rewrite for url_rewrite_program').choices(['acl', 'rewrite']).makeOptionMandatory())
    .requiredOption('--snapshot <file>', 'the compiled snapshot (Haven writes it to <data dir>/filter/snapshot.bin)')
    .option('--format <fields>', 'acl mode: the fields Squid sends, in order', defaultAclFormat)
    .option('--reload-ms <ms>', 'how often to look for a new snapshot', '2000')
    .option('--decision-log <file>', 'append each blocked request to this file (Haven decision-log format, for monitoring)')
    .action(async (options: { mode: HelperMode; snapshot: string; format: string; reloadMs: string; decisionLog?: string }) => {
      await runHelper({
        mode: options.mode,
        snapshotPath: options.snapshot,
        format: options.format,
        reloadMs: Math.max(100, Number(options.reloadMs) || 2000),
        decisionLog: options.decisionLog,
        input: process.stdin,
        output: process.stdout,
      });
    });
}

if (process.argv[1] && /haven-filter-helper(\.js)?$|helper-main\.(js|ts)$/.test(process.argv[1])) {
  await helperCommand()
    .name('haven-filter-helper')
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      process.stderr.write(`haven-filter-helper: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}
