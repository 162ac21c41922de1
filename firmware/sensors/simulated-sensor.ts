/** The power sensor of a meter without one: reads the synthetic household at the platform's clock. */
import type { Clock, PowerSensor } from '../platform/port.ts';
import { HouseholdProfile, type HouseholdParameters } from './household.ts';

export class SimulatedSensor implements PowerSensor {
  private readonly household: HouseholdProfile;

  constructor(
    private readonly clock: Clock,
    parameters: HouseholdParameters,
  ) {
    this.household = new HouseholdProfile(parameters);
  }

  readPowerWatts(): number {
    return this.household.powerWatts(this.clock.now());
  }
}
