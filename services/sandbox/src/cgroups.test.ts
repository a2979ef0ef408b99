import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { cgroupDir, limitWrites, parseMountinfo, parseProcCgroup } from "./cgroups.js";

const HYBRID = [
  "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
  "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
  "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
  "39 31 0:36 /docker/abc /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
  "41 31 0:38 / /sys/fs/cgroup/unified\\040dir rw,relatime - cgroup2 cgroup2 rw",
].join("\n");

void describe("cgroup discovery", () => {
  void test("reads cgroup mounts from mountinfo, decoding escapes", () => {
    const mounts = parseMountinfo(HYBRID);
    assert.equal(mounts.length, 5);
    assert.deepEqual(mounts[1], {
      root: "/",
      mountPoint: "/sys/fs/cgroup/cpu,cpuacct",
      fsType: "cgroup",
      superOptions: ["rw", "cpu", "cpuacct"],
    });
    assert.equal(mounts[4]?.mountPoint, "/sys/fs/cgroup/unified dir");
    assert.equal(mounts[4]?.fsType, "cgroup2");
  });

  void test("reads our own cgroups, v2's line having no controllers", () => {
    const own = parseProcCgroup("4:memory:/process_api/x\n2:cpu,cpuacct:/\n0::/user.slice\n");
    assert.deepEqual(own, [
      { controllers: ["memory"], path: "/process_api/x" },
      { controllers: ["cpu", "cpuacct"], path: "/" },
      { controllers: [], path: "/user.slice" },
    ]);
  });

  void test("maps our cgroup path under a mount whose root is itself a cgroup", () => {
    const [, cpu, , pids] = parseMountinfo(HYBRID);
    assert.ok(cpu && pids);
    assert.equal(cgroupDir(cpu, "/a/b"), "/sys/fs/cgroup/cpu,cpuacct/a/b");
    assert.equal(cgroupDir(pids, "/docker/abc/svc"), "/sys/fs/cgroup/pids/svc");
    assert.equal(cgroupDir(pids, "/docker/abc"), "/sys/fs/cgroup/pids");
    // A path outside the mount's root cannot be reached through it: use the mount itself.
    assert.equal(cgroupDir(pids, "/elsewhere"), "/sys/fs/cgroup/pids");
  });
});

void describe("cgroup limits", () => {
  const limits = { memoryBytes: 256 * 1024 ** 2, maxProcesses: 32, cpus: 1.5 };

  void test("v2 caps memory without swap, tasks and CPU bandwidth", () => {
    const w = limitWrites("v2", limits).map((x) => `${x.file}=${x.value}`);
    assert.deepEqual(w, ["memory.max=268435456", "memory.swap.max=0", "pids.max=32", "cpu.max=150000 100000"]);
  });

  void test("v1 writes memory before memory+swap and the period before the quota", () => {
    const w = limitWrites("v1", limits).map((x) => `${x.file}=${x.value}`);
    assert.deepEqual(w, [
      "memory.limit_in_bytes=268435456",
      "memory.memsw.limit_in_bytes=268435456",
      "pids.max=32",
      "cpu.cfs_period_us=100000",
      "cpu.cfs_quota_us=150000",
    ]);
    assert.ok(limitWrites("v1", limits).find((x) => x.file.startsWith("memory.memsw"))?.optional);
  });
});
