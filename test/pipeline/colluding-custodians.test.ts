/**
 * Two custodians below the threshold (a real 2048-bit 3-of-5 key, the embedded broker with the
 * deployment's ACL, the provider as its own process, custodians 1, 2 and 3 as the deployment runs
 * them) shift
 * their partial decryptions together, so that any set of partials containing both lies on one
 * curve and every combination of them agrees on a wrong total. The provider must never store that
 * total: the forged partials fail their proofs, are named, and the slot is decrypted from the
 * honest custodians once enough of them answer.
 */
import test from 'ava';
import type { MqttClient } from 'mqtt';
import { ciphertextFromBytes } from '../../firmware/paillier/codec.ts';
import { runCustodian, type RunningCustodian } from '../../host/custodian/run.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { aggregatorUser, custodianUser, PROVIDER_USER } from '../../host/config/identities.ts';
import { decodeRequest, decodeResponse, encodeResponse } from '../../host/decryption/messages.ts';
import { CUSTODIAN_PARTIAL_FILTER, custodianPartialTopic, DECRYPTION_REQUEST_TOPIC } from '../../host/decryption/topics.ts';
import { slotStartMs } from '../../host/protocol/slots.ts';
import { partialToJson } from '../../host/threshold/codec.ts';
import { deploymentKeys, publishVerifiable, verifiableAggregate } from '../helpers/evidence.ts';
import { testThresholdKeySet } from '../helpers/test-keys.ts';
import { partialDecrypt } from '../../host/threshold/partial.ts';
import { modPow } from '../../host/paillier/openssl-pow.ts';
import type { KeyShare } from '../../host/threshold/threshold-key.ts';
import { deploy, freePort, ids } from '../../tools/pipeline/deployment.ts';
import { RoleProcess } from '../../tools/pipeline/role-process.ts';
import { getJson } from './support/probe.ts';
import { until } from '../helpers/poll.ts';
import { recentSlot } from '../helpers/recent-slot.ts';

test('custodians 4 and 5 shifting their partials consistently: no wrong total is stored, the forgers are named, the honest total is', async (t) => {
  const set = testThresholdKeySet(3, 5);
  const members = ids('m', 5);
  const httpPort = await freePort();
  const d = await deploy({
    groups: [{ id: 'g', members, feeder: 'f', k: 3 }],
    threshold: { set, timeoutMs: 10_000, retryMs: 1000 },
    extra: { http: { host: '127.0.0.1', port: httpPort } },
  });
  t.teardown(() => d.cleanup());
  const key = set.publicKey.paillier;
  const login = async (user: string, clientId?: string) => {
    const client = connectRole({
      url: d.config.broker.url,
      username: user,
      password: d.secrets.services[user],
      clientId,
      persistent: false,
    });
    await connected(client);
    t.teardown(() => endClient(client));
    return client;
  };

  const honest: RunningCustodian[] = [];
  t.teardown(async () => {
    for (const c of honest) await c.stop();
  });
  for (const share of set.shares.slice(0, 2)) honest.push(await runCustodian(d.config, share, { waitForAggregateMs: 2000 }));

  // The shift D(x) = (x - 1)(x - 2) vanishes at the honest custodians 1 and 2, so the partials of
  // {1, 2, 4, 5} interpolate to a curve whose value at 0 is off by SHIFT: every subset agrees.
  const SHIFT = 1000n;
  const delta = set.publicKey.delta;
  const shifted = (share: KeyShare, c: bigint) => {
    const partial = partialDecrypt(share, c);
    const x = BigInt(share.index);
    const offset = modPow(key.n + 1n, delta * SHIFT * (x - 1n) * (x - 2n), key.nSquared);
    return { ...partial, value: (partial.value * offset) % key.nSquared };
  };
  // Both forgers answer together as soon as the honest custodians 1 and 2 have answered (seen by
  // an observer with the provider's rights), while the provider is busy checking those proofs: it
  // then holds four partials, two of them unchecked.
  const forgers = new Map<number, MqttClient>();
  const forged = new Map<string, Map<number, Buffer>>();
  const honestAnswers = new Map<string, Set<number>>();
  const sendWhenReady = (requestId: string) => {
    const answers = forged.get(requestId);
    if (answers?.size !== 2 || honestAnswers.get(requestId)?.size !== 2) return;
    forged.delete(requestId);
    for (const [index, answer] of answers) forgers.get(index)!.publish(custodianPartialTopic(index), answer, { qos: 1 });
  };
  const observer = await login(PROVIDER_USER, `${PROVIDER_USER}/observer`);
  observer.on('message', (topic, payload) => {
    const { requestId, index } = decodeResponse(payload);
    if (index > 2) return;
    honestAnswers.set(requestId, (honestAnswers.get(requestId) ?? new Set()).add(index));
    sendWhenReady(requestId);
  });
  await observer.subscribeAsync(CUSTODIAN_PARTIAL_FILTER, { qos: 1 });
  const forge = async (share: KeyShare) => {
    const client = await login(custodianUser(share.index));
    forgers.set(share.index, client);
    client.on('message', (_topic, payload) => {
      const { requestId, aggregate } = decodeRequest(payload);
      const partial = shifted(share, ciphertextFromBytes(key, aggregate.ciphertext));
      const answers = forged.get(requestId) ?? new Map<number, Buffer>();
      forged.set(requestId, answers);
      answers.set(
        share.index,
        Buffer.from(
          encodeResponse({
            requestId,
            index: share.index,
            groupId: aggregate.groupId,
            slot: aggregate.slot,
            status: 'partial',
            partial: partialToJson(partial),
          }),
        ),
      );
      sendWhenReady(requestId);
    });
    await client.subscribeAsync(DECRYPTION_REQUEST_TOPIC, { qos: 1 });
  };
  await forge(set.shares[3]);
  await forge(set.shares[4]);

  const provider = new RoleProcess(['provider', '--config', d.configPath]);
  t.teardown(() => provider.stop());
  await provider.start();
  const api = `http://127.0.0.1:${httpPort}/api`;
  const aggregator = await login(aggregatorUser('g'));
  const slot = recentSlot(4000, d.config.slotSeconds);
  const total = 4321n;
  const readings = Object.fromEntries(members.map((m, i) => [m, i === 0 ? total : 0n]));
  const verifiable = verifiableAggregate(key, deploymentKeys(d.secrets, 5), 'g', slot, readings);
  const publish = () => publishVerifiable(aggregator, verifiable);
  const stored = async () => {
    const from = slotStartMs(slot, d.config.slotSeconds) / 1000;
    const series = (await getJson(`${api}/groups/g/series?from=${from}&to=${from + d.config.slotSeconds}`)).body.series as {
      slot: number;
      total: string;
    }[];
    return series.find((s) => s.slot === slot)?.total;
  };
  const forgedRecord = async () =>
    ((await getJson(`${api}/refusals`)).body as { slot: number; reason: string; detail: string }[]).find(
      (r) => r.slot === slot && r.reason === 'forged-partial',
    );
  await publish();

  await until(
    async () => (await forgedRecord()) !== undefined,
    'the forgers to be named',
    30_000,
    () => `:\n${provider.output.join('')}`,
  );
  t.is(await stored(), undefined, 'no total from two honest partials and two forged ones');
  const named = [...(await forgedRecord())!.detail.matchAll(/custodian (\d)/g)].map((m) => Number(m[1]));
  t.deepEqual(named, [4, 5]);

  // Custodian 3 comes up; the aggregator republishes (as after a restart) so that it sees the aggregate.
  honest.push(await runCustodian(d.config, set.shares[2], { waitForAggregateMs: 2000 }));
  await publish();
  await until(
    async () => (await stored()) !== undefined,
    'the slot to be decrypted',
    30_000,
    () => `:\n${provider.output.join('')}`,
  );
  t.is(await stored(), total.toString(), 'the total of the honest partials');
  t.is((await getJson(`${api}/health`)).body.waiting, 0);
});
