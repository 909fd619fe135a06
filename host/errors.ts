/**
 * Expected refusals of the host: an unknown user, a locked device, a PIN mismatch… They are states the caller
 * shows, not bugs. `badInput` marks what the caller typed wrongly (the CLI exits 2 for those, 1 otherwise).
 */
export class HostError extends Error {
  override name = 'HostError';
  constructor(
    readonly reason: string,
    message: string,
    readonly badInput = false,
  ) {
    super(message);
  }
}
