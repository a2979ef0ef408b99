/**
 * A small XML reader, enough for JUnit reports (no dependency): elements, attributes, text,
 * CDATA, comments, processing instructions and a DOCTYPE without an internal subset. Entities:
 * the five predefined ones and numeric references; others are left as written. Malformed
 * input never throws: what can be read is returned and the rest is listed in `problems`.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Text and CDATA directly inside this element, concatenated. */
  text: string;
}

export interface XmlDocument {
  /** Top-level elements (a well-formed document has exactly one). */
  roots: XmlElement[];
  problems: string[];
}

const NAMED_ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
const ATTRIBUTE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const NAME = /^[^\s/>]+/;

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith("#")) {
      const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isInteger(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[ref] ?? whole;
  });
}

export function parseXml(input: string): XmlDocument {
  const roots: XmlElement[] = [];
  const problems: string[] = [];
  const stack: XmlElement[] = [];
  let pos = 0;

  const addText = (text: string): void => {
    const top = stack[stack.length - 1];
    if (top !== undefined) top.text += text;
  };
  const skipTo = (terminator: string, what: string): void => {
    const end = input.indexOf(terminator, pos);
    if (end < 0) {
      problems.push(`unterminated ${what} at offset ${pos}`);
      pos = input.length;
    } else pos = end + terminator.length;
  };

  while (pos < input.length) {
    const lt = input.indexOf("<", pos);
    if (lt < 0) {
      addText(decodeEntities(input.slice(pos)));
      break;
    }
    if (lt > pos) addText(decodeEntities(input.slice(pos, lt)));
    pos = lt;
    if (input.startsWith("<!--", pos)) skipTo("-->", "comment");
    else if (input.startsWith("<![CDATA[", pos)) {
      const end = input.indexOf("]]>", pos);
      addText(input.slice(pos + 9, end < 0 ? input.length : end));
      if (end < 0) problems.push(`unterminated CDATA at offset ${pos}`);
      pos = end < 0 ? input.length : end + 3;
    } else if (input.startsWith("<?", pos)) skipTo("?>", "processing instruction");
    else if (input.startsWith("<!", pos)) skipTo(">", "declaration");
    else if (input.startsWith("</", pos)) {
      const end = input.indexOf(">", pos);
      const name = input.slice(pos + 2, end < 0 ? input.length : end).trim();
      pos = end < 0 ? input.length : end + 1;
      closeElement(stack, name, problems);
    } else {
      const end = tagEnd(input, pos);
      if (end < 0) {
        problems.push(`unterminated tag at offset ${pos}`);
        break;
      }
      const body = input.slice(pos + 1, end);
      pos = end + 1;
      const selfClosing = body.endsWith("/");
      const element = openElement(selfClosing ? body.slice(0, -1) : body);
      if (element === undefined) {
        problems.push(`unreadable tag at offset ${lt}`);
        continue;
      }
      const parent = stack[stack.length - 1];
      if (parent !== undefined) parent.children.push(element);
      else roots.push(element);
      if (!selfClosing) stack.push(element);
    }
  }
  for (const open of stack) problems.push(`element <${open.name}> not closed`);
  return { roots, problems };
}

/** Index of the `>` that ends the tag starting at `start`, skipping quoted attribute values. */
function tagEnd(input: string, start: number): number {
  let quote: string | undefined;
  for (let i = start + 1; i < input.length; i++) {
    const c = input[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ">") return i;
  }
  return -1;
}

function openElement(body: string): XmlElement | undefined {
  const name = NAME.exec(body)?.[0];
  if (name === undefined) return undefined;
  const attrs: Record<string, string> = {};
  for (const m of body.slice(name.length).matchAll(ATTRIBUTE)) {
    const key = m[1];
    if (key !== undefined) attrs[key] = decodeEntities(m[2] ?? m[3] ?? "");
  }
  return { name, attrs, children: [], text: "" };
}

function closeElement(stack: XmlElement[], name: string, problems: string[]): void {
  const at = stack.map((e) => e.name).lastIndexOf(name);
  if (at < 0) {
    problems.push(`closing tag </${name}> without an open element`);
    return;
  }
  for (const open of stack.splice(at).slice(1)) problems.push(`element <${open.name}> not closed`);
}
