/** The entry of `npm run board:sim`: the tool (board/sim/run.ts) on this process's streams. */
import { main } from './run.ts';

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
