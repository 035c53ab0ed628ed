// @honnin/sdk: honnin for dApps.
export * from "./client.js";
export * from "./errors.js";
export * from "./chain.js";
export * from "./webhook.js";
export { kycRegistryAbi } from "./generated/abi.js";
export { problemCodes, problemCodesByStatus, type ProblemCode } from "./generated/codes.js";
export type { paths, components } from "./generated/api.js";
