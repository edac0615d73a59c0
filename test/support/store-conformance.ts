// One conformance suite per store interface, run against every adapter and stand-in by
// test/conformance/stores-*.test.ts. Each suite takes a harness (a factory for a connected store).
export { relationalConformance } from './conformance/relational.js';
export { graphConformance } from './conformance/graph.js';
export { vectorConformance } from './conformance/vector.js';
export { cacheConformance } from './conformance/cache.js';
export { collectionsConformance } from './conformance/collections.js';
export type { StoreHarness } from './conformance/fixtures.js';
