import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { admissionLimit, canAdmit, decideAdmission, type AdmissionConfig } from "./admission.js";

void describe("canAdmit", () => {
  const cases: Array<{
    name: string;
    admitted: number;
    v: number;
    cfg: AdmissionConfig;
    admit: boolean;
    reason?: string;
  }> = [
    {
      name: "η=0 admits the first group of v0",
      admitted: 0,
      v: 0,
      cfg: { groupsPerStep: 4, maxStaleness: 0, steps: 10 },
      admit: true,
    },
    {
      name: "η=0 admits the B-th group of v0",
      admitted: 3,
      v: 0,
      cfg: { groupsPerStep: 4, maxStaleness: 0, steps: 10 },
      admit: true,
    },
    {
      name: "η=0 holds back group B+1 until v1",
      admitted: 4,
      v: 0,
      cfg: { groupsPerStep: 4, maxStaleness: 0, steps: 10 },
      admit: false,
      reason: "staleness",
    },
    {
      name: "η=0 admits again at v1",
      admitted: 4,
      v: 1,
      cfg: { groupsPerStep: 4, maxStaleness: 0, steps: 10 },
      admit: true,
    },
    {
      name: "η=0 holds at 2B under v1",
      admitted: 8,
      v: 1,
      cfg: { groupsPerStep: 4, maxStaleness: 0, steps: 10 },
      admit: false,
      reason: "staleness",
    },
    {
      name: "η=2 lets (η+1)B groups run ahead of v0",
      admitted: 11,
      v: 0,
      cfg: { groupsPerStep: 4, maxStaleness: 2, steps: 10 },
      admit: true,
    },
    {
      name: "η=2 stops at (η+1)B under v0",
      admitted: 12,
      v: 0,
      cfg: { groupsPerStep: 4, maxStaleness: 2, steps: 10 },
      admit: false,
      reason: "staleness",
    },
    {
      name: "budget caps even a fresh policy",
      admitted: 40,
      v: 100,
      cfg: { groupsPerStep: 4, maxStaleness: 0, steps: 10 },
      admit: false,
      reason: "budget",
    },
    {
      name: "budget wins over staleness at the last slot",
      admitted: 8,
      v: 0,
      cfg: { groupsPerStep: 4, maxStaleness: 5, steps: 2 },
      admit: false,
      reason: "budget",
    },
    {
      name: "last slot of the budget is admitted",
      admitted: 7,
      v: 1,
      cfg: { groupsPerStep: 4, maxStaleness: 0, steps: 2 },
      admit: true,
    },
    {
      name: "B=1 η=0 is one group per version",
      admitted: 1,
      v: 0,
      cfg: { groupsPerStep: 1, maxStaleness: 0, steps: 5 },
      admit: false,
      reason: "staleness",
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      assert.equal(canAdmit({ admittedGroups: c.admitted }, c.v, c.cfg), c.admit);
      const d = decideAdmission({ admittedGroups: c.admitted }, c.v, c.cfg);
      if (!d.admit) assert.equal(d.reason, c.reason);
    });
  }

  void it("η=0 admits exactly B groups per version, synchronously, over a whole run", () => {
    const cfg = { groupsPerStep: 3, maxStaleness: 0, steps: 4 };
    const state = { admittedGroups: 0 };
    const perVersion: number[] = [];
    for (let v = 0; v < 6; v++) {
      let n = 0;
      while (canAdmit(state, v, cfg)) {
        state.admittedGroups++;
        n++;
      }
      perVersion.push(n);
    }
    assert.deepEqual(perVersion, [3, 3, 3, 3, 0, 0]);
  });

  void it("the limit grows by B per version and never exceeds the budget", () => {
    const cfg = { groupsPerStep: 2, maxStaleness: 1, steps: 3 };
    assert.deepEqual(
      [0, 1, 2, 3].map((v) => admissionLimit(v, cfg)),
      [4, 6, 6, 6],
    );
  });
});
