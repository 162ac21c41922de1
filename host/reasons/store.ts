/** A role's SQLite file (each role's store.ts). */
export const storeReasons = {
  'store-mismatch': 'a SQLite file that belongs to another identity (group, key, custodian) than the role opening it',
  'store-unreadable': 'a role’s SQLite file that cannot be opened or is not a SQLite database',
  'store-in-use': 'a role’s SQLite file that another live process holds (its <file>.owner lock): a group runs in one process at a time',
  'store-version': 'a SQLite file written by an older layout that this build does not migrate, or by a newer build',
} as const;
