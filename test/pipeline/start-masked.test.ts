/**
 * `meterveil start --scheme masked` as an operator runs it, in both modes: the provider removing
 * the masks with its own mask keys, and three custodians each removing their part (n of n). The
 * meters are Node meters speaking the masked format with the households the feeders simulate; the
 * first slot's printed totals must be the energy those households drew (within the meters'
 * sub-mWh carry), which a mask left in or removed twice would not give.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HouseholdProfile } from '../../firmware/sensors/household.ts';
import { parseConfig } from '../../host/config/schema.ts';
import { householdOf } from '../../host/feeder/households.ts';
import { householdEnergyMwh } from '../../host/feeder/physics.ts';
import { slotEndMs, slotStartMs } from '../../host/protocol/slots.ts';
import { freePort, ids } from '../../tools/pipeline/deployment.ts';
import { sharedTls, writeTlsFixture } from '../../tools/pipeline/tls-fixture.ts';
import { startCli } from '../helpers/cli.ts';
import { decryptedRecords, firstSlotDecrypted, startRecords } from './support/start-output.ts';

const SLOT_SECONDS = 5;

async function startMasked(t: import('ava').ExecutionContext, custodians?: number) {
  t.timeout(120_000, 'start-up of every role over TLS and a first whole slot');
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-start-masked-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const configPath = join(dir, 'meterveil.json');
  const groups = [{ id: 'street', members: ids(custodians ? 'v' : 's', 4), feeder: 'feeder-street', k: 2 }];
  const config = {
    scheme: 'masked',
    dataDir: '.',
    broker: { url: `mqtts://127.0.0.1:${await freePort()}`, embedded: true },
    slotSeconds: SLOT_SECONDS,
    http: { host: '127.0.0.1', port: await freePort() },
    provider: { decryption: custodians ? { mode: 'threshold', threshold: custodians, custodians } : { mode: 'single' } },
    groups,
  };
  writeFileSync(configPath, JSON.stringify(config));
  writeTlsFixture(parseConfig(config, (p) => resolve(dir, p)).tls, await sharedTls());
  const args = ['start', '--scheme', 'masked', '--config', configPath, ...(custodians ? ['--custodians', String(custodians)] : [])];
  const start = startCli(t, args, { cwd: dir });
  const first = await firstSlotDecrypted(start, groups, { running: 60_000, decrypted: 60_000 });
  const total = BigInt(String(decryptedRecords(start).find((r) => r.slot === first)!.total));
  const drawn = groups[0].members.reduce(
    (sum, m) =>
      sum + householdEnergyMwh(new HouseholdProfile(householdOf(m)), slotStartMs(first, SLOT_SECONDS), slotEndMs(first, SLOT_SECONDS)),
    0,
  );
  // Each meter carries less than one mWh into the next slot and brought less than one from the last.
  t.true(Math.abs(Number(total) - drawn) < groups[0].members.length, `total ${total} mWh, the households drew ${drawn} mWh`);
  t.notRegex(start.output, /refused|suppressed|fleet:/, 'no slot was refused or suppressed, no meter failed');
  start.signal('SIGINT');
  t.is(await start.exit, 0);
  return startRecords(start);
}

test('start --scheme masked: the provider removes the masks and prints the households’ total of the first slot', async (t) => {
  const said = (await startMasked(t)).map((r) => String(r.msg));
  t.true(said.some((m) => /Node meters sending masked reports/.test(m)));
  t.false(
    said.some((m) => /custodian/.test(m)),
    'no custodian runs in single-key mode',
  );
});

test('start --scheme masked --custodians 3: all three custodians remove their parts of the masks for the first slot’s total', async (t) => {
  const said = (await startMasked(t, 3)).map((r) => String(r.msg));
  t.true(said.includes('custodians 1..3 running; all 3 needed to remove the masks'));
});
