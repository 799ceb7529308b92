#!/bin/sh
# A stand-in job for the example submit files: prints where it ran and its arguments.
echo "host: $(hostname) args: $*"
