// Program executor: placeholder until it lands.
#include "internal.h"
