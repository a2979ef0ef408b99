import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { strategicMerge } from "./strategic-merge.js";

void describe("strategicMerge", () => {
  const base = {
    spec: {
      containers: [
        { name: "a", image: "x", env: [{ name: "K", value: "1" }] },
        { name: "b", image: "y" },
      ],
      volumes: [{ name: "v1", emptyDir: {} }],
      tolerations: [{ key: "old" }],
      nodeSelector: { zone: "a" },
    },
  };

  void it("merges list elements by their merge key and appends new ones", () => {
    const out = strategicMerge(base, {
      spec: {
        containers: [
          {
            name: "a",
            env: [
              { name: "K", value: "2" },
              { name: "J", value: "3" },
            ],
          },
          { name: "sidecar", image: "z" },
        ],
        volumes: [{ name: "v2", emptyDir: {} }],
      },
    }) as typeof base;
    assert.deepEqual(
      out.spec.containers.map((c) => c.name),
      ["a", "b", "sidecar"],
    );
    assert.equal(out.spec.containers[0]!.image, "x");
    assert.deepEqual(out.spec.containers[0]!.env, [
      { name: "K", value: "2" },
      { name: "J", value: "3" },
    ]);
    assert.deepEqual(
      out.spec.volumes.map((v) => v.name),
      ["v1", "v2"],
    );
  });

  void it("replaces lists without a merge key, deletes on null and on $patch: delete", () => {
    const out = strategicMerge(base, {
      spec: { tolerations: [{ key: "new" }], nodeSelector: null, containers: [{ name: "b", $patch: "delete" }] },
    }) as { spec: Record<string, unknown> };
    assert.deepEqual(out.spec.tolerations, [{ key: "new" }]);
    assert.equal("nodeSelector" in out.spec, false);
    assert.deepEqual(
      (out.spec.containers as { name: string }[]).map((c) => c.name),
      ["a"],
    );
  });
});
