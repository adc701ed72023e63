// stb_impl.cpp — the one translation unit that compiles stb_image and stb_image_write
// (header-only libraries from Debian's libstb-dev; we do not link libstb).
// PNG and JPEG only: the other formats are compiled out (smaller attack surface and binary).
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG  // for JPEG-baseline DICOM pixel data (dicom.cpp)
#define STBI_NO_STDIO
#define STBI_FAILURE_USERMSG
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
