// The module's file store and the checksum AT+QFUPL reports: names with and without a drive,
// patterns, and what a reboot keeps.
#include "file_store.hpp"

#include <gtest/gtest.h>

#include <string>

#include "file_checksum.hpp"

namespace modemsim {
namespace {

using namespace std::string_literals;

TEST(QfuplChecksum, XorsBigEndianWordsWithAnOddByteAsTheHighByte) {
  EXPECT_EQ(qfupl_checksum("\x12\x34\x56"), 0x1234 ^ 0x5600);
  EXPECT_EQ(qfupl_checksum("\x12\x34"), 0x1234);
  EXPECT_EQ(qfupl_checksum(""), 0);
  EXPECT_EQ(qfupl_checksum("\xff\xff\xff\xff"s), 0);  // a word twice cancels out
  EXPECT_EQ(qfupl_checksum("\x00\x01\x80"s), 0x0001 ^ 0x8000);
}

TEST(QfuplChecksum, PrintsLowercaseHexWithoutLeadingZeros) {
  EXPECT_EQ(qfupl_checksum_text(0x384a), "384a");  // as +QFUPL: 1758,384a in both application notes
  EXPECT_EQ(qfupl_checksum_text(0x0d53), "d53");
  EXPECT_EQ(qfupl_checksum_text(0), "0");
}

TEST(FileStore, ANameWithoutDriveIsOnUfsAndNamesAreCaseSensitive) {
  FileStore store;
  store.put(*FileStore::parse("ca.pem"), "one");
  ASSERT_NE(store.find("UFS:ca.pem"), nullptr);
  EXPECT_EQ(*store.find("UFS:ca.pem"), "one");
  EXPECT_EQ(store.find("RAM:ca.pem"), nullptr);
  EXPECT_EQ(store.find("UFS:CA.pem"), nullptr);
  EXPECT_FALSE(FileStore::parse("UFS:"));
  EXPECT_FALSE(FileStore::parse(""));
  EXPECT_EQ(FileStore::parse("RAM:k.pem")->text(), "RAM:k.pem");
}

TEST(FileStore, PatternsListAndDeleteOneDrive) {
  FileStore store;
  store.put(*FileStore::parse("UFS:b.pem"), "bb");
  store.put(*FileStore::parse("UFS:a.pem"), "a");
  store.put(*FileStore::parse("UFS:a.key"), "kkk");
  store.put(*FileStore::parse("RAM:r.pem"), "r");
  const auto all = store.list(*FileStore::parse("*"));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].path, "UFS:a.key");
  EXPECT_EQ(all[0].size, 3u);
  EXPECT_EQ(all[2].path, "UFS:b.pem");
  EXPECT_EQ(store.list(*FileStore::parse("UFS:*.pem")).size(), 2u);
  EXPECT_EQ(store.list(*FileStore::parse("RAM:*")).size(), 1u);
  EXPECT_TRUE(FileStore::is_pattern("*"));
  EXPECT_FALSE(FileStore::is_pattern("a.pem"));
  EXPECT_EQ(store.remove_matching(*FileStore::parse("*.pem")), 2u);
  EXPECT_EQ(store.list(*FileStore::parse("*")).size(), 1u);
  EXPECT_EQ(store.list(*FileStore::parse("RAM:*")).size(), 1u);  // another drive
}

TEST(FileStore, PowerCycleKeepsUfsAndLosesRam) {
  FileStore store;
  store.put(*FileStore::parse("UFS:keep"), "x");
  store.put(*FileStore::parse("RAM:lose"), "y");
  store.power_cycle();
  EXPECT_NE(store.find("keep"), nullptr);
  EXPECT_EQ(store.find("RAM:lose"), nullptr);
}

}  // namespace
}  // namespace modemsim
