/** Unpadded base64url for the password hash encoding (node's Buffer does the work). */
export const base64urlnopad = {
  encode: (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url'),
  decode: (text: string): Uint8Array => {
    if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('stored password hash is not base64url');
    return new Uint8Array(Buffer.from(text, 'base64url'));
  },
};
