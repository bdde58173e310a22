// Builds the syntax tree of a chat template from its tokens, following Jinja's grammar and operator
// precedence (conditional < or < and < not < comparison < + - < ~ < * / // % < ** < unary <
// postfix, filters and tests).
#pragma once

#include <vector>

#include "chat/template_ast.h"
#include "chat/template_lexer.h"

namespace llama4::chat {

// Throws llama4::Error("chat template line L: ...") on any syntax error.
Body parse_template(const std::vector<Token>& tokens);

}  // namespace llama4::chat
