/**
 * privacyIDEA's reading of an OATH CSV seed file, restated from its documentation and the rules of its
 * importer (privacyidea/lib/importotp.py `parseOATHcsv`, TokenClass/OcraTokenClass `get_import_csv`), written
 * here from those rules, not copied, so a test can ask "what would privacyIDEA make of this file?":
 *
 * - the text is split on "\n"; a first line matching `# version: N` sets the file version;
 * - a line starting with `#` is a comment; a line with at most one comma-separated field is skipped;
 * - version 2 takes the first three columns as the owner (user name, resolver, realm);
 * - column 0 is the serial (stripped; an empty one skips the line), column 1 the key as hex (stripped),
 *   column 2 the token type (stripped, lower-cased; `hotp` when there is no third column);
 * - the hash is chosen from the key's hex length (64 sha256, 128 sha512, 56 sha224, 96 sha384, else sha1);
 * - for `ocra` tokens the fourth column (stripped) is the OCRA suite and nothing after it is read; a missing
 *   suite falls back to `OCRA-1:HOTP-SHA1-8:QH40`; for other types the fourth column is the OTP length;
 * - no quoting: a comma always separates columns. A serial seen twice keeps its last line.
 */
export interface PrivacyIdeaToken {
  readonly type: string;
  readonly otpkey: string;
  readonly hashlib: string;
  readonly ocrasuite?: string;
  readonly otplen?: string;
  readonly user: { username?: string; resolver?: string; realm?: string };
}

export const privacyIdeaDefaultOcraSuite = 'OCRA-1:HOTP-SHA1-8:QH40';

const hashByHexLength: Readonly<Record<number, string>> = { 64: 'sha256', 128: 'sha512', 56: 'sha224', 96: 'sha384' };

export function privacyIdeaReadOathCsv(csv: string): Record<string, PrivacyIdeaToken> {
  const tokens: Record<string, PrivacyIdeaToken> = {};
  const lines = csv.split('\n');
  const version = /^#\s*version:\s*(\d+)/.exec(lines[0] ?? '')?.[1];
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    const columns = line.split(',');
    if (columns.length <= 1) continue;
    const user = version === '2' ? { username: columns.shift()!.trim(), resolver: columns.shift()!.trim(), realm: columns.shift()!.trim() } : {};
    const serial = (columns[0] ?? '').trim();
    if (serial === '' || columns.length < 2) continue;
    if (columns.length === 2) columns.push('hotp');
    const otpkey = columns[1]!.trim();
    const type = columns[2]!.trim().toLowerCase();
    const base = { type, otpkey, hashlib: hashByHexLength[otpkey.length] ?? 'sha1', user };
    tokens[serial] = type === 'ocra'
      ? { ...base, ocrasuite: columns.length >= 4 ? columns[3]!.trim() : privacyIdeaDefaultOcraSuite }
      : { ...base, otplen: columns.length >= 4 ? columns[3]!.trim() : '6' };
  }
  return tokens;
}
