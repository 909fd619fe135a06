/**
 * `npm run bench`: one run, one table. Each section measures its own subject next to a reference
 * taken in the same run, and prints ratios. Sections run one after another so they do not compete
 * for the machine's cores.
 */
import { printTable, type Row } from './harness.ts';

/** `optIn`: runs only when named (`npm run bench -- scale`): it takes minutes. */
type Section = { readonly name: string; readonly optIn?: boolean; readonly load: () => Promise<{ bench: () => Promise<Row[]> }> };

const sections: Section[] = [
  { name: 'ocra', load: () => import('./ocra.ts') },
  { name: 'host', load: () => import('./host.ts') },
  { name: 'key-cache', load: () => import('./key-cache.ts') },
  { name: 'service', load: () => import('./service.ts') },
  { name: 'scale', optIn: true, load: () => import('./scale.ts') },
  { name: 'startup', load: () => import('./startup.ts') },
  { name: 'serial', load: () => import('./serial.ts') },
  { name: 'board', load: () => import('./board.ts') },
];

const only = process.argv.slice(2);
const rows: Row[] = [];
for (const section of sections) {
  if (only.length > 0 ? !only.includes(section.name) : section.optIn) continue;
  process.stderr.write(`bench: ${section.name}…\n`);
  try {
    const { bench } = await section.load();
    rows.push(...(await bench()));
  } catch (error) {
    process.stderr.write(`bench: section ${section.name} failed: ${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  }
}
printTable(rows);
