/**
 * `submit` (alias `finish`) runs nothing in the sandbox: it marks the episode as submitted,
 * and the caller extracts the patch from the workspace (patch.ts). Arguments such as
 * OpenHands' `message` are accepted and ignored.
 */
export const SUBMITTED_OUTPUT = "Your changes have been submitted.";
