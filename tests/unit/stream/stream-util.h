/* Video-like and text-like frames for the stream tests (unit and
 * integration): COPY drawables of a 32BIT top-down bitmap onto surface 0. */
#pragma once

#include <stdbool.h>

#include "tests/unit/display/draw-util.h"

/* Frame n of a moving smooth picture (photographic: graduality HIGH). */
TestDraw *stream_test_video_frame(int x, int y, int w, int h, int n);
/* Frame n of black-on-white blocky "text" (graduality LOW). */
TestDraw *stream_test_text_frame(int x, int y, int w, int h, int n);
