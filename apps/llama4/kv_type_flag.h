// The --kv-type flag every command that runs the model shares: the element type of the KV cache.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "model/kv_cache.h"

namespace llama4::cli {

inline void add_kv_type_flag(CLI::App& cmd, KvType& type) {
  cmd.add_option_function<std::string>(
         "--kv-type",
         [&type](const std::string& name) {
           const auto parsed = kv_type_from_name(name);
           if (!parsed)
             throw CLI::ValidationError("--kv-type", "'" + name + "': expected f32 or bf16");
           type = *parsed;
         },
         "KV cache element type: f32 or bf16 (half the memory)")
      ->default_str(std::string(kv_type_name(type)));
}

}  // namespace llama4::cli
