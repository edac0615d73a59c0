// The contract between main.ts and the command modules: a command module exports one
// `register(program)` function; its action resolves to the process exit code through `exiting`.
// Adding a command (e.g. `worker`) is one line in main.ts's COMMANDS list.
import type { Command } from 'commander';
import { EXIT_OK } from './errors.js';

export type RegisterCommand = (program: Command) => void;

let exitCode = EXIT_OK;

/** Wraps an action whose result is the exit code (commander ignores action results). */
export function exiting<A extends unknown[]>(action: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    exitCode = await action(...args);
  };
}

/** The exit code set by the action that ran (0 when none ran, e.g. after --help). */
export function takeExitCode(): number {
  const code = exitCode;
  exitCode = EXIT_OK;
  return code;
}
