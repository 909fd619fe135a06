/**
 * PSKC key containers (RFC 6030) for OCRA keys: what a key is once read (`PskcKey`), and the reader and writer
 * (host/pskc-read.ts, host/pskc-write.ts) that move keys to and from other OATH servers.
 *
 * OCRA is not one of RFC 6030's own profiles. The writer names it `urn:ietf:params:xml:ns:keyprov:pskc:ocra`
 * by default (the spelling NagraID, multiOTP and LinOTP data use; privacyIDEA turns the `#OCRA-1` fragment
 * into an unknown token type), or `urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1` on request (libpskc's), with
 * the suite in `<AlgorithmParameters><Suite>`. The reader takes both, and an Algorithm ending in the suite.
 */
export * from './pskc-model.ts';
export { parsePskc, readPskc, type PskcRead, type PskcSkipped } from './pskc-read.ts';
export { writePskc, type PskcProtection, type PskcWriteOptions } from './pskc-write.ts';
