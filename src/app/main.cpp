// kiteline entry point: parses the command line and runs the relay or the connector.
#include <cstdio>
#include <string_view>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--version" || a == "--appver") {
      std::printf("kiteline %s\n", KITELINE_VERSION);
      return 0;
    }
  }
  std::printf("kiteline %s: a PageKite relay and connector\n\n"
              "usage: kiteline frontend|backend [options]\n"
              "       kiteline [options] PORT NAME   (pagekite.py short form)\n\n"
              "  --help       this text\n  --version    print the version\n",
              KITELINE_VERSION);
  return 0;
}
