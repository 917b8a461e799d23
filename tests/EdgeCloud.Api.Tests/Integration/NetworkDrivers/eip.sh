#!/bin/sh
# Elastic-IP hook for the tests: records "ACTION IP VM HOST" (its arguments) in calls.log next to it.
echo "$1 $2 $3 $4" >> "$(dirname "$0")/calls.log"
