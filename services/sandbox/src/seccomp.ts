/**
 * A seccomp deny-list for sandboxed commands, as a classic BPF program that bwrap loads
 * with `--seccomp FD`. Namespaces already take away most of what these syscalls could do;
 * the filter removes the kernel attack surface behind them (ptrace, keyrings, bpf, perf,
 * userfaultfd, new namespaces, mounts, ...) so one kernel bug is not one sandbox escape.
 * Everything not listed is allowed: build tools and test runners must work unchanged.
 */

/** Architectures we have syscall tables for, keyed by `process.arch`. */
export type SeccompArch = "x64" | "arm64";

// Classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
const BPF_LD_W_ABS = 0x20;
const BPF_JMP_JEQ_K = 0x15;
const BPF_JMP_JGE_K = 0x35;
const BPF_JMP_JSET_K = 0x45;
const BPF_RET_K = 0x06;
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const EPERM = 1;
export const ENOSYS = 38;

/** Offsets in struct seccomp_data { int nr; u32 arch; u64 ip; u64 args[6]; }. */
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
/** Low 32 bits of args[0] (little endian). */
export const SECCOMP_DATA_ARG0_LO = 16;

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
/** x32 syscalls are x86_64 numbers with this bit; nothing we run uses them. */
export const X32_SYSCALL_BIT = 0x40000000;

/** CLONE_NEW* flags: creating any namespace is what `unshare` would do. */
export const CLONE_NEW_NAMESPACES =
  0x00020000 | // NEWNS
  0x02000000 | // NEWCGROUP
  0x04000000 | // NEWUTS
  0x08000000 | // NEWIPC
  0x10000000 | // NEWUSER
  0x20000000 | // NEWPID
  0x40000000; // NEWNET

/** personality() arguments Docker's profile also allows: the query and plain Linux. */
export const PERSONALITY_QUERY = 0xffffffff;
export const PER_LINUX = 0;

/**
 * Denied outright with EPERM. Grouped by why: tracing other processes, changing the
 * mount table or the machine, loading kernel code, the kernel subsystems with the worst
 * bug record for unprivileged users, host-wide clocks and keyrings, and namespaces.
 */
export const DENIED_SYSCALLS = [
  "ptrace",
  "process_vm_readv",
  "process_vm_writev",
  "mount",
  "umount2",
  "pivot_root",
  "open_tree",
  "move_mount",
  "fsopen",
  "fsconfig",
  "fsmount",
  "fspick",
  "mount_setattr",
  "swapon",
  "swapoff",
  "reboot",
  "kexec_load",
  "kexec_file_load",
  "init_module",
  "finit_module",
  "delete_module",
  "bpf",
  "perf_event_open",
  "userfaultfd",
  "keyctl",
  "add_key",
  "request_key",
  "acct",
  "settimeofday",
  "clock_settime",
  "adjtimex",
  "clock_adjtime",
  "iopl",
  "ioperm",
  "quotactl",
  "quotactl_fd",
  "lookup_dcookie",
  "open_by_handle_at",
  "name_to_handle_at",
  "vhangup",
  "syslog",
  "setns",
  "unshare",
] as const;

export type SyscallName = (typeof DENIED_SYSCALLS)[number] | "personality" | "clone" | "clone3";

/** Syscall numbers (asm/unistd_64.h, asm-generic/unistd.h); absent = no such syscall there. */
export const SYSCALL_NUMBERS: Readonly<Record<SeccompArch, Readonly<Partial<Record<SyscallName, number>>>>> = {
  x64: {
    ptrace: 101,
    process_vm_readv: 310,
    process_vm_writev: 311,
    mount: 165,
    umount2: 166,
    pivot_root: 155,
    open_tree: 428,
    move_mount: 429,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    mount_setattr: 442,
    swapon: 167,
    swapoff: 168,
    reboot: 169,
    kexec_load: 246,
    kexec_file_load: 320,
    init_module: 175,
    finit_module: 313,
    delete_module: 176,
    bpf: 321,
    perf_event_open: 298,
    userfaultfd: 323,
    keyctl: 250,
    add_key: 248,
    request_key: 249,
    acct: 163,
    settimeofday: 164,
    clock_settime: 227,
    adjtimex: 159,
    clock_adjtime: 305,
    iopl: 172,
    ioperm: 173,
    quotactl: 179,
    quotactl_fd: 443,
    lookup_dcookie: 212,
    open_by_handle_at: 304,
    name_to_handle_at: 303,
    vhangup: 153,
    syslog: 103,
    setns: 308,
    unshare: 272,
    personality: 135,
    clone: 56,
    clone3: 435,
  },
  arm64: {
    ptrace: 117,
    process_vm_readv: 270,
    process_vm_writev: 271,
    mount: 40,
    umount2: 39,
    pivot_root: 41,
    open_tree: 428,
    move_mount: 429,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    mount_setattr: 442,
    swapon: 224,
    swapoff: 225,
    reboot: 142,
    kexec_load: 104,
    kexec_file_load: 294,
    init_module: 105,
    finit_module: 273,
    delete_module: 106,
    bpf: 280,
    perf_event_open: 241,
    userfaultfd: 282,
    keyctl: 219,
    add_key: 217,
    request_key: 218,
    acct: 89,
    settimeofday: 170,
    clock_settime: 112,
    adjtimex: 171,
    clock_adjtime: 266,
    quotactl: 60,
    quotactl_fd: 443,
    lookup_dcookie: 18,
    open_by_handle_at: 265,
    name_to_handle_at: 264,
    vhangup: 58,
    syslog: 116,
    setns: 268,
    unshare: 97,
    personality: 92,
    clone: 220,
    clone3: 435,
  },
};

const AUDIT_ARCH: Readonly<Record<SeccompArch, number>> = { x64: AUDIT_ARCH_X86_64, arm64: AUDIT_ARCH_AARCH64 };

/** The seccomp architecture for a `process.arch` value, or undefined when we have no table. */
export function seccompArch(nodeArch: string = process.arch): SeccompArch | undefined {
  return nodeArch === "x64" || nodeArch === "arm64" ? nodeArch : undefined;
}

/** One struct sock_filter; jumps are labels until assembled. */
type Insn =
  | { op: "ld"; offset: number }
  | { op: "jeq" | "jge" | "jset"; k: number; jt: string; jf: string }
  | { op: "ret"; k: number }
  | { op: "label"; name: string };

const NEXT = "";

/** Resolves labels to the u8 relative offsets classic BPF jumps use. */
function assemble(program: readonly Insn[]): Buffer {
  const positions = new Map<string, number>();
  const real: Exclude<Insn, { op: "label" }>[] = [];
  for (const insn of program) {
    if (insn.op === "label") positions.set(insn.name, real.length);
    else real.push(insn);
  }
  const out = Buffer.alloc(real.length * 8);
  real.forEach((insn, i) => {
    const offsetTo = (label: string): number => {
      if (label === NEXT) return 0;
      const target = positions.get(label);
      if (target === undefined) throw new Error(`seccomp: unknown label ${label}`);
      const off = target - i - 1;
      // Classic BPF only jumps forward, at most 255 instructions.
      if (off < 0 || off > 255) throw new Error(`seccomp: jump to ${label} out of range (${off})`);
      return off;
    };
    let code: number;
    let jt = 0;
    let jf = 0;
    let k: number;
    if (insn.op === "ld") {
      code = BPF_LD_W_ABS;
      k = insn.offset;
    } else if (insn.op === "ret") {
      code = BPF_RET_K;
      k = insn.k;
    } else {
      code = insn.op === "jeq" ? BPF_JMP_JEQ_K : insn.op === "jge" ? BPF_JMP_JGE_K : BPF_JMP_JSET_K;
      k = insn.k;
      jt = offsetTo(insn.jt);
      jf = offsetTo(insn.jf);
    }
    out.writeUInt16LE(code, i * 8);
    out.writeUInt8(jt, i * 8 + 2);
    out.writeUInt8(jf, i * 8 + 3);
    out.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return out;
}

/**
 * The filter as bytes (an array of struct sock_filter, little endian), ready for
 * `bwrap --seccomp`. Foreign architectures (i386 via int 0x80, arm32 compat) are killed:
 * their syscall numbers differ, so the deny-list would not mean anything for them.
 */
export function buildSeccompFilter(arch: SeccompArch): Buffer {
  const nr = SYSCALL_NUMBERS[arch];
  const deny = "deny";
  const p: Insn[] = [
    { op: "ld", offset: SECCOMP_DATA_ARCH },
    { op: "jeq", k: AUDIT_ARCH[arch], jt: NEXT, jf: "kill" },
    { op: "ld", offset: SECCOMP_DATA_NR },
  ];
  if (arch === "x64") p.push({ op: "jge", k: X32_SYSCALL_BIT, jt: deny, jf: NEXT });
  for (const name of DENIED_SYSCALLS) {
    const n = nr[name];
    if (n !== undefined) p.push({ op: "jeq", k: n, jt: deny, jf: NEXT });
  }
  const num = (name: SyscallName): number => {
    const n = nr[name];
    if (n === undefined) throw new Error(`seccomp: no ${name} on ${arch}`);
    return n;
  };
  p.push(
    { op: "jeq", k: num("clone"), jt: "clone", jf: NEXT },
    // clone3 passes its flags in memory, where BPF cannot look; ENOSYS makes glibc fall
    // back to clone(), whose flags we can check.
    { op: "jeq", k: num("clone3"), jt: "enosys", jf: NEXT },
    { op: "jeq", k: num("personality"), jt: "personality", jf: NEXT },
    { op: "ret", k: SECCOMP_RET_ALLOW },
    { op: "label", name: "clone" },
    { op: "ld", offset: SECCOMP_DATA_ARG0_LO },
    { op: "jset", k: CLONE_NEW_NAMESPACES, jt: deny, jf: NEXT },
    { op: "ret", k: SECCOMP_RET_ALLOW },
    // Querying or resetting the persona is harmless; setting flags such as
    // ADDR_NO_RANDOMIZE (no ASLR) or READ_IMPLIES_EXEC is not.
    { op: "label", name: "personality" },
    { op: "ld", offset: SECCOMP_DATA_ARG0_LO },
    { op: "jeq", k: PERSONALITY_QUERY, jt: "allow", jf: NEXT },
    { op: "jeq", k: PER_LINUX, jt: "allow", jf: deny },
    { op: "label", name: "allow" },
    { op: "ret", k: SECCOMP_RET_ALLOW },
    { op: "label", name: "enosys" },
    { op: "ret", k: SECCOMP_RET_ERRNO | ENOSYS },
    { op: "label", name: deny },
    { op: "ret", k: SECCOMP_RET_ERRNO | EPERM },
    { op: "label", name: "kill" },
    { op: "ret", k: SECCOMP_RET_KILL_PROCESS },
  );
  return assemble(p);
}
