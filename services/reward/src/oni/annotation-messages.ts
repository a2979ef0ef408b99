import { ValidationError } from "@sluice/common";

/** JSON body on `sluice.<exp>.annot.req`: a step the annotator queued for the judge. */
export interface AnnotationRequest {
  key: string;
  text: string;
  trajectoryId: string;
  turn: number;
}

/** JSON body on `sluice.<exp>.annot.res`: labels just stored and the label-store version after them. */
export interface AnnotationResult {
  version: number;
  labels: Record<string, number>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeAnnotation(msg: AnnotationRequest | AnnotationResult): Uint8Array {
  return enc.encode(JSON.stringify(msg));
}

export function decodeAnnotationResult(data: Uint8Array): AnnotationResult {
  const v = JSON.parse(dec.decode(data)) as Partial<AnnotationResult> | null;
  if (typeof v?.version !== "number" || typeof v.labels !== "object" || v.labels === null) {
    throw new ValidationError("not an ONI annotation result");
  }
  return v as AnnotationResult;
}

export function decodeAnnotationRequest(data: Uint8Array): AnnotationRequest {
  const v = JSON.parse(dec.decode(data)) as Partial<AnnotationRequest> | null;
  if (typeof v?.key !== "string" || typeof v.text !== "string")
    throw new ValidationError("not an ONI annotation request");
  return v as AnnotationRequest;
}
