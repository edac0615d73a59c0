// The documents table's row as the SQL returns it (pg and PGlite differ in how they hand back
// jsonb and timestamps) and its mapping to the store interface's DocumentRow.
import type { DocumentRow, IngestionStatus } from '../types.js';

export interface DocumentRecord {
  id: string;
  title: string;
  content_sha256: string | null;
  ingestion_status: IngestionStatus;
  saga_id: string | null;
  metadata: Record<string, unknown> | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

export const DOCUMENT_COLUMNS = 'id, title, content_sha256, ingestion_status, saga_id, metadata, created_at, updated_at';

export function toDocumentRow(r: DocumentRecord): DocumentRow {
  const metadata = typeof r.metadata === 'string' ? (JSON.parse(r.metadata) as Record<string, unknown>) : (r.metadata ?? {});
  return {
    id: r.id,
    title: r.title,
    contentSha256: r.content_sha256,
    ingestionStatus: r.ingestion_status,
    sagaId: r.saga_id,
    metadata,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}
