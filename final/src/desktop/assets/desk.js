// minidock desktop: the little script the pages need. Pages work without
// it; it only adds what must update by itself.
"use strict";
