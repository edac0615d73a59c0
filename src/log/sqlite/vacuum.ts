// `apex-memory vacuum` on a SQLite saga log (docs/erasure.md): with secure_delete on, pruned sagas
// are zeroed in their pages already; VACUUM rebuilds the file without free pages and the TRUNCATE
// checkpoint empties the WAL, whose frames still hold the page images from before the prune.
// Run while no other process has the log open (the checkpoint cannot truncate under a reader).
import Database from 'better-sqlite3';

export function vacuumSqliteLog(file: string): string {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('secure_delete = ON');
    db.exec('VACUUM');
    const r = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    return (r[0]?.busy ?? 0) === 0 ? 'VACUUM; WAL truncated' : 'VACUUM; WAL NOT truncated (another process has the log open: run again)';
  } finally {
    db.close();
  }
}
