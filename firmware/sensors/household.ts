/**
 * A synthetic household for meters without a sensor (the `lin` simulator, the fleet simulation):
 * the BDEW H25 standard load profile scaled to the household's yearly consumption, plus what
 * makes one household differ from the average: a base load of its own, a cycling fridge and
 * appliances switching on at random (kettle, cooktop, washing machine, oven), more likely when
 * the average household is active. Power is a pure function of (seed, time), constant within a
 * minute, so a test can recompute what the sensor delivered. This is simulated load, not key
 * material: the hash below is deliberately not a random generator.
 */
import { H25_DAY_TYPES, H25_QUARTER_HOURS, h25MilliKwh } from './h25-profile.ts';

export interface HouseholdParameters {
  seed: number;
  yearlyKwh: number;
  /** Local time offset used to pick the profile's quarter hour, month and day type. */
  utcOffsetMinutes: number;
}

interface Appliance {
  watts: number;
  minutes: number;
  /** Expected starts per day for an average household at average activity. */
  startsPerDay: number;
}

const APPLIANCES: readonly Appliance[] = [
  { watts: 2000, minutes: 3, startsPerDay: 3 },
  { watts: 1500, minutes: 20, startsPerDay: 1 },
  { watts: 2100, minutes: 15, startsPerDay: 0.4 },
  { watts: 2500, minutes: 12, startsPerDay: 0.3 },
];
const MINUTES_PER_DAY = 1440;
const MS_PER_MINUTE = 60_000;
/** Share of the average profile that the smooth part carries; appliances bring the rest. */
const SMOOTH_SHARE = 0.7;

/** 32-bit integer mix (murmur3 finaliser) of a few integers: uniform-looking, cheap, deterministic. */
function mix(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    h = Math.imul(h ^ (v | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

function unit(...values: number[]): number {
  return mix(...values) / 0x1_0000_0000;
}

/** H25 average power in watts for 1,000,000 kWh/a at a local minute. */
function profileWatts(localMs: number): number {
  const date = new Date(localMs);
  const weekday = date.getUTCDay();
  const dayType = weekday === 6 ? 0 : weekday === 0 ? 1 : 2;
  const quarter = Math.floor((date.getUTCHours() * 60 + date.getUTCMinutes()) / 15);
  const index = (date.getUTCMonth() * H25_DAY_TYPES + dayType) * H25_QUARTER_HOURS + quarter;
  // thousandths of kWh per quarter hour -> watts: x / 1000 kWh / 0.25 h * 1000 W/kW
  return h25MilliKwh(index) * 4;
}

export class HouseholdProfile {
  private readonly scale: number;
  private readonly baseWatts: number;
  private readonly fridgePhase: number;
  private readonly activity: number;
  private readonly meanWatts: number;
  private cachedMinute = NaN;
  private cachedWatts = 0;

  constructor(private readonly params: HouseholdParameters) {
    this.scale = params.yearlyKwh / 1_000_000;
    this.baseWatts = 25 + 75 * unit(params.seed, 1);
    this.fridgePhase = Math.floor(45 * unit(params.seed, 2));
    this.activity = 0.6 + 0.8 * unit(params.seed, 3);
    this.meanWatts = (params.yearlyKwh * 1000) / 8760;
  }

  /** Active power in watts at `timeMs` (Unix ms). */
  powerWatts(timeMs: number): number {
    const minute = Math.floor(timeMs / MS_PER_MINUTE);
    if (minute !== this.cachedMinute) {
      this.cachedMinute = minute;
      this.cachedWatts = this.minuteWatts(minute);
    }
    return this.cachedWatts;
  }

  private minuteWatts(minute: number): number {
    const { seed, utcOffsetMinutes } = this.params;
    const localMs = (minute + utcOffsetMinutes) * MS_PER_MINUTE;
    const average = profileWatts(localMs) * this.scale;
    const level = average / this.meanWatts;
    const noise = 0.85 + 0.3 * unit(seed, minute, 4);
    let watts = this.baseWatts + SMOOTH_SHARE * average * noise;
    if ((minute + this.fridgePhase) % 45 < 15) watts += 90;
    for (let a = 0; a < APPLIANCES.length; a++) {
      const appliance = APPLIANCES[a];
      const startChance = (appliance.startsPerDay * this.activity * level) / MINUTES_PER_DAY;
      for (let back = 0; back < appliance.minutes; back++) {
        if (unit(seed, minute - back, 10 + a) < startChance) {
          watts += appliance.watts;
          break;
        }
      }
    }
    return Math.round(watts * 10) / 10;
  }
}
