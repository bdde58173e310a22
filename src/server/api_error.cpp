// OpenAI-style error bodies.
#include "server/api_error.h"

namespace llama4::server {

ApiError invalid_request(const std::string& message, const std::string& param,
                         const std::string& code) {
  return ApiError(kStatusBadRequest, message, "invalid_request_error", param, code);
}

nlohmann::ordered_json error_body(const ApiError& error) {
  const auto or_null = [](const std::string& s) {
    return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s);
  };
  return {{"error",
           {{"message", error.what()},
            {"type", error.type()},
            {"param", or_null(error.param())},
            {"code", or_null(error.code())}}}};
}

}  // namespace llama4::server
