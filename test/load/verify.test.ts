/**
 * The load run's check on rows of its own making: a member missing from a decrypted total counts
 * as lost only when its report had been acknowledged as stored; one its aggregator refused (late,
 * after the slot closed) and one not acknowledged by the generator's deadline are counted apart.
 */
import test from 'ava';
import { verify } from '../../host/load/verify.ts';

const slotSeconds = 60;
const row = (contributors: string[], readings: bigint[]) => ({
  group_id: 'g',
  slot: 10,
  contributors: JSON.stringify(contributors),
  readings: JSON.stringify(readings.map(String)),
  decrypted_at: 11 * slotSeconds * 1000 + 5000,
});
const members = new Map([['g', ['a', 'b', 'c']]]);

const none = () => new Map<string, Set<string>>();

test('a total without a stored member loses it; without a refused or an unacknowledged one it does not', (t) => {
  const sent = [{ slot: 10, expected: new Map([['g', [7n]]]), stored: new Map([['g', new Set(['a', 'b'])]]), refused: none() }];
  const v = verify([row(['a'], [7n])], sent, members, slotSeconds);
  t.like(v, { groupSlots: 1, decrypted: 1, correct: 0, lost: 1, refused: 0, notAcknowledged: 1, doubled: 0 });
  const late = [{ ...sent[0], stored: new Map([['g', new Set(['a'])]]), refused: new Map([['g', new Set(['b', 'c'])]]) }];
  t.like(verify([row(['a'], [7n])], late, members, slotSeconds), { lost: 0, refused: 2, notAcknowledged: 0 });
  t.deepEqual(v.latenciesMs, [5000]);
});

test('every member counted once, with the expected totals: right', (t) => {
  const sent = [{ slot: 10, expected: new Map([['g', [9n]]]), stored: new Map([['g', new Set(['a', 'b', 'c'])]]), refused: none() }];
  t.like(verify([row(['a', 'b', 'c'], [9n])], sent, members, slotSeconds), { correct: 1, lost: 0, notAcknowledged: 0, wrongTotals: 0 });
  t.like(verify([row(['a', 'b', 'c', 'c'], [9n])], sent, members, slotSeconds), { correct: 0, doubled: 1 });
  t.like(verify([], sent, members, slotSeconds), { decrypted: 0, undecrypted: 1 });
});
