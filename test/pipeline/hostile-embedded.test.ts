import test from 'ava';
import { hostileScenario } from './support/hostile-scenario.ts';

test('embedded broker: every hostile input is counted and refused while valid traffic is summed exactly', (t) =>
  hostileScenario(t, 'embedded'));
