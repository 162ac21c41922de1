/**
 * A custodian as Prometheus metrics (docs/pipeline.md, "Metrics"): partial decryptions given,
 * requests and evidence refused by reason, and how long an answer took (its wait for the
 * aggregate's evidence included).
 */
import { byLabel, counter, histogram, readCounter, roleRegistry, type Registry } from '../metrics/registry.ts';
import type { Custodian } from './custodian.ts';

const ANSWER_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

export interface CustodianMetrics {
  registry: Registry;
  /** One answer sent: a partial decryption or a refusal. */
  answered(status: 'partial' | 'mask-sum' | 'refused', seconds: number): void;
}

export function custodianMetrics(index: number, custodian: Custodian): CustodianMetrics {
  const registry = roleRegistry({ role: 'custodian', custodian: String(index) });
  const given = counter(
    registry,
    'meterveil_custodian_partials_given_total',
    'partial decryptions sent (a repeated request gets the same one again)',
  );
  given.inc(0);
  const answers = histogram(
    registry,
    'meterveil_custodian_answer_seconds',
    'seconds from a decryption request to its answer, by status (partial, refused)',
    ANSWER_BUCKETS,
    ['status'],
  );
  readCounter({
    registry,
    name: 'meterveil_custodian_refused_total',
    help: 'decryption requests and evidence refused, by reason',
    labelNames: ['reason'],
    read: () => byLabel('reason', custodian.refusals.totals),
  });
  return {
    registry,
    answered(status, seconds) {
      if (status !== 'refused') given.inc();
      answers.observe({ status }, seconds);
    },
  };
}
