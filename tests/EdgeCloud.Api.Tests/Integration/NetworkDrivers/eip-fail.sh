#!/bin/sh
# Elastic-IP hook that always fails, as a cloud provider's API refusing the move would.
echo "provider API refused to move $2" >&2
exit 2
