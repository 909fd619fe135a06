/** Parsed suites by suite text: parsing is pure, and every challenge and verify needs it. */
import { parseSuite, type OcraSuite } from '../firmware/ocra/index.ts';

const suiteCache = new Map<string, OcraSuite>();

export function suiteOf(text: string): OcraSuite {
  let suite = suiteCache.get(text);
  if (!suite) suiteCache.set(text, (suite = parseSuite(text)));
  return suite;
}
