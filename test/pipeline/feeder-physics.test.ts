/** What a simulated feeder measures when its households are connected part-way through a slot. */
import test from 'ava';
import { HouseholdProfile } from '../../firmware/sensors/household.ts';
import { householdOf } from '../../host/feeder/households.ts';
import { feederEnergyMwh, householdEnergyMwh } from '../../host/feeder/physics.ts';
import { slotStartMs } from '../../host/protocol/slots.ts';

const slotSeconds = 60;
const slot = 29_664_000;
const start = slotStartMs(slot, slotSeconds);
const households = ['m1', 'm2', 'm3'].map(householdOf);
const physics = { households, slotSeconds, lineLoss: 0, unmeteredWatts: 0 };
const energyBetween = (from: number, to: number) =>
  households.reduce((sum, h) => sum + householdEnergyMwh(new HouseholdProfile(h), from, to), 0);

test('a slot that ended before the households were connected has no reading', (t) => {
  t.is(feederEnergyMwh({ ...physics, connectedSinceMs: start + 60_000 }, slot), undefined);
  t.is(feederEnergyMwh({ ...physics, connectedSinceMs: start + 120_000 }, slot), undefined);
});

test('the slot in which they were connected counts only the energy after the connection', (t) => {
  const full = feederEnergyMwh(physics, slot)!;
  const half = feederEnergyMwh({ ...physics, connectedSinceMs: start + 25_000 }, slot)!;
  t.is(full, BigInt(Math.round(energyBetween(start, start + 60_000))));
  t.is(half, BigInt(Math.round(energyBetween(start + 25_000, start + 60_000))));
  t.true(half < full);
  t.is(feederEnergyMwh({ ...physics, connectedSinceMs: start }, slot), full);
});

test('line losses and unmetered load are added on top of the metered energy', (t) => {
  const metered = energyBetween(start, start + 60_000);
  const theft = (500 * 60_000) / 3_600;
  t.is(feederEnergyMwh({ ...physics, lineLoss: 0.02, unmeteredWatts: 500 }, slot), BigInt(Math.round((metered + theft) * 1.02)));
});

test('a theft adds its load from its slot on, not before', (t) => {
  const theft = { watts: 2000, fromSlot: slot + 1 };
  t.is(feederEnergyMwh({ ...physics, theft }, slot), feederEnergyMwh(physics, slot));
  const next = slotStartMs(slot + 1, slotSeconds);
  const metered = energyBetween(next, next + 60_000);
  t.is(feederEnergyMwh({ ...physics, theft }, slot + 1), BigInt(Math.round(metered + (2000 * 60_000) / 3_600)));
});
