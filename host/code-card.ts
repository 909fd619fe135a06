/** Security Code Card: 224 codes of 3 characters; the login asks two indexes; an online card is valid 21 days. */
export const codeCardCodes = 224;
export const codeCardCodeChars = 3;
export const codeCardValidMs = 21 * 86_400_000;
