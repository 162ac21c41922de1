import test from 'ava';
import { assertXsnapWorkerPresent, bundle, startXsWorker, XsCommandError } from '../../host/xs/harness.ts';
import { fail } from '../../firmware/errors.ts';

const entry = new URL('./fixtures/harness-entry.ts', import.meta.url).pathname;

test('a command runs in XS and its JSON reply comes back, with computrons', async (t) => {
  const worker = await startXsWorker({ bundle: await bundle(entry) });
  try {
    t.is(await worker.issue({ op: 'square', value: '123456789012345678901234567890' }), (123456789012345678901234567890n ** 2n).toString());
    t.true(worker.computrons > 0);
  } finally {
    await worker.close();
  }
});

test('computrons are deterministic and grow with the work done', async (t) => {
  const worker = await startXsWorker({ bundle: await bundle(entry) });
  try {
    await worker.issue({ op: 'spin', count: 1000 });
    const small = worker.computrons;
    await worker.issue({ op: 'spin', count: 1000 });
    t.is(worker.computrons, small);
    await worker.issue({ op: 'spin', count: 10000 });
    t.true(worker.computrons > 5 * small);
  } finally {
    await worker.close();
  }
});

test('an error thrown in XS rejects with its reason, and the worker keeps serving', async (t) => {
  const worker = await startXsWorker({ bundle: await bundle(entry) });
  try {
    const error = await t.throwsAsync(worker.issue({ op: 'refuse' }), { instanceOf: XsCommandError });
    t.is(error?.reason, 'malformed');
    t.is(await worker.issue({ op: 'square', value: '3' }), '9');
  } finally {
    await worker.close();
  }
});

test('XS can call the host while handling a command', async (t) => {
  const asked: unknown[] = [];
  const worker = await startXsWorker({
    bundle: await bundle(entry),
    handleCommand: async (command) => {
      asked.push(command);
      return { answer: 42 };
    },
  });
  try {
    t.deepEqual(await worker.issue({ op: 'ask-host', question: 'life' }), { answer: 42 });
    t.deepEqual(asked, [{ question: 'life' }]);
  } finally {
    await worker.close();
  }
});

test("the host's refusal reaches XS as a MeterveilError with its reason", async (t) => {
  const worker = await startXsWorker({
    bundle: await bundle(entry),
    handleCommand: async () => fail('bad-random-request', 'random length must be 1..4096'),
  });
  try {
    t.deepEqual(await worker.issue({ op: 'ask-host-refused', question: 'random' }), {
      refusal: true,
      reason: 'bad-random-request',
      message: 'bad-random-request: host: random length must be 1..4096',
    });
  } finally {
    await worker.close();
  }
});

test('liveSlots (XS slots, not BigInt chunks) rises with retained objects and falls after release', async (t) => {
  const worker = await startXsWorker({ bundle: await bundle(entry) });
  try {
    const base = await worker.liveSlots();
    await worker.issue({ op: 'keep', count: 1000 });
    const holding = await worker.liveSlots();
    await worker.issue({ op: 'release' });
    const released = await worker.liveSlots();
    t.true(holding >= base + 1000, `${base} -> ${holding}`);
    t.true(released < holding, `${holding} -> ${released}`);
  } finally {
    await worker.close();
  }
});

test('a metering limit ends a runaway computation with a clear error', async (t) => {
  const worker = await startXsWorker({ bundle: await bundle(entry), meteringLimit: 1_000_000 });
  try {
    await t.throwsAsync(worker.issue({ op: 'spin', count: 10_000_000 }), { message: /too much computation/ });
  } finally {
    await worker.close();
  }
});

test('a missing engine binary fails with the command that builds it', (t) => {
  t.throws(() => assertXsnapWorkerPresent('/nonexistent/xsnap-worker'), { message: /npm rebuild @agoric\/xsnap/ });
  t.notThrows(() => assertXsnapWorkerPresent());
});
