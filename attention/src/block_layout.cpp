// Block layouts of the block-sparse kernel (block_sparse.hpp): the builders every pattern uses
// (key tiles as ranges or position lists, one row of visits per query tile), the two layouts
// the kernel provides itself (dense, visible keys), and the pair-by-pair check that tests hold
// a layout to its pattern with.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "block_sparse.hpp"

namespace lra::attn::bsa {

// ---- layout builders ---------------------------------------------------------------------

int32_t BlockLayout::add_key_range(int64_t begin, int64_t end) {
  for (int64_t j = begin; j < end; ++j) key_pos.push_back(int32_t(j));
  key_start.push_back(int64_t(key_pos.size()));
  return int32_t(key_start.size() - 2);
}

int32_t BlockLayout::add_key_list(const std::vector<int32_t>& positions) {
  key_pos.insert(key_pos.end(), positions.begin(), positions.end());
  key_start.push_back(int64_t(key_pos.size()));
  return int32_t(key_start.size() - 2);
}

void BlockLayout::validate() const {
  LRA_ASSERT(n >= 0 && tile_q > 0 && heads >= 1);
  LRA_ASSERT(int64_t(row_start.size()) == heads * query_tiles() + 1);
  LRA_ASSERT(col.size() == mask.size() && row_start.back() == int64_t(col.size()));
  LRA_ASSERT(key_start.back() == int64_t(key_pos.size()));
  for (int32_t c : col) LRA_ASSERT(c >= 0 && c < key_tiles());
  for (int32_t j : key_pos) LRA_ASSERT(j >= 0 && j < keys());
  bool any_mask = false;
  for (uint8_t x : mask) any_mask = any_mask || x;
  LRA_ASSERT(!any_mask || mask_tile);
}

int64_t BlockLayout::visited_pairs() const {
  int64_t total = 0;
  for (int64_t g = 0; g < heads; ++g)
    for (int64_t r = 0; r < query_tiles(); ++r) {
      const int64_t rows = std::min(tile_q, n - r * tile_q);
      for (int64_t e = row_start[g * query_tiles() + r]; e < row_start[g * query_tiles() + r + 1];
           ++e)
        total += rows * (key_start[col[e] + 1] - key_start[col[e]]);
    }
  return total;
}

std::shared_ptr<BlockLayout> dense_layout(int64_t n, int64_t tile, int64_t n_keys) {
  auto lay = std::make_shared<BlockLayout>();
  lay->n = n;
  lay->n_keys = n_keys;
  lay->tile_q = tile;
  const int64_t nk = lay->keys(), key_tiles = (nk + tile - 1) / tile;
  for (int64_t t = 0; t < key_tiles; ++t)
    lay->add_key_range(t * tile, std::min(nk, (t + 1) * tile));
  for (int64_t r = 0; r < lay->query_tiles(); ++r) {
    for (int64_t t = 0; t < key_tiles; ++t) lay->visit(int32_t(t));
    lay->end_row();
  }
  return lay;
}

std::shared_ptr<BlockLayout> visible_keys_layout(int64_t n, int64_t tile, const int32_t* visible,
                                                 int64_t len) {
  auto lay = std::make_shared<BlockLayout>();
  lay->n = n;
  lay->tile_q = tile;
  std::vector<int32_t> keys;
  for (int64_t j = 0; j < std::min(n, len); ++j)
    if (visible[j]) keys.push_back(int32_t(j));
  const int64_t key_tiles = (int64_t(keys.size()) + tile - 1) / tile;
  for (int64_t t = 0; t < key_tiles; ++t)
    lay->add_key_list(std::vector<int32_t>(
        keys.begin() + t * tile, keys.begin() + std::min<int64_t>(keys.size(), (t + 1) * tile)));
  for (int64_t r = 0; r < lay->query_tiles(); ++r) {
    for (int64_t t = 0; t < key_tiles; ++t) lay->visit(int32_t(t));
    lay->end_row();
  }
  return lay;
}

// ---- checking a layout against its pattern (tests) -------------------------------------

std::string check_layout(const BlockLayout& lay, int64_t heads, const Pattern& allowed, int64_t b,
                         int64_t len) {
  lay.validate();
  const int64_t N = lay.n;
  if (len < 0) len = N;
  std::ostringstream err;
  std::vector<int> seen(size_t(N * N));
  std::vector<float> s;
  for (int64_t h = 0; h < heads; ++h) {
    const int64_t g = lay.heads == 1 ? 0 : h;
    std::fill(seen.begin(), seen.end(), 0);
    for (int64_t r = 0; r < lay.query_tiles(); ++r) {
      const int64_t i0 = r * lay.tile_q, rows = std::min(lay.tile_q, N - i0);
      const int64_t row = g * lay.query_tiles() + r;
      for (int64_t e = lay.row_start[row]; e < lay.row_start[row + 1]; ++e) {
        const int32_t* kp = lay.key_pos.data() + lay.key_start[lay.col[e]];
        const int64_t nk = lay.key_start[lay.col[e] + 1] - lay.key_start[lay.col[e]];
        s.assign(size_t(rows * nk), 0.0f);
        if (lay.mask[e]) lay.mask_tile(g, lay.mask[e], i0, rows, kp, nk, s.data(), nk, 1);
        for (int64_t x = 0; x < rows; ++x)
          for (int64_t c = 0; c < nk; ++c) {
            const int64_t i = i0 + x, j = kp[c];
            const bool visible = s[size_t(x * nk + c)] != -INFINITY;
            if (!visible || i >= len || j >= len) continue;
            if (!allowed(b, h, i, j)) {
              err << "head " << h << ": pair (" << i << ", " << j << ") is visited "
                  << (lay.mask[e] ? "(masked visit)" : "(full visit)") << " but not allowed";
              return err.str();
            }
            if (++seen[size_t(i * N + j)] > 1) {
              err << "head " << h << ": pair (" << i << ", " << j << ") is visited twice";
              return err.str();
            }
          }
      }
    }
    for (int64_t i = 0; i < len; ++i)
      for (int64_t j = 0; j < len; ++j)
        if (allowed(b, h, i, j) && !seen[size_t(i * N + j)]) {
          err << "head " << h << ": allowed pair (" << i << ", " << j << ") is never visited";
          return err.str();
        }
  }
  return "";
}

}  // namespace lra::attn::bsa
