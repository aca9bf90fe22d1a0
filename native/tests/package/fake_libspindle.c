/* Not libspindle: a library whose sp_version names another release, for the
   runtime's version check (SPINDLE_NATIVE_PATH pointing at the wrong build). */
const char *sp_version(void) { return "0.0.0-other"; }
