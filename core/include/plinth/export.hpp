// Symbol visibility for libplinth: the library is built with hidden visibility by default, so every
// public class and function is marked explicitly.
#pragma once

#if defined(_WIN32)
#define PLINTH_CORE_API
#else
#define PLINTH_CORE_API __attribute__((visibility("default")))
#endif
