/**
 * The firmware's refusal reasons, one catalogue per domain. Each entry is a reason as it appears
 * on the wire, in logs and in counters (never rename one), with a one-line description that
 * docs/reasons.md is generated from. The firmware imports only the types: the descriptions do not
 * reach the meter's bundle. The host's catalogues are in host/reasons/.
 */
import { codecReasons } from './codec.ts';
import { keyReasons } from './keys.ts';
import { maskedReasons } from './masked.ts';
import { meterReasons } from './meter.ts';
import { paillierReasons } from './paillier.ts';
import { simulatorReasons } from './simulator.ts';
import { wireReasons } from './wire.ts';

/** A domain's reasons: the reason → its one-line description. */
export interface Catalogue {
  /** How docs name the catalogue in a generated table's marker (tools/docs/reasons.ts). */
  readonly id: string;
  /** A short name for the domain, used as the heading of its table. */
  readonly domain: string;
  /** Where the reasons arise. */
  readonly source: string;
  readonly reasons: Readonly<Record<string, string>>;
}

export const firmwareCatalogues = [
  { id: 'wire', domain: 'Wire: reports, acknowledgements, messages', source: 'firmware/protocol/, host/protocol/', reasons: wireReasons },
  {
    id: 'codec',
    domain: 'Codecs: bytes, keys, ciphertexts',
    source: 'firmware/bytes.ts, firmware/paillier/codec.ts',
    reasons: codecReasons,
  },
  { id: 'paillier', domain: 'Paillier arithmetic and packing', source: 'firmware/paillier/', reasons: paillierReasons },
  { id: 'masked', domain: 'Masked scheme', source: 'firmware/masked/', reasons: maskedReasons },
  {
    id: 'announcement',
    domain: 'Key announcements and schedule',
    source: 'firmware/keys/, firmware/meter/key-schedule.ts',
    reasons: keyReasons,
  },
  { id: 'meter', domain: 'Meter', source: 'firmware/meter/, firmware/config/, firmware/platform/', reasons: meterReasons },
  { id: 'simulator', domain: 'XS simulator bridge', source: 'firmware/platform/xs-sim/', reasons: simulatorReasons },
] as const satisfies readonly Catalogue[];

/** The reasons of one or more catalogues (a union distributes over each). */
export type ReasonOf<C> = C extends Catalogue ? keyof C['reasons'] & string : never;

export type FirmwareReason = ReasonOf<(typeof firmwareCatalogues)[number]>;
