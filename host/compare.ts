/** The host's compares are the project's one constant-time compare (firmware/compare.ts). */
export { equalBytes, equalStrings } from '../firmware/compare.ts';
