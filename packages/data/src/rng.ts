/** Seeded randomness lives in the core (the distillers sample with it too); re-exported for data users. */
export { mulberry32, shuffled } from '@distillery/core';
