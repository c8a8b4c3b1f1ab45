# Sourced (not executed) by ckan-base's start_ckan.sh on every container start, after
# prerun.py has initialised the database and created $CKAN_SYSADMIN_NAME.
# Writes a fresh sysadmin API token to /var/lib/ckan/zwgk-token (mode 600, in the
# ckan_storage volume); read it with:
#   docker compose -f docker-compose.ckan.yml exec ckan cat /var/lib/ckan/zwgk-token
# A fresh one each start because the container's ckan.ini (whose secret signs tokens) is
# regenerated whenever the container is recreated. Runs in a subshell: no `exit`, no
# umask leaking into start_ckan.sh.
(
  umask 077
  token_file=/var/lib/ckan/zwgk-token
  ckan -c "$CKAN_INI" user token add "$CKAN_SYSADMIN_NAME" "zwgk-docker-$(date +%Y%m%d%H%M%S)" 2>/dev/null \
    | tail -n 1 | tr -d '[:space:]' >"$token_file.new"
  if [ -s "$token_file.new" ]; then
    mv "$token_file.new" "$token_file"
    echo "[zwgk] API token for $CKAN_SYSADMIN_NAME written to $token_file"
  else
    rm -f "$token_file.new"
    echo "[zwgk] could not create an API token for $CKAN_SYSADMIN_NAME" >&2
  fi
)
