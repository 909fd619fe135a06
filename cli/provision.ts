/**
 * `dsc provision`: make a new device file (the card's memory image plus what the runtime and the host
 * need) and print its serial number. Random secret, serial and keys unless given.
 */
import { hexToBytesNamed } from '../firmware/assert.ts';
import { profiles, type Profile } from '../firmware/types.ts';
import { serialMax } from '../firmware/device-record.ts';
import { DeviceFileError, provisionDeviceFile } from '../emulator/card.ts';
import { exitOk, integerOption, parseOptions, pinOption, required, UsageError, write, type Io } from './io.ts';
import { SecretReader, visibleNote } from './secrets.ts';
import { resolve } from 'node:path';

const help = `usage: dsc provision [--profile dscplus|digipass] [--suite S] [--serial N] [--pin 4826]
                      [--seed HEX] [--check-digit] [--force] --out DEVICE.json

Makes a device file for a new card and prints its serial number.

  --profile P     dscplus (default): soft PIN mixed into the response, suite OCRA-1:HOTP-SHA1-8:QN06-PSHA1
                  digipass: the card checks the PIN (FAIL n, LOCK PIN, unlock codes, keypad PIN change),
                  suite OCRA-1:HOTP-SHA1-8:QN06 (no P: the server never learns a PIN changed on the keypad)
  --suite S       an OCRA suite the card can run: numeric question QN04..QN16, 4-10 digit response
  --serial N      the serial number (0..${serialMax}); random 8 digits when not given
  --pin 4826|-    the PIN chosen when ordering (- reads it from stdin, unseen by other users): sealed in the file for the host; for digipass also the
                  card's first PIN (without it a digipass card asks for a new PIN at first use); a weak
                  PIN (all one digit, or a run up or down: 1111, 1234, 9876) is refused, as the keypad refuses it
  --seed HEX|-    the OCRA secret (16..64 bytes); random when not given (20 bytes for SHA1 suites)
  --check-digit   challenges carry a Luhn check digit (PSKC CheckDigits): one more digit to type
  --force         replace DEVICE.json if it exists (default: refuse)

Secret options (--pin, --seed): - reads each from stdin, one line each in that order. ${visibleNote}

example:
  $ dsc provision --pin 4826 --out card.json
  40417265`;

/** The secret options, in the order their `-` lines are read from stdin. */
const secretOrder = ['pin', 'seed'] as const;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseOptions(argv, {
    profile: { type: 'string' },
    suite: { type: 'string' },
    serial: { type: 'string' },
    pin: { type: 'string' },
    seed: { type: 'string' },
    'check-digit': { type: 'boolean' },
    force: { type: 'boolean' },
    out: { type: 'string' },
  });
  if (values.help) {
    write(io.stdout, help);
    return exitOk;
  }
  const out = resolve(io.cwd, required('out', values.out));
  // Both read before either is written back: the stdin line of each depends on which options were given as -.
  const secrets = new SecretReader(io);
  const [pin, seed] = [await secrets.optional(values, 'pin', secretOrder), await secrets.optional(values, 'seed', secretOrder)];
  values.pin = pin;
  values.seed = seed;
  const profile = values.profile ?? 'dscplus';
  if (!(profiles as readonly string[]).includes(profile)) throw new UsageError(`--profile expected dscplus or digipass, got ${JSON.stringify(profile)}`);
  // Never echo a PIN or a seed, even a malformed one: it may be the real one mistyped.
  if (values.pin !== undefined) pinOption('pin', values.pin, { chosen: true });
  if (values.seed !== undefined && !/^([0-9a-fA-F]{2})*$/.test(values.seed)) {
    throw new UsageError(`--seed expected an even number of hex digits, got ${values.seed.length} characters (not shown: it is a secret)`);
  }
  let secret: Uint8Array | undefined;
  try {
    secret = values.seed === undefined ? undefined : hexToBytesNamed('seed', values.seed);
    const { serial } = provisionDeviceFile(out, {
      profile: profile as Profile,
      ...(values.suite !== undefined && { suite: values.suite }),
      ...(values.serial !== undefined && { serial: integerOption('serial', values.serial, serialMax) }),
      ...(values.pin !== undefined && { pin: values.pin }),
      ...(secret !== undefined && { secret }),
      checkDigit: values['check-digit'] ?? false,
      overwrite: values.force ?? false,
    });
    write(io.stdout, serial);
    return exitOk;
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError || error instanceof DeviceFileError) {
      const message = error.message.replace(/^"seed"/, '--seed').replace(/^"suite"/, '--suite').replace(/^"secret"/, '--seed');
      throw new UsageError(error instanceof DeviceFileError ? `${message}; use --force to replace it` : message);
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string') throw new UsageError(`cannot write ${JSON.stringify(out)}: ${code}`);
    throw error;
  } finally {
    secret?.fill(0);
  }
}
