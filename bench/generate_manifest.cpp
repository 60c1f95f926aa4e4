// generate-manifest: writes a large, realistic manifest (PRODUCT.md §2) for
// the validation benchmark (scripts/bench-manifest).
//
//   generate-manifest N OUT_FILE [--seed S] [--invalid mixed|late]
//
// The accounts mix the four unlink modes and both account types the way an
// agency's offboarding manifest does: most advertisers inherit
// partner_share from `defaults:`, the others name their mode and its
// parameter; labels are partly non-ASCII; IDs are 19 digits, quoted, all
// distinct and in no particular order. About 135 bytes per account. The same
// N and seed always give the same bytes (no std:: distributions, whose output
// differs between standard libraries).
//
// --invalid gives every account one mistake, for measuring a file full of
// errors: `mixed` draws from mistakes found while the accounts are read (a
// misspelt type, a key typo, `yes` for a boolean) and ones found after reading (a
// mode that does not fit the type, a missing or an unused parameter);
// `late` uses only the latter.
//
// Plain text output, no YAML library: the benchmark must not measure its own
// generator's idea of YAML.

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace {

constexpr const char* usage =
    "usage: generate-manifest N OUT_FILE [--seed S] [--invalid mixed|late]\n"
    "  N         number of accounts, 1 to 10000000\n"
    "  OUT_FILE  where the manifest is written (replaced)\n"
    "  --seed S  any unsigned integer (default 1); the same N and S give the same file\n"
    "  --invalid every account gets one mistake: 'mixed' (some found while reading)\n"
    "            or 'late' (all found after reading the whole file)\n";

constexpr std::uint64_t max_accounts = 10'000'000;

// splitmix64: tiny, fast, and the same sequence everywhere.
class rng {
 public:
  explicit rng(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31U);
  }
  // In [0, n); the bias for the small n used here is negligible.
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  bool percent(std::uint64_t p) { return below(100) < p; }

 private:
  std::uint64_t state_;
};

// A bijection on [0, 2^59): every step (xor with a right shift, multiply by
// an odd number, add) is invertible modulo 2^59, so distinct inputs give
// distinct outputs, in an order that looks random.
constexpr std::uint64_t id_bits = 59;
constexpr std::uint64_t id_mask = (1ULL << id_bits) - 1;

std::uint64_t scramble(std::uint64_t x, std::uint64_t key) {
  x = (x + key) & id_mask;
  x ^= x >> 31U;
  x = (x * 0x7FB5D329728EA185ULL) & id_mask;
  x ^= x >> 27U;
  x = (x * 0x81DADEF4BC2DD44DULL) & id_mask;
  x ^= x >> 33U;
  return x;
}

// Account IDs: 7 000 000 000 000 000 000 + a 59-bit value (< 5.8e17), so
// always 19 digits.
constexpr std::uint64_t account_id_base = 7'000'000'000'000'000'000ULL;
constexpr std::uint64_t business_center_id = 7'012'345'678'901'234'567ULL;
constexpr std::uint64_t default_partner_id = 7'099'999'999'999'999'999ULL;
// BC user IDs start with 69..., partner BCs with 708...: neither can collide
// with an account ID or with the manifest's own business_center_id.
constexpr std::uint64_t member_id_base = 6'900'000'000'000'000'000ULL;
constexpr std::uint64_t member_pool = 400;
constexpr std::uint64_t partner_id_base = 7'080'000'000'000'000'000ULL;
constexpr std::uint64_t partner_pool = 12;

// Client names as agencies write them: many with accents or non-Latin
// scripts. None contains a quote or a backslash (they are written in "").
constexpr std::string_view brands[] = {
    "Acme",           "Müller Sport",    "Café Lumière",  "Zürich Uhren",  "Ørsted Nordic",
    "São Paulo Moda", "Kraków Foods",    "東京ストア",    "Señor Taco",    "Björk & Co",
    "Nordwind",       "Ελληνική Γεύση",  "Crème Brûlée",  "Łódź Textiles", "Köln Kosmetik",
    "Smørrebrød Hus", "Москва Маркет",   "서울 뷰티",     "Blue Harbor",   "Greenfield",
    "Peak Outdoor",   "Žalgiris Drinks", "Ñandú Viajes",  "İstanbul Halı", "Brightline",
    "Urban Nest",     "北京 电子",       "Fjällräv Gear", "Dolce Vita",    "Quantum Labs"};
constexpr std::string_view markets[] = {"US", "UK", "DE", "FR", "BR", "JP", "KR", "PL",
                                        "ES", "IT", "SE", "TR", "MX", "GR", "CN", "Global"};
constexpr std::string_view purposes[] = {"Brand",     "Performance", "Retargeting", "App installs",
                                         "Lead gen",  "Holiday",     "Always-on",   "Creators",
                                         "Catalogue", "Launch"};

enum class invalid_kind { none, mixed, late };

struct options {
  std::uint64_t accounts = 0;
  std::string out_file;
  std::uint64_t seed = 1;
  invalid_kind invalid = invalid_kind::none;
};

std::optional<std::uint64_t> parse_number(std::string_view s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

std::optional<options> parse_args(int argc, char** argv) {
  options o;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << usage;
      std::exit(0);
    }
    if (a == "--seed" || a == "--invalid") {
      if (i + 1 >= argc) {
        std::cerr << "generate-manifest: " << a << " needs a value\n" << usage;
        return std::nullopt;
      }
      const std::string_view v = argv[++i];
      if (a == "--seed") {
        const auto seed = parse_number(v);
        if (!seed) {
          std::cerr << "generate-manifest: --seed wants an unsigned integer, not '" << v << "'\n";
          return std::nullopt;
        }
        o.seed = *seed;
      } else if (v == "mixed" || v == "late") {
        o.invalid = v == "mixed" ? invalid_kind::mixed : invalid_kind::late;
      } else {
        std::cerr << "generate-manifest: --invalid wants mixed or late, not '" << v << "'\n";
        return std::nullopt;
      }
    } else if (a.starts_with("-")) {
      std::cerr << "generate-manifest: unknown option '" << a << "'\n" << usage;
      return std::nullopt;
    } else if (positional == 0) {
      const auto n = parse_number(a);
      if (!n || *n == 0 || *n > max_accounts) {
        std::cerr << "generate-manifest: N must be a number from 1 to " << max_accounts << ", not '"
                  << a << "'\n";
        return std::nullopt;
      }
      o.accounts = *n;
      ++positional;
    } else if (positional == 1) {
      o.out_file = std::string(a);
      ++positional;
    } else {
      std::cerr << "generate-manifest: unexpected argument '" << a << "'\n" << usage;
      return std::nullopt;
    }
  }
  if (positional != 2) {
    std::cerr << usage;
    return std::nullopt;
  }
  return o;
}

// Writes the manifest through a buffer flushed every megabyte or so, so even
// ten million accounts need no more memory than a few accounts' worth.
class manifest_writer {
 public:
  manifest_writer(std::FILE* out, const options& o)
      : out_(out), opts_(o), rng_(o.seed), id_key_(rng_.next()) {
    buffer_.reserve(flush_at + 4096);
  }

  bool write() {
    header();
    for (std::uint64_t i = 0; i < opts_.accounts && ok_; ++i) {
      account(i);
      if (buffer_.size() >= flush_at) {
        flush();
      }
    }
    flush();
    return ok_;
  }

 private:
  static constexpr std::size_t flush_at = 1U << 20U;

  void put(std::string_view s) { buffer_.append(s); }
  void put_id(std::uint64_t id) {
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof digits, id);
    buffer_ += '"';
    buffer_.append(digits, r.ptr);
    buffer_ += '"';
  }
  void put_number(std::uint64_t n) {
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof digits, n);
    buffer_.append(digits, r.ptr);
  }

  void flush() {
    if (ok_ && !buffer_.empty() &&
        std::fwrite(buffer_.data(), 1, buffer_.size(), out_) != buffer_.size()) {
      ok_ = false;
    }
    buffer_.clear();
  }

  [[nodiscard]] std::uint64_t account_id(std::uint64_t index) const {
    return account_id_base + scramble(index, id_key_);
  }

  void header() {
    put("# Generated by generate-manifest for the validation benchmark: ");
    put_number(opts_.accounts);
    put(" accounts, seed ");
    put_number(opts_.seed);
    put(opts_.invalid == invalid_kind::none ? ".\n" : ", every account with a mistake.\n");
    put("version: 1\nbatch: bench-");
    put_number(opts_.accounts);
    put("-seed-");
    put_number(opts_.seed);
    put("\nrequested_by: ops@agency.example\n"
        "credentials: acme-bc\n"
        "business_center_id: ");
    put_id(business_center_id);
    put("\naction: unlink\n"
        "dry_run: false\n"
        "notify:\n"
        "  - https://hooks.agency.example/unlinkd\n"
        "defaults:\n"
        "  unlink: partner_share\n"
        "  partner_id: ");
    put_id(default_partner_id);
    put("\n  active_campaigns: pause\n"
        "  backup:\n"
        "    required: true\n"
        "    reports_since: 2025-01-01\n"
        "    reports_until: 2026-10-31\n"
        "  verify_deadline: 30m\n"
        "limits:\n"
        "  concurrency: 16\n"
        "retry:\n"
        "  max_attempts: 8\n"
        "  initial_backoff: 2s\n"
        "  max_backoff: 10m\n"
        "accounts:\n");
  }

  void label(std::uint64_t index) {
    put("    label: \"");
    put(brands[rng_.below(std::size(brands))]);
    put(" ");
    put(markets[rng_.below(std::size(markets))]);
    put(" ");
    put(purposes[rng_.below(std::size(purposes))]);
    put(" #");
    put_number(index + 1);
    put("\"\n");
  }

  void members() {
    // 1 to 3 distinct BC users from a small pool, as the same few people
    // manage many accounts.
    const std::uint64_t count = 1 + rng_.below(3);
    const std::uint64_t first = rng_.below(member_pool);
    const std::uint64_t step = 1 + rng_.below(member_pool / 4);
    put("    members: [");
    for (std::uint64_t k = 0; k < count; ++k) {
      put(k == 0 ? "" : ", ");
      put_id(member_id_base + 1 + (first + k * step) % member_pool);
    }
    put("]\n");
  }

  // The mix of an agency's book: most ad accounts are shared with a partner
  // BC (the default), some are reached through member access; TikTok
  // accounts are BC assets or bound to an ad account.
  void account(std::uint64_t index) {
    const std::uint64_t id = account_id(index);
    put("  - id: ");
    put_id(id);
    put("\n");
    const std::uint64_t roll = rng_.below(100);
    if (opts_.invalid != invalid_kind::none) {
      invalid_account(index, roll);
      return;
    }
    const bool has_label = rng_.percent(85);
    if (roll < 40) {  // partner_share, from defaults:
      put("    type: advertiser\n");
      if (rng_.percent(15)) {
        put("    partner_id: ");
        put_id(partner_id_base + 1 + rng_.below(partner_pool));
        put("\n");
      }
    } else if (roll < 60) {
      put("    type: advertiser\n    unlink: member_access\n");
      members();
    } else if (roll < 80) {
      put("    type: tiktok_account\n    unlink: bc_asset\n");
    } else {
      put("    type: tiktok_account\n    unlink: tiktok_binding\n    advertiser_id: ");
      // Bound to one of the batch's own ad accounts, or to one outside it.
      put_id(index > 0 && rng_.percent(70) ? account_id(rng_.below(index))
                                           : account_id_base + id_mask + 1 + rng_.below(1U << 30U));
      put("\n");
    }
    if (has_label) {
      label(index);
    }
    const std::uint64_t extra = rng_.below(100);
    if (extra < 6) {
      put("    active_campaigns: ignore\n");
    } else if (extra < 9) {
      put("    verify_deadline: 1h\n");
    } else if (extra < 11) {
      put("    backup:\n      required: false\n");
    }
  }

  void invalid_account(std::uint64_t index, std::uint64_t roll) {
    // Each case is one mistake people make; `late` keeps to those only the
    // whole account (or the whole file) can show.
    const std::uint64_t kinds_late = 4;
    const std::uint64_t kind =
        opts_.invalid == invalid_kind::late ? roll % kinds_late : roll % (kinds_late + 3);
    switch (kind) {
      case 0:  // a mode for the other account type
        put("    type: advertiser\n    unlink: bc_asset\n");
        break;
      case 1:  // a mode without its parameter
        put("    type: tiktok_account\n    unlink: tiktok_binding\n");
        break;
      case 2:  // member_access needs members
        put("    type: advertiser\n    unlink: member_access\n");
        break;
      case 3:  // a parameter the mode does not use
        put("    type: tiktok_account\n    unlink: bc_asset\n    partner_id: ");
        put_id(partner_id_base + 1);
        put("\n");
        break;
      case 4:  // a misspelt type
        put("    type: advertizer\n");
        break;
      case 5:  // a typo in a key
        put("    type: advertiser\n    lable: \"Acme\"\n");
        break;
      default:  // yes is not a boolean
        put("    type: advertiser\n    backup:\n      required: yes\n");
        break;
    }
    label(index);
  }

  std::FILE* out_;
  const options& opts_;
  rng rng_;
  std::uint64_t id_key_;
  std::string buffer_;
  bool ok_ = true;
};

}  // namespace

int main(int argc, char** argv) {
  const auto opts = parse_args(argc, argv);
  if (!opts) {
    return 1;
  }
  std::FILE* out = std::fopen(opts->out_file.c_str(), "wb");
  if (out == nullptr) {
    std::cerr << "generate-manifest: cannot write " << opts->out_file << ": "
              << std::strerror(errno) << '\n';
    return 1;
  }
  manifest_writer writer(out, *opts);
  const bool written = writer.write();
  const bool closed = std::fclose(out) == 0;
  if (!written || !closed) {
    std::cerr << "generate-manifest: writing " << opts->out_file
              << " failed: " << std::strerror(errno) << '\n';
    return 1;
  }
  return 0;
}
