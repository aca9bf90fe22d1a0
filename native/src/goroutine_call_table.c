/* The table through which split-stack goroutine code reaches the goroutine
   calls (spindle.h explains why they are not called directly). */
#include "spindle.h"

#define SP_CALL_ENTRY_(ret, name, params, args) .name = name,
const sp_goroutine_calls sp_goroutine_call_table = { SP_GOROUTINE_CALLS(SP_CALL_ENTRY_) };
