// Stateless model checking for the exhaustive small scopes (test/unit/sim-exhaustive.test.ts).
// A run is a program whose only nondeterminism is which pending call completes next (and, in
// sim-scope.ts, where the one fault happens). The explorer re-executes the run from the start
// with a forced prefix of choices and enumerates, depth first, every choice at every point.
//
// Reduction (sound for the final states checked): sleep sets (Godefroid). Two choices are
// independent when they belong to different processes and touch disjoint objects (or only read a
// shared one); executing one then the other reaches the same state as the other order, so after
// the subtree under choice a has been explored, a stays asleep in the sibling subtrees as long as
// only choices independent of a are taken. Every Mazurkiewicz trace (class of interleavings equal
// up to swapping adjacent independent calls) still has an explored representative; a run whose
// every enabled choice is asleep is cut short ("sleep-blocked": its trace was explored already).
// Faults and timer ticks are dependent on everything, so they are never put to sleep.

export interface Access {
  obj: string;
  write: boolean;
}

export interface Choice {
  id: string;
  /** The process that makes the call (faults and ticks: '*'). */
  proc: string;
  label: string;
  /** What the call reads and writes; 'all' conflicts with everything. */
  accesses: Access[] | 'all';
}

/** One execution: advance to the next choice point, take a choice. */
export interface Run {
  /** The enabled choices once everything else has settled; empty when the run is over. */
  next(): Promise<Choice[]>;
  take(id: string): Promise<void>;
}

export function independent(a: Choice, b: Choice): boolean {
  if (a.proc === b.proc || a.proc === '*' || b.proc === '*' || a.accesses === 'all' || b.accesses === 'all') return false;
  for (const x of a.accesses) {
    for (const y of b.accesses) {
      if (
        (x.write || y.write) &&
        (x.obj === y.obj || (x.obj === 'log:*' && y.obj.startsWith('log:')) || (y.obj === 'log:*' && x.obj.startsWith('log:')))
      )
        return false;
    }
  }
  return true;
}

interface Node {
  enabled: Choice[];
  sleep: Map<string, Choice>;
  done: string[];
  chosen: string;
  /** Preemptions spent on the path before this node, and the process of the last call taken. */
  spent: number;
  last: string | undefined;
}

const isCall = (c: Choice): boolean => c.id !== 'tick' && !c.id.includes(':');

/** Taking `c` preempts `last` when last still has a call it could make now. */
function preempts(c: Choice, last: string | undefined, enabled: Choice[]): boolean {
  return isCall(c) && last !== undefined && c.proc !== last && enabled.some((e) => isCall(e) && e.proc === last);
}

export interface Exploration {
  /** The preemption bound used, if any. */
  preemptions?: number;
  /** Complete executions, each checked. */
  executions: number;
  /** Runs cut short because every enabled choice was asleep (equivalent to one explored). */
  sleepBlocked: number;
  /** The longest choice sequence. */
  maxDepth: number;
  /** True when maxExecutions stopped the search before the space was exhausted. */
  truncated: boolean;
}

export interface ExploreOptions {
  /** Stops after this many complete executions (the result says `truncated`). */
  maxExecutions?: number;
  /** A run longer than this many choices is a livelock: fails with its sequence (default 1,000). */
  maxDepth?: number;
  /**
   * Preemption bound (CHESS): at most this many switches away from a process that could go on;
   * switches when it waits, ticks and faults are free. With a bound, sleep sets are off, so every
   * schedule within the bound is run. Default: no bound (every interleaving, with sleep sets).
   */
  preemptions?: number;
  /** Called every 1,000 executions. */
  progress?: (x: Exploration) => void;
}

/**
 * Explores every execution of `start()` up to the sleep-set reduction, calling `check` with each
 * complete one and the choice sequence that produced it (for replay: `replay(start, sequence)`).
 */
export async function explore<R extends Run>(
  start: () => R,
  check: (run: R, sequence: string[]) => Promise<void>,
  opts: ExploreOptions = {},
): Promise<Exploration> {
  const stack: Node[] = [];
  const out: Exploration = {
    executions: 0,
    sleepBlocked: 0,
    maxDepth: 0,
    truncated: false,
    ...(opts.preemptions === undefined ? {} : { preemptions: opts.preemptions }),
  };
  for (;;) {
    const run = start();
    let depth = 0;
    let blocked = false;
    for (;;) {
      const enabled = await run.next();
      if (enabled.length === 0) break;
      let node = stack[depth];
      if (node) {
        if (!enabled.some((c) => c.id === node?.chosen)) {
          throw new Error(
            `nondeterministic run: ${node.chosen} is not enabled at depth ${depth} after ${stack
              .slice(0, depth)
              .map((n) => n.chosen)
              .join(' ')} (enabled: ${enabled.map((c) => c.id).join(' ')})`,
          );
        }
      } else {
        const parent = stack[depth - 1];
        const sleep = new Map<string, Choice>();
        const taken0 = parent?.enabled.find((c) => c.id === parent.chosen);
        const last = taken0 && isCall(taken0) ? taken0.proc : parent?.last;
        const spent = parent && taken0 ? parent.spent + (preempts(taken0, parent.last, parent.enabled) ? 1 : 0) : 0;
        const bound = opts.preemptions;
        if (bound !== undefined) {
          for (const c of enabled) if (spent + (preempts(c, last, enabled) ? 1 : 0) > bound) sleep.set(c.id, c);
        } else if (parent) {
          const taken = parent.enabled.find((c) => c.id === parent.chosen);
          const before = parent.done.flatMap((id) => parent.enabled.filter((c) => c.id === id));
          for (const c of [...parent.sleep.values(), ...before]) if (taken && independent(c, taken)) sleep.set(c.id, c);
        }
        const first = enabled.find((c) => !sleep.has(c.id));
        if (!first) {
          blocked = true;
          break;
        }
        node = { enabled, sleep, done: [], chosen: first.id, spent, last };
        stack.push(node);
      }
      await run.take(node.chosen);
      depth++;
      if (depth > (opts.maxDepth ?? 1_000))
        throw new Error(`livelock: more than ${opts.maxDepth ?? 1_000} choices: ${stack.map((n) => n.chosen).join(',')}`);
    }
    out.maxDepth = Math.max(out.maxDepth, depth);
    if (blocked) out.sleepBlocked++;
    else {
      out.executions++;
      if (out.executions % 1_000 === 0) opts.progress?.(out);
      await check(
        run,
        stack.slice(0, depth).map((n) => n.chosen),
      );
    }
    // Backtrack: the deepest node with a choice not yet explored and not asleep.
    for (;;) {
      const top = stack[stack.length - 1];
      if (!top) return out;
      top.done.push(top.chosen);
      const next = top.enabled.find((c) => !top.done.includes(c.id) && !top.sleep.has(c.id));
      if (next) {
        top.chosen = next.id;
        break;
      }
      stack.pop();
    }
    if (opts.maxExecutions !== undefined && out.executions >= opts.maxExecutions) {
      out.truncated = true;
      return out;
    }
  }
}

/** Runs one execution along `sequence` (then first choices), e.g. to replay a reported failure. */
export async function replay<R extends Run>(start: () => R, sequence: readonly string[]): Promise<R> {
  const run = start();
  for (let i = 0; ; i++) {
    const enabled = await run.next();
    if (enabled.length === 0) return run;
    const want = sequence[i];
    const c = want === undefined ? enabled[0] : enabled.find((e) => e.id === want);
    if (!c) throw new Error(`replay: ${want ?? '?'} is not enabled at step ${i} (enabled: ${enabled.map((e) => e.id).join(' ')})`);
    await run.take(c.id);
  }
}
