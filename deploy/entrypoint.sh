#!/bin/sh
# The image's entrypoint: which process this container runs.
#   <service>   a nameko service of services/kernel/registry.py (identity, spaces, ...)
#   gateway     the gRPC gateway            web   the web pages
#   migrate     every service's migrations, event queues and broker users (a one-shot job)
#   probe <service>   exit 0 if the service answers its ping over the broker (readiness)
# `exec`: the process itself receives SIGTERM and drains (docs/operations/deploy.md).
# ECOACH_<NAME>_FILE=<path>: ECOACH_<NAME> is read from that file (Compose's secrets), so that
# no secret sits in the container's environment definition.
set -eu
for file_var in $(env | sed -n 's/^\(ECOACH_[A-Z0-9_]*_FILE\)=.*/\1/p'); do
  var="${file_var%_FILE}"
  eval "path=\${$file_var}"
  value="$(cat "$path")"
  export "$var=$value"
  unset "$file_var"
done
kind="${1:---help}"
case "$kind" in
  migrate) exec python -m ecoach_dev.cli migrate ;;
  probe) shift; exec python -m services.kernel.runtime.probe "$@" ;;
  -h|--help)
    echo "usage: <process> | migrate | probe <service>; processes: $(python -m ecoach_dev.processes --list)"
    exit 0 ;;
  *) exec python -m ecoach_dev.processes "$kind" ;;
esac
