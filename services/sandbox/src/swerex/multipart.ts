import { SwerexHttpError } from "./errors.js";

export interface FormPart {
  name: string;
  /** Present for file fields. */
  filename: string | undefined;
  data: Buffer;
}

const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");

/** The boundary of a `multipart/form-data` content type, or a 422 when there is none. */
export function multipartBoundary(contentType: string | undefined): string {
  const m = /^multipart\/form-data\s*;(?:.*;)?\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) {
    throw new SwerexHttpError(422, [
      {
        type: "multipart_expected",
        loc: ["body"],
        msg: "Expected a multipart/form-data body with a boundary",
        input: contentType ?? null,
      },
    ]);
  }
  return boundary;
}

/**
 * Splits a buffered multipart/form-data body (RFC 7578) into its parts. The whole body is
 * already size-capped, so buffering is fine; a malformed body is a 422, not a crash.
 */
export function parseMultipart(body: Buffer, boundary: string): FormPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const bad = (why: string): SwerexHttpError =>
    new SwerexHttpError(422, [{ type: "multipart_invalid", loc: ["body"], msg: why, input: null }]);
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw bad("multipart body has no boundary delimiter");
  const parts: FormPart[] = [];
  for (;;) {
    pos += delimiter.length;
    // "--" after a delimiter closes the body.
    if (body.subarray(pos, pos + 2).toString() === "--") return parts;
    if (!body.subarray(pos, pos + 2).equals(CRLF)) throw bad("multipart delimiter not followed by CRLF");
    const headerStart = pos + 2;
    const headerEnd = body.indexOf(HEADER_END, headerStart);
    if (headerEnd < 0) throw bad("multipart part without a header terminator");
    const next = body.indexOf(Buffer.concat([CRLF, delimiter]), headerEnd + HEADER_END.length);
    if (next < 0) throw bad("multipart part without a closing delimiter");
    const headers = body.subarray(headerStart, headerEnd).toString("utf8");
    const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(headers)?.[1] ?? "";
    const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw bad("multipart part without a form-data name");
    const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1];
    parts.push({ name, filename, data: body.subarray(headerEnd + HEADER_END.length, next) });
    pos = next + CRLF.length;
  }
}

/** FastAPI's Form(bool) parsing: pydantic's accepted spellings. */
export function formBool(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (["true", "1", "yes", "on", "t", "y"].includes(v)) return true;
  if (["false", "0", "no", "off", "f", "n"].includes(v)) return false;
  return undefined;
}
