// A deterministic, heuristic entity extractor. It is NOT named-entity recognition: it picks
// capitalized word runs and #hashtags, which is enough to give the graph useful Entity nodes for
// technical notes ("Apache Kafka", "PostgreSQL", "#caching") without a model or a network call.
// Known misses and false hits (documented in docs/documents.md): lowercase names ("etcd") are
// missed; a capitalized common word in the middle of a sentence ("the Saga pattern") is kept.
import { MAX_ENTITIES_PER_CHUNK } from './limits.js';

/** Longest run of capitalized words kept as one name; longer runs are usually headings or shouting. */
const MAX_NAME_WORDS = 5;
const MAX_ENTITY_CHARS = 100;

// A capitalized word: an uppercase letter, then letters, digits, and inner ' . - (O'Brien, Node.js).
const CAPITALIZED_RUN = /\p{Lu}[\p{L}\p{N}]*(?:['’.-][\p{L}\p{N}]+)*(?:[ ]\p{Lu}[\p{L}\p{N}]*(?:['’.-][\p{L}\p{N}]+)*)*/gu;
const HASHTAG = /(?<![\p{L}\p{N}_&#/])#(\p{L}[\p{L}\p{N}_-]*)/gu;
// Words that are capitalized only because they start a sentence or heading; dropped from the front
// of a run ("The Saga Engine" -> "Saga Engine") and never kept alone.
const FUNCTION_WORDS = new Set([
  'A',
  'An',
  'The',
  'This',
  'That',
  'These',
  'Those',
  'It',
  'Its',
  'We',
  'Our',
  'You',
  'Your',
  'They',
  'In',
  'On',
  'At',
  'For',
  'From',
  'With',
  'Without',
  'By',
  'Of',
  'To',
  'And',
  'Or',
  'But',
  'If',
  'When',
  'While',
  'Then',
  'So',
  'As',
  'Each',
  'Every',
  'All',
  'No',
  'Not',
  'Use',
  'Do',
  'Does',
  'Is',
  'Are',
  'I',
  'After',
  'Before',
  'Because',
  'Since',
  'Once',
  'Why',
  'How',
  'What',
  'Where',
  'Which',
  'Who',
  'Note',
  'See',
  'Compare',
  'Check',
  'Run',
  'Set',
  'Add',
  'Make',
  'Keep',
  'Let',
  'Try',
  'Avoid',
  'Prefer',
  'Never',
  'Always',
]);

/**
 * Entity names in `text`: capitalized multi-word names anywhere, single capitalized words when they
 * do not start a sentence or line, and #hashtags. Normalized (trimmed, spaces collapsed), deduped,
 * sorted; at most `max`, the most frequent first when there are more.
 */
export function extractEntities(text: string, max: number = MAX_ENTITIES_PER_CHUNK): string[] {
  const counts = new Map<string, { count: number; first: number }>();
  const add = (name: string, at: number): void => {
    const normalized = name.trim().replace(/\s+/g, ' ');
    if (normalized.length < 2 || normalized.length > MAX_ENTITY_CHARS) return;
    const seen = counts.get(normalized);
    if (seen) seen.count++;
    else counts.set(normalized, { count: 1, first: at });
  };

  for (const match of text.matchAll(CAPITALIZED_RUN)) {
    const at = match.index;
    const run = match[0].split(' ');
    let words = run;
    while (words.length > 0 && FUNCTION_WORDS.has(words[0] ?? '')) words = words.slice(1);
    if (words.length === 0 || words.length > MAX_NAME_WORDS) continue;
    // A lone word is a name only when its capital is not explained by a sentence start.
    const firstWordOfRun = words.length === run.length;
    if (words.length === 1 && firstWordOfRun && startsSentence(text, at)) continue;
    add(words.join(' '), at);
  }
  for (const match of text.matchAll(HASHTAG)) add(`#${match[1] ?? ''}`, match.index);

  const ranked = [...counts.entries()]
    .sort((a, b) => b[1].count - a[1].count || a[1].first - b[1].first)
    .slice(0, Math.max(0, max))
    .map(([name]) => name);
  return ranked.sort();
}

/** True when the word at `at` begins the text, a line (after list/heading markers) or a sentence. */
function startsSentence(text: string, at: number): boolean {
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const before = text.slice(lineStart, at);
  if (/^[\s#>*+\-\d.)([\]|`"'“‘]*$/u.test(before)) return true;
  const trimmed = before.replace(/["'“‘([\s]+$/u, '');
  return /[.!?…]$/u.test(trimmed);
}
