/**
 * The dashboard in a real browser (Debian's chromium through playwright-core) against a running
 * provider, two aggregators and two simulated feeders. Node meters report what their simulated
 * households drew in each slot, so each feeder agrees with its group's total within the line
 * losses, until a theft (unmetered load) on the south feeder from a later slot on.
 */
import { mkdirSync } from 'node:fs';
import test from 'ava';
import { chromium, type Browser } from 'playwright-core';
import { HouseholdProfile } from '../../firmware/sensors/household.ts';
import { runAggregator } from '../../host/aggregator/run.ts';
import { householdOf } from '../../host/feeder/households.ts';
import { householdEnergyMwh } from '../../host/feeder/physics.ts';
import { runFeeders } from '../../host/feeder/run.ts';
import { DASHBOARD_CSP } from '../../host/provider/dashboard-files.ts';
import { runProvider } from '../../host/provider/run.ts';
import { slotAt, slotEndMs, slotStartMs } from '../../host/protocol/slots.ts';
import { buildDashboard } from '../../tools/dashboard/build.ts';
import { deploy, ids, TEST_API_TOKEN } from '../../tools/pipeline/deployment.ts';
import { testKeyPair } from '../helpers/test-keys.ts';

/** What the page-side callbacks below use of the browser's globals (this tree is typed for Node). */
declare const document: {
  querySelector(selector: string): { getAttribute(name: string): string | null };
  documentElement: { scrollWidth: number };
};

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}

test('the dashboard shows every group, adds slots without a reload, and shows a theft on one feeder as an alert', async (t) => {
  t.timeout(90_000);
  await buildDashboard();
  const groups = [
    { id: 'north', members: ids('n', 3), feeder: 'feeder-north', k: 2 },
    { id: 'south', members: ids('s', 3), feeder: 'feeder-south', k: 2 },
  ];
  const d = await deploy({ groups, keyPair: testKeyPair(0) });
  t.teardown(() => d.cleanup());
  const { slotSeconds } = d.config;
  const provider = await runProvider(d.config);
  t.teardown(() => provider.stop());
  for (const g of groups) {
    const aggregator = await runAggregator(d.config, g.id);
    t.teardown(() => aggregator.stop());
  }
  const meters = await Promise.all(groups.flatMap((g) => g.members.map(async (id) => ({ id, meter: await d.meter(id, [g.id]) }))));

  // Households connected from the next slot on; the theft starts four slots later.
  const first = slotAt(Date.now(), slotSeconds) + 1;
  const theftFrom = first + 4;
  const feeders = await runFeeders(d.config, {
    connectedSinceMs: slotStartMs(first, slotSeconds),
    theft: { feederId: 'feeder-south', watts: 5000, fromSlot: theftFrom },
  });
  t.teardown(() => feeders.stop());
  let reporting = true;
  const reports = (async () => {
    for (let slot = first; reporting; slot++) {
      const end = slotEndMs(slot, slotSeconds);
      await new Promise((r) => setTimeout(r, Math.max(0, end + 50 - Date.now())));
      const from = slotStartMs(slot, slotSeconds);
      for (const { id, meter } of meters) {
        const energy = householdEnergyMwh(new HouseholdProfile(householdOf(id)), from, end);
        meter.report(slot, [BigInt(Math.round(energy))]).catch(() => {});
      }
    }
  })();
  t.teardown(async () => {
    reporting = false;
    await reports;
  });

  // The live stream, as any reader with a token gets it: counts and group totals, no meter named.
  t.is((await fetch(`${provider.apiUrl}/api/events`)).status, 401, 'the stream needs a token too');
  const stream = await fetch(`${provider.apiUrl}/api/events`, { headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });
  t.is(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while (!/event: slot\ndata: .*\n\n/.test(text)) text += (await reader.read()).value;
  await reader.cancel();
  const event = JSON.parse(/event: slot\ndata: (.*)\n\n/.exec(text)![1]);
  t.deepEqual(Object.keys(event), ['groupId', 'slot', 'start', 'contributors', 'members', 'total', 'feeder', 'deviation', 'status']);
  t.is(event.members, 3);

  const browser = await launch();
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  const requests: { url: string; authorization?: string }[] = [];
  page.on('request', (r) => requests.push({ url: r.url(), authorization: r.headers().authorization }));

  const response = await page.goto(`${provider.apiUrl}/#token=${TEST_API_TOKEN}`);
  t.is(response?.status(), 200);
  t.is(response?.headers()['content-security-policy'], DASHBOARD_CSP);
  t.is(response?.headers()['content-type'], 'text/html; charset=utf-8');
  for (const [path, type] of [
    ['/dashboard.js', 'text/javascript; charset=utf-8'],
    ['/dashboard.css', 'text/css; charset=utf-8'],
  ]) {
    const file = await fetch(`${provider.apiUrl}${path}`);
    t.is(file.headers.get('content-type'), type, path);
    t.is(file.headers.get('content-security-policy'), DASHBOARD_CSP, path);
  }
  for (const g of groups) await page.waitForSelector(`article.group[data-group="${g.id}"]`);
  t.deepEqual(await page.$$eval('article.group h2', (hs) => hs.map((h) => h.firstChild!.textContent)), ['Group north', 'Group south']);
  // The token leaves the address bar at once and goes only as a header.
  t.is(new URL(page.url()).hash, '');

  // A slot comes in through the live stream: the same page (no reload) shows a later slot.
  await page.evaluate(() => Object.assign(globalThis, { sameDocument: true }));
  const firstShown = Number(
    await (await page.waitForSelector('[data-group="north"][data-last-slot]', { timeout: 20_000 })).getAttribute('data-last-slot'),
  );
  await page.waitForFunction(
    (before) => Number(document.querySelector('[data-group="north"]').getAttribute('data-last-slot')) > before,
    firstShown,
    { timeout: 15_000 },
  );
  t.true(await page.evaluate(() => 'sameDocument' in globalThis), 'the page was not reloaded');
  t.is(await page.textContent('#connection'), 'live');

  // The theft shows on the south group, and in the alerts panel, and not on the north group.
  await page.waitForSelector('[data-group="south"].alerted', { timeout: 30_000 });
  await page.waitForSelector('#alerts li[data-group="south"]', { timeout: 10_000 });
  t.regex((await page.textContent('[data-group="south"] .alert-badge')) ?? '', /^\d+ alerts?$/);
  t.is(await page.getAttribute('[data-group="north"]', 'data-alerts'), '0');
  t.is(await page.$('#alerts li[data-group="north"]'), null);
  t.regex((await page.textContent('#meters')) ?? '', /no status yet\s*6/);
  t.regex((await page.textContent('#decryption')) ?? '', /single key/);

  // No meter is named anywhere on the page: which ones reported is not shown, only how many.
  const shown = (await page.textContent('body')) ?? '';
  t.deepEqual(
    groups.flatMap((g) => g.members).filter((id) => new RegExp(`\\b${id}\\b`).test(shown)),
    [],
  );

  mkdirSync('test-results', { recursive: true });
  await page.screenshot({ path: 'test-results/dashboard.png', fullPage: true });

  // At phone width nothing runs off the side of the page.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForFunction(() => document.documentElement.scrollWidth <= 390, undefined, { timeout: 5_000 });
  await page.screenshot({ path: 'test-results/dashboard-phone.png', fullPage: true });

  // Opened without a token (in a tab of its own: sessionStorage is per tab), the page says how to open it.
  const bare = await browser.newPage();
  await bare.goto(`${provider.apiUrl}/`);
  await bare.waitForSelector('#message:not([hidden])');
  t.regex((await bare.textContent('#message')) ?? '', /needs a reader token: open the dashboard as \/#token=/);
  await bare.close();

  t.deepEqual(problems, [], 'no script error and no Content-Security-Policy violation');
  const origin = new URL(provider.apiUrl).origin;
  t.deepEqual(
    requests.filter((r) => !r.url.startsWith(`${origin}/`)),
    [],
    'nothing is fetched from anywhere but the provider',
  );
  const apiRequests = requests.filter((r) => r.url.startsWith(`${origin}/api/`));
  t.true(apiRequests.some((r) => r.url === `${origin}/api/events`));
  t.deepEqual(
    apiRequests.filter((r) => r.authorization !== `Bearer ${TEST_API_TOKEN}`),
    [],
    'every API request carries the token',
  );
  t.false(
    requests.some((r) => r.url.includes(TEST_API_TOKEN)),
    'the token is in no URL',
  );
});
