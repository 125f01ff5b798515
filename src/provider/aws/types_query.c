/*
 * Types listed through the query protocols.
 */
#include "list_int.h"

const struct aws_type aws_types_query[] = {
    {0},
};
