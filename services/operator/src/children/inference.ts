import type { KubeObject } from "../kube/types.js";
import { PORTS } from "./names.js";
import type { Container } from "./pod-template.js";
import { deployment, service, type BuildContext } from "./workloads.js";

/**
 * A vLLM or SGLang server for inference.backend vllm / sglang, with a GPU unless the spec's
 * inference block says otherwise. The learner publishes each version through the server's HTTP
 * API (LoRA adapters for vLLM, full weights from disk for SGLang), reading weights from the run
 * volume, so that volume must be readable from this pod too (ReadWriteMany, or the same node).
 * With backend engine there is nothing to run: the learner pod's engine samples.
 */
export function inferenceWorkload(ctx: BuildContext): KubeObject[] {
  const { spec, config } = ctx;
  const backend = spec.inference.backend;
  if (backend === "engine") return [];
  const block = spec.components.inference;
  const model = spec.model.source === "path" ? (spec.model.path ?? spec.model.name) : spec.model.name;
  const served = spec.inference.servedModelName || spec.model.name;
  const container: Container =
    backend === "vllm"
      ? {
          name: "inference",
          image: config.vllmImage,
          args: [
            "--model",
            model,
            "--served-model-name",
            served,
            "--port",
            String(PORTS.inferenceHttp),
            "--enable-lora",
            ...(spec.model.lora ? ["--max-lora-rank", String(spec.model.lora.r)] : []),
          ],
          env: [{ name: "VLLM_ALLOW_RUNTIME_LORA_UPDATING", value: "True" }],
        }
      : {
          name: "inference",
          image: config.sglangImage,
          command: ["python3", "-m", "sglang.launch_server"],
          args: [
            "--model-path",
            model,
            "--served-model-name",
            served,
            "--host",
            "0.0.0.0",
            "--port",
            String(PORTS.inferenceHttp),
          ],
        };
  container.ports = [{ name: "http", containerPort: PORTS.inferenceHttp }];
  container.readinessProbe = { httpGet: { path: "/health", port: PORTS.inferenceHttp }, periodSeconds: 10 };
  container.resources = { limits: { [config.gpu.resourceName]: 1 } };
  return [
    deployment(ctx, {
      component: "inference",
      replicas: block?.replicas ?? 1,
      containers: [container],
      settings: block,
    }),
    service(ctx, "inference", [{ name: "http", port: PORTS.inferenceHttp }]),
  ];
}
