/** OATH OCRA, RFC 6287: the challenge/response algorithm the simulated card runs. */
export { parseSuite, hashBytes, type OcraSuite, type HashName, type QuestionFormat } from './suite.ts';
export { hashPin, dataInputLength, type OcraInputs } from './data-input.ts';
export { ocra, prepareOcra, truncate, timeStepAt, type OcraKey } from './ocra.ts';
export { matchResponse, matchWindowMax, type Match, type MatchAt, type MatchWindow } from './match.ts';
