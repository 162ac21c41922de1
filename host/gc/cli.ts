/**
 * `meterveil gc --role ROLE --config FILE [--group ID] [--index N]`: runs a role's collection
 * (what config `retention` lets it forget, docs/pipeline.md "Retention") once, by hand, on its
 * files in dataDir, and prints per file the rows collected and the file's size before and after.
 * The role may be running meanwhile: collection works in the same short batches as in the
 * background, and SQLite's locking lets the two take turns.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { cliAction, usage } from '../cli/action.ts';
import { loadConfig } from '../config/load.ts';
import { findGroup, type MeterveilConfig } from '../config/schema.ts';
import { custodianIndices } from '../config/secrets.ts';
import { aggregatorCollection } from '../aggregator/retention.ts';
import { aggregatorStorePath } from '../aggregator/run.ts';
import { aggregatorMigrations } from '../aggregator/store.ts';
import { custodianCollection } from '../custodian/retention.ts';
import { custodianStorePath } from '../custodian/run.ts';
import { CUSTODIAN_MIGRATIONS } from '../custodian/store.ts';
import { providerCollection } from '../provider/retention.ts';
import { providerStorePath } from '../provider/run.ts';
import { PROVIDER_MIGRATIONS } from '../provider/store.ts';
import { Collector, type Collected, type CollectionTask } from '../store/collector.ts';
import { requireRole } from '../store/identity.ts';
import { StoreFile, type StoreLayout } from '../store/sqlite.ts';

const ROLES = ['aggregator', 'provider', 'custodian'] as const;
type Role = (typeof ROLES)[number];

export interface GcResult {
  role: Role;
  file: string;
  collected: Collected;
  pagesBefore: number;
  pagesAfter: number;
}

interface Target {
  path: string;
  migrations: StoreLayout['migrations'];
  tasks: (file: StoreFile, config: MeterveilConfig) => CollectionTask[];
}

function targets(config: MeterveilConfig, role: Role, opts: { group?: string; index?: string }): Target[] {
  if (role === 'provider') return [{ path: providerStorePath(config), migrations: PROVIDER_MIGRATIONS, tasks: providerCollection }];
  if (role === 'aggregator') {
    const groups = opts.group === undefined ? config.groups.map((g) => g.id) : [findGroup(config, opts.group).id];
    return groups.map((g) => {
      const path = aggregatorStorePath(config, g);
      return { path, migrations: aggregatorMigrations(path), tasks: aggregatorCollection };
    });
  }
  const all = custodianIndices(config);
  if (opts.index !== undefined && !all.includes(Number(opts.index)))
    usage('bad-argument', `--index must be one of the config's custodians (${all.join(', ') || 'none: single-key mode'})`);
  const indices = opts.index === undefined ? all : [Number(opts.index)];
  return indices.map((i) => ({ path: custodianStorePath(config, i), migrations: CUSTODIAN_MIGRATIONS, tasks: custodianCollection }));
}

/** Collects every file of the role that exists (a named group's or custodian's must). */
export async function collectRole(
  config: MeterveilConfig,
  role: Role,
  opts: { group?: string; index?: string } = {},
  now?: () => number,
): Promise<GcResult[]> {
  const named = opts.group !== undefined || opts.index !== undefined || role === 'provider';
  const results: GcResult[] = [];
  for (const target of targets(config, role, opts)) {
    if (!existsSync(target.path)) {
      if (named) usage('store-unreadable', `${target.path}: no such file (has the ${role} run with this config?)`);
      continue;
    }
    const file = StoreFile.open(
      target.path,
      { migrations: target.migrations, checkIdentity: (f) => requireRole(f, role) },
      config.durability,
    );
    try {
      const pagesBefore = file.pages();
      const collected = await new Collector(file, target.tasks(file, config), { batchRows: config.retention.batchRows, now }).collect();
      results.push({ role, file: target.path, collected, pagesBefore, pagesAfter: file.pages() });
    } finally {
      file.close();
    }
  }
  return results;
}

export function register(program: Command): void {
  program
    .command('gc')
    .description("collect what the config's retention lets a role forget, once, and give the freed pages back")
    .requiredOption('--role <role>', `${ROLES.join(', ')}`)
    .requiredOption('-c, --config <file>', 'config file')
    .option('-g, --group <id>', 'aggregator: only this group (default: every group whose file exists)')
    .option('--index <n>', 'custodian: only this one (default: every custodian whose file exists)')
    .action(
      cliAction(async (opts: { role: string; config: string; group?: string; index?: string }) => {
        if (!(ROLES as readonly string[]).includes(opts.role)) usage('bad-argument', `--role must be one of ${ROLES.join(', ')}`);
        for (const r of await collectRole(loadConfig(opts.config), opts.role as Role, opts)) process.stdout.write(JSON.stringify(r) + '\n');
      }),
    );
}
