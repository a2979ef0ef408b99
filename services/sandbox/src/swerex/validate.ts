import { SwerexHttpError, type ValidationIssue } from "./errors.js";

/**
 * Field readers that mimic pydantic's checks on SWE-ReX's models, collecting every problem
 * so a bad request gets one 422 listing them all, like FastAPI.
 */
export class BodyReader {
  readonly issues: ValidationIssue[] = [];
  private readonly obj: Record<string, unknown>;

  constructor(body: unknown) {
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      this.issues.push({
        type: "model_attributes_type",
        loc: ["body"],
        msg: "Input should be a valid dictionary or object to extract fields from",
        input: body,
      });
      this.obj = {};
    } else {
      this.obj = body as Record<string, unknown>;
    }
  }

  private issue(type: string, field: string, msg: string, input: unknown, ctx?: Record<string, unknown>): void {
    this.issues.push({ type, loc: ["body", field], msg, input, ...(ctx ? { ctx } : {}) });
  }

  private get(field: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.obj, field) ? this.obj[field] : undefined;
  }

  requiredString(field: string): string {
    const v = this.get(field);
    if (v === undefined) this.issue("missing", field, "Field required", this.obj);
    else if (typeof v !== "string") this.issue("string_type", field, "Input should be a valid string", v);
    return typeof v === "string" ? v : "";
  }

  string(field: string, fallback: string): string {
    const v = this.get(field);
    if (v === undefined) return fallback;
    if (typeof v !== "string") this.issue("string_type", field, "Input should be a valid string", v);
    return typeof v === "string" ? v : fallback;
  }

  optionalString(field: string): string | undefined {
    const v = this.get(field);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") this.issue("string_type", field, "Input should be a valid string", v);
    return typeof v === "string" ? v : undefined;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.get(field);
    if (v === undefined) return fallback;
    if (typeof v !== "boolean") this.issue("bool_type", field, "Input should be a valid boolean", v);
    return typeof v === "boolean" ? v : fallback;
  }

  /** Seconds; null and absent both mean "no timeout given". */
  optionalSeconds(field: string): number | undefined {
    const v = this.get(field);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      this.issue("float_type", field, "Input should be a valid non-negative number", v);
      return undefined;
    }
    return v;
  }

  literal<T extends string>(field: string, allowed: readonly T[], fallback: T): T {
    const v = this.get(field);
    if (v === undefined) return fallback;
    if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
    const expected = allowed.map((a) => `'${a}'`).join(", ");
    this.issue("literal_error", field, `Input should be ${expected}`, v, { expected });
    return fallback;
  }

  stringList(field: string): string[] {
    const v = this.get(field);
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      this.issue("list_type", field, "Input should be a valid list of strings", v);
      return [];
    }
    return v as string[];
  }

  stringOrList(field: string): string | string[] {
    const v = this.get(field);
    if (v === undefined) this.issue("missing", field, "Field required", this.obj);
    else if (typeof v === "string") return v;
    else if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
    else this.issue("string_type", field, "Input should be a valid string or list of strings", v);
    return "";
  }

  optionalStringMap(field: string): Record<string, string> | undefined {
    const v = this.get(field);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "object" || Array.isArray(v) || Object.values(v).some((x) => typeof x !== "string")) {
      this.issue("dict_type", field, "Input should be a valid dictionary of strings", v);
      return undefined;
    }
    return v as Record<string, string>;
  }

  /** Throws the collected issues as a 422. */
  done(): void {
    if (this.issues.length > 0) throw new SwerexHttpError(422, this.issues);
  }
}
