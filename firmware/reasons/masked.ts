/** Refusals of the additively masked scheme on the meter and its key holders (firmware/masked/). */
export const maskedReasons = {
  'bad-mask-key': 'a mask key that is not 16 bytes, or a masked meter provisioned with none',
  'mask-already-used':
    'a second value for a (key id, slot) whose mask a report already used, or a slot before the last one sealed: the difference of the two would reveal the readings’ difference',
} as const;
