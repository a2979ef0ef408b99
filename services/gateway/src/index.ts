// Public surface of @sluice/gateway.
export { createGatewayServer, type GatewayServer, type GatewayServerOptions } from "./gateway-server.js";
export type {
  ChatCompletionResponse,
  LogprobEntry,
  OpenAiErrorBody,
  SluiceRequestExtension,
  SluiceResponseExtension,
  ToolCall,
  ToolCallError,
} from "./openai-types.js";
export {
  EngineUnavailableError,
  GatewayHttpError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
} from "./errors.js";
export { decodeSluiceExtension, type DecodedSluiceExtension } from "./decode-extension.js";
