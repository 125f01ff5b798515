/*
 * Types listed through the json protocols.
 */
#include "list_int.h"

const struct aws_type aws_types_json[] = {
    {0},
};
