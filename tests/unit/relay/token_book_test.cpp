// relay::token_book: challenge tokens accepted once, kept until they expire, bounded.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "relay/token_book.hpp"

namespace kiteline::relay {
namespace {

using outcome = token_book::outcome;

std::string tok(int i) { return "t" + std::to_string(i); }

TEST(TokenBook, AcceptsEachTokenOnce) {
  token_book book;
  EXPECT_EQ(book.accept("tA", 200, 100), outcome::accepted);
  EXPECT_EQ(book.accept("tA", 200, 100), outcome::reused);
  EXPECT_EQ(book.accept("tA", 200, 150), outcome::reused);
  EXPECT_EQ(book.accept("tA", 200, 199), outcome::reused);  // last second of its life
  EXPECT_EQ(book.accept("tB", 200, 199), outcome::accepted);  // another token is independent
  EXPECT_EQ(book.size(), 2U);
}

TEST(TokenBook, ForgetsTokensWhenTheyExpire) {
  token_book book;
  ASSERT_EQ(book.accept("tA", 200, 100), outcome::accepted);
  ASSERT_EQ(book.accept("tB", 300, 100), outcome::accepted);
  ASSERT_EQ(book.accept("tC", 250, 100), outcome::accepted);  // out of expiry order
  EXPECT_EQ(book.size(), 3U);
  // At 200 tA has expired (check_token refuses it from then on): dropped, the others stay.
  EXPECT_EQ(book.accept("tD", 400, 200), outcome::accepted);
  EXPECT_EQ(book.size(), 3U);
  EXPECT_EQ(book.accept("tC", 250, 249), outcome::reused);
  EXPECT_EQ(book.accept("tB", 300, 249), outcome::reused);
  // Everything expired: the book is empty again (the size does not grow without bound).
  EXPECT_EQ(book.accept("tE", 1000, 900), outcome::accepted);
  EXPECT_EQ(book.size(), 1U);
  // An expired entry is gone: recording it again is possible (the relay never asks, since
  // check_token refuses an expired token before the book is consulted).
  EXPECT_EQ(book.accept("tA", 1200, 900), outcome::accepted);
}

TEST(TokenBook, BoundedAndFailsClosedWhenFull) {
  token_book book(3);
  EXPECT_EQ(book.capacity(), 3U);
  EXPECT_EQ(book.accept("tA", 200, 100), outcome::accepted);
  EXPECT_EQ(book.accept("tB", 210, 100), outcome::accepted);
  EXPECT_EQ(book.accept("tC", 220, 100), outcome::accepted);
  EXPECT_EQ(book.accept("tD", 220, 100), outcome::full);
  EXPECT_EQ(book.size(), 3U);
  // A full book still recognises a reuse (the answer a replay gets).
  EXPECT_EQ(book.accept("tB", 210, 100), outcome::reused);
  // Nothing was evicted to make room: every live token is still refused a second time.
  EXPECT_EQ(book.accept("tA", 200, 199), outcome::reused);
  EXPECT_EQ(book.accept("tC", 220, 199), outcome::reused);
  // Once one expires there is room again.
  EXPECT_EQ(book.accept("tD", 400, 200), outcome::accepted);
  EXPECT_EQ(book.accept("tE", 400, 200), outcome::full);
  EXPECT_EQ(book.size(), 3U);
}

TEST(TokenBook, TokensAreComparedExactly) {
  token_book book;
  ASSERT_EQ(book.accept("tabc", 200, 100), outcome::accepted);
  EXPECT_EQ(book.accept("tABC", 200, 100), outcome::accepted);
  EXPECT_EQ(book.accept("tab", 200, 100), outcome::accepted);
  EXPECT_EQ(book.accept("tabcd", 200, 100), outcome::accepted);
  EXPECT_EQ(book.accept("", 200, 100), outcome::accepted);
  EXPECT_EQ(book.accept("", 200, 100), outcome::reused);
}

// Every worker thread shares one book: a token is accepted exactly once even when several
// threads present it at the same time.
TEST(TokenBook, OneAcceptanceAcrossThreads) {
  constexpr int threads = 4;
  constexpr int tokens = 2000;
  token_book book;
  std::vector<std::vector<int>> accepted(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&book, &accepted, t] {
      for (int i = 0; i < tokens; ++i) {
        if (book.accept(tok(i), 1000, 10) == outcome::accepted) {
          accepted[static_cast<std::size_t>(t)].push_back(i);
        }
      }
    });
  }
  for (auto& th : pool) {
    th.join();
  }
  std::vector<int> per_token(tokens, 0);
  for (const auto& v : accepted) {
    for (int i : v) {
      ++per_token[static_cast<std::size_t>(i)];
    }
  }
  for (int i = 0; i < tokens; ++i) {
    EXPECT_EQ(per_token[static_cast<std::size_t>(i)], 1) << i;
  }
  EXPECT_EQ(book.size(), static_cast<std::size_t>(tokens));
}

}  // namespace
}  // namespace kiteline::relay
