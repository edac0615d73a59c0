// The PGlite stand-in against the relational conformance suite (in memory: no connection to cut,
// so the mid-call drop case is covered by the PostgreSQL run only).
import { openPgliteRelational } from '../../src/stores/embedded/pglite-relational.js';
import { relationalConformance } from '../support/store-conformance.js';

relationalConformance({ label: 'pglite', open: () => openPgliteRelational() });
