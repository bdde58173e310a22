// The tokenizer test corpus: hand-picked hard cases (scripts, emoji sequences, combining marks,
// whitespace of every kind, CRLF, numbers of every length, contractions in every case, code,
// special-token look-alikes) plus seeded random Unicode strings and 100 KB runs of one character
// class. Random code points come from blocks assigned long before Unicode 14 (the version of the
// system PCRE2 tables), so the reference's newer tables classify them the same way.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "util/utf8_encode.h"

namespace llama4::test {

// Code point ranges the random strings draw from (all stable since Unicode ≤ 6).
inline const std::vector<std::pair<char32_t, char32_t>>& random_ranges() {
  static const std::vector<std::pair<char32_t, char32_t>> ranges = {
      {0x20, 0x7E},       {0x20, 0x7E},       {0x20, 0x7E},       {0x09, 0x0D},
      {0xA0, 0xFF},       {0x100, 0x17F},     {0x300, 0x36F},     {0x391, 0x3C9},
      {0x400, 0x4FF},     {0x5D0, 0x5EA},     {0x621, 0x652},     {0x660, 0x669},
      {0x905, 0x94D},     {0x966, 0x96F},     {0xE01, 0xE3A},     {0x2000, 0x200D},
      {0x2010, 0x2027},   {0x2028, 0x2029},   {0x2030, 0x205E},   {0x2160, 0x2188},
      {0x2200, 0x22FF},   {0x3000, 0x3003},   {0x3041, 0x3096},   {0x30A1, 0x30FA},
      {0x4E00, 0x9FA5},   {0xAC00, 0xD7A3},   {0xFE0F, 0xFE0F},   {0xFF01, 0xFF5E},
      {0x1F300, 0x1F64F}, {0x1F680, 0x1F6C5}, {0x1F3FB, 0x1F3FF}, {0x85, 0x85},
  };
  return ranges;
}

inline std::string random_unicode(std::mt19937& rng, std::size_t min_bytes) {
  const auto& ranges = random_ranges();
  std::uniform_int_distribution<std::size_t> pick(0, ranges.size() - 1);
  std::string out;
  while (out.size() < min_bytes) {
    const auto [lo, hi] = ranges[pick(rng)];
    std::uniform_int_distribution<std::uint32_t> cp(lo, hi);
    utf8::append_code_point(out, static_cast<char32_t>(cp(rng)));
  }
  return out;
}

// Strings of mostly whitespace, punctuation and digits: where the pattern's alternatives compete.
inline std::string random_tricky(std::mt19937& rng, std::size_t length) {
  static const std::vector<std::string> atoms = {
      " ",  "  ", "\t", "\n",       "\r\n",   "\r",  "\u00a0", "\u3000", "\u0085", "\u2028", "\v",
      "\f", "'s", "'S", "'t",       "'LL",    "'re", "'Ve",    "'m",     "'D",     "'",      "a",
      "B",  "cd", "Ef", "GH",       "1",      "12",  "123",    "4567",   "!",      "?!",     "...",
      "/",  "//", "<|", "|>",       "é",      "É",   "ǅ",      "ﬁ",      "\u0301", "𝐀",      "٣",
      "Ⅻ",  "²",  "😀",  "👍🏽", "\u200d", "中",  "ｱ",      "-",      "_",      "#"};
  std::uniform_int_distribution<std::size_t> pick(0, atoms.size() - 1);
  std::string out;
  for (std::size_t i = 0; i < length; ++i) out += atoms[pick(rng)];
  return out;
}

inline std::vector<std::string> tokenizer_corpus(bool include_huge_runs = true) {
  std::vector<std::string> corpus = {
      // English and contractions
      "Hello world",
      "Hello, world!",
      " leading space",
      "trailing space ",
      "trailing spaces   ",
      "I'M don't",
      "I'm DON'T you'll we've they're she'd it's",
      "WE'LL THEY'VE SHE'D IT'S",
      "o'clock rock'n'roll",
      "'s 's 'S",
      "don’t (curly apostrophe)",
      "x'ſ",
      "l'ſ'ſ",
      "The quick brown fox jumps over the lazy dog.",
      "CamelCaseWordsAndXMLHttpRequest",
      "ALLCAPS lowercase MiXeD",
      "e.g. i.e. etc.",
      "Mr. O'Neil's book",
      "naïve café résumé",
      // numbers
      "1",
      "12",
      "123",
      "1234",
      "12345",
      "1234567",
      "12345678901234567890",
      "3.14159",
      "1,000,000",
      "-42",
      "+1 (555) 123-4567",
      "2024-04-05T12:34:56Z",
      "0x1F600",
      "1e-9",
      "١٢٣٤٥",
      "१२३४",
      "１２３４",
      "Ⅻ Ⅳ ½ ² ³",
      "v1.2.3-rc4",
      // whitespace of every kind
      "\n\n  \t",
      "a\n\nb",
      "a\r\nb\r\n",
      "\r\n\r\n",
      "\r\r\n\n",
      "   ",
      "\t\t\t",
      "a \t b",
      "a  \n  b",
      " \n",
      "\n ",
      "x   y",
      "x\u00a0y",
      "x\u3000\u3000y",
      "x\u2028y",
      "!\u0085",
      "x\u0085\u0085",
      "\u0085",
      "a\u0085b",
      "\v\f",
      "end\n",
      "  \n\n  \n",
      "a\n\n\n\nb",
      "\u00a0\u00a0 word",
      "tab\tseparated\tvalues\n1\t2\t3",
      // code
      "def f(x):\n    return x ** 2\n",
      "int main() { return 0; }",
      "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
      "std::vector<int> v{1, 2, 3};",
      "<div class=\"x\">Hi</div>",
      "SELECT * FROM t WHERE id = 1;",
      "#include <stdio.h>\n",
      "https://example.com/path?q=1&r=2#frag",
      "a/b/c/d.txt",
      "C:\\\\Windows\\\\System32",
      "// comment\n/* block */",
      "$x = @{a => 1};",
      "λx. x + 1",
      "{\"key\": [1, 2, {\"n\": null}]}",
      "    indented\n        more\n",
      "x+=1;y-=2;z*=3",
      "!!!???...",
      "--flag=value",
      // scripts
      "Привет, мир!",
      "Γειά σου Κόσμε",
      "مرحبا بالعالم",
      "שלום עולם",
      "नमस्ते दुनिया",
      "こんにちは世界",
      "你好，世界！",
      "안녕하세요 세계",
      "สวัสดีชาวโลก",
      "Xin chào thế giới",
      "Ελληνικά και English μαζί",
      "日本語とEnglishの混在テキスト",
      "ǅemal ǈubljana ǋenad",
      "İstanbul ıi",
      "Straße STRASSE",
      "ﬁnance ﬂow",
      "𝐇𝐞𝐥𝐥𝐨 𝕎𝕠𝕣𝕝𝕕",
      "ᏣᎳᎩ",
      "Ա Բ Գ ա բ գ",
      // combining marks
      "e\u0301",
      "a\u0300\u0301\u0302\u0303",
      "\u0301start",
      "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
      "क्षत्रिय",
      "ที่นี่",
      "\u0651\u064e",
      "x\u20dd",
      // emoji
      "😀",
      "😀😀😀",
      "👍🏽",
      "👨‍👩‍👧‍👦",
      "🏳️‍🌈",
      "❤️",
      "🇺🇸🇫🇷",
      "I ❤️ NY",
      "a😀b",
      "🧑🏾‍💻 coding",
      "#️⃣ 1️⃣",
      "👩🏻‍🤝‍👩🏿",
      // special-token look-alikes (plain text unless parsed)
      "<|eot|>",
      "<|begin_of_text|>hello",
      "<|eot",
      "eot|>",
      "<|eot|><|eot|>",
      "< |eot| >",
      "<|header_start|>user<|header_end|>\n\nHi<|eot|>",
      "<|reserved_special_token_903|>",
      "<|reserved_special_token_904|>",
      "<|EOT|>",
      "<<|eot|>>",
      "<|image|><|image_start|>",
      // misc
      "",
      " ",
      "a",
      "\t",
      "\n",
      "'",
      "''",
      "'''s",
      "...",
      "—",
      "–-—",
      "«quoted»",
      "„low“",
      "\u200b",
      "\u200d",
      "\ufeffBOM",
      "\u00ad",
      "a\u00adb",
      "ŉ",
      "ǰ",
  };
  // Contractions in every case after several kinds of word.
  for (const char* word : {"it", "IT", "I", "ŝ", "你", "x1"})
    for (const char* suffix : {"'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'ve", "'VE", "'m",
                               "'M", "'ll", "'LL", "'lL", "'d", "'D", "'x"})
      corpus.push_back(std::string(word) + suffix + " end");
  // Numbers of every length, alone and after text.
  std::string digits;
  for (int n = 1; n <= 24; ++n) {
    digits += static_cast<char>('0' + n % 10);
    corpus.push_back(digits);
    corpus.push_back("x" + digits + "y");
    corpus.push_back(" " + digits + " ");
  }
  // Whitespace runs: every pair of kinds at several lengths, before and after a word.
  const std::vector<std::string> spaces = {" ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\r"};
  for (const auto& a : spaces)
    for (const auto& b : spaces) {
      corpus.push_back("w" + a + b + "w");
      corpus.push_back(a + a + b + "w");
      corpus.push_back("w" + a + b + b + b);
    }
  // Seeded random strings.
  std::mt19937 rng(20250405);
  for (int i = 0; i < 100; ++i) corpus.push_back(random_tricky(rng, 20 + i));
  for (int i = 0; i < 40; ++i) corpus.push_back(random_unicode(rng, 64 + 32 * i));
  for (int i = 0; i < 4; ++i) corpus.push_back(random_unicode(rng, 12 * 1024));
  // Long inputs.
  std::string prose;
  while (prose.size() < 20000)
    prose += "The Llama 4 models use a mixture of experts; each token visits 1 of 16 experts. ";
  corpus.push_back(prose);
  if (include_huge_runs) {
    constexpr std::size_t kRun = 100 * 1024;
    corpus.push_back(std::string(kRun, 'a'));
    corpus.push_back(std::string(kRun, ' '));
  }
  return corpus;
}

}  // namespace llama4::test
