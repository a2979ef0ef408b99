import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ValidationError } from "@sluice/common";
import {
  bwrapArgs,
  launchCommand,
  prlimitArgs,
  validateMounts,
  validatePathPrepend,
  type BwrapCommand,
} from "./bwrap-args.js";

const limits = { memoryBytes: 1000, maxProcesses: 10, maxFileBytes: 20, maxOpenFiles: 30, cpuSeconds: 40 };
const cmd: BwrapCommand = {
  workspaceHostPath: "/base/sbx-1",
  workdir: "",
  env: { A: "1" },
  limits,
  addressSpaceLimit: true,
  prlimitPath: "/usr/bin/prlimit",
  argv: ["true"],
  features: { tmpfsSize: true, disableUserns: true },
  mounts: [{ hostPath: "/cache/nm", sandboxPath: "/node_modules" }],
  pathPrepend: ["/node_modules/.bin"],
  seccompFd: 3,
  tmpBytes: 1000,
};
const layout = { entries: [{ path: "/bin", kind: "symlink", target: "usr/bin" }] } as const;

/** The value following `flag` in args (first occurrence). */
const after = (args: readonly string[], flag: string, n = 1): string[] => {
  const i = args.indexOf(flag);
  assert.ok(i >= 0, `${flag} in ${args.join(" ")}`);
  return args.slice(i + 1, i + 1 + n);
};

void describe("bwrap arguments", () => {
  void test("load the seccomp fd, make the root read-only and bind extra mounts read-only", () => {
    const args = bwrapArgs(layout, cmd);
    assert.deepEqual(after(args, "--seccomp"), ["3"]);
    assert.deepEqual(after(args, "--remount-ro"), ["/"]);
    assert.ok(args.join(" ").includes("--ro-bind /cache/nm /node_modules"));
    assert.ok(args.indexOf("--remount-ro") > args.indexOf("/node_modules"), "remount after every mount");
    assert.deepEqual(after(args, "--size", 3), ["1000", "--tmpfs", "/tmp"]);
    assert.ok(args.includes("--disable-userns"));
    const path = args.findIndex((a, i) => a === "PATH" && args[i - 1] === "--setenv");
    assert.equal(args[path + 1], "/node_modules/.bin:/usr/local/bin:/usr/bin:/bin");
  });

  void test("leave out optional flags the host's bwrap lacks", () => {
    const args = bwrapArgs(layout, {
      ...cmd,
      features: { tmpfsSize: false, disableUserns: false },
      seccompFd: undefined,
      pathPrepend: [],
    });
    for (const flag of ["--size", "--disable-userns", "--seccomp"]) assert.ok(!args.includes(flag), flag);
  });

  void test("skip RLIMIT_AS when a memory cgroup bounds memory", () => {
    assert.ok(prlimitArgs(limits).includes("--as=1000"));
    assert.ok(!prlimitArgs(limits, false).some((a) => a.startsWith("--as")));
    assert.ok(!bwrapArgs(layout, { ...cmd, addressSpaceLimit: false }).some((a) => a.startsWith("--as")));
  });
});

void describe("launch command", () => {
  const plan = {
    bwrapPath: "/usr/bin/bwrap",
    bwrapArgs: ["--", "true"],
    procsFiles: ["/cg/memory/sbx/cgroup.procs", "/cg/pids/sbx/cgroup.procs"],
    runAs: { uid: 65534, gid: 65534 },
    setprivPath: "/usr/bin/setpriv",
  };

  void test("runs bwrap directly without cgroups", () => {
    assert.deepEqual(launchCommand({ ...plan, procsFiles: [] }), {
      file: "/usr/bin/bwrap",
      args: ["--", "true"],
      uid: 65534,
      gid: 65534,
    });
  });

  void test("joins the cgroups as us, then drops to the sandbox uid before bwrap", () => {
    const l = launchCommand(plan);
    assert.equal(l.file, "/bin/sh");
    assert.equal(l.uid, undefined);
    assert.deepEqual(l.args.slice(2, 6), ["sluice-launch", "2", ...plan.procsFiles]);
    assert.deepEqual(l.args.slice(6), [
      "/usr/bin/setpriv",
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "--",
      "/usr/bin/bwrap",
      "--",
      "true",
    ]);
  });

  void test("without setpriv the launcher itself runs as the sandbox uid", () => {
    const l = launchCommand({ ...plan, setprivPath: "" });
    assert.equal(l.uid, 65534);
    assert.deepEqual(l.args.slice(6), ["/usr/bin/bwrap", "--", "true"]);
  });
});

void describe("mount validation", () => {
  const m = (sandboxPath: string, hostPath = "/cache/x") => ({ hostPath, sandboxPath });

  void test("accepts fresh absolute paths and orders parents first", () => {
    assert.deepEqual(
      validateMounts([m("/opt/a/b"), m("/node_modules"), m("/opt/a")]).map((x) => x.sandboxPath),
      ["/node_modules", "/opt/a", "/opt/a/b"],
    );
  });

  void test("refuses the root, system and workspace paths, '..' and relative paths", () => {
    for (const bad of [
      "/",
      "/usr",
      "/usr/local/lib",
      "/etc/x",
      "/proc",
      "/dev/shm",
      "/sys",
      "/tmp",
      "/workspace",
      "/workspace/node_modules",
      "node_modules",
      "/a/../usr",
      "/a//b",
      "/a/",
    ]) {
      assert.throws(() => validateMounts([m(bad)]), ValidationError, bad);
    }
    assert.throws(() => validateMounts([m("/deps", "relative")]), ValidationError);
    assert.throws(() => validateMounts([m("/deps", "/a/../etc")]), ValidationError);
    assert.throws(() => validateMounts([m("/deps"), m("/deps")]), ValidationError, "duplicate");
    // Similar names are not inside a reserved path.
    assert.doesNotThrow(() => validateMounts([m("/usrdata"), m("/workspaces")]));
  });

  void test("PATH entries are absolute and have no separator", () => {
    assert.deepEqual(validatePathPrepend(["/node_modules/.bin"]), ["/node_modules/.bin"]);
    for (const bad of ["bin", "/a:/b", "/a/../b"]) assert.throws(() => validatePathPrepend([bad]), ValidationError);
  });
});
