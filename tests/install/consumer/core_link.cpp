// The installed core headers compile outside the tree, and the imported plinth::core target links.
#include "plinth/plinth.hpp"

int main() { return sizeof(plinth::Runtime) > 0 ? 0 : 1; }
