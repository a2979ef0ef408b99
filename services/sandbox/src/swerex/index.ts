// Public surface of the SWE-ReX-compatible API (re-exported by the package's index).
export { startSwerexServer, type AdminCreateRequest, type SwerexServer, type SwerexServerOptions } from "./server.js";
export { SwerexException, SwerexHttpError } from "./errors.js";
export { WORKSPACE as SWEREX_WORKSPACE } from "./sandbox-paths.js";
