import type { BoundEnvironment, EnvironmentContext, EnvironmentDefinition } from "../environment.js";
import { ValidationError } from "@sluice/common";
import { UnknownEnvironmentError } from "../errors.js";
import { digitsEnvironment } from "./digits.js";
import { farmEnvironment } from "./farm.js";
import { recallEnvironment } from "./recall.js";
import { sweEnvironment } from "./swe/index.js";

/** Environments by name, as `spec.environment.name` refers to them. */
export class EnvironmentRegistry {
  private readonly byName = new Map<string, EnvironmentDefinition>();

  register(definition: EnvironmentDefinition): this {
    if (this.byName.has(definition.name)) {
      throw new ValidationError(`environment "${definition.name}" is already registered`);
    }
    this.byName.set(definition.name, definition);
    return this;
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  get(name: string): EnvironmentDefinition {
    const def = this.byName.get(name);
    if (!def) throw new UnknownEnvironmentError(name, this.names());
    return def;
  }

  /** Validates the config and fixes the seed: what the actor runs episodes from. */
  bind(name: string, rawConfig: unknown, seed: number, context: EnvironmentContext = {}): BoundEnvironment {
    return this.get(name).bind(rawConfig, seed, context);
  }
}

/** A registry with the built-in environments. */
export function defaultEnvironmentRegistry(): EnvironmentRegistry {
  return new EnvironmentRegistry()
    .register(digitsEnvironment)
    .register(farmEnvironment)
    .register(recallEnvironment)
    .register(sweEnvironment);
}
