#include <gtest/gtest.h>

#include <filesystem>

#include "splitship/fs.hpp"
#include "splitship/store.hpp"

using namespace splitship;
namespace fs = std::filesystem;

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("splitship-store-test-" + random_suffix(8));
    fs::create_directories(root_);
    store_ = std::make_unique<LocalStore>(root_.string());
  }
  void TearDown() override { fs::remove_all(root_); }
  std::size_t files_under_root() {
    std::size_t n = 0;
    for (auto& e : fs::recursive_directory_iterator(root_)) n += e.is_regular_file();
    return n;
  }
  fs::path root_;
  std::unique_ptr<LocalStore> store_;
};

TEST_F(LocalStoreTest, WriterIsInvisibleUntilCommit) {
  auto w = store_->open_writer("run/train/part-00000.parquet");
  w->write("hello ", 6);
  w->write("world", 5);
  EXPECT_FALSE(store_->head("run/train/part-00000.parquet"));
  const CommittedObject done = w->commit();
  const ObjectInfo& info = done.info;
  EXPECT_EQ(info.size, 11u);
  EXPECT_EQ(done.digests.size, 11u);  // the writer hashes what it was given
  EXPECT_EQ(to_hex(done.digests.md5), to_hex(Md5::of("hello world")));
  EXPECT_EQ(to_hex(done.digests.sha256), to_hex(Sha256::of("hello world")));
  const auto head = store_->head("run/train/part-00000.parquet");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->size, 11u);
  EXPECT_EQ(*store_->get_small("run/train/part-00000.parquet"), "hello world");
}

TEST_F(LocalStoreTest, AbortedOrDroppedWriterLeavesNothing) {
  {
    auto w = store_->open_writer("run/a.bin");
    w->write("x", 1);
    w->abort();
  }
  {
    auto w = store_->open_writer("run/b.bin");
    w->write("y", 1);
  }  // destroyed without commit
  EXPECT_EQ(files_under_root(), 0u);
}

TEST_F(LocalStoreTest, PutIfAbsentIsExclusive) {
  EXPECT_TRUE(store_->put_if_absent("run/manifest.json", "first"));
  EXPECT_FALSE(store_->put_if_absent("run/manifest.json", "second"));
  EXPECT_EQ(*store_->get_small("run/manifest.json"), "first");
  store_->put_replace("run/manifest.json", "third");
  EXPECT_EQ(*store_->get_small("run/manifest.json"), "third");
  EXPECT_EQ(files_under_root(), 1u);  // no temp files left behind
}

TEST_F(LocalStoreTest, ListAndRemovePruneEmptyFolders) {
  store_->put_replace("run/train/p0", "a");
  store_->put_replace("run/val/p0", "bb");
  const auto all = store_->list("run/");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].key, "run/train/p0");
  EXPECT_EQ(all[1].size, 2u);
  store_->remove("run/train/p0");
  EXPECT_FALSE(fs::exists(root_ / "run/train"));
  store_->remove("run/val/p0");
  EXPECT_FALSE(fs::exists(root_ / "run"));
  EXPECT_TRUE(fs::exists(root_));
}

TEST_F(LocalStoreTest, DropEmptyPrefixRemovesEmptyFoldersOnly) {
  // What a writer killed between creating its folders and its file leaves.
  fs::create_directories(root_ / "run" / "train" / "deep");
  fs::create_directories(root_ / "run" / "test");
  fs::create_directories(root_ / "keep" / "empty");
  store_->drop_empty_prefix("run/train/");  // its parent, left empty, goes too, as with remove()
  EXPECT_TRUE(fs::exists(root_ / "run" / "test"));
  store_->drop_empty_prefix("run/");
  EXPECT_FALSE(fs::exists(root_ / "run"));
  EXPECT_TRUE(fs::exists(root_ / "keep" / "empty"));  // outside the prefix

  store_->put_replace("run2/a/object", "x");
  fs::create_directories(root_ / "run2" / "b" / "c");
  store_->drop_empty_prefix("run2/b/");
  EXPECT_FALSE(fs::exists(root_ / "run2" / "b"));
  EXPECT_EQ(*store_->get_small("run2/a/object"), "x");
  EXPECT_TRUE(fs::exists(root_));
}

TEST(StoreLocation, ParsesDestinations) {
  const auto s3 = parse_store_location("s3://bucket/some/prefix/");
  EXPECT_EQ(s3.scheme, StoreLocation::Scheme::S3);
  EXPECT_EQ(s3.root, "bucket");
  EXPECT_EQ(s3.prefix, "some/prefix");
  const auto f = parse_store_location("file:///tmp/x/");
  EXPECT_EQ(f.scheme, StoreLocation::Scheme::File);
  EXPECT_EQ(f.root, "/tmp/x");
  EXPECT_THROW(parse_store_location("gs://b/x"), std::exception);
  EXPECT_THROW(parse_store_location("s3:///x"), std::exception);
  EXPECT_EQ(split_run_url("/data/out/r1/").second, "r1");
  EXPECT_EQ(split_run_url("s3://b/p/r1").first, "s3://b/p");
}

// A writer that never finished (its process was killed) is a temp file: listed as a pending
// upload of its target key, hidden from list(), and removed by abort_upload().
TEST_F(LocalStoreTest, UnfinishedWritesAreListedAsPendingUploads) {
  auto w = store_->open_writer("run/train/part-00001.parquet");
  w->write("partial", 7);
  auto done = store_->open_writer("run/train/part-00000.parquet");
  done->write("whole", 5);
  done->commit();

  const auto pending = store_->pending_uploads("run/");
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].key, "run/train/part-00001.parquet");
  EXPECT_NE(pending[0].upload_id.find("run/train/.part-00001.parquet.tmp-"), std::string::npos);
  EXPECT_EQ(pending[0].initiated.size(), 24u);  // 2026-11-24T03:34:11.381Z
  const auto listed = store_->list("run/");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].key, "run/train/part-00000.parquet");
  EXPECT_TRUE(store_->pending_uploads("other/").empty());

  store_->abort_upload(pending[0]);
  EXPECT_TRUE(store_->pending_uploads("").empty());
  EXPECT_EQ(files_under_root(), 1u);
  w->abort();  // its file is already gone: harmless
}
