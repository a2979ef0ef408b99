import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_X86_64,
  DENIED_SYSCALLS,
  ENOSYS,
  EPERM,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SYSCALL_NUMBERS,
  X32_SYSCALL_BIT,
  buildSeccompFilter,
  seccompArch,
  type SeccompArch,
} from "./seccomp.js";

/** What the kernel would hand the filter: struct seccomp_data, little endian. */
function seccompData(arch: number, nr: number, args: readonly bigint[] = []): Buffer {
  const d = Buffer.alloc(64);
  d.writeInt32LE(nr | 0, 0);
  d.writeUInt32LE(arch, 4);
  d.writeBigUInt64LE(0x401000n, 8);
  args.forEach((a, i) => d.writeBigUInt64LE(a, 16 + 8 * i));
  return d;
}

/**
 * A minimal classic BPF interpreter for the instructions a seccomp filter may use
 * (loads from seccomp_data, conditional jumps, returns). Unknown opcodes fail the test
 * rather than being guessed at, as the kernel's verifier would reject them.
 */
function runFilter(program: Buffer, data: Buffer): number {
  assert.equal(program.length % 8, 0);
  const n = program.length / 8;
  assert.ok(n > 0 && n <= 4096, "the kernel accepts 1..4096 instructions");
  let acc = 0;
  for (let pc = 0, steps = 0; pc < n; pc++, steps++) {
    assert.ok(steps <= n, "classic BPF cannot loop");
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x20: // BPF_LD | BPF_W | BPF_ABS
        assert.ok(k % 4 === 0 && k + 4 <= data.length, `aligned load in seccomp_data at ${k}`);
        acc = data.readUInt32LE(k);
        break;
      case 0x15: // BPF_JMP | BPF_JEQ | BPF_K
        pc += acc === k ? jt : jf;
        break;
      case 0x35: // BPF_JMP | BPF_JGE | BPF_K
        pc += acc >= k ? jt : jf;
        break;
      case 0x45: // BPF_JMP | BPF_JSET | BPF_K
        pc += (acc & k) !== 0 ? jt : jf;
        break;
      case 0x06: // BPF_RET | BPF_K
        return k;
      default:
        assert.fail(`unexpected opcode 0x${code.toString(16)} at ${pc}`);
    }
    assert.ok(pc + 1 <= n, `jump past the end at ${pc}`);
  }
  return assert.fail("fell off the end of the program");
}

const NEW_USER = 0x10000000n;
const NEW_NET = 0x40000000n;
const SIGCHLD = 17n;
const CLONE_THREAD_FLAGS = 0x3d0f00n; // what pthread_create passes

for (const arch of ["x64", "arm64"] as const satisfies readonly SeccompArch[]) {
  const audit = arch === "x64" ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_AARCH64;
  const nr = SYSCALL_NUMBERS[arch];
  const filter = buildSeccompFilter(arch);
  const verdict = (n: number, args: readonly bigint[] = []): number => runFilter(filter, seccompData(audit, n, args));
  const num = (name: keyof typeof nr): number => {
    const v = nr[name];
    assert.ok(v !== undefined, `${name} on ${arch}`);
    return v;
  };

  void describe(`seccomp filter (${arch})`, () => {
    void test("returns EPERM for every denied syscall that exists on the architecture", () => {
      let checked = 0;
      for (const name of DENIED_SYSCALLS) {
        const n = nr[name];
        if (n === undefined) continue;
        assert.equal(verdict(n), SECCOMP_RET_ERRNO | EPERM, name);
        checked++;
      }
      assert.ok(checked >= 40, `checked ${checked}`);
    });

    void test("allows ordinary syscalls", () => {
      const denied = new Set(Object.values(nr));
      for (let n = 0; n < 460; n++) {
        if (denied.has(n)) continue;
        assert.equal(verdict(n), SECCOMP_RET_ALLOW, `syscall ${n}`);
      }
    });

    void test("allows fork and threads but not clone into new namespaces", () => {
      assert.equal(verdict(num("clone"), [SIGCHLD]), SECCOMP_RET_ALLOW);
      assert.equal(verdict(num("clone"), [CLONE_THREAD_FLAGS]), SECCOMP_RET_ALLOW);
      assert.equal(verdict(num("clone"), [NEW_USER | SIGCHLD]), SECCOMP_RET_ERRNO | EPERM);
      assert.equal(verdict(num("clone"), [NEW_NET | SIGCHLD]), SECCOMP_RET_ERRNO | EPERM);
      assert.equal(verdict(num("clone3")), SECCOMP_RET_ERRNO | ENOSYS, "clone3 falls back to clone");
    });

    void test("allows querying the personality but not changing it", () => {
      assert.equal(verdict(num("personality"), [0xffffffffn]), SECCOMP_RET_ALLOW);
      assert.equal(verdict(num("personality"), [0n]), SECCOMP_RET_ALLOW);
      assert.equal(verdict(num("personality"), [0x0040000n]), SECCOMP_RET_ERRNO | EPERM, "ADDR_NO_RANDOMIZE");
    });

    void test("kills syscalls made under another architecture", () => {
      const i386 = 0x40000003;
      assert.equal(runFilter(filter, seccompData(i386, 1)), SECCOMP_RET_KILL_PROCESS);
      const other = arch === "x64" ? AUDIT_ARCH_AARCH64 : AUDIT_ARCH_X86_64;
      assert.equal(runFilter(filter, seccompData(other, 0)), SECCOMP_RET_KILL_PROCESS);
    });
  });
}

void describe("seccomp filter (x64 specifics)", () => {
  void test("rejects x32 syscalls, even ones that are harmless as x86_64 numbers", () => {
    const filter = buildSeccompFilter("x64");
    assert.equal(
      runFilter(filter, seccompData(AUDIT_ARCH_X86_64, X32_SYSCALL_BIT + 0)),
      SECCOMP_RET_ERRNO | EPERM,
      "x32 read",
    );
    assert.equal(runFilter(filter, seccompData(AUDIT_ARCH_X86_64, 0)), SECCOMP_RET_ALLOW, "x86_64 read");
  });

  void test("picks the table from process.arch", () => {
    assert.equal(seccompArch("x64"), "x64");
    assert.equal(seccompArch("arm64"), "arm64");
    assert.equal(seccompArch("riscv64"), undefined);
  });
});
