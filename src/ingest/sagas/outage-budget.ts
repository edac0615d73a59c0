// Riding out short store outages (issue 15). Before the pivot a step that gives up rolls the whole
// document back, and the old policy (4 attempts, 25 ms to 1 s apart) gave up after about 2 s: any
// outage longer than that compensated documents the user then had to ingest again. Now a retryable
// error (connection refused, timeout, deadlock: StoreError says `retryable`) is retried with
// backoff for a time budget, 60 s by default, counted from the step's first attempt and kept in the
// saga log (a crash does not renew it). Backoffs grow to 5 s; one longer than the engine's
// durable-timer threshold (2 s), for a step alone in its stage, releases the saga until it is due,
// so a long wait holds no worker slot. Errors that are not retryable (STORE_PERMANENT: a vector of
// the wrong dimension, a constraint) still fail at once, and the saga compensates at once.
//
// The budget is set for every step (APEX_STORE_OUTAGE_BUDGET_MS), per saga or per step (code:
// OutageBudgets). 0 brings back the quick policy.
import type { RetryPolicy } from '../../saga/index.js';
import type { IntRange } from '../../lib/int-range.js';

export const DEFAULT_OUTAGE_BUDGET_MS = 60_000;
/** APEX_STORE_OUTAGE_BUDGET_MS: 0 (quick retries only) to a day. */
export const OUTAGE_BUDGET_RANGE: IntRange = { min: 0, max: 86_400_000, unit: 'milliseconds' };

export interface OutageBudgets {
  /** Every step's budget unless its saga or the step says otherwise (default 60 s; 0: quick retries). */
  defaultMs?: number;
  /** By saga name: `ingest`, `ingest_adr`, `delete`. */
  sagas?: Record<string, number>;
  /** By step: `ingest.neo4j_write` (that saga's step) or `neo4j_write` (the step in every saga). */
  steps?: Record<string, number>;
}

/** The most specific budget that applies: saga.step, step, saga, default. */
export function budgetFor(budgets: OutageBudgets | undefined, saga: string, step: string): number {
  const b = budgets ?? {};
  const ms = b.steps?.[`${saga}.${step}`] ?? b.steps?.[step] ?? b.sagas?.[saga] ?? b.defaultMs ?? DEFAULT_OUTAGE_BUDGET_MS;
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`outage budget of ${saga}.${step} must be a finite number >= 0, got ${ms}`);
  return ms;
}

/** The policy before issue 15, kept for budget 0. */
const QUICK: Partial<RetryPolicy> = { maxAttempts: 4, initialDelayMs: 25, maxDelayMs: 1_000 };

/** A store write before or at the pivot: retried while the store is down, within the budget. */
export function storeRetry(budgets: OutageBudgets | undefined, saga: string, step: string): Partial<RetryPolicy> {
  const budgetMs = budgetFor(budgets, saga, step);
  if (budgetMs === 0) return QUICK;
  return { budgetMs, initialDelayMs: 25, maxDelayMs: 5_000, multiplier: 2 };
}

/** How long the first step waits for a document another saga holds when the budget is small. */
const DOCUMENT_WAIT_MS = 25_000;

/**
 * The first step, which takes the document: it also waits while another saga holds it
 * (STORE_BUSY), so its pauses stay short (at most 1 s: a freed document is taken quickly) and it
 * waits at least as long as the holder may itself be riding out an outage. With budget 0: the
 * earlier 30 attempts (about 25 s).
 */
export function firstStepRetry(budgets: OutageBudgets | undefined, saga: string, step: string): Partial<RetryPolicy> {
  const budgetMs = budgetFor(budgets, saga, step);
  if (budgetMs === 0) return { maxAttempts: 30, initialDelayMs: 50, maxDelayMs: 1_000 };
  return { budgetMs: Math.max(budgetMs, DOCUMENT_WAIT_MS), initialDelayMs: 50, maxDelayMs: 1_000 };
}

/**
 * After the pivot a step must succeed in the end (any error retried; giving up means `stuck`, an
 * operator's job). It keeps the engine's default (25 attempts, backoff to 5 s: about a minute)
 * and, with a budget, retries for at least as long as the steps before the pivot would.
 */
export function afterPivotRetry(budgets: OutageBudgets | undefined, saga: string, step: string): Partial<RetryPolicy> | undefined {
  const budgetMs = budgetFor(budgets, saga, step);
  if (budgetMs === 0) return undefined;
  return { budgetMs: Math.max(budgetMs, DEFAULT_OUTAGE_BUDGET_MS) };
}
