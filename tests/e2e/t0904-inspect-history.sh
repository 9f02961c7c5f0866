#!/bin/bash
. "$(dirname "$0")/test-lib.sh"
done_testing
