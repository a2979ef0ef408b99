#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { errorMessage } from "@sluice/common";
import { formatStatus } from "./cli/status-view.js";
import { experimentFromFile } from "./cli/launch.js";
import { logPath, logTargets } from "./cli/logs.js";
import { InvalidExperimentError } from "./errors.js";
import { TYPES } from "./kube/resources.js";
import { RestKubeApi } from "./kube/rest-client.js";

// `kubectl sluice` (kubectl finds plugins named kubectl-<name> on PATH):
//   kubectl sluice launch -f spec.yaml [-n NS] [--name NAME]
//   kubectl sluice status NAME [-n NS]
//   kubectl sluice logs NAME COMPONENT [-c CONTAINER] [-n NS] [-f] [--tail N]
const USAGE = `usage:
  kubectl sluice launch -f SPEC.yaml [-n NAMESPACE] [--name NAME]
  kubectl sluice status NAME [-n NAMESPACE]
  kubectl sluice logs NAME COMPONENT [-c CONTAINER] [-n NAMESPACE] [-f] [--tail N]
components: inference, gateway, actors, sandboxes, reward, learner (-c engine for the engine)
`;

interface Args {
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const takesValue = new Set([
    "-f",
    "--filename",
    "-n",
    "--namespace",
    "--name",
    "-c",
    "--container",
    "--tail",
    "--kubeconfig",
  ]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf("=");
    if (a.startsWith("-") && eq > 0) flags.set(a.slice(0, eq), a.slice(eq + 1));
    else if (takesValue.has(a)) flags.set(a, argv[++i] ?? "");
    else if (a.startsWith("-")) flags.set(a, true);
    else positional.push(a);
  }
  return { positional, flags };
}

function flag(a: Args, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = a.flags.get(n);
    if (typeof v === "string") return v;
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const [command, ...rest] = args.positional;
  if (!command || args.flags.has("-h") || args.flags.has("--help")) {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const kc = new KubeConfig();
  const kubeconfig = flag(args, "--kubeconfig");
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromDefault();
  const namespace =
    flag(args, "-n", "--namespace") ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
  const api = new RestKubeApi(kc, 15_000, "kubectl-sluice");

  if (command === "launch") {
    const file = flag(args, "-f", "--filename");
    if (!file) throw new UsageError("launch needs -f SPEC.yaml");
    const obj = experimentFromFile(readFileSync(file, "utf8"), file, { name: flag(args, "--name"), namespace });
    obj.metadata.namespace = namespace;
    const created = await api.apply(obj);
    process.stdout.write(`rlexperiment.sluice.dev/${created.metadata.name} launched in ${namespace}\n`);
    process.stdout.write(`  watch it: kubectl get rlexp ${created.metadata.name} -n ${namespace} -w\n`);
    return 0;
  }
  if (command === "status") {
    const name = rest[0];
    if (!name) throw new UsageError("status needs NAME");
    const obj = await api.get({ ...TYPES.experiment, namespace, name });
    if (!obj) {
      process.stderr.write(`rlexperiment ${namespace}/${name} not found\n`);
      return 1;
    }
    process.stdout.write(formatStatus(obj));
    return 0;
  }
  if (command === "logs") {
    const [name, component] = rest;
    if (!name || !component) throw new UsageError("logs needs NAME COMPONENT");
    const targets = await logTargets(api, namespace, name, component, flag(args, "-c", "--container"));
    const target = targets[0];
    if (!target) {
      process.stderr.write(`no pods of ${component} for ${namespace}/${name} (suspended or not started?)\n`);
      return 1;
    }
    const follow = args.flags.has("-f") || args.flags.has("--follow");
    const tail = flag(args, "--tail");
    const abort = new AbortController();
    process.once("SIGINT", () => abort.abort());
    if (targets.length > 1) process.stderr.write(`(${targets.length} pods; showing ${target.pod})\n`);
    await api.streamText(
      logPath(namespace, target, { follow, tailLines: tail ? Number(tail) : undefined }),
      (chunk) => process.stdout.write(chunk),
      follow ? abort.signal : undefined,
    );
    return 0;
  }
  throw new UsageError(`unknown command ${command}`);
}

class UsageError extends Error {
  override name = "UsageError";
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${USAGE}`);
      process.exit(2);
    }
    if (err instanceof InvalidExperimentError) {
      process.stderr.write(`${err.message.replace(/; /g, "\n  - ")}\n`);
      process.exit(2);
    }
    process.stderr.write(`kubectl-sluice: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
