// ApiError: a request the server refuses, with the HTTP status and the OpenAI-style error fields
// ({"error": {"message", "type", "param", "code"}}) that clients written for the OpenAI API parse.
// Handlers throw it; the HTTP layer turns it into the response, so no request can crash the server.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace llama4::server {

// HTTP statuses the server answers with.
inline constexpr int kStatusOk = 200;
inline constexpr int kStatusBadRequest = 400;
inline constexpr int kStatusUnauthorized = 401;
inline constexpr int kStatusNotFound = 404;
inline constexpr int kStatusMethodNotAllowed = 405;
inline constexpr int kStatusPayloadTooLarge = 413;
inline constexpr int kStatusInternalError = 500;
inline constexpr int kStatusUnavailable = 503;

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string type, std::string param = {},
           std::string code = {})
      : std::runtime_error(std::move(message)),
        status_(status),
        type_(std::move(type)),
        param_(std::move(param)),
        code_(std::move(code)) {}

  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::string& param() const { return param_; }  // the request field at fault, or empty
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string type_;
  std::string param_;
  std::string code_;
};

// 400 for a request field that is missing, of the wrong type or out of range.
ApiError invalid_request(const std::string& message, const std::string& param = {},
                         const std::string& code = {});

// {"error": {"message", "type", "param" (null when empty), "code" (null when empty)}}
nlohmann::ordered_json error_body(const ApiError& error);

}  // namespace llama4::server
