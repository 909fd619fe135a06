/**
 * XML parsing for untrusted key containers. Any DOCTYPE or ENTITY declaration is refused outright, before the
 * parser sees the text: no external entities (XXE), no entity expansion ("billion laughs"), no DTD at all.
 * PSKC (RFC 6030) never needs one.
 */
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';

export const xmlCharsMax = 4 * 1024 * 1024;

export class XmlError extends Error {
  override name = 'XmlError';
}

/** @example parseXmlSafely('<a/>').documentElement.localName // 'a' */
export function parseXmlSafely(text: string, what: string): Document {
  if (typeof text !== 'string') throw new XmlError(`${what}: expected XML text`);
  if (text.length > xmlCharsMax) throw new XmlError(`${what}: ${text.length} characters is more than ${xmlCharsMax}`);
  const declaration = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)\b/i.exec(text);
  if (declaration) throw new XmlError(`${what}: refusing a document with a <!${declaration[1]!.toUpperCase()} declaration (DTDs and entities are never accepted)`);
  const problems: string[] = [];
  const parser = new DOMParser({
    onError: (level, message) => {
      if (level !== 'warning') problems.push(String(message).split('\n')[0]!);
    },
  });
  let doc: Document;
  try {
    doc = parser.parseFromString(text, 'text/xml');
  } catch (error) {
    throw new XmlError(`${what}: not well-formed XML (${(error as Error).message.split('\n')[0]})`);
  }
  if (problems.length > 0 || !doc.documentElement) throw new XmlError(`${what}: not well-formed XML (${problems[0] ?? 'no root element'})`);
  return doc;
}

/** Element children of `parent` with this local name, whatever their namespace prefix. */
export function children(parent: Element, localName: string): Element[] {
  const out: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1 && (node as Element).localName === localName) out.push(node as Element);
  }
  return out;
}

export function child(parent: Element, localName: string): Element | undefined {
  return children(parent, localName)[0];
}

export function textOf(element: Element | undefined): string | undefined {
  return element?.textContent?.trim();
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
